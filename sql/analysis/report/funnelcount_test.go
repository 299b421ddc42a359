package report

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// quantileExactHalf returns quantileExact(0.5) of values as ClickHouse computes it: the
// value at index floor(n / 2) of the sorted values, 0 for none. It sorts values: the
// reference selectHalf is held to.
func quantileExactHalf(values []int64) int64 {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	return values[len(values)/2]
}

// TestSelectHalf: selectHalf gives the value at index floor(n / 2) of the sorted values,
// as a sort does: by hand for a few (1, 2, 3, 4: 3; 9, 1, 5: 5), and against the sort for
// counts around the switch from sorting to selecting (64) and up to 100 000, drawn from
// all 32 bits, from a few values (most of them equal), and from values that share their
// top 22 bits (every digit but the last the same).
func TestSelectHalf(t *testing.T) {
	f := func(values []uint32, want uint32) {
		t.Helper()
		if got := selectHalf(slices.Clone(values)); got != want {
			t.Errorf("median of %d values %v...: %d, want %d", len(values), values[:min(len(values), 8)], got, want)
		}
	}
	f(nil, 0)
	f([]uint32{7}, 7)
	f([]uint32{4, 1, 3, 2}, 3)
	f([]uint32{9, 1, 5}, 5)
	rng := rand.New(rand.NewPCG(1, 2))
	draws := map[string]func() uint32{
		"any":  rng.Uint32,
		"few":  func() uint32 { return []uint32{0, 5, 5, 5, 1 << 31, 1<<32 - 1}[rng.IntN(6)] },
		"near": func() uint32 { return 0xABCD_E000 | rng.Uint32N(1<<10) },
	}
	for name, draw := range draws {
		for _, n := range []int{63, 64, 65, 1000, 4097, 100_000} {
			values, ref := make([]uint32, n), make([]int64, n)
			for i := range values {
				values[i] = draw()
				ref[i] = int64(values[i])
			}
			if got, want := selectHalf(slices.Clone(values)), quantileExactHalf(ref); int64(got) != want {
				t.Errorf("%s, %d values: %d, want %d", name, n, got, want)
			}
		}
	}
}

// TestSortEntries: the entries of a day's rows (funnelEntries) come out of sortEntries
// sorted by unit, every row once with its unit resolved: units spread over all 64 bits,
// units of a few whose top 32 bits are the same (sorted after the counting passes), units
// below 2^32 (one run of the top byte, whose counting passes move nothing), one unit, and
// units linked to others (a link to a unit of another top byte).
func TestSortEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := func(name string, unit func() uint64, links map[uint64]uint64) {
		t.Helper()
		d := &funnelDay{}
		for i := range 5000 {
			d.evKeys = append(d.evKeys, unit())
			d.items = append(d.items, uint32(i))
		}
		entries, runs := funnelEntries([]*funnelDay{d}, links)
		sortEntries(entries, runs)
		if !slices.IsSortedFunc(entries, func(a, b funnelEntry) int { return cmp.Compare(a.unit, b.unit) }) {
			t.Errorf("%s: not sorted by unit", name)
		}
		seen := make([]bool, len(d.evKeys))
		for _, e := range entries { // an event's item is its index here
			i := e.v
			if seen[i] || e.ref != eventRow || e.unit != resolveUnit(links, d.evKeys[i]) {
				t.Fatalf("%s: entry %+v twice or not row %d's", name, e, i)
			}
			seen[i] = true
		}
		if slices.Contains(seen, false) {
			t.Errorf("%s: a row left out", name)
		}
	}
	f("any", rng.Uint64, nil)
	f("shared tops", func() uint64 { return 0xDEAD_BEE0<<32 | uint64(rng.IntN(4))<<32 | uint64(rng.IntN(3)) }, nil)
	f("small", func() uint64 { return uint64(rng.IntN(1000)) }, nil)
	f("one", func() uint64 { return 42 }, nil)
	f("linked", func() uint64 { return uint64(rng.IntN(8)) << 60 }, map[uint64]uint64{1 << 60: 7, 2 << 60: 3 << 60})
}

// TestFunnelCount counts a funnel of three steps (window 100 s) by device and by nothing
// from two hand-made days, with links: what each unit's first event, chain and gaps are,
// and the medians of several units in a segment.
func TestFunnelCount(t *testing.T) {
	const (
		hA, hB  = 0xA1, 0xB2 // mobile, desktop
		u1, u2  = 0x1111_0000_0000_0001, 0x2000_0000_0000_0002
		u3, u4  = 0xAAAA_AAAA_0000_0001, 0xAAAA_AAAA_0000_0002 // the same top 32 bits
		u5      = 0x5555_0000_0000_0005
		u6, u7  = 0x6666_0000_0000_0006, 0x1000_0000_0000_0007 // linked to u1 and u2; u7 < u2
		d1, day = uint32(1767225600), uint32(86400)
	)
	ev := func(s, mask uint32) uint32 { return s<<funnelMaskBits | mask }
	days := []*funnelDay{{
		start: d1, cols: 1, hashes: []uint64{hA, hB}, names: []string{"mobile", "desktop"},
		keys:   []uint64{u1, u2, u3, u4, u5, u6, u7},
		first:  []uint32{10, 5, 7, 1, 50, 2, 5},
		combos: []uint64{hA, hB, hA, hA, hB, hB, hA},
		evKeys: []uint64{u1, u3, u1, u4, u2, u3, u1, u4, u6, u2, u3},
		items: []uint32{ev(10, 1), ev(7, 1), ev(30, 2), ev(1, 1), ev(5, 1), ev(17, 2), ev(100, 4), ev(91, 2), ev(35, 2),
			ev(45, 2), ev(57, 4)},
	}, {
		start: d1 + day, cols: 1, hashes: []uint64{hA}, names: []string{"mobile"},
		keys: []uint64{u5}, first: []uint32{20}, combos: []uint64{hA},
		evKeys: []uint64{u5, u5}, items: []uint32{ev(25, 2), ev(20, 1)},
	}}
	links := map[uint64]uint64{u6: u1, u7: u2}
	s := funnelShape{steps: 3, window: 100, by: []string{"device", ""}, cols: []int{0}, stepSorted: true}
	// By hand, per person (u6 is u1's, u7 u2's):
	//   u1: first events 10 (mobile) and u6's 2 (desktop): desktop. Steps 1 at 10, 2 at
	//       30 and 35, 3 at 100: level 3, chain 10, 30, 100, gaps 20 and 70.
	//   u2: first events 5 (desktop) and u7's 5 (mobile), a tie: the least key, u7's,
	//       mobile. Steps 1 at 5, 2 at 45: level 2, gap 40.
	//   u3: mobile (7). Steps 1 at 7, 2 at 17, 3 at 57: gaps 10 and 40.
	//   u4: mobile (1). Steps 1 at 1, 2 at 91: level 2, gap 90.
	//   u5: first events 50 on the 1st (desktop) and 20 on the 2nd (mobile): desktop. Steps
	//       1 at 20 and 2 at 25 on the 2nd: level 2, gap 5.
	// device: desktop (u1, u5) 2, 2 (gaps 20, 5: sorted 5, 20, the median 20), 1 (70);
	//   mobile (u2, u3, u4) 3, 3 (40, 10, 90: 40), 1 (40).
	// none: 5, 5 (20, 40, 10, 90, 5: 20), 2 (70, 40: 70).
	want := "[1 desktop 1 2 0] [1 desktop 2 2 20] [1 desktop 3 1 70] [1 mobile 1 3 0] [1 mobile 2 3 40] [1 mobile 3 1 40] " +
		"[2  1 5 0] [2  2 5 20] [2  3 2 70]"
	rows := funnelCount(days, links, s)
	if got := fmt.Sprint(rows.Data)[1:]; got != want+"]" {
		t.Errorf("funnel:\n%s\nwant\n%s", got, want)
	}
	// A server that does not sort a second's events by step: no event matches two steps
	// here, so the count stands; one that does (u4's step 2 also step 3) leaves it to
	// funnel.sql.
	s.stepSorted = false
	if rows := funnelCount(days, links, s); rows == nil {
		t.Errorf("no event of two steps: counted nothing")
	}
	days[0].items[7] |= 4
	if rows := funnelCount(days, links, s); rows != nil {
		t.Errorf("an event of two steps on a server of read order: counted %v, want nil", rows.Data)
	}
}

// TestFunnelCountAgrees holds funnelCount to a direct count of the same days (a map of
// units, each cell's gaps in a list, sorted for the median, as funnelCount counted before
// its radix sort and chunks) over three days of random rows: 20 000 units, some keys linked
// to others, two breakdowns of three values and four combinations a day (one hash naming
// other values on a later day, which the first day's names win), a breakdown of none
// between them, three steps in a window of two hours, an exclusion, and events of two
// steps at once. More units have gaps than a chunk of segments holds (4 096).
func TestFunnelCountAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	keys := make([]uint64, 20_000)
	for i := range keys {
		keys[i] = rng.Uint64()
	}
	links := map[uint64]uint64{}
	for range 2000 {
		links[keys[rng.IntN(len(keys))]] = keys[rng.IntN(len(keys))]
	}
	values := [][]string{{"mobile", "DE"}, {"desktop", "DE"}, {"mobile", "US"}, {"tablet", "FR"}}
	var days []*funnelDay
	for n := range 3 {
		d := &funnelDay{start: uint32(benchFirst+uint16(n)) * 86400, cols: 2}
		for h, v := range values {
			if n == 2 && h == 3 {
				v = []string{"other", "XX"} // the first day's names of hash 4 win
			}
			d.hashes, d.names = append(d.hashes, uint64(h+1)), append(d.names, v...)
		}
		for range 15_000 {
			d.keys = append(d.keys, keys[rng.IntN(len(keys))])
			d.first = append(d.first, uint32(rng.IntN(3600*6)))
			d.combos = append(d.combos, uint64(rng.IntN(5))) // 0: a hash no day names
		}
		for range 90_000 {
			d.evKeys = append(d.evKeys, keys[rng.IntN(len(keys))])
			mask := uint32(1) << rng.IntN(4) // steps 1-3, or the exclusion
			if rng.IntN(20) == 0 {
				mask |= 1 << rng.IntN(3)
			}
			d.items = append(d.items, uint32(rng.IntN(3600*6))<<funnelMaskBits|mask)
		}
		days = append(days, d)
	}
	s := funnelShape{steps: 3, window: 7200, exclusion: true, by: []string{"device", "", "country"}, cols: []int{0, 2}, stepSorted: true}
	direct := directFunnelCount(days, links, s)
	got, want := fmt.Sprint(funnelCount(days, links, s).Data), fmt.Sprint(direct)
	if got != want {
		t.Errorf("funnelCount:\n%.600s\nwant (a direct count)\n%.600s", got, want)
	}
	for _, row := range direct { // breakdown 2 (none), step 2: every unit with a gap
		if row[0] == uint32(2) && row[2] == uint32(2) && row[3].(uint64) <= segChunkUnits {
			t.Errorf("%d units with a gap, want more than a chunk of segments (%d)", row[3], segChunkUnits)
		}
	}
}

// directFunnelCount counts funnel.sql's rows from days as the comment at the top of
// funneldays.go says, unit by unit in a map, without funnelCount's sort and chunks.
func directFunnelCount(days []*funnelDay, links map[uint64]uint64, s funnelShape) [][]any {
	type unit struct {
		t, key, combo uint64 // its first event (t 0: none)
		pairs         []uint64
		excl          []uint32
	}
	units := map[uint64]*unit{}
	get := func(key uint64) *unit {
		id := resolveUnit(links, key)
		if units[id] == nil {
			units[id] = &unit{}
		}
		return units[id]
	}
	names := map[uint64][]string{}
	for _, d := range days {
		for i, h := range d.hashes {
			if names[h] == nil {
				names[h] = d.names[i*int(d.cols) : (i+1)*int(d.cols)]
			}
		}
		for j, key := range d.keys {
			u, t := get(key), uint64(d.start+d.first[j])
			if u.t == 0 || t < u.t || t == u.t && key < u.key {
				u.t, u.key, u.combo = t, key, d.combos[j]
			}
		}
		for j, key := range d.evKeys {
			u, t, mask := get(key), uint64(d.start+d.items[j]>>funnelMaskBits), d.items[j]&(1<<funnelMaskBits-1)
			for step := 1; step <= s.steps; step++ {
				if mask&(1<<(step-1)) != 0 {
					u.pairs = append(u.pairs, t<<8|uint64(step))
				}
			}
			if mask&(1<<s.steps) != 0 {
				u.excl = append(u.excl, uint32(t))
			}
		}
	}
	type cell struct {
		entered []int64
		gaps    [][]int64
	}
	cells := make([]map[string]*cell, len(s.by))
	for b := range cells {
		cells[b] = map[string]*cell{}
	}
	chain, start := make([]uint32, s.steps), make([]int64, s.steps)
	for _, u := range units {
		slices.Sort(u.pairs)
		level := windowFunnel(u.pairs, s.steps, s.window, start)
		if level == 0 {
			continue
		}
		earliestChain(u.pairs, s.window, chain)
		if slices.ContainsFunc(u.excl, func(t uint32) bool { return t >= chain[0] && uint64(t) <= uint64(chain[0])+s.window }) {
			continue
		}
		for b := range s.by {
			seg := ""
			if c := slices.Index(s.cols, b); c >= 0 && u.t != 0 && names[u.combo] != nil {
				seg = names[u.combo][c]
			}
			x := cells[b][seg]
			if x == nil {
				x = &cell{entered: make([]int64, s.steps), gaps: make([][]int64, s.steps)}
				cells[b][seg] = x
			}
			for step := 1; step <= level; step++ {
				x.entered[step-1]++
				if step > 1 && chain[step-1] > 0 {
					x.gaps[step-1] = append(x.gaps[step-1], int64(chain[step-1])-int64(chain[step-2]))
				}
			}
		}
	}
	var out [][]any
	for b := range s.by {
		for _, seg := range slices.Sorted(maps.Keys(cells[b])) {
			x := cells[b][seg]
			for step := 1; step <= s.steps && x.entered[step-1] > 0; step++ {
				out = append(out, []any{uint32(b + 1), seg, uint32(step), uint64(x.entered[step-1]), quantileExactHalf(x.gaps[step-1])})
			}
		}
	}
	return out
}

// TestFunnelPeriodFirst: a first event's index among all the days' gives its day and its
// index there, days without first events skipped: days of 0, 2, 0, 0 and 3 first events
// number them 0-1 (the second day) and 2-4 (the fifth).
func TestFunnelPeriodFirst(t *testing.T) {
	var days []*funnelDay
	for i, n := range []int{0, 2, 0, 0, 3} {
		d := &funnelDay{start: uint32(i)}
		for j := range n {
			d.keys = append(d.keys, uint64(10*i+j))
		}
		days = append(days, d)
	}
	p, ok := newFunnelPeriod(days)
	if !ok {
		t.Fatal("five first events: too many")
	}
	for ref, want := range []uint64{10, 11, 40, 41, 42} {
		if d, j := p.first(uint32(ref)); d.keys[j] != want || p.key(uint32(ref)) != want {
			t.Errorf("first event %d: key %d of day %d, want %d", ref, d.keys[j], d.start, want)
		}
	}
}
