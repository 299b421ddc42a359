package report

import (
	"slices"
	"testing"
)

// TestUnitFirsts: one day's events reduced to each unit's first event. Unit 7's events
// come at 500 s (hash 1), 300 s (hash 2), again 300 s with hash 2 (its replay), 300 s
// with hash 0 and 900 s (hash 3): its first event is at 300 s, and of that second's
// hashes 2 and 0 the least, 0. Unit 9 comes between them (at 40 s, hash 5; then 60 s,
// hash 4), so unit 7's later rows are found again by key, not as the row before. Unit 0
// (a key of zero) has one event at 0 s with hash 8. Unit 3's events at 100 s with hash 6
// and 100 s with hash 9 give 100 s and hash 6. The units keep the order of their first
// rows: 7, 9, 0, 3.
func TestUnitFirsts(t *testing.T) {
	var u unitFirsts
	for round := range 2 { // u is empty after done, and takes another day's units from the start
		for _, e := range []struct {
			key   uint64
			t     uint32
			combo uint64
		}{{7, 500, 1}, {7, 300, 2}, {9, 40, 5}, {7, 300, 2}, {9, 60, 4}, {7, 300, 0}, {0, 0, 8}, {7, 900, 3}, {3, 100, 6}, {3, 100, 9}} {
			u.add(e.key, e.t, e.combo)
		}
		keys, first, combos := u.done()
		if !slices.Equal(keys, []uint64{7, 9, 0, 3}) || !slices.Equal(first, []uint32{300, 40, 0, 100}) || !slices.Equal(combos, []uint64{0, 5, 8, 6}) {
			t.Errorf("round %d: units %v, first events %v, hashes %v; want [7 9 0 3] [300 40 0 100] [0 5 8 6]", round, keys, first, combos)
		}
		if cap(keys) != 4 || cap(first) != 4 || cap(combos) != 4 {
			t.Errorf("round %d: room for %d, %d and %d units, want 4 each", round, cap(keys), cap(first), cap(combos))
		}
		if k, f, c := u.done(); k != nil || f != nil || c != nil {
			t.Errorf("round %d: done twice gives %v %v %v, want nothing", round, k, f, c)
		}
	}
}

// TestUnitFirstsMany: 100 000 units (more than a chunk, the table grown many times), keys
// i << 20 for i = 0, ..., 99 999 (sharing their low 20 bits, which the seed's mixing
// spreads), each with three events met in three passes over the units: at 1000 + i s
// (hash i), at 500 + i s (hash i + 1) and at 500 + i s (hash i + 2). Each unit's first
// event is at 500 + i s with hash i + 1, and the units keep the order of the first pass.
func TestUnitFirstsMany(t *testing.T) {
	const n = 100_000
	var u unitFirsts
	for pass := range 3 {
		for i := range uint64(n) {
			switch pass {
			case 0:
				u.add(i<<20, uint32(1000+i), i)
			default:
				u.add(i<<20, uint32(500+i), i+uint64(pass))
			}
		}
	}
	keys, first, combos := u.done()
	if len(keys) != n || len(first) != n || len(combos) != n {
		t.Fatalf("%d units, %d first events, %d hashes; want %d each", len(keys), len(first), len(combos), n)
	}
	for i := range uint64(n) {
		if keys[i] != i<<20 || first[i] != uint32(500+i) || combos[i] != i+1 {
			t.Fatalf("unit %d: key %d, first event %d, hash %d; want %d, %d, %d", i, keys[i], first[i], combos[i], i<<20, 500+i, i+1)
		}
	}
}
