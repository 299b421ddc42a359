package report

import (
	"reflect"
	"testing"
)

// TestTouchGroupsInRanges gathers the touch groups of a few planted rows once by one
// goroutine and once split among four (group's ranges, minRangeRows 1), and holds both to
// the groups worked out by hand, in the same order.
func TestTouchGroupsInRanges(t *testing.T) {
	const (
		a = 0x01<<56 | 5 // group A: a session and a purchase by a user known by its anonymous id
		b = 0x40<<56 | 6 // group B: no visit, no conversion: left out
		c = 0x80<<56 | 7 // group C: a session of person 9
		d = 0xC0<<56 | 8 // group D: one purchase stored twice (a replay), of person 9
		e = 0xC0<<56 | 9 // group E: an email open of person 9, in D's part
	)
	rows := []*dayRows{{
		rows: [][]touchRow{{
			{hash: d, anon: 9, conv: 1},
			{hash: a, anon: 5, t: 100, k: 0, conv: -1},
			{hash: c, anon: 9, t: 200, k: 1, conv: -1},
			{hash: a, user: 7, anon: 5, conv: 0},
			{hash: b, anon: 6, conv: -1},
			{hash: d, anon: 9, conv: 2},
			{hash: e, anon: 9, t: 150, k: 2, conv: -1, flags: emailRow},
		}},
		keys: []string{"Paid Search", "Organic", "Email"},
		conv: []rowConversion{{t: 150, v: 10, id: "e1"}, {t: 300, v: 20, id: "e2"}, {t: 300, v: 20, id: "e2"}},
	}}
	for _, d := range rows {
		d.done(false) // each day grouped on its own, as a read's are (daygroups.go)
	}
	// By hand: A's person is its greatest user hash, 7, linked to 70; its visit 100 (Paid
	// Search, key 0) and its purchase 150/10, a session. B has neither a visit nor a
	// conversion. C is a session of 9 at 200 (Organic, 1). D's purchase counts once (300/20).
	// E is a touchpoint (Email, 2) but no session. The conversions in part order: A's (part
	// 0x01) first, then D's (0xC0). By person (9 before 70); person 9's three in the order
	// they were gathered, C (part 0x80), D and E (part 0xC0, by hash: D then E), which the
	// sort of so few in one run of sortByPerson keeps; then A. A group without
	// conversions holds the empty range where it was gathered: C after A's one (1), E after
	// D's (2). idx is each group's place among the read's hashes, ascending: A, C, D, E.
	want := []touchGroup{
		{person: 9, t: 200, k: 1, from: 1, to: 1, idx: 1, session: true},
		{person: 9, from: 1, to: 2, idx: 2},
		{person: 9, t: 150, k: 2, from: 2, to: 2, idx: 3},
		{person: 70, t: 100, k: 0, from: 0, to: 1, idx: 0, session: true},
	}
	wantConvs := []conversionAt{{150, 10}, {300, 20}}
	for _, minRows := range []int{1 << 16, 1} {
		old := minRangeRows
		minRangeRows = minRows
		g := &touchGrouper{links: map[uint64]uint64{7: 70}}
		if err := g.group(rows); err != nil {
			t.Fatal(err)
		}
		minRangeRows = old
		// Ranges split as group splits them: with minRangeRows 1, the 5 groups' day parts
		// give four ranges; the convs of a range after the first are shifted by those before it.
		if !reflect.DeepEqual(g.groups, want) || !reflect.DeepEqual(g.convs, wantConvs) {
			t.Errorf("minRangeRows %d: groups %+v, convs %+v; want %+v, %+v", minRows, g.groups, g.convs, want, wantConvs)
		}
	}
}
