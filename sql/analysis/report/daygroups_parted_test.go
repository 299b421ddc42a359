package report

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

// partedGroups is the number of touch groups of partedDay.
const partedGroups = 5000

// partedHash is group g's hash: spread over every top byte (about 20 groups each, so that
// a top byte's rows, 80, take sortRun's counting pass) and, among those, over second bytes
// that several share.
func partedHash(g int) uint64 { return uint64(g+1) * 0x9E3779B97F4A7C15 }

// partedDay returns a day of 4 rows for each of partedGroups groups, row r of group g at
// place r*partedGroups+g, so that a group's rows lie in several chunks (the day's 20 000
// rows fill chunks of 1024, 2048, 4096 and 8192, and a last of 4640):
//   - row 0: anonymous hash 10g, visit at 1000 (key 0), conversion ("c<g>", 50, 1);
//   - row 1: user hash g+1 when g is even, visit at 900 (key 1);
//   - row 2: anonymous hash 10g+3, an email open when g%5 == 0, conversion ("c<g>", 50, 1)
//     again (a replay);
//   - row 3: visit at 900 (key 2), the earliest with row 1; conversion ("d<g>", 60, 2).
//
// When parter is set, each full chunk is handed to it as scanDays hands them.
func partedDay(p *dayParter) *dayRows {
	d := &dayRows{keyOf: map[string]uint32{}}
	keys := []string{"Paid Search", "Organic", "Email"}
	for r := range 4 {
		for g := range partedGroups {
			row := touchRow{hash: partedHash(g)}
			var key string
			var c rowConversion
			conv := false
			switch r {
			case 0:
				row.anon, row.t, key = uint64(10*g), 1000, keys[0]
				c, conv = rowConversion{t: 50, v: 1, id: fmt.Sprint("c", g)}, true
			case 1:
				row.t, key = 900, keys[1]
				if g%2 == 0 {
					row.user = uint64(g + 1)
				}
			case 2:
				row.anon = uint64(10*g + 3)
				if g%5 == 0 {
					row.flags = emailRow
				}
				c, conv = rowConversion{t: 50, v: 1, id: fmt.Sprint("c", g)}, true
			case 3:
				row.t, key = 900, keys[2]
				c, conv = rowConversion{t: 60, v: 2, id: fmt.Sprint("d", g)}, true
			}
			chunks := len(d.rows)
			if err := d.row(row, key, conv, c); err != nil {
				panic(err)
			}
			if p != nil && len(d.rows) != chunks {
				p.full(0, d)
			}
		}
	}
	return d
}

// TestDayGroupsParted groups partedDay's rows twice, once with its full chunks partitioned
// by a dayParter while they were added (as a read does) and once all at group, and holds
// both to the groups worked out by hand from partedDay's comment.
func TestDayGroupsParted(t *testing.T) {
	// By hand, group g: user g+1 when g is even, else 0; anonymous 10g+3 (the greater of
	// rows 0 and 2); visit 900, the earliest, of row 1 (key 1 "Organic", the first of the
	// two rows at 900, though row 3 comes in a later chunk); an email when g%5 == 0; the
	// conversions ("c<g>", 50, 1) once (row 2's is row 0's replay) then ("d<g>", 60, 2): the
	// day's conversions are added in row order, rows 0 of every group first (index g), rows
	// 2 (5000+g), then rows 3 (10000+g), so g's are indices g and 10000+g. The groups come
	// in hash order; d.parts counts them by top byte.
	type want struct {
		g     dayGroup
		convs []int32
	}
	var wants []want
	var parts [256]uint32
	for g := range partedGroups {
		x := dayGroup{hash: partedHash(g), anon: uint64(10*g + 3), t: 900, k: 1, email: g%5 == 0}
		if g%2 == 0 {
			x.user = uint64(g + 1)
		}
		wants = append(wants, want{x, []int32{int32(g), int32(10000 + g)}})
		parts[x.hash>>56]++
	}
	slices.SortFunc(wants, func(a, b want) int {
		if a.g.hash < b.g.hash {
			return -1
		}
		return 1
	})
	var groups []dayGroup
	var groupConv []int32
	for _, w := range wants {
		w.g.from = uint32(len(groupConv))
		groups = append(groups, w.g)
		groupConv = append(groupConv, w.convs...)
	}
	for _, parted := range []bool{false, true} {
		var d *dayRows
		if parted {
			p := newDayParter(1)
			d = partedDay(p)
			p.wait()
			if len(p.runs[0]) != len(d.rows)-1 {
				t.Fatalf("%d chunks handed over of %d, want all but the last", len(p.runs[0]), len(d.rows))
			}
			d.doneParted(false, p.runs[0])
		} else {
			d = partedDay(nil)
			d.done(false)
		}
		if !reflect.DeepEqual(d.groups, groups) || !reflect.DeepEqual(d.groupConv, groupConv) || d.parts != parts {
			t.Errorf("parted %v: %d groups, %d conversions; want %d, %d (first got %+v, want %+v)",
				parted, len(d.groups), len(d.groupConv), len(groups), len(groupConv), d.groups[0], groups[0])
		}
		if d.keys[1] != "Organic" || d.rows != nil {
			t.Errorf("parted %v: keys %q, rows %d chunks; want Organic as key 1 and the rows dropped", parted, d.keys, len(d.rows))
		}
	}
}

// BenchmarkDayGroup groups a day the size of the bench's busiest (benchTouchDay's 92 000
// rows, one a group): "after", every chunk partitioned at group, as before a read's end;
// "parted", its full chunks partitioned as they filled (dayParter), as a read does while
// the rows stream in, so that what is timed is what is left after the read. The rows are
// made anew each iteration, outside the timing.
func BenchmarkDayGroup(b *testing.B) {
	for _, parted := range []bool{false, true} {
		b.Run(map[bool]string{false: "after", true: "parted"}[parted], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				d := &dayRows{keyOf: map[string]uint32{}}
				c := rowConversion{t: 1000, v: 20, id: "00000000-0000-4000-8000-000000000000"}
				var p *dayParter
				if parted {
					p = newDayParter(1)
				}
				for i := range 92000 {
					row := touchRow{hash: uint64(i) * 0x9E3779B97F4A7C15, user: uint64(i % 7), anon: uint64(i), t: uint32(i)}
					chunks := len(d.rows)
					if err := d.row(row, "channel", i%40 == 0, c); err != nil {
						b.Fatal(err)
					}
					if p != nil && len(d.rows) != chunks {
						p.full(0, d)
					}
				}
				var runs []*chunkRuns
				if p != nil {
					p.wait()
					runs = p.runs[0]
				}
				b.StartTimer()
				d.doneParted(false, runs)
			}
		})
	}
}

// TestMergeDaysByByte merges three days of 12 000 groups' parts (about 70 parts a top
// byte, so that sortParts takes its counting passes) and holds the groups to those worked
// out by hand. Group g (hash partedHash(g)):
//   - g even: a part on day 0 (anonymous 10g, visit at 500 keyed "A", conversion
//     ("c<g>", 50, 1)) and one on day 1 (user g+1 when g%4 == 0, visit at 500 keyed "B",
//     conversion ("c<g>", 50, 1) again and ("e<g>", 70, 3));
//   - g odd: a part on day 2 only (anonymous 10g, no visit), with conversion ("o<g>", 80,
//     4) unless g%4 == 3.
func TestMergeDaysByByte(t *testing.T) {
	const groups = 12000
	days := []*dayRows{{keyOf: map[string]uint32{}}, {keyOf: map[string]uint32{}}, {keyOf: map[string]uint32{}}}
	add := func(d *dayRows, row touchRow, key string, c *rowConversion) {
		var conv rowConversion
		if c != nil {
			conv = *c
		}
		if err := d.row(row, key, c != nil, conv); err != nil {
			t.Fatal(err)
		}
	}
	for g := range groups {
		h := partedHash(g)
		if g%2 == 0 {
			add(days[0], touchRow{hash: h, anon: uint64(10 * g), t: 500}, "A", &rowConversion{t: 50, v: 1, id: fmt.Sprint("c", g)})
			var user uint64
			if g%4 == 0 {
				user = uint64(g + 1)
			}
			add(days[1], touchRow{hash: h, user: user, t: 500}, "B", &rowConversion{t: 50, v: 1, id: fmt.Sprint("c", g)})
			add(days[1], touchRow{hash: h}, "", &rowConversion{t: 70, v: 3, id: fmt.Sprint("e", g)})
		} else if g%4 == 1 {
			add(days[2], touchRow{hash: h, anon: uint64(10 * g)}, "", &rowConversion{t: 80, v: 4, id: fmt.Sprint("o", g)})
		} else {
			add(days[2], touchRow{hash: h, anon: uint64(10 * g)}, "", nil)
		}
	}
	for _, d := range days {
		d.done(false)
	}
	// By hand: an even group's person is g+1 when g%4 == 0, else 10g; its visit 500 of day
	// 0 (key "A", the earliest day's when the days' visits tie), a session; its
	// conversions (50, 1) once (day 1's is the same event) and (70, 3). An odd group with
	// g%4 == 1: person 10g, no visit, conversion (80, 4). One with g%4 == 3 has neither
	// and is left out. That is 6000 + 3000 groups; no person is two groups'. The keys: "A"
	// (0) then "B" (1), in the days' order.
	type want struct {
		person uint64
		t, k   uint32
		convs  []conversionAt
	}
	wants := map[uint64]want{}
	for g := range groups {
		switch {
		case g%4 == 0:
			wants[partedHash(g)] = want{uint64(g + 1), 500, 0, []conversionAt{{50, 1}, {70, 3}}}
		case g%2 == 0:
			wants[partedHash(g)] = want{uint64(10 * g), 500, 0, []conversionAt{{50, 1}, {70, 3}}}
		case g%4 == 1:
			wants[partedHash(g)] = want{uint64(10 * g), 0, 0, []conversionAt{{80, 4}}}
		}
	}
	for _, minRows := range []int{1 << 16, 1} {
		old := minRangeRows
		minRangeRows = minRows // 1: the top bytes split among four goroutines
		g := &touchGrouper{links: map[uint64]uint64{}}
		if err := g.group(days); err != nil {
			t.Fatal(err)
		}
		minRangeRows = old
		if len(g.groups) != len(wants) || !reflect.DeepEqual(g.keys, []string{"A", "B"}) || !slices.IsSorted(g.hashes) {
			t.Fatalf("minRangeRows %d: %d groups, keys %q, hashes sorted %v; want %d, [A B], true",
				minRows, len(g.groups), g.keys, slices.IsSorted(g.hashes), len(wants))
		}
		bad := 0
		for i, x := range g.groups {
			w := wants[g.hashes[x.idx]]
			convs := g.convs[x.from:x.to]
			if x.person != w.person || x.t != w.t || x.k != w.k || x.session != (w.t != 0) || !slices.Equal(convs, w.convs) ||
				i > 0 && g.groups[i-1].person >= x.person {
				if bad++; bad <= 3 {
					t.Errorf("minRangeRows %d: group %d %+v (convs %v); want %+v, persons ascending", minRows, i, x, convs, w)
				}
			}
		}
	}
}

// BenchmarkMergeDays gathers the touch groups of a month of days (touchGrouper.group: the
// merge of the days' parts, mergeRange, and the sort by person): 30 days of 30 000 group
// parts each, a third of each day's groups also on the next day (sessions across
// midnight), one conversion in 40 parts; 620 000 groups of 207 000 people.
func BenchmarkMergeDays(b *testing.B) {
	days := benchMergeDays(b)
	b.ReportAllocs()
	for b.Loop() {
		g := &touchGrouper{links: map[uint64]uint64{}}
		if err := g.group(days); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMergeDays returns the days of BenchmarkMergeDays.
func benchMergeDays(b *testing.B) []*dayRows {
	days := make([]*dayRows, 30)
	c := rowConversion{t: 1000, v: 20, id: "00000000-0000-4000-8000-000000000000"}
	for i := range days {
		d := &dayRows{keyOf: map[string]uint32{}}
		for g := i * 20000; g < i*20000+30000; g++ {
			row := touchRow{hash: uint64(g+1) * 0x9E3779B97F4A7C15, anon: uint64(g/3+1) * 0xBF58476D1CE4E5B9, t: uint32(g)}
			if err := d.row(row, "channel", g%40 == 0, c); err != nil {
				b.Fatal(err)
			}
		}
		d.done(false)
		days[i] = d
	}
	return days
}

// BenchmarkSendPeople cuts the touch groups of BenchmarkMergeDays (620 000 groups of
// 207 000 people, three groups a person) into batches of whole people (touchGrouper.send),
// as a read of touch_rows hands them to its members.
func BenchmarkSendPeople(b *testing.B) {
	g := &touchGrouper{links: map[uint64]uint64{}}
	if err := g.group(benchMergeDays(b)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	batches := 0
	cpu := processCPU(b)
	for b.Loop() {
		g.send(func(*personBatch) { batches++ })
	}
	b.ReportMetric(float64(batches)/float64(b.N), "batches/op")
	reportRowCPU(b, cpu, len(g.groups))
}

// TestSortGroups sorts 1000 groups, group i of person i*7%50 and idx 999-i (so that a
// person's groups come in descending idx), and holds them to the order worked out by
// enumeration: person 0 to 49, and for each the i with i*7%50 == p by descending i
// (ascending idx).
func TestSortGroups(t *testing.T) {
	var groups []touchGroup
	for i := range 1000 {
		groups = append(groups, touchGroup{person: uint64(i * 7 % 50), idx: uint32(999 - i)})
	}
	var want []touchGroup
	for p := range 50 {
		for i := 999; i >= 0; i-- {
			if i*7%50 == p {
				want = append(want, touchGroup{person: uint64(p), idx: uint32(999 - i)})
			}
		}
	}
	sortGroups(groups)
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("sorted groups %v..., want %v...", groups[:5], want[:5])
	}
}
