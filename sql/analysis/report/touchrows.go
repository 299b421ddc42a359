package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The journey reports read their touch groups from the sessions ClickHouse keeps at insert
// time when they can (touchParams): touch_rows.sql gives the rows of every group, and
// journeyd groups them here. ClickHouse 18.16 could group them too
// (include/session_touches.sql), but a GROUP BY of millions of groups costs it about what
// grouping every event of the period does, and even sorting them by group costs it about
// as much as reading them, where holding the rows here (40 bytes each) and sorting them in
// 256 parts by hash costs a fraction (docs/BENCHMARKS.md). The groups are then the rows
// of touchpoints.sql; they are held, 24 bytes each, sorted by person and handed out in
// batches of whole people, as scanPeople hands out touchpoints.sql's.

// touchGroup is one touch group of touch_rows, as touchpoints.sql gives it: its person, its
// visit (t, and k an index into the read's keys; t 0 when it is no touchpoint), its
// conversions (convs[from:to] of the read), and whether it is a session (a visit, no email
// or impression: touches.sql's session, what channels and the overview count).
type touchGroup struct {
	person   uint64
	t, k     uint32
	from, to uint32
	session  bool
}

// groupTouchRows reads the person links (read.links, person_links.sql) and the rows of
// touch_rows (read.sql: from ClickHouse, or, for the days whose events have not changed,
// from the Runner's store, daystore.go), groups the rows into touch groups, resolves each
// group's person, and hands the groups to send in batches of whole people, in person order.
// When the Runner grouped the very same days' rows with the same links before, it hands out
// the batches it kept of that read instead (keptreads.go).
func (r *Runner) groupTouchRows(ctx context.Context, read *sharedRead, send func(*personBatch)) error {
	days, links, err := r.touchDays(ctx, read)
	if err != nil {
		return err
	}
	if batches := r.keptBatches(read.sql, days, links); batches != nil {
		for _, b := range batches {
			send(b)
		}
		return nil
	}
	g := &touchGrouper{links: links}
	if err := g.add(days); err != nil {
		return err
	}
	g.group()
	var batches []*personBatch
	g.send(func(b *personBatch) {
		batches = append(batches, b)
		send(b)
	})
	r.keepBatches(read.sql, days, links, batches)
	return nil
}

// touchDays reads the person links and the rows of every day of read (readDays).
func (r *Runner) touchDays(ctx context.Context, read *sharedRead) ([]*dayRows, map[uint64]uint64, error) {
	// The links are read while the days are (their prints and rows, or the store's), which
	// spares a report a query's wall time; one after the other when the queries are only
	// shown, so that they are shown in one order.
	type linksRead struct {
		links map[uint64]uint64
		err   error
	}
	done := make(chan linksRead, 1)
	readLinks := func() {
		links, err := r.readLinks(ctx, read.links)
		done <- linksRead{links, err}
	}
	if r.ShowSQL != nil {
		readLinks()
	} else {
		go readLinks()
	}
	days, err := r.readDays(ctx, read)
	l := <-done
	if err != nil {
		return nil, nil, err
	} else if l.err != nil {
		return nil, nil, l.err
	}
	return days, l.links, nil
}

// touchGrouper gathers the touch groups of a touch_rows read.
type touchGrouper struct {
	links  map[uint64]uint64
	keys   []string          // the touchpoint keys met, by index
	keyOf  map[string]uint32 // index of each key in keys
	parts  [256][]touchRow   // the rows, by the top byte of their touch_hash
	conv   []rowConversion
	groups []touchGroup   // sorted by person (group)
	convs  []conversionAt // the groups' conversions (touchGroup.from, to)
}

// touchRow is one row of touch_rows, 40 bytes: its group's hash, its person's hashes, its
// visit time and key (an index into keys), its conversion (an index into conv, or -1), and
// whether it is an email open, email click or impression.
type touchRow struct {
	hash, user, anon uint64
	t, k             uint32
	conv             int32
	email            bool
}

// partRows is the room a day of a touch_rows read starts with (its first chunk, dayRows), so
// that a small read does not grow its rows many times.
const partRows = 1024

// rowConversion is the conversion of a row: its time, value and event id.
type rowConversion struct {
	t  uint32
	v  float64
	id string
}

// add adds the rows of days (each as read, in any order: ClickHouse 18.16 sorts them by
// group for about as much CPU as it spends reading them; nil: a day without rows) to g,
// their keys and conversions renumbered as g's, without changing them, since the store may
// share them. The rows are kept in 256 parts by the top byte of their group's hash, so that
// group sorts each part on its own, in cache; each part is made at its size at once.
func (g *touchGrouper) add(days []*dayRows) error {
	var sizes [256]int
	convs := len(g.conv)
	for _, d := range days {
		if d == nil {
			continue
		}
		for p, n := range d.parts {
			sizes[p] += int(n)
		}
		convs += len(d.conv)
	}
	if convs >= 1<<31-1 {
		return fmt.Errorf("more than %d conversions are more than one read can hold", convs)
	}
	for p, n := range sizes {
		g.parts[p] = slices.Grow(g.parts[p], n)
	}
	if g.keyOf == nil {
		g.keyOf = map[string]uint32{}
	}
	for _, d := range days {
		if d != nil {
			g.addDay(d)
		}
	}
	return nil
}

// addDay adds the rows of d to g's parts (add).
func (g *touchGrouper) addDay(d *dayRows) {
	keys := make([]uint32, len(d.keys))
	for i, key := range d.keys {
		idx, ok := g.keyOf[key]
		if !ok {
			idx = uint32(len(g.keys))
			g.keys = append(g.keys, key)
			g.keyOf[key] = idx
		}
		keys[i] = idx
	}
	base := int32(len(g.conv))
	g.conv = append(g.conv, d.conv...)
	for _, chunk := range d.rows {
		for _, row := range chunk {
			if row.t != 0 {
				row.k = keys[row.k]
			}
			if row.conv >= 0 {
				row.conv += base
			}
			g.parts[row.hash>>56] = append(g.parts[row.hash>>56], row)
		}
	}
}

// group sorts each part's rows by their group's hash and gathers each group: the person
// key is the greatest user hash, else the greatest anonymous hash, of the group's rows,
// resolved through links; its visit the row with the least non-zero visit time; its
// conversions the rows that hold one, each event id once (a replay stored twice counts
// once). A group that is neither a touchpoint nor holds a conversion is left out, as
// touchpoints.sql leaves it. The groups end sorted by person (sortByPerson).
//
// The parts are gathered by up to groupWorkers goroutines, each a contiguous range of them
// with about as many rows as the others: once the read has ended, ClickHouse leaves the
// cores to journeyd. Each range's groups come out in part order, and sortByPerson puts the
// ranges together in their order, so the groups are the same for any number of them.
func (g *touchGrouper) group() {
	n := 0
	for _, part := range g.parts {
		n += len(part)
	}
	// a group per row, at most: one growth of millions of groups costs more than the rows' scan
	all := make([]touchGroup, n)
	ranges := make([]groupRange, max(min(groupWorkers, n/minRangeRows), 1))
	var wg sync.WaitGroup
	from, rows := 0, 0
	for w := range ranges {
		end, first := from, rows
		for end < len(g.parts) && (w == len(ranges)-1 || rows < n*(w+1)/len(ranges)) {
			rows += len(g.parts[end])
			end++
		}
		ranges[w].groups = all[first:first:rows]
		wg.Add(1)
		go func(r *groupRange, parts [][]touchRow) {
			defer wg.Done()
			g.groupParts(r, parts)
		}(&ranges[w], g.parts[from:end])
		from = end
	}
	wg.Wait()
	g.conv = nil // the groups' conversions are fewer than the rows' (scan bounds those)
	g.sortByPerson(ranges, all)
}

// groupWorkers is up to how many goroutines gather the groups of a read (group) and sort
// them by person (sortByPerson).
const groupWorkers = 4

// minRangeRows is the fewest rows (or groups) worth a goroutine of their own in group and
// sortByPerson; a variable so that a test can split a few rows among them.
var minRangeRows = 1 << 16

// groupRange is what one goroutine of group gathers from its range of parts: the groups,
// their conversions (from and to index convs), and the current group's event ids.
type groupRange struct {
	groups []touchGroup
	convs  []conversionAt
	ids    []string
}

// groupParts gathers the groups of parts into r (group). Each part's rows are sorted by
// their group's hash and place through 16 bytes each (rowOrder), not moved themselves (40
// bytes): first into 256 runs by the hash's second byte, then each run on its own, a few
// dozen rows in cache, about a third of the time a sort of the whole part takes.
func (g *touchGrouper) groupParts(r *groupRange, parts [][]touchRow) {
	var order []rowOrder
	for p, rows := range parts {
		var runs [257]int
		for _, row := range rows {
			runs[row.hash>>48&0xFF+1]++
		}
		for i := 1; i < len(runs); i++ {
			runs[i] += runs[i-1]
		}
		order = slices.Grow(order[:0], len(rows))[:len(rows)]
		next := runs
		for i, row := range rows {
			b := row.hash >> 48 & 0xFF
			order[next[b]] = rowOrder{row.hash, uint32(i)}
			next[b]++
		}
		for b := range 256 {
			slices.SortFunc(order[runs[b]:runs[b+1]], func(a, b rowOrder) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.i, b.i)) })
		}
		for i := 0; i < len(order); {
			j := i
			var maxUser, maxAnon uint64
			var t, k uint32
			email := false
			from := len(r.convs)
			r.ids = r.ids[:0]
			for ; j < len(order) && order[j].hash == order[i].hash; j++ {
				row := rows[order[j].i]
				maxUser, maxAnon = max(maxUser, row.user), max(maxAnon, row.anon)
				email = email || row.email
				if row.t != 0 && (t == 0 || row.t < t) {
					t, k = row.t, row.k
				}
				if row.conv >= 0 {
					if c := g.conv[row.conv]; !r.seen(from, c.id, c.t, c.v) {
						r.convs = append(r.convs, conversionAt{c.t, c.v})
						r.ids = append(r.ids, c.id)
					}
				}
			}
			i = j
			if t == 0 && len(r.convs) == from {
				continue
			}
			person := maxAnon
			if maxUser != 0 {
				person = maxUser
			}
			if linked, ok := g.links[person]; ok {
				person = linked
			}
			r.groups = append(r.groups, touchGroup{person: person, t: t, k: k, from: uint32(from), to: uint32(len(r.convs)),
				session: t != 0 && !email})
		}
		parts[p] = nil
	}
}

// rowOrder is a row's place in its part of touchGrouper, sorted by the row's hash.
type rowOrder struct {
	hash uint64
	i    uint32
}

// seen reports whether the current group, whose conversions start at from, holds the
// conversion (id, t, v) already: arrayDistinct's rule in touches.sql.
func (r *groupRange) seen(from int, id string, t uint32, v float64) bool {
	for i, other := range r.ids {
		if c := r.convs[from+i]; other == id && c.t == t && c.v == v {
			return true
		}
	}
	return false
}

// send hands the groups, sorted by person, to send in batches of whole people, each
// person's touchpoints and conversions sorted (sortPerson), as scanPeople does, and its
// sessions (visits, for channels and the overview).
func (g *touchGrouper) send(send func(*personBatch)) {
	b := newBatch()
	b.visits = make([]sessionVisit, 0, batchRows)
	from := personEnd{}
	for i, group := range g.groups {
		if group.t != 0 {
			b.touches = append(b.touches, touchpoint{group.t, g.keys[group.k]})
		}
		if group.session {
			b.visits = append(b.visits, g.visit(group))
		}
		b.convs = append(b.convs, g.convs[group.from:group.to]...)
		if i+1 < len(g.groups) && g.groups[i+1].person == group.person {
			continue
		}
		b, from = b.endPerson(from, send)
	}
	if len(b.ends) > 0 {
		send(b)
	}
}

// sortByPerson puts the groups of ranges together, in their order, into g.groups (in all,
// whose room the ranges hold) sorted by person, stably, and their conversions into g.convs.
// The groups are copied into 256 runs by the person's top byte, then back by its second
// byte, and each of those runs, a few dozen groups, is sorted on its own, in cache (a sort
// of the whole costs about three times as much); the runs of the top byte are split among
// goroutines as group's ranges are.
func (g *touchGrouper) sortByPerson(ranges []groupRange, all []touchGroup) {
	var counts [257]int
	nconvs := 0
	for _, r := range ranges {
		for _, x := range r.groups {
			counts[x.person>>56+1]++
		}
		nconvs += len(r.convs)
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	n := counts[256]
	byTop := make([]touchGroup, n)
	g.convs = make([]conversionAt, 0, nconvs)
	next := counts
	for _, r := range ranges {
		shift := uint32(len(g.convs))
		g.convs = append(g.convs, r.convs...)
		for _, x := range r.groups {
			x.from, x.to = x.from+shift, x.to+shift
			byTop[next[x.person>>56]] = x
			next[x.person>>56]++
		}
	}
	g.groups = all[:n]
	workers := max(min(groupWorkers, n/minRangeRows), 1)
	var wg sync.WaitGroup
	from := 0
	for w := range workers {
		end := from
		for end < 256 && (w == workers-1 || counts[end] < n*(w+1)/workers) {
			end++
		}
		wg.Add(1)
		go func(from, end int) {
			defer wg.Done()
			for top := from; top < end; top++ {
				sortRun(g.groups[counts[top]:counts[top+1]], byTop[counts[top]:counts[top+1]])
			}
		}(from, end)
		from = end
	}
	wg.Wait()
}

// sortRun copies run, groups of one top byte of their person, into dst by the person's
// second byte and sorts each of those runs by person, stably.
func sortRun(dst, run []touchGroup) {
	var runs [257]int
	for _, x := range run {
		runs[x.person>>48&0xFF+1]++
	}
	for i := 1; i < len(runs); i++ {
		runs[i] += runs[i-1]
	}
	next := runs
	for _, x := range run {
		b := x.person >> 48 & 0xFF
		dst[next[b]] = x
		next[b]++
	}
	for b := range 256 {
		slices.SortStableFunc(dst[runs[b]:runs[b+1]], func(a, b touchGroup) int { return cmp.Compare(a.person, b.person) })
	}
}

// siteLinks reads the person links of site (person_links.sql, readLinks).
func (r *Runner) siteLinks(ctx context.Context, site Value) (map[uint64]uint64, error) {
	sql, err := r.SQL("person_links", map[string]Value{"site": site})
	if err != nil {
		return nil, err
	}
	return r.readLinks(ctx, sql)
}

// readLinks reads the person links (linksSQL, person_links.sql): the person hash of each
// person key hash linked to one.
func (r *Runner) readLinks(ctx context.Context, linksSQL string) (map[uint64]uint64, error) {
	links := map[uint64]uint64{}
	err := r.streamSQL(ctx, "person_links", linksSQL, func(rows driver.Rows) error {
		var key, person uint64
		for rows.Next() {
			if err := rows.Scan(&key, &person); err != nil {
				return err
			}
			if _, seen := links[key]; !seen { // as ANY LEFT JOIN: one row of several
				links[key] = person
			}
		}
		return nil
	})
	return links, err
}
