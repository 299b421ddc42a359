package report

import (
	"cmp"
	"slices"
)

// Each day of a touch_rows read is grouped on its own when it is read (dayRows.group): its
// rows become the day's part of each touch group, sorted by the group's hash, and only
// those parts are kept, in the store with the day (daystore.go), not the rows. A read then
// merges the parts of all its days by hash (touchGrouper.group, mergeRange) instead of sorting every
// row of the period again: on the morning a live site's today has changed, the other days'
// parts are the stored ones and only today's are made anew (docs/BENCHMARKS.md).
//
// The merge gives the groups of one read of the whole period exactly, for each of the
// group's values is one that parts combine without loss: its person key is the greatest
// user hash, else the greatest anonymous hash, of all its rows (the greatest of the parts'
// greatest); its visit the row with the least non-zero visit time, the first such row
// when several tie (the parts' visits, the earliest day's first when they tie, as the rows
// of the earlier day came first in one read); whether it holds an email open, click or
// impression (any part's); its conversions each (event id, time, value) once, in the order
// the rows gave them (a part's are its own, deduplicated, in its rows' order; the merge
// keeps a later day's only when no earlier day's part held it). A session that crosses
// midnight, or a conversion that joins an earlier day's session, has parts on two days
// and comes out as one group. The groups come out in hash order, the order one read's
// grouping gave them in (each goroutine's range of hashes in order), so that sortByPerson
// and the batches are the same too.

// dayGroup is one touch group's part of one day's rows, 40 bytes: the group's hash, the
// greatest user and anonymous hashes of its rows that day, its visit that day (t 0 when
// none; k an index into the day's keys), whether a row is an email open, email click or
// impression, and where its conversions start in the day's groupConv (they end where the
// next group's start).
type dayGroup struct {
	hash, user, anon uint64
	t, k, from       uint32
	email            bool
}

// group groups d's rows into d.groups, sorted by hash, and d.groupConv, the index in
// d.conv of each group's conversions, each (event id, time, value) once a group, in the
// rows' order, and d.parts, how many groups fall in each top byte of their hash; the rows
// are dropped (all a read needs of them is in the groups). The rows are sorted by hash and
// place through 16 bytes each (rowOrder), not moved themselves (40 bytes): first into 256
// runs by the hash's top byte, then each run on its own, in cache.
func (d *dayRows) group() {
	var runs [257]int
	n := 0
	for _, chunk := range d.rows {
		for _, row := range chunk {
			runs[row.hash>>56+1]++
		}
		n += len(chunk)
	}
	for i := 1; i < len(runs); i++ {
		runs[i] += runs[i-1]
	}
	order := make([]rowOrder, n)
	next := runs
	for c, chunk := range d.rows {
		for i, row := range chunk {
			order[next[row.hash>>56]] = rowOrder{row.hash, uint32(c)<<dayChunkBits | uint32(i)}
			next[row.hash>>56]++
		}
	}
	for b := range 256 {
		slices.SortFunc(order[runs[b]:runs[b+1]], func(a, b rowOrder) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.i, b.i)) })
	}
	groups := make([]dayGroup, 0, n)
	for i := 0; i < len(order); {
		x := dayGroup{hash: order[i].hash, from: uint32(len(d.groupConv))}
		j := i
		for ; j < len(order) && order[j].hash == x.hash; j++ {
			row := d.rows[order[j].i>>dayChunkBits][order[j].i&(dayChunk-1)]
			x.user, x.anon = max(x.user, row.user), max(x.anon, row.anon)
			x.email = x.email || row.email
			if row.t != 0 && (x.t == 0 || row.t < x.t) {
				x.t, x.k = row.t, row.k
			}
			if row.conv >= 0 && !d.heldConv(int(x.from), d.conv[row.conv]) {
				d.groupConv = append(d.groupConv, row.conv)
			}
		}
		i = j
		groups = append(groups, x)
		d.parts[x.hash>>56]++
	}
	d.groups, d.rows = groups, nil
}

// heldConv reports whether the group whose conversions start at from in d.groupConv
// holds c already (the same event id, time and value): arrayDistinct's rule in touches.sql.
func (d *dayRows) heldConv(from int, c rowConversion) bool {
	for _, i := range d.groupConv[from:] {
		if other := d.conv[i]; other.id == c.id && other.t == c.t && other.v == c.v {
			return true
		}
	}
	return false
}

// groupEnd returns where the conversions of d's i-th group end in d.groupConv.
func (d *dayRows) groupEnd(i int) uint32 {
	if i+1 < len(d.groups) {
		return d.groups[i+1].from
	}
	return uint32(len(d.groupConv))
}

// dayCursor is where a merge stands in one day's groups: the hash of the group it is at,
// and where the day's groups of the merge's range end.
type dayCursor struct {
	hash        uint64
	day, i, end int
}

// before orders cursors by hash, then day, so that the parts of one group come out in the
// days' order.
func (c dayCursor) before(o dayCursor) bool {
	return c.hash < o.hash || c.hash == o.hash && c.day < o.day
}

// mergeRange merges the day parts of the groups of days whose hash's top byte is from to
// end (excluded) into r, in hash order, their visits' keys renumbered (keys[day], group),
// each group's person resolved through g.links, as the comment at the top of this file
// says. A group that is neither a touchpoint nor holds a conversion is left out, as
// touchpoints.sql leaves it.
func (g *touchGrouper) mergeRange(r *groupRange, days []*dayRows, keys [][]uint32, from, end int) {
	var heap []dayCursor
	for i, d := range days {
		if d == nil {
			continue
		}
		first, last := 0, 0
		for p := range end {
			if p < from {
				first += int(d.parts[p])
			}
			last += int(d.parts[p])
		}
		if first < last {
			heap = append(heap, dayCursor{d.groups[first].hash, i, first, last})
		}
	}
	slices.SortFunc(heap, func(a, b dayCursor) int { return cmp.Or(cmp.Compare(a.hash, b.hash), cmp.Compare(a.day, b.day)) }) // a sorted slice is a heap
	for len(heap) > 0 {
		hash := heap[0].hash
		var maxUser, maxAnon uint64
		var t, k uint32
		email := false
		from := len(r.convs)
		r.ids = r.ids[:0]
		for parts := 0; len(heap) > 0 && heap[0].hash == hash; parts++ {
			c := heap[0]
			d := days[c.day]
			x := d.groups[c.i]
			maxUser, maxAnon = max(maxUser, x.user), max(maxAnon, x.anon)
			email = email || x.email
			if x.t != 0 && (t == 0 || x.t < t) {
				t, k = x.t, keys[c.day][x.k]
			}
			if c.i+1 < c.end {
				heap[0] = dayCursor{d.groups[c.i+1].hash, c.day, c.i + 1, c.end}
			} else {
				heap[0] = heap[len(heap)-1]
				heap = heap[:len(heap)-1]
			}
			siftDown(heap)
			more := len(heap) > 0 && heap[0].hash == hash // another day's part of the group follows
			for _, ci := range d.groupConv[x.from:d.groupEnd(c.i)] {
				cv := d.conv[ci]
				if parts > 0 && r.seen(from, cv.id, cv.t, cv.v) {
					continue
				}
				r.convs = append(r.convs, conversionAt{cv.t, cv.v})
				if parts > 0 || more {
					r.ids = append(r.ids, cv.id)
				}
			}
		}
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
		r.hashes = append(r.hashes, hash)
	}
}

// siftDown restores the heap order of cursors after its first was replaced.
func siftDown(heap []dayCursor) {
	i := 0
	for {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(heap) && heap[l].before(heap[least]) {
			least = l
		}
		if r < len(heap) && heap[r].before(heap[least]) {
			least = r
		}
		if least == i {
			return
		}
		heap[i], heap[least] = heap[least], heap[i]
		i = least
	}
}
