package report

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

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
// or impression: touches.sql's session, what channels and the overview count); and idx, the
// index of its hash in the read's hashes (touchGrouper.hashes, in hash order), which orders
// a person's groups (sortByPerson) and finds them again in a kept read (patchreads.go).
// 32 bytes: the hash itself would make it 40, and the sort by person about a tenth slower.
type touchGroup struct {
	person   uint64
	t, k     uint32
	from, to uint32
	idx      uint32
	session  bool
}

// groupTouchRows reads the person links (read.links, person_links.sql) and the rows of
// touch_rows (read.sql: from ClickHouse, or, for the days whose events have not changed,
// from the Runner's store, daystore.go), groups the rows into touch groups, resolves each
// group's person, and hands the groups to the members seal returns (closing the read to
// joiners) in batches of whole people, in person order, each member's touchpoints and
// sessions by its key (member.key): the rows, their grouping, the persons and the batches
// are the same for every key, and only the batches' keys differ (sendByKey). When the
// Runner grouped the very same days' rows with the same links before, it hands out the
// batches it kept of that read instead (keptreads.go), whatever the key; when it grouped
// the same query over days of which a few changed since, or with other links, it patches
// those batches with the groups of the persons the change touches (patchreads.go). It
// returns keep, which keeps this read's batches and groups for the
// next (keepBatches), for the caller to call once the members have all their batches; a
// read of the same query waits for it (Runner.keeping).
func (r *Runner) groupTouchRows(ctx context.Context, read *sharedRead, seal func() []*member) (keep func(), err error) {
	days, links, err := r.touchDays(ctx, read)
	if err != nil {
		return nil, err
	}
	var g *touchGrouper
	r.keeping.wait(read.sql)
	k := r.keptRead(read.sql, days, links)
	var patch *readPatch
	if k == nil {
		if patch, err = r.patchRead(read.sql, days, links); err != nil {
			return nil, err
		}
		if patch == nil {
			if g, err = groupDays(days, links); err != nil {
				return nil, err
			}
			if r.dayStore() == nil {
				// nothing keeps the days: their groups may go while the batches are
				// cut, whose memory is then theirs rather than fresh pages the kernel
				// zeroes (at 30 million events, attribution's system time 1.7-1.9 s
				// against 2.2-3.2 s, docs/BENCHMARKS.md)
				days = nil
			}
		}
	}
	members := seal()
	if len(members) == 0 {
		return nil, nil // every reader left: none to cut batches for
	}
	var batches []*personBatch
	var groups []keptGroup
	switch {
	case k != nil:
		batches = k.batches
		r.Metrics.keptRead()
	case patch != nil:
		batches, groups = patch.cut()
		r.Metrics.patchedRead()
	}
	// the batches cut are gathered for keepBatches only when the Runner keeps reads;
	// without a store each may go once its readers have it
	stored := r.dayStore() != nil
	cut := sendByKey(members, func(send func(*personBatch)) []*personBatch {
		if g == nil { // kept or patched
			for _, b := range batches {
				send(b)
			}
			return batches
		}
		var cut []*personBatch
		g.send(func(b *personBatch) {
			if stored {
				cut = append(cut, b)
			}
			send(b)
		})
		return cut
	})
	end := r.keeping.begin(read.sql)
	return func() {
		defer end()
		switch {
		case !stored || k != nil:
		case patch != nil:
			r.keepBatches(read.sql, days, links, batches, groups)
		default:
			r.keepBatches(read.sql, days, links, cut, keptGroups(g))
		}
	}, nil
}

// groupDays groups the touch groups of days with links (touchGrouper.group).
func groupDays(days []*dayRows, links map[uint64]uint64) (*touchGrouper, error) {
	g := &touchGrouper{links: links}
	return g, g.group(days)
}

// sendByKey calls cut with a send that hands each batch to every one of members, keyed by
// the member's key (member.key): a batch's rows are the same whatever the key, and only
// its keys differ (withKeys, keysOf), made once for each key the members take. It returns
// what cut returns. A batch is handed to one key's members, then to the next key's, and
// handOut waits for a member batchesAhead batches behind: the slowest member of any key
// paces the cut (one cut for every key, where a cut of each key on its own goroutine let
// each key go at its own pace but made and kept a set of batches per key).
func sendByKey(members []*member, cut func(send func(*personBatch)) []*personBatch) []*personBatch {
	var keys []touchKey
	var of [][]*member // the members of each of keys
	for _, m := range members {
		i := slices.Index(keys, m.key)
		if i < 0 {
			i = len(keys)
			keys, of = append(keys, m.key), append(of, nil)
		}
		of[i] = append(of[i], m)
	}
	views := make([][]string, len(keys)) // each key's keys of the batches' (raw)
	var raw []string
	return cut(func(b *personBatch) {
		if len(b.keys) != len(raw) || len(raw) > 0 && &b.keys[0] != &raw[0] {
			raw = b.keys
			for i, key := range keys {
				views[i] = key.keysOf(raw)
			}
		}
		for i, key := range keys {
			view := b
			if key.field != 0 {
				view = b.withKeys(views[i])
			}
			handOut(of[i], view)
		}
	})
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

// touchGrouper gathers the touch groups of a touch_rows read from its days' parts of them
// (daygroups.go).
type touchGrouper struct {
	links  map[uint64]uint64
	keys   []string       // the touch_keys met, by index (each reader takes its key out of them: keysOf)
	groups []touchGroup   // sorted by person (group)
	convs  []conversionAt // the groups' conversions (touchGroup.from, to)
	hashes []uint64       // the groups' hashes, ascending (touchGroup.idx)
}

// touchRow is one row of touch_rows, 40 bytes: its group's hash, its person's hashes, its
// visit time and key (an index into keys), its conversion (an index into conv, or -1), and
// its flags: the visit's order within its second (visitOrder) and emailRow.
type touchRow struct {
	hash, user, anon uint64
	t, k             uint32
	conv             int32
	flags            uint32
}

// emailRow is the flag of a touchRow that is an email open, email click or impression.
const emailRow = 1 << 31

// email reports whether the row is an email open, email click or impression.
func (r *touchRow) email() bool { return r.flags&emailRow != 0 }

// order returns the order of the row's visit among the visits of its second (visitOrder).
func (r *touchRow) order() uint32 { return r.flags &^ emailRow }

// visitOrder returns the order within its second of a visit whose order key is key
// (include/session_part_rows.sql: its time in milliseconds shifted left 20 bits, then 20
// bits of its event id's hash), 30 bits: its millisecond (event.ts_ms, below 1000), then
// those 20 bits. Two rows of one session and day (two parts of session_aggregates) whose
// visits fall in the same second t are told apart by it, as the key orders them in
// visit_state's argMin.
func visitOrder(key uint64) uint32 {
	return uint32((key>>20)%1000)<<20 | uint32(key&(1<<20-1))
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

// group gathers the touch groups of days (each grouped on its own, dayRows.group; nil: a
// day without rows) into g.groups, sorted by person (sortByPerson), their keys renumbered
// as g's, each group's person resolved through g.links: the groups of one read of the
// whole period (mergeRange). The days are only read: the store shares them.
//
// The groups are merged by up to groupWorkers goroutines, each a contiguous range of the
// groups' top hash bytes with about as many day parts as the others: once the read has
// ended, ClickHouse leaves the cores to journeyd. Each range's groups come out in hash
// order, and sortByPerson puts the ranges together in their order, so the groups are the
// same for any number of them.
func (g *touchGrouper) group(days []*dayRows) error {
	keyOf := map[string]uint32{}
	keys := make([][]uint32, len(days)) // each day's keys' indices in g.keys
	var counts [257]int                 // day parts of groups before each top hash byte
	convs := 0
	for i, d := range days {
		if d == nil {
			continue
		}
		keys[i] = make([]uint32, len(d.keys))
		for j, key := range d.keys {
			idx, ok := keyOf[key]
			if !ok {
				idx = uint32(len(g.keys))
				g.keys = append(g.keys, key)
				keyOf[key] = idx
			}
			keys[i][j] = idx
		}
		for p, n := range d.parts {
			counts[p+1] += int(n)
		}
		convs += len(d.groupConv)
	}
	if convs >= 1<<31-1 {
		return fmt.Errorf("more than %d conversions are more than one read can hold", convs)
	}
	for i := 1; i < len(counts); i++ {
		counts[i] += counts[i-1]
	}
	n := counts[256]
	// a group per day part, at most: one growth of millions of groups costs more than the merge
	all := make([]touchGroup, n)
	hashes := make([]uint64, n)
	ranges := make([]groupRange, max(min(groupWorkers, n/minRangeRows), 1))
	var wg sync.WaitGroup
	from := 0
	for w := range ranges {
		end := from
		for end < 256 && (w == len(ranges)-1 || counts[end] < n*(w+1)/len(ranges)) {
			end++
		}
		ranges[w].groups = all[counts[from]:counts[from]:counts[end]]
		ranges[w].hashes = hashes[counts[from]:counts[from]:counts[end]]
		wg.Add(1)
		go func(r *groupRange, from, end int) {
			defer wg.Done()
			g.mergeRange(r, days, keys, from, end)
		}(&ranges[w], from, end)
		from = end
	}
	wg.Wait()
	g.sortByPerson(ranges, all, hashes)
	return nil
}

// groupWorkers is up to how many goroutines gather the groups of a read (group) and sort
// them by person (sortByPerson).
const groupWorkers = 4

// eachDay calls fn(i) for every i below n, on up to groupWorkers goroutines, each taking
// the next i not taken, and returns when every call has.
func eachDay(n int, fn func(i int)) {
	eachOnWorker(n, func(_, i int) { fn(i) })
}

// eachOnWorker is eachDay calling fn(w, i) on worker w (below min(groupWorkers, n)).
func eachOnWorker(n int, fn func(w, i int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range min(groupWorkers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				fn(w, int(i))
			}
		}()
	}
	wg.Wait()
}

// eachWithState is eachDay calling fn(s, i) with s the state of the goroutine that takes
// i, which fresh makes on its first i, so that each goroutine fills state of its own; it
// returns the states made, one per goroutine that took an i.
func eachWithState[S any](n int, fresh func() S, fn func(s S, i int)) []S {
	states := make([]S, min(groupWorkers, n))
	made := make([]bool, len(states))
	eachOnWorker(n, func(w, i int) {
		if !made[w] {
			states[w], made[w] = fresh(), true
		}
		fn(states[w], i)
	})
	out := states[:0]
	for w, s := range states {
		if made[w] {
			out = append(out, s)
		}
	}
	return out
}

// minRangeRows is the fewest day parts of groups (or groups) worth a goroutine of their own
// in group and sortByPerson; a variable so that a test can split a few rows among them.
var minRangeRows = 1 << 16

// groupRange is what one goroutine of group merges from its range of top hash bytes: the
// groups and their hashes, their conversions (from and to index convs), and the current
// group's event ids while it is merged from several days' parts.
type groupRange struct {
	groups []touchGroup
	hashes []uint64
	convs  []conversionAt
	ids    []string
}

// rowOrder is a row's place in its day's rows (chunk<<13 | index in the chunk), sorted by
// the row's hash (dayRows.group).
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

// keysOf returns k's key of each of the touch_keys raw (touchKey.of), or raw itself for
// the whole touch_key: the table a reader of k takes its touchpoints' and sessions' keys
// from, made once per distinct touch_key rather than once per touchpoint.
func (k touchKey) keysOf(raw []string) []string {
	if k.field == 0 {
		return raw
	}
	out := make([]string, len(raw))
	for i, s := range raw {
		out[i] = k.of(s)
	}
	return out
}

// send hands the groups, sorted by person, to send in batches of whole people, each
// person's touchpoints and conversions sorted (sortPerson), as scanPeople does, and its
// sessions (visits, for channels and the overview), their keys g's (the whole touch_key: a
// person's touchpoints sort by it, and a reader takes its own key of it, sendByKey).
func (g *touchGrouper) send(send func(*personBatch)) {
	b := newBatch().withVisits()
	b.keys = g.keys
	from := personEnd{}
	for i, group := range g.groups {
		// appendGroup's, written out: the call costs about a tenth of send at 10 million events
		if group.t != 0 {
			b.touches = append(b.touches, touchpoint{group.t, group.k})
		}
		if group.session {
			b.visits = append(b.visits, g.visit(group, group.k))
		}
		b.convs = append(b.convs, g.convs[group.from:group.to]...)
		if i+1 < len(g.groups) && g.groups[i+1].person == group.person {
			continue
		}
		b, from = b.endPerson(from, send)
	}
	if len(b.ends) > 0 {
		b.fit()
		send(b)
	}
}

// appendGroup adds group's touchpoint (when it has a visit), session (when it is one) and
// conversions to the person b is filling, its key k (its index in b's keys).
func (g *touchGrouper) appendGroup(b *personBatch, k uint32, group touchGroup) {
	if group.t != 0 {
		b.touches = append(b.touches, touchpoint{group.t, k})
	}
	if group.session {
		b.visits = append(b.visits, g.visit(group, k))
	}
	b.convs = append(b.convs, g.convs[group.from:group.to]...)
}

// sortByPerson puts the groups of ranges together, in their order, into g.groups (in all,
// whose room the ranges hold) sorted by person, their hashes into g.hashes (in hashes, as
// all) in hash order, each group's idx its hash's index there, and their conversions into
// g.convs. The
// groups are moved, in place, into 256 runs by the person's top byte, then each run into
// 256 by its second byte, and each of those, a few dozen groups, is sorted on its own, in
// cache (a sort of the whole costs about three times as much); the runs of the top byte are
// split among goroutines as group's ranges are. In place, for a copy of millions of groups
// into fresh memory cost more than the moves (0.1-0.4 s at 10 million events: clearing
// and first touching the memory). The groups of one person end in the order of their
// hashes (unique in a read), so that the groups, and the batches cut from them, are the
// same whatever order they came in: a kept read patched with a changed day's groups
// (patchreads.go) gives what grouping every day again gives. A batch sorts a person's
// touchpoints and conversions (sortPerson); its sessions are in its groups' order.
func (g *touchGrouper) sortByPerson(ranges []groupRange, all []touchGroup, hashes []uint64) {
	nconvs := 0
	for _, r := range ranges {
		nconvs += len(r.convs)
	}
	g.convs = make([]conversionAt, 0, nconvs)
	n := 0
	for _, r := range ranges {
		shift := uint32(len(g.convs))
		g.convs = append(g.convs, r.convs...)
		for i := range r.groups {
			r.groups[i].from += shift
			r.groups[i].to += shift
			r.groups[i].idx = uint32(n + i)
		}
		copy(hashes[n:], r.hashes)
		n += copy(all[n:], r.groups) // down, to close the room left after the ranges before
	}
	g.groups, g.hashes = all[:n], hashes[:n]
	counts := byteRuns(g.groups, 56)
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
				run := g.groups[counts[top]:counts[top+1]]
				runs := byteRuns(run, 48)
				for b := range 256 {
					sortGroups(run[runs[b]:runs[b+1]])
				}
			}
		}(from, end)
		from = end
	}
	wg.Wait()
}

// byPersonHash reports whether group a comes before b: by person, then hash (the order of
// idx, unique in a read).
func byPersonHash(a, b touchGroup) bool {
	return a.person < b.person || a.person == b.person && a.idx < b.idx
}

// sortGroups sorts groups by person, then hash (byPersonHash), with a quicksort written for
// touchGroup, whose comparisons inline, where slices.SortFunc calls its comparison through a
// function value (on a month of the bench's groups, BenchmarkMergeDays, the sort's calls
// were most of sortByPerson). sortByPerson's runs are a few dozen groups.
func sortGroups(groups []touchGroup) {
	for len(groups) > 12 {
		m, last := len(groups)/2, len(groups)-1
		if byPersonHash(groups[m], groups[0]) {
			groups[0], groups[m] = groups[m], groups[0]
		}
		if byPersonHash(groups[last], groups[0]) {
			groups[0], groups[last] = groups[last], groups[0]
		}
		if byPersonHash(groups[last], groups[m]) {
			groups[m], groups[last] = groups[last], groups[m]
		}
		pivot := groups[m] // the median of three
		i, j := 0, last
		for i <= j { // Hoare's partition; no two groups are equal (idx)
			for byPersonHash(groups[i], pivot) {
				i++
			}
			for byPersonHash(pivot, groups[j]) {
				j--
			}
			if i <= j {
				groups[i], groups[j] = groups[j], groups[i]
				i, j = i+1, j-1
			}
		}
		if j+1 < len(groups)-i { // the smaller side recursively, so the stack stays shallow
			sortGroups(groups[:j+1])
			groups = groups[i:]
		} else {
			sortGroups(groups[i:])
			groups = groups[:j+1]
		}
	}
	for i := 1; i < len(groups); i++ {
		x := groups[i]
		j := i
		for ; j > 0 && byPersonHash(x, groups[j-1]); j-- {
			groups[j] = groups[j-1]
		}
		groups[j] = x
	}
}

// byteRuns moves groups, in place, into 256 runs by the byte of their person at shift (56:
// the top byte), and returns where each run starts: run b is groups[runs[b]:runs[b+1]].
func byteRuns(groups []touchGroup, shift uint) [257]int {
	var runs [257]int
	for _, x := range groups {
		runs[x.person>>shift&0xFF+1]++
	}
	for i := 1; i < len(runs); i++ {
		runs[i] += runs[i-1]
	}
	next := runs // the next place of each run not yet holding one of its groups
	for b := range 256 {
		for next[b] < runs[b+1] {
			x := groups[next[b]]
			for d := int(x.person >> shift & 0xFF); d != b; d = int(x.person >> shift & 0xFF) {
				groups[next[d]], x = x, groups[next[d]]
				next[d]++
			}
			groups[next[b]] = x
			next[b]++
		}
	}
	return runs
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
