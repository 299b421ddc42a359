package report

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
// greatest); its visit the row with the least non-zero visit time, and of those the least
// order within that second (touchRow.order: two parts of session_aggregates may each hold a
// visit of the session's first second), the first such row when several tie (the parts'
// visits, the earliest day's first when they tie, as the rows of the earlier day came first
// in one read; two days hold no visit of one second); whether it holds an email open, click
// or impression (any part's); its conversions each (event id, time, value) once, in the
// order the rows gave them (a part's are its own, deduplicated, in its rows' order; the
// merge keeps a later day's only when no earlier day's part held it). A session that
// crosses midnight, or a conversion that joins an earlier day's session, has parts on two
// days and comes out as one group. The groups come out in hash order, the order one read's
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

// group groups d's rows into d.groups, sorted by hash (each group's values as the comment
// at the top of this file says), and d.groupConv, the index in d.conv of each group's
// conversions, each (event id, time, value) once a group, in the rows' order, and d.parts,
// how many groups fall in each top byte of their hash; the rows are dropped (all a read
// needs of them is in the groups). runs[c] tells where each top byte's rows start in chunk
// c when the read partitioned it by that byte already (dayParter, while the rows streamed
// in); the chunks it does not cover are partitioned here (partChunk). Then each top byte's
// rows of all the chunks, a few hundred on the bench's days, are put in hash order through
// 16 bytes each (rowOrder, sortRun), in cache, and their groups made: the whole day's rows
// are never sorted at once, nor gone through in an order other than their chunks'.
func (d *dayRows) group(runs []*chunkRuns) {
	all := make([]*chunkRuns, len(d.rows))
	copy(all, runs)
	var scratch []touchRow
	n := 0
	for c, chunk := range d.rows {
		if all[c] == nil {
			all[c] = new(chunkRuns)
			scratch = partChunk(chunk, all[c], scratch)
		}
		n += len(chunk)
	}
	groups := make([]dayGroup, 0, n)
	var order, spare []rowOrder // one top byte's rows: reused for each
	for b := range 256 {
		order = order[:0]
		for c, chunk := range d.rows {
			for i := int(all[c][b]); i < int(all[c][b+1]); i++ {
				order = append(order, rowOrder{chunk[i].hash, uint32(c)<<dayChunkBits | uint32(i)})
			}
		}
		order, spare = sortRun(order, spare)
		for i := 0; i < len(order); {
			x := dayGroup{hash: order[i].hash, from: uint32(len(d.groupConv))}
			var visit uint32 // the order of x's visit within its second (touchRow.order)
			j := i
			for ; j < len(order) && order[j].hash == x.hash; j++ {
				row := &d.rows[order[j].i>>dayChunkBits][order[j].i&(dayChunk-1)]
				x.user, x.anon = max(x.user, row.user), max(x.anon, row.anon)
				x.email = x.email || row.email()
				if row.t != 0 && (x.t == 0 || row.t < x.t || row.t == x.t && row.order() < visit) {
					x.t, x.k, visit = row.t, row.k, row.order()
				}
				if row.conv >= 0 && !d.heldConv(int(x.from), d.conv[row.conv]) {
					d.groupConv = append(d.groupConv, row.conv)
				}
			}
			i = j
			groups = append(groups, x)
			d.parts[b]++
		}
	}
	d.groups, d.rows = groups, nil
}

// chunkRuns is where the rows of each top byte of their hash start in a chunk of a day's
// rows partitioned by it (partChunk): byte b's are chunk[runs[b]:runs[b+1]]. A chunk holds
// at most dayChunk rows, which uint16 counts.
type chunkRuns [257]uint16

// partChunk moves the rows of chunk, in place, into runs by the top byte of their hash,
// keeping their order within each run (a row's place in its chunk then still orders the
// rows of one hash as the read gave them, which group's results depend on), and sets runs
// to where each starts. scratch is room for a chunk's rows, grown when short and returned
// for the next call.
func partChunk(chunk []touchRow, runs *chunkRuns, scratch []touchRow) []touchRow {
	var next [257]int
	for _, row := range chunk {
		next[row.hash>>56+1]++
	}
	for b := 1; b < len(next); b++ {
		next[b] += next[b-1]
	}
	for b, at := range next {
		runs[b] = uint16(at)
	}
	if cap(scratch) < len(chunk) {
		scratch = make([]touchRow, dayChunk)
	}
	scratch = scratch[:len(chunk)]
	for _, row := range chunk {
		scratch[next[row.hash>>56]] = row
		next[row.hash>>56]++
	}
	copy(chunk, scratch)
	return scratch
}

// sortRun sorts order, one top byte's rows of a day in their chunks' order, by hash,
// keeping the order of the rows of one hash (their rows' order in the read), and returns
// it and spare (room of the same size, for the next call; either may be the one order was
// given in). The rows are first counted into 256 runs by the hash's second byte (a stable
// pass, linear), then an insertion sort puts each run in order: a run holds one or two
// rows on the bench's days, so the insertion sort moves few, where a comparison sort of
// the few hundred rows of a top byte made about a quarter of the grouping's time
// (slices.SortFunc, through a function value).
func sortRun(order, spare []rowOrder) ([]rowOrder, []rowOrder) {
	if len(order) < 64 { // too few to be worth the 256 counts
		insertionByHash(order)
		return order, spare
	}
	var next [257]int
	for _, o := range order {
		next[o.hash>>48&0xFF+1]++
	}
	for b := 1; b < len(next); b++ {
		next[b] += next[b-1]
	}
	if cap(spare) < len(order) {
		spare = make([]rowOrder, len(order), 2*len(order))
	}
	spare = spare[:len(order)]
	for _, o := range order {
		spare[next[o.hash>>48&0xFF]] = o
		next[o.hash>>48&0xFF]++
	}
	insertionByHash(spare)
	return spare, order
}

// insertionByHash sorts order by hash with an insertion sort, which keeps the order of
// equal hashes: cheap when each row is near its place.
func insertionByHash(order []rowOrder) {
	for i := 1; i < len(order); i++ {
		o := order[i]
		j := i
		for ; j > 0 && order[j-1].hash > o.hash; j-- {
			order[j] = order[j-1]
		}
		order[j] = o
	}
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

// dayPart is one day's part of a group as mergeRange orders them: the group's hash, the
// day (its index in the read's days) and the part's index in the day's groups.
type dayPart struct {
	hash   uint64
	day, i uint32
}

// mergeRange merges the day parts of the groups of days whose hash's top byte is from to
// end (excluded) into r, in hash order, their visits' keys renumbered (keys[day], group),
// each group's person resolved through g.links, as the comment at the top of this file
// says. A group that is neither a touchpoint nor holds a conversion is left out, as
// touchpoints.sql leaves it. The parts are merged one top byte at a time: the days' parts
// of the byte (a few thousand on the bench's month, in cache) are gathered in the days'
// order and sorted by hash keeping that order (sortParts), so that the parts of one group
// come out in the days' order, as a merge of the days through a heap of them gave them,
// in linear passes rather than a heap's comparisons for every part.
func (g *touchGrouper) mergeRange(r *groupRange, days []*dayRows, keys [][]uint32, from, end int) {
	next := make([]int, len(days)) // where each day's parts of the current top byte start
	for i, d := range days {
		if d != nil {
			for p := range from {
				next[i] += int(d.parts[p])
			}
		}
	}
	var parts, spare []dayPart
	for p := from; p < end; p++ {
		parts = parts[:0]
		for i, d := range days {
			if d == nil {
				continue
			}
			n := next[i] + int(d.parts[p])
			for j := next[i]; j < n; j++ {
				parts = append(parts, dayPart{d.groups[j].hash, uint32(i), uint32(j)})
			}
			next[i] = n
		}
		parts, spare = sortParts(parts, spare)
		for at := 0; at < len(parts); {
			hash := parts[at].hash
			var maxUser, maxAnon uint64
			var t, k uint32
			email := false
			from := len(r.convs)
			r.ids = r.ids[:0]
			for first := at; at < len(parts) && parts[at].hash == hash; at++ {
				c := parts[at]
				d := days[c.day]
				x := d.groups[c.i]
				maxUser, maxAnon = max(maxUser, x.user), max(maxAnon, x.anon)
				email = email || x.email
				if x.t != 0 && (t == 0 || x.t < t) {
					t, k = x.t, keys[c.day][x.k]
				}
				more := at+1 < len(parts) && parts[at+1].hash == hash // another day's part of the group follows
				for _, ci := range d.groupConv[x.from:d.groupEnd(int(c.i))] {
					cv := d.conv[ci]
					if at > first && r.seen(from, cv.id, cv.t, cv.v) {
						continue
					}
					r.convs = append(r.convs, conversionAt{cv.t, cv.v})
					if at > first || more {
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
}

// sortParts sorts parts, one top byte's day parts gathered in the days' order, by hash,
// keeping the order of the parts of one hash (their days'), and returns them and spare
// (room for the next call; either may be the one parts came in). Two stable counting
// passes, by the hash's third byte then its second, leave parts ordered by their top three
// bytes, and an insertion sort, which keeps the order of equal hashes, moves each of the
// few that share them into place.
func sortParts(parts, spare []dayPart) ([]dayPart, []dayPart) {
	if len(parts) < 64 { // too few to be worth the 256 counts
		insertionParts(parts)
		return parts, spare
	}
	if cap(spare) < len(parts) {
		spare = make([]dayPart, len(parts), 2*len(parts))
	}
	spare = spare[:len(parts)]
	for _, shift := range []uint{40, 48} {
		var next [257]int
		for _, x := range parts {
			next[x.hash>>shift&0xFF+1]++
		}
		for b := 1; b < len(next); b++ {
			next[b] += next[b-1]
		}
		for _, x := range parts {
			spare[next[x.hash>>shift&0xFF]] = x
			next[x.hash>>shift&0xFF]++
		}
		parts, spare = spare, parts
	}
	insertionParts(parts)
	return parts, spare
}

// insertionParts sorts parts by hash with an insertion sort, which keeps the order of
// equal hashes: cheap when each part is near its place.
func insertionParts(parts []dayPart) {
	for i := 1; i < len(parts); i++ {
		x := parts[i]
		j := i
		for ; j > 0 && parts[j-1].hash > x.hash; j-- {
			parts[j] = parts[j-1]
		}
		parts[j] = x
	}
}
