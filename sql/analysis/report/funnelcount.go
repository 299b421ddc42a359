package report

import (
	"cmp"
	"slices"
	"strings"
)

// funnelCount goes through every row of a funnel's kept days: 4.6 million at 10 million
// events for the dashboard's barriers (2.5 million first events of a unit's day, 2.1
// million step events), 1.8-2.4 s of journeyd's CPU on the dashboard's first open before
// this file's ways and about half of that since (docs/BENCHMARKS.md). What it does with
// them, and why so:
//
//   - the rows are put together by unit with a radix sort (sortEntries): each entry (16
//     bytes, funnelEntry) is written once, while it is made, into one of 256 runs by the
//     unit's top byte, and each run (some 290 KB) is then sorted in cache by three passes
//     of a byte. A pass moves each entry into one of 256 places, which the caches and the
//     address translation hold, where one pass of 16 bits over all of them (65 536 places)
//     missed them for nearly every entry, and a copy into fresh room of their size cost its
//     first touch (110 MB of entries of 24 bytes then; 73 MB now);
//   - a first event is named by its index among all the days' (funnelPeriod), which keeps
//     an entry at 16 bytes; its day, key and breakdown values are looked up only for the
//     first event of a unit counted, and for ties;
//   - the seconds between steps are kept once a unit and step (unitGap), with the unit's
//     segment of each breakdown once (funnelCounter.segs), both in chunks that are never
//     copied, not once a breakdown in a list of each cell that grows (each growth a copy
//     into fresh memory); their medians are taken at the end, each segment's gaps
//     counted into place and the middle one selected by radix (selectHalf) rather than
//     sorted.

// funnelShape is what counting the funnel from the days needs besides the rows.
type funnelShape struct {
	steps     int
	window    uint64 // seconds
	exclusion bool
	by        []string // the breakdowns asked, "" for none
	cols      []int    // the indices of by that are breakdowns, in order
	// stepSorted: the server's windowFunnel sorts the events of one second by step
	// (stepSortSince); if not, an event matching two steps makes funnelCount give up
	stepSorted bool
}

// funnelEntry is one row of a unit, 16 bytes: its resolved unit; for a unit's first event
// of a day (ref below eventRow), v its time and ref its index among the first events of
// all the days (funnelPeriod.first); for a step or exclusion event, v its item and ref
// eventRow | its day's index. 16 bytes rather than 24 (the day and the row's index in it
// apart): the 4.6 million entries of the bench's barriers are written into fresh memory,
// whose first touch costs more than the writes.
type funnelEntry struct {
	unit uint64
	v    uint32
	ref  uint32
}

// eventRow marks a funnelEntry of a step or exclusion event.
const eventRow = 1 << 31

// funnelPeriod is the days a funnel is counted from, with where each day's first events
// start among those of all the days: day i's are firsts[i] to firsts[i+1].
type funnelPeriod struct {
	days   []*funnelDay
	firsts []int
}

// newFunnelPeriod returns the period of days; ok is false when they hold more first events
// than a funnelEntry can tell apart.
func newFunnelPeriod(days []*funnelDay) (p *funnelPeriod, ok bool) {
	p = &funnelPeriod{days: days, firsts: make([]int, len(days)+1)}
	for i, d := range days {
		p.firsts[i+1] = p.firsts[i] + len(d.keys)
	}
	return p, p.firsts[len(days)] < eventRow && len(days) < eventRow
}

// first returns the day of the first event ref (a funnelEntry's) and its index there.
func (r *funnelPeriod) first(ref uint32) (*funnelDay, int) {
	lo, hi := 0, len(r.days)-1 // the last day whose first events start at or before ref
	for lo < hi {
		if m := (lo + hi + 1) / 2; r.firsts[m] <= int(ref) {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return r.days[lo], int(ref) - r.firsts[lo]
}

// key returns the person key of the first event ref.
func (r *funnelPeriod) key(ref uint32) uint64 {
	d, j := r.first(ref)
	return d.keys[j]
}

// funnelCount counts funnel.sql's rows from the days (links resolving person keys; nil per
// session), as the comment at the top of funneldays.go says; nil when an event matches two
// steps and the server's windowFunnel does not sort a second's events by step
// (s.stepSorted).
func funnelCount(days []*funnelDay, links map[uint64]uint64, s funnelShape) *Rows {
	if !s.stepSorted && twoStepEvent(days, s.steps) {
		return nil
	}
	period, ok := newFunnelPeriod(days)
	if !ok {
		return nil
	}
	// by unit: the order of a unit's rows matters nowhere (its events are sorted, its first
	// event is the least time, then key)
	entries, runs := funnelEntries(days, links)
	sortEntries(entries, runs)
	c := newFunnelCounter(s, period, newFunnelValues(days, len(s.cols)))
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].unit == entries[i].unit {
			j++
		}
		c.unit(entries[i:j])
		i = j
	}
	c.medians()
	return c.rows()
}

// twoStepEvent reports whether an event of days matches two of the steps.
func twoStepEvent(days []*funnelDay, steps int) bool {
	mask := uint32(1)<<steps - 1
	for _, d := range days {
		for _, item := range d.items {
			if m := item & mask; m&(m-1) != 0 {
				return true
			}
		}
	}
	return false
}

// funnelValues are the breakdown values of a funnel's days: each value an id over every
// day (its index in names, "" being 0), and each hash of values of a day (a combination)
// its values' ids. The same hash names the same values on every day, barring a collision:
// the first day naming it gives them.
type funnelValues struct {
	names []string
	cols  int               // the values of a combination
	vals  []int             // the ids of each combination's values, cols a combination
	combo map[uint64]uint32 // each hash's combination, counted from 1
}

// newFunnelValues returns the values the days name, cols a hash.
func newFunnelValues(days []*funnelDay, cols int) *funnelValues {
	fv := &funnelValues{names: []string{""}, cols: cols, combo: map[uint64]uint32{}}
	ids := map[string]int{"": 0}
	for _, d := range days {
		for i, h := range d.hashes {
			if _, ok := fv.combo[h]; ok {
				continue
			}
			for c := range cols {
				v := d.names[i*int(d.cols)+c]
				id, ok := ids[v]
				if !ok {
					id = len(fv.names)
					fv.names = append(fv.names, v)
					ids[v] = id
				}
				fv.vals = append(fv.vals, id)
			}
			fv.combo[h] = uint32(len(fv.combo)) + 1
		}
	}
	return fv
}

// funnelEntries returns an entry for every row of the days, its key resolved through links,
// in 256 runs by the unit's top byte (the units are hashes, spread evenly), the run of byte b
// from runs[b] to runs[b+1]: the entries are counted first and then each written once, in
// its run, rather than all written and then moved into fresh room of their size, whose
// first touch (73 MB at the bench's 4.6 million entries) cost more than the moves.
func funnelEntries(days []*funnelDay, links map[uint64]uint64) (entries []funnelEntry, runs [257]int) {
	for _, d := range days {
		for _, key := range d.keys {
			runs[resolveUnit(links, key)>>56+1]++
		}
		for _, key := range d.evKeys {
			runs[resolveUnit(links, key)>>56+1]++
		}
	}
	for b := 1; b < len(runs); b++ {
		runs[b] += runs[b-1]
	}
	entries = make([]funnelEntry, runs[256])
	next, first := runs, uint32(0)
	for di, d := range days {
		for j, key := range d.keys {
			unit := resolveUnit(links, key)
			entries[next[unit>>56]] = funnelEntry{unit, d.start + d.first[j], first}
			next[unit>>56]++
			first++
		}
		for j, key := range d.evKeys {
			unit := resolveUnit(links, key)
			entries[next[unit>>56]] = funnelEntry{unit, d.items[j], eventRow | uint32(di)}
			next[unit>>56]++
		}
	}
	return entries, runs
}

// resolveUnit returns the person key is linked to in links, else key.
func resolveUnit(links map[uint64]uint64, key uint64) uint64 {
	if person, ok := links[key]; ok {
		return person
	}
	return key
}

// sortEntries sorts entries, in runs by the unit's top byte (funnelEntries), by unit, the
// entries of one unit in no particular order. Each run (some 18 000 entries, 290 KB, at the
// bench's 4.6 million) is sorted in cache, through room of the largest run's size, by
// three stable counting passes by the unit's fifth to seventh bytes, which leave it
// ordered by the unit's top 32 bits; then the few stretches of one top half that hold more
// than one unit are sorted. A pass moves each entry into one of 256 places, which the
// caches and the address translation hold: one pass over all the entries by 16 bits
// (65 536 places) missed them for nearly every entry, and cost more than all of these.
func sortEntries(entries []funnelEntry, runs [257]int) {
	most := 0
	for b := range 256 {
		most = max(most, runs[b+1]-runs[b])
	}
	spare := make([]funnelEntry, most)
	for b := range 256 {
		sortRunEntries(entries[runs[b]:runs[b+1]], spare)
	}
}

// sortRunEntries sorts run, the entries of one top byte of their unit, by unit, as
// sortEntries says, through spare, room of at least run's length.
func sortRunEntries(run, spare []funnelEntry) {
	if len(run) < 64 {
		slices.SortFunc(run, func(a, b funnelEntry) int { return cmp.Compare(a.unit, b.unit) })
		return
	}
	var counts [3][256]int
	for _, e := range run {
		counts[0][e.unit>>32&0xFF]++
		counts[1][e.unit>>40&0xFF]++
		counts[2][e.unit>>48&0xFF]++
	}
	src, dst := run, spare[:len(run)]
	for p := range counts {
		shift, at := 32+8*p, 0
		next := &counts[p]
		for b, n := range next {
			next[b], at = at, at+n
		}
		for _, e := range src {
			b := e.unit >> shift & 0xFF
			dst[next[b]] = e
			next[b]++
		}
		src, dst = dst, src
	}
	copy(run, src) // three passes end in spare
	for i := 0; i < len(run); {
		j, mixed := i+1, false
		for ; j < len(run) && run[j].unit>>32 == run[i].unit>>32; j++ {
			mixed = mixed || run[j].unit != run[i].unit
		}
		if mixed {
			slices.SortFunc(run[i:j], func(a, b funnelEntry) int { return cmp.Compare(a.unit, b.unit) })
		}
		i = j
	}
}

// funnelCell counts one segment of one breakdown.
type funnelCell struct {
	entered []int64 // by step
	median  []int64 // by step: quantileExact(0.5) of the seconds from the previous step, 0 for none
}

// unitGap is the seconds from one step's chain time to the previous step's of a unit
// (funnelCounter.gaps): unit is the unit's index in funnelCounter.segs (unitSegs.add).
type unitGap struct{ unit, gap uint32 }

// funnelCounter counts the units of a funnel, one at a time (unit), then their medians
// (medians) and the rows (rows).
type funnelCounter struct {
	s      funnelShape
	period *funnelPeriod
	fv     *funnelValues
	cells  [][]*funnelCell      // by breakdown and value id
	segs   unitSegs             // each unit with a gap: its segment (value id) of each breakdown
	gaps   []rowChunks[unitGap] // by step (index step - 1): each unit's gap to the previous step, where it has one
	// scratch for one unit
	pairs []uint64 // its step events: time << 8 | step (1-based)
	excl  []uint32 // its exclusion times
	chain []uint32
	start []int64
	seg   []int // its segment of each breakdown
}

// newFunnelCounter returns a counter of the funnel s over the days of period, with their
// breakdown values fv.
func newFunnelCounter(s funnelShape, period *funnelPeriod, fv *funnelValues) *funnelCounter {
	c := &funnelCounter{s: s, period: period, fv: fv, cells: make([][]*funnelCell, len(s.by)), segs: unitSegs{n: len(s.by)}, gaps: make([]rowChunks[unitGap], s.steps),
		chain: make([]uint32, s.steps), start: make([]int64, s.steps), seg: make([]int, len(s.by))}
	for b := range c.cells {
		c.cells[b] = make([]*funnelCell, len(fv.names))
	}
	return c
}

// unit counts the unit of run, all of its rows.
func (c *funnelCounter) unit(run []funnelEntry) {
	s := &c.s
	c.pairs, c.excl = c.pairs[:0], c.excl[:0]
	first := -1 // its first event: the least time, then key
	for k, e := range run {
		if e.ref&eventRow == 0 {
			if first < 0 {
				first = k
			} else if f := run[first]; e.v < f.v || e.v == f.v && c.period.key(e.ref) < c.period.key(f.ref) {
				first = k
			}
			continue
		}
		d := c.period.days[e.ref&^eventRow]
		t, mask := uint64(d.start+e.v>>funnelMaskBits), e.v&(1<<funnelMaskBits-1)
		for step := 1; step <= s.steps; step++ {
			if mask&(1<<(step-1)) != 0 {
				c.pairs = append(c.pairs, t<<8|uint64(step))
			}
		}
		if s.exclusion && mask&(1<<s.steps) != 0 {
			c.excl = append(c.excl, uint32(t))
		}
	}
	if len(c.pairs) == 0 || len(s.by) == 0 {
		return
	}
	slices.Sort(c.pairs)
	level := windowFunnel(c.pairs, s.steps, s.window, c.start)
	if level == 0 {
		return
	}
	chain := c.chain
	earliestChain(c.pairs, s.window, chain)
	if s.exclusion && slices.ContainsFunc(c.excl, func(t uint32) bool {
		return t >= chain[0] && uint64(t) <= uint64(chain[0])+s.window
	}) {
		return
	}
	c.segments(run, first)
	c.enter(level)
}

// segments sets c.seg to the segment of each breakdown of the unit whose first event is
// run[first] (none: -1): its values, or "" (0).
func (c *funnelCounter) segments(run []funnelEntry, first int) {
	clear(c.seg)
	if first < 0 || c.fv.cols == 0 {
		return
	}
	d, j := c.period.first(run[first].ref)
	combo := c.fv.combo[d.combos[j]]
	if combo == 0 {
		return
	}
	vals := c.fv.vals[int(combo-1)*c.fv.cols:]
	for i, b := range c.s.cols {
		c.seg[b] = vals[i]
	}
}

// enter counts the unit of segments c.seg and chain c.chain into each step up to level,
// and keeps its gaps between the chain's steps.
func (c *funnelCounter) enter(level int) {
	unit := -1
	for step := 2; step <= level; step++ {
		if c.chain[step-1] == 0 {
			continue
		}
		if unit < 0 {
			unit = int(c.segs.add(c.seg))
		}
		// the chain's times do not decrease: each step's is the least from the previous one's
		c.gaps[step-1].add(unitGap{uint32(unit), c.chain[step-1] - c.chain[step-2]})
	}
	for b, seg := range c.seg {
		cell := c.cells[b][seg]
		if cell == nil {
			cell = &funnelCell{entered: make([]int64, c.s.steps), median: make([]int64, c.s.steps)}
			c.cells[b][seg] = cell
		}
		for step := 1; step <= level; step++ {
			cell.entered[step-1]++
		}
	}
}

// medians sets each cell's median of each step: the gaps of the step are counted into
// place by the units' segment of a breakdown (a stable counting pass), and the middle one
// of each segment's selected (selectHalf).
func (c *funnelCounter) medians() {
	counts := make([]int, len(c.fv.names))
	var buf []uint32
	for k := range c.gaps {
		gaps := append(slices.Clip(c.gaps[k].full), c.gaps[k].cur)
		n := c.gaps[k].n + len(c.gaps[k].cur)
		if n == 0 {
			continue
		}
		buf = slices.Grow(buf[:0], n)[:n]
		for b := range c.seg {
			clear(counts)
			for _, chunk := range gaps {
				for _, g := range chunk {
					counts[c.segs.of(g.unit, b)]++
				}
			}
			at := 0
			for s, n := range counts {
				counts[s], at = at, at+n
			}
			for _, chunk := range gaps { // counts[s] ends as where segment s ends
				for _, g := range chunk {
					s := c.segs.of(g.unit, b)
					buf[counts[s]] = g.gap
					counts[s]++
				}
			}
			from := 0
			for s, end := range counts {
				if end > from {
					c.cells[b][s].median[k] = int64(selectHalf(buf[from:end]))
				}
				from = end
			}
		}
	}
}

// unitSegs holds the segments of the units with a gap, n a unit, in chunks of
// segChunkUnits units that are never copied.
type unitSegs struct {
	n      int
	chunks [][]uint32
}

// segChunkUnits is how many units' segments a chunk of unitSegs holds.
const segChunkUnits = 1 << 12

// add appends the segments of a unit and returns its index.
func (u *unitSegs) add(segs []int) uint32 {
	last := len(u.chunks) - 1
	if last < 0 || len(u.chunks[last]) == cap(u.chunks[last]) {
		u.chunks = append(u.chunks, make([]uint32, 0, segChunkUnits*u.n))
		last++
	}
	unit := last*segChunkUnits + len(u.chunks[last])/u.n
	for _, s := range segs {
		u.chunks[last] = append(u.chunks[last], uint32(s))
	}
	return uint32(unit)
}

// of returns the segment of breakdown b of the unit of index unit.
func (u *unitSegs) of(unit uint32, b int) uint32 {
	return u.chunks[unit/segChunkUnits][int(unit%segChunkUnits)*u.n+b]
}

// rows returns funnel.sql's rows of the counted units: by breakdown, segment (by value)
// and step, each step a segment entered.
func (c *funnelCounter) rows() *Rows {
	names := c.fv.names
	out := &Rows{Columns: []string{"breakdown", "segment", "step", "entered", "median_seconds"}}
	for b := range c.s.by {
		var segments []int
		for id, cell := range c.cells[b] {
			if cell != nil {
				segments = append(segments, id)
			}
		}
		slices.SortFunc(segments, func(x, y int) int { return strings.Compare(names[x], names[y]) })
		for _, id := range segments {
			cell := c.cells[b][id]
			for step := 1; step <= c.s.steps && cell.entered[step-1] > 0; step++ {
				out.Data = append(out.Data, []any{uint32(b + 1), names[id], uint32(step), uint64(cell.entered[step-1]), cell.median[step-1]})
			}
		}
	}
	return out
}

// selectHalf returns quantileExact(0.5) of values as ClickHouse computes it: the value at
// index floor(n / 2) of the sorted values, 0 for none; it reorders values. A few are
// sorted; more are selected by radix, 11, 11 and 10 bits at a time from the top: the
// values are counted by the digit, the digit whose count holds the wanted index kept, and
// the values of other digits dropped, in linear passes that leave fewer values each.
func selectHalf(values []uint32) uint32 {
	if len(values) == 0 {
		return 0
	}
	k := len(values) / 2
	var counts [1 << 11]int
	var v uint32 // the digits selected so far
	for _, d := range [...]struct{ shift, bits uint }{{21, 11}, {10, 11}, {0, 10}} {
		if len(values) <= 64 {
			slices.Sort(values)
			return values[k]
		}
		shift, mask := d.shift, uint32(1)<<d.bits-1
		clear(counts[:])
		for _, x := range values {
			counts[x>>shift&mask]++
		}
		digit := 0
		for ; k >= counts[digit]; digit++ {
			k -= counts[digit]
		}
		v |= uint32(digit) << shift
		kept := values[:0]
		for _, x := range values {
			if x>>shift&mask == uint32(digit) {
				kept = append(kept, x)
			}
		}
		values = kept
	}
	return v
}

// windowFunnel returns windowFunnel(window)'s level (default mode) of a unit's step events
// pairs (time << 8 | step, sorted: by time, then step) in a funnel of n steps; start is
// scratch of n.
func windowFunnel(pairs []uint64, n int, window uint64, start []int64) int {
	for i := range start {
		start[i] = -1
	}
	for _, p := range pairs {
		t, k := int64(p>>8), int(p&0xFF)
		switch {
		case k == 1:
			start[0] = t
		case start[k-2] >= 0 && uint64(t) <= uint64(start[k-2])+window:
			start[k-1] = start[k-2]
			if k == n {
				return n
			}
		}
	}
	for k := n; k > 0; k-- {
		if start[k-1] >= 0 {
			return k
		}
	}
	return 0
}

// earliestChain sets chain to funnel.sql's $chain from a unit's step events pairs (sorted):
// t1 the first step-1 time (0: none), each next step's time the least of its times from the
// previous step's to t1 + window (no bound with window 0), 0 once the chain breaks.
func earliestChain(pairs []uint64, window uint64, chain []uint32) {
	for i := range chain {
		chain[i] = 0
	}
	for _, p := range pairs {
		if p&0xFF == 1 {
			chain[0] = uint32(p >> 8)
			break
		}
	}
	for k := 2; k <= len(chain); k++ {
		prev := chain[k-2]
		if prev == 0 {
			return
		}
		for _, p := range pairs {
			t := uint32(p >> 8)
			if int(p&0xFF) != k || t < prev {
				continue
			}
			if window == 0 || uint64(t) <= uint64(chain[0])+window {
				chain[k-1] = t
			}
			break // the least of the step's times from prev on: later ones are further
		}
	}
}
