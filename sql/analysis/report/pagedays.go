package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The dashboard opens its top pages with the overview. pages.sql counts them from every
// page view of the period (1.6 passes of ClickHouse's CPU at 10 million events, most of it
// the distinct event ids). A Runner counts them here instead when the period is whole UTC
// days and no filter narrows the views (fromDays), from page_rows.sql, a row per view
// that ClickHouse does not group; a Runner that keeps days (StoreBytes) takes each day's
// views from the store while the day's events are unchanged (daystore.go). Without a
// store too, that is the faster: the dashboard's two top lists took 2.8-3.1 s at 10
// million events, against 4.0-4.3 s with pages.sql (docs/BENCHMARKS.md). A day keeps,
// for each path hash, its distinct event ids and people (the person keys before the person
// links, read every time, resolve them); the period's pageviews are then the distinct ids
// of all its days and its people the distinct resolved persons, as pages.sql counts them,
// so a replay counts once even when its copies fall on two days. The paths of the hashes
// that make the list come from page_names.sql, the first time a hash is met.

// pageDay is one day's page views, as the store keeps them: by path hash, the event ids
// (a replay's copies too: the period's count counts each once, sortedCount) and the
// distinct person keys, sorted.
type pageDay struct {
	paths map[uint64]*pageViews
}

// pageViews are the event ids and distinct person keys of a path's views.
type pageViews struct {
	ids, people []uint64
}

// size is about how many bytes the day holds.
func (d *pageDay) size() int64 {
	n := int64(64)
	for _, v := range d.paths {
		n += 80 + 8*int64(cap(v.ids)+cap(v.people))
	}
	return n
}

// distinct sorts xs and returns its distinct values, in xs's array.
func distinct(xs []uint64) []uint64 {
	slices.Sort(xs)
	return slices.Compact(xs)
}

// distinctCount returns how many distinct values xs holds, sorting xs (idSorter.count).
func distinctCount(xs []uint64) uint64 {
	var s idSorter
	return s.count(xs)
}

// idSorter sorts hashes (event ids, person keys) by radix when they are many: millions of
// them sort about five times faster so than by comparison. It keeps the room of its passes
// for the next sort, so that sorting path after path allocates it once.
type idSorter struct {
	tmp []uint64
}

// radixMin is the fewest values idSorter sorts by radix; fewer sort by comparison.
const radixMin = 1 << 12

// sort sorts xs in place. Many values are moved, in place, into 256 runs by their top
// byte (an American flag pass: the values are hashes, spread evenly, a run of 4 million
// values is some 16 000, 128 KB), and each run is sorted on its own, in cache, through
// room of a run's size, by seven counting passes of a byte each. The values pass through
// memory once, where six passes of 11 bits over all of them, through room of their size,
// passed through it six times, and first touched the room each time a sorter was new
// (BenchmarkIDSorterCount: about half the CPU).
func (s *idSorter) sort(xs []uint64) {
	if len(xs) < radixMin {
		slices.Sort(xs)
		return
	}
	var runs [257]int
	for _, x := range xs {
		runs[x>>56+1]++
	}
	most := runStarts(&runs)
	next := runs
	for b := range 256 {
		for next[b] < runs[b+1] { // move the value at next[b] to its run, and take the one it displaces
			x := xs[next[b]]
			for d := x >> 56; d != uint64(b); d = x >> 56 {
				xs[next[d]], x = x, xs[next[d]]
				next[d]++
			}
			xs[next[b]] = x
			next[b]++
		}
	}
	s.sortRuns(xs, &runs, most)
}

// runStarts turns runs, the count of values of each top byte b at runs[b+1], into where
// each byte's run starts (runs[b]) and ends (runs[b+1]), and returns the longest run's
// length: the first step of idSorter's sort and countParts.
func runStarts(runs *[257]int) (most int) {
	for b := 1; b < len(runs); b++ {
		most = max(most, runs[b])
		runs[b] += runs[b-1]
	}
	return most
}

// sortRuns sorts each of the 256 runs of xs by top byte (byte b's from runs[b] to
// runs[b+1], the longest most values) on its own, through the sorter's room.
func (s *idSorter) sortRuns(xs []uint64, runs *[257]int, most int) {
	if cap(s.tmp) < most {
		s.tmp = make([]uint64, most)
	}
	for b := range 256 {
		sortRunBytes(xs[runs[b]:runs[b+1]], s.tmp)
	}
}

// countParts returns how many distinct values parts hold together, gathered into buf
// (room of at least their count) and sorted there. Many are gathered straight into the
// runs of their top byte (sort's first pass, out of place) and the runs sorted, rather
// than copied into buf and then moved in it: the top pages count each path's ids and
// people of every day so, where the copy alone was 0.25 s of a cold dashboard's profile
// at 10 million events (BenchmarkIDSorterCountParts: 24 CPU ns a value, against 43 for
// the copy and count).
func (s *idSorter) countParts(parts [][]uint64, buf []uint64) uint64 {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	buf = buf[:n]
	if n < radixMin {
		at := 0
		for _, p := range parts {
			at += copy(buf[at:], p)
		}
		return s.count(buf)
	}
	var runs [257]int
	for _, p := range parts {
		for _, x := range p {
			runs[x>>56+1]++
		}
	}
	most := runStarts(&runs)
	next := runs
	for _, p := range parts {
		for _, x := range p {
			buf[next[x>>56]] = x
			next[x>>56]++
		}
	}
	s.sortRuns(buf, &runs, most)
	return distinctSorted(buf)
}

// sortRunBytes sorts run, values of one top byte, by their seven lower bytes, one counting
// pass a byte, skipping the bytes every value shares, through spare (room of at least
// run's length).
func sortRunBytes(run, spare []uint64) {
	if len(run) < 64 {
		slices.Sort(run)
		return
	}
	var counts [7][256]int
	for _, x := range run {
		for p := range counts {
			counts[p][x>>(8*p)&0xFF]++
		}
	}
	src, dst := run, spare[:len(run)]
	for p := range counts {
		next, shift := &counts[p], 8*p
		if next[run[0]>>shift&0xFF] == len(run) { // every value's byte p the same
			continue
		}
		at := 0
		for b, n := range next {
			next[b], at = at, at+n
		}
		for _, x := range src {
			b := x >> shift & 0xFF
			dst[next[b]] = x
			next[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &run[0] {
		copy(run, src)
	}
}

// count returns how many distinct values xs holds, sorting xs.
func (s *idSorter) count(xs []uint64) uint64 {
	s.sort(xs)
	return distinctSorted(xs)
}

// distinctSorted returns how many distinct values xs, sorted, holds.
func distinctSorted(xs []uint64) uint64 {
	n := uint64(0)
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			n++
		}
	}
	return n
}

// distinct sorts xs and returns its distinct values, in xs's array.
func (s *idSorter) distinct(xs []uint64) []uint64 {
	s.sort(xs)
	return slices.Compact(xs)
}

// pageRows is one day's rows of a page_rows read while it is read: each row's path (an
// index into paths), person key and event id, in the order read, each in one slice for
// the day rather than a slice for each path and day, whose sizes nothing tells before the
// rows are read: grown row by row, those cost about eight times the bytes of the views on
// the bench's cold dashboard.
type pageRows struct {
	slot        []uint32
	people, ids []uint64
	paths       []uint64          // the path hashes met, by slot
	slotOf      map[uint64]uint32 // the slot of each path hash met
}

// readPageDays runs sql, a page_rows query, and returns its views by day: days[n-first]
// holds day n's, every day of first to end (excluded) one, empty when it has no view.
// events, when not nil, is how many events each day holds (keptDaysSized): room a day's
// views (a subset of its events) get at once.
func (r *Runner) readPageDays(ctx context.Context, sql string, first, end uint16, events []uint64) ([]keptDay, error) {
	rows := make([]pageRows, max(int(end)-int(first), 0))
	for i := range rows {
		rows[i].slotOf = map[uint64]uint32{}
		if events != nil && events[i] > 0 {
			n := events[i]
			rows[i].slot, rows[i].people, rows[i].ids = make([]uint32, 0, n), make([]uint64, 0, n), make([]uint64, 0, n)
		}
	}
	var c pageColumns
	err := r.selectSQL(ctx, "page_rows", sql, c.all(), func(n int) error { return addPageRows(&c, n, first, rows) })
	if err != nil {
		return nil, err
	}
	out := make([]keptDay, len(rows))
	// once the read has ended, ClickHouse leaves the cores to journeyd: each day on its own
	eachDay(len(rows), func(i int) {
		out[i] = rows[i].day()
		rows[i] = pageRows{}
	})
	return out, nil
}

// pageColumns are the columns of page_rows, which each block of a read fills
// (clickhouse.Select).
type pageColumns struct {
	day              clickhouse.Fixed[uint16]
	path, person, id clickhouse.Fixed[uint64]
}

// all returns the columns in page_rows' order.
func (c *pageColumns) all() []clickhouse.Column {
	return []clickhouse.Column{&c.day, &c.path, &c.person, &c.id}
}

// addPageRows adds the rows of the block c holds (rows of them) to days by their day
// (days[day-first]).
func addPageRows(c *pageColumns, rows int, first uint16, days []pageRows) error {
	for i := range rows {
		n, path := c.day[i], c.path[i]
		if n < first || int(n-first) >= len(days) {
			return fmt.Errorf("a page view of day %d is outside the period's days %d to %d", n, first, int(first)+len(days))
		}
		d := &days[n-first]
		slot, ok := d.slotOf[path]
		if !ok {
			slot = uint32(len(d.paths))
			d.paths = append(d.paths, path)
			d.slotOf[path] = slot
		}
		d.slot, d.people, d.ids = append(d.slot, slot), append(d.people, c.person[i]), append(d.ids, c.id[i])
	}
	return nil
}

// day returns the day's views as the store keeps them: by path, the event ids (a replay's
// copies too: they are counted once at the period's count, for copies may fall on two
// days) and the distinct people, sorted. The views are put in path order in place, in the
// slices they were read into (an American flag sort by slot): copying them into new ones
// cost about as much again as reading them, most of it the first touch of the new memory.
// Each path's ids and people are then a part of the day's; the people, once distinct,
// are copied into a slice as long as they need, and the ids too when the room the
// day's event count gave them is a quarter larger than the views.
func (d *pageRows) day() *pageDay {
	day := &pageDay{paths: make(map[uint64]*pageViews, len(d.paths))}
	if len(d.paths) == 0 {
		return day
	}
	bounds := make([]int, len(d.paths)+1) // slot s's views are [bounds[s], bounds[s+1])
	for _, s := range d.slot {
		bounds[s+1]++
	}
	for s := 1; s < len(bounds); s++ {
		bounds[s] += bounds[s-1]
	}
	next := slices.Clone(bounds[:len(d.paths)]) // the next place of each slot not yet holding one of its views
	for s := range d.paths {
		for next[s] < bounds[s+1] {
			i := next[s]
			for t := d.slot[i]; int(t) != s; t = d.slot[i] { // move the view at i to its slot, and take the one it displaces
				j := next[t]
				next[t]++
				d.slot[i], d.slot[j] = d.slot[j], d.slot[i]
				d.ids[i], d.ids[j] = d.ids[j], d.ids[i]
				d.people[i], d.people[j] = d.people[j], d.people[i]
			}
			next[s]++
		}
	}
	ids, people := d.ids, d.people
	if cap(ids) > len(ids)+len(ids)/4 {
		ids = slices.Clone(ids)
	}
	var sorter idSorter
	kept := 0 // the distinct people of the slots before, moved down to the front
	for s := range d.paths {
		part := sorter.distinct(people[bounds[s]:bounds[s+1]])
		next[s] = kept // now where slot s's distinct people start
		kept += copy(people[kept:], part)
	}
	people = slices.Clone(people[:kept]) // the repeats' room is not kept
	for s, path := range d.paths {
		to := kept
		if s+1 < len(d.paths) {
			to = next[s+1]
		}
		day.paths[path] = &pageViews{ids: ids[bounds[s]:bounds[s+1]:bounds[s+1]], people: people[next[s]:to:to]}
	}
	return day
}

// pageCount is one path's line of the top pages.
type pageCount struct {
	hash              uint64
	people, pageviews uint64
}

// pagesFromDays answers pages.sql's rows (dimension, value, people, pageviews; most people
// first, then most pageviews, then by path; limit rows) for params (whole UTC days, no
// filter) from the page views of each day of the period (page_rows.sql, through the
// store) and the person links.
func (r *Runner) pagesFromDays(ctx context.Context, params map[string]Value, first, end uint16, limit int) (Table, error) {
	p := map[string]Value{"site": params["site"], "from": params["from"], "until": params["until"], "days": fragment("1")}
	days, err := r.keptDaysSized(ctx, "page_rows", p, first, end, func(p map[string]Value, _ bool, events []uint64) ([]keptDay, error) {
		sql, err := r.SQL("page_rows", p)
		if err != nil {
			return nil, err
		}
		return r.readPageDays(ctx, sql, first, end, events)
	})
	if err != nil {
		return Table{}, err
	}
	links, err := r.siteLinks(ctx, params["site"])
	if err != nil {
		return Table{}, err
	}
	// Each path's views of all the days are counted path by path, in two slices reused
	// for every path and made once as long as the longest path needs: a slice of each path's
	// ids and people at once held the whole period's views twice over, in fresh memory.
	byPath := map[uint64][]*pageViews{}
	for _, d := range days {
		for path, v := range d.(*pageDay).paths {
			byPath[path] = append(byPath[path], v)
		}
	}
	longest := [2]int{}
	for _, views := range byPath {
		n := [2]int{}
		for _, v := range views {
			n[0], n[1] = n[0]+len(v.ids), n[1]+len(v.people)
		}
		longest = [2]int{max(longest[0], n[0]), max(longest[1], n[1])}
	}
	ids, people := make([]uint64, longest[0]), make([]uint64, 0, longest[1])
	var (
		sorter idSorter
		parts  [][]uint64 // a path's ids, or people, of each day
	)
	counts := make([]pageCount, 0, len(byPath))
	for path, views := range byPath {
		var c pageCount
		c.hash, c.people = path, pagePeople(&sorter, views, links, people, parts)
		parts = parts[:0]
		for _, v := range views {
			parts = append(parts, v.ids)
		}
		c.pageviews = sorter.countParts(parts, ids)
		counts = append(counts, c)
	}
	byCount := func(a, b pageCount) int {
		if c := cmp.Compare(b.people, a.people); c != 0 {
			return c
		}
		return cmp.Compare(b.pageviews, a.pageviews)
	}
	// Only the paths of the list and those that tie with its last need their names: the
	// ties are ordered by path.
	slices.SortFunc(counts, byCount)
	shown := counts[:0]
	if limit > 0 && len(counts) > 0 {
		n := min(limit, len(counts))
		for n < len(counts) && byCount(counts[n], counts[n-1]) == 0 {
			n++
		}
		shown = counts[:n]
	}
	names, err := r.pageNames(ctx, params, shown)
	if err != nil {
		return Table{}, err
	}
	slices.SortFunc(shown, func(a, b pageCount) int {
		if c := byCount(a, b); c != 0 {
			return c
		}
		return strings.Compare(names[a.hash], names[b.hash])
	})
	t := Table{Name: "pages", Columns: []string{"dimension", "value", "people", "pageviews"}}
	for _, c := range shown[:min(limit, len(shown))] {
		t.Rows = append(t.Rows, []any{"page", names[c.hash], c.people, c.pageviews})
	}
	return t, nil
}

// pagePeople returns the distinct people of a path's views of every day, each person key
// resolved through links, through buf (room for them all) and parts (room for a part a
// day).
func pagePeople(sorter *idSorter, views []*pageViews, links map[uint64]uint64, buf []uint64, parts [][]uint64) uint64 {
	if len(links) == 0 {
		parts = parts[:0]
		for _, v := range views {
			parts = append(parts, v.people)
		}
		return sorter.countParts(parts, buf[:cap(buf)])
	}
	buf = buf[:0]
	for _, v := range views {
		for _, key := range v.people {
			if person, ok := links[key]; ok {
				key = person
			}
			buf = append(buf, key)
		}
	}
	return sorter.count(buf)
}

// pageNames returns the path of every hash of counts. Paths met before come from the Runner's
// memory (a hash's path does not change); the others from page_names.sql.
func (r *Runner) pageNames(ctx context.Context, params map[string]Value, counts []pageCount) (map[uint64]string, error) {
	r.pathsMu.Lock()
	if r.paths == nil {
		r.paths = map[uint64]string{}
	}
	names := make(map[uint64]string, len(counts))
	var unknown []string
	for _, c := range counts {
		if name, ok := r.paths[c.hash]; ok {
			names[c.hash] = name
		} else {
			unknown = append(unknown, strconv.FormatUint(c.hash, 10))
		}
	}
	r.pathsMu.Unlock()
	if len(unknown) == 0 {
		return names, nil
	}
	p := map[string]Value{"site": params["site"], "from": params["from"], "until": params["until"],
		"hashes": fragment(strings.Join(unknown, ", ")), "count": fragment(strconv.Itoa(len(unknown)))}
	sql, err := r.SQL("page_names", p)
	if err != nil {
		return nil, err
	}
	found := map[uint64]string{}
	err = r.streamSQL(ctx, "page_names", sql, func(rows driver.Rows) error {
		var hash uint64
		var path string
		for rows.Next() {
			if err := rows.Scan(&hash, &path); err != nil {
				return err
			}
			found[hash] = path
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	r.pathsMu.Lock()
	defer r.pathsMu.Unlock()
	if len(r.paths)+len(found) > maxPathNames {
		r.paths = map[uint64]string{}
	}
	for hash, path := range found {
		r.paths[hash] = path
		names[hash] = path
	}
	return names, nil
}

// maxPathNames bounds the paths a Runner remembers by hash (pageNames): past it, it
// forgets them all and meets them again.
const maxPathNames = 1 << 16

// pathNames is the Runner's memory of paths by hash (pageNames).
type pathNames struct {
	pathsMu sync.Mutex
	paths   map[uint64]string
}
