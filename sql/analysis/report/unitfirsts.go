package report

import (
	"math/bits"
	"math/rand/v2"
)

// funnel_rows' rows of kind 1 are a day's events, each with its unit key, time and hash of
// breakdown values (funnel_rows.sql): ClickHouse 18.16 grouped them by day and unit into
// about 2.5 million groups a month at 10 million events, 2.5-2.6 s of its CPU, where
// sending every event costs it 0.6 s (docs/BENCHMARKS.md, "The units' first events
// reduced in journeyd"). journeyd reduces them instead, day by day: a day holds about a
// 30th of the units, a table that stays in the processor's caches, and the events table's
// order (site, day, anonymous id, time) brings most of a unit's events of a part one after
// the other, so that most rows are the unit of the row before.

// unitFirsts reduces one day's rows of kind 1 to each unit's first event: its least time
// and, among the events of that second, the least hash of breakdown values (funnel.sql's
// argMin takes whichever it reads first, in no defined order). An event stored twice
// changes nothing. The units keep the order in which their first rows came. The zero
// value is empty.
//
// The units are found by key in a table of open addressing on the key's bits mixed with a
// seed of the table's (the keys are hashes of what visitors send, which could be chosen to
// share their low bits), and kept in chunks of unitChunk, which grow without copying: a
// map and growing slices took 0.68 s of journeyd's CPU for the dashboard's barriers at 10
// million events, most of it in the map and in zeroing the slices' new arrays.
type unitFirsts struct {
	slots  []uint32 // 1 + the index of a unit, 0 empty; a power of two long
	shift  uint8    // 64 - log2(len(slots)): a mixed key's slot is its top bits
	seed   uint64
	keys   [][]uint64 // each unit key, in the order met, unitChunk a chunk
	first  [][]uint32 // each unit's first event, seconds into the day
	combos [][]uint64 // each unit's first event's hash of breakdown values
	n      int        // the units
	last   int        // the index of the unit of the row before (none while n is 0)
}

// unitChunk is the units of a chunk of unitFirsts, and unitSlotsMin the least slots of its
// table.
const (
	unitChunkBits = 11
	unitChunk     = 1 << unitChunkBits
	unitSlotsMin  = 1 << 10
)

// add takes one event of unit key at t seconds into the day, with the hash combo of its
// breakdown values.
func (u *unitFirsts) add(key uint64, t uint32, combo uint64) {
	i := u.last
	if u.n == 0 || u.keys[i>>unitChunkBits][i&(unitChunk-1)] != key {
		i = u.find(key, t, combo)
		u.last = i
		if i < 0 { // new: its row is its first event
			u.last = u.n - 1
			return
		}
	}
	c, j := i>>unitChunkBits, i&(unitChunk-1)
	if f := u.first[c][j]; t < f || t == f && combo < u.combos[c][j] {
		u.first[c][j], u.combos[c][j] = t, combo
	}
}

// find returns the index of key's unit, or -1 after adding it with its first event at t
// and hash combo.
func (u *unitFirsts) find(key uint64, t uint32, combo uint64) int {
	if 4*(u.n+1) > 3*len(u.slots) {
		u.grow()
	}
	mask := uint64(len(u.slots) - 1)
	for s := u.slot(key); ; s = (s + 1) & mask {
		idx := u.slots[s]
		if idx == 0 {
			u.slots[s] = uint32(u.n + 1)
			u.append(key, t, combo)
			return -1
		}
		if i := int(idx - 1); u.keys[i>>unitChunkBits][i&(unitChunk-1)] == key {
			return i
		}
	}
}

// slot returns the slot where key's search starts.
func (u *unitFirsts) slot(key uint64) uint64 {
	return ((key ^ u.seed) * 0x9e3779b97f4a7c15) >> u.shift
}

// grow doubles the table (or makes its first) and puts every unit in it again.
func (u *unitFirsts) grow() {
	n := max(2*len(u.slots), unitSlotsMin)
	if u.slots == nil {
		u.seed = rand.Uint64()
	}
	u.slots = make([]uint32, n)
	u.shift = uint8(64 - bits.Len(uint(n-1)))
	mask := uint64(n - 1)
	for i := range u.n {
		s := u.slot(u.keys[i>>unitChunkBits][i&(unitChunk-1)])
		for u.slots[s] != 0 {
			s = (s + 1) & mask
		}
		u.slots[s] = uint32(i + 1)
	}
}

// append adds a unit at the end of the chunks.
func (u *unitFirsts) append(key uint64, t uint32, combo uint64) {
	c := u.n >> unitChunkBits
	if c == len(u.keys) {
		u.keys = append(u.keys, make([]uint64, 0, unitChunk))
		u.first = append(u.first, make([]uint32, 0, unitChunk))
		u.combos = append(u.combos, make([]uint64, 0, unitChunk))
	}
	u.keys[c], u.first[c], u.combos[c] = append(u.keys[c], key), append(u.first[c], t), append(u.combos[c], combo)
	u.n++
}

// done returns the units' keys, first events and hashes in slices of exactly their
// length, nil for none, which the store keeps as they are. u is empty after.
func (u *unitFirsts) done() (keys []uint64, first []uint32, combos []uint64) {
	if u.n > 0 {
		keys, first, combos = flatChunks(u.keys, u.n), flatChunks(u.first, u.n), flatChunks(u.combos, u.n)
	}
	*u = unitFirsts{}
	return keys, first, combos
}

// flatChunks copies the n values of chunks into one slice of exactly their length.
func flatChunks[T any](chunks [][]T, n int) []T {
	out := make([]T, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}
