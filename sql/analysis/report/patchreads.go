package report

import (
	"cmp"
	"slices"
)

// A kept read (keptreads.go) answers only when every day's rows and the person links are
// the ones it was grouped from. On the morning a live site's today has changed (or a late
// event's day, or the links with an identify), and every other day is the stored one: the
// read's groups are mostly those kept. Grouping every day again merged 2.8 million day
// parts, sorted 2.5 million groups by person and cut every batch again for each of the
// dashboard's three reads, about 1-2.5 s of journeyd's CPU each at 10 million events
// (docs/BENCHMARKS.md). So the kept read is patched instead (patchRead):
//
//   - The groups to make again are every group of each person that has a group among the
//     changed days' parts (the day's parts before and after the change: a group a day gave
//     or gives), or whose person the changed links may move (its person is the key or the
//     old link of a key whose link changed): each is merged afresh from its parts in every
//     day (dayRows.pick, then touchGrouper.group on those parts alone), exactly as one read
//     of all the days merges it, for a group's merge reads its own parts only. A remade
//     group may go to a person none of whose groups was touched (a returning visitor's new
//     session today); that person's other groups are then made again too, so that every
//     person given out has all its groups.
//   - Every other person's groups are the kept ones: none of their parts changed and their
//     links did not, so each group, and the person's whole set of them, is what grouping
//     every day again gives.
//   - The batches are cut again in person order: a kept person's touchpoints, sessions and
//     conversions are copied from the kept batches (already sorted), a remade person's are
//     gathered and sorted as touchGrouper.send does, and a batch ends after the person that
//     fills it, as send's do. A person's groups are in hash order in both (sortByPerson), so
//     the batches are those grouping every day again gives, byte for byte.
//
// When the groups to make again are more than a fraction of a large read's (patchShare), or
// no kept read of the same query is there, the days are grouped again as before.

// patchShare is the most groups to make again, as a share (1/patchShare) of a kept read's,
// for which the read is patched rather than grouped again from every day.
const patchShare = 3

// patchAlways is up to how many groups a read is patched whatever the share to make again:
// either way costs little then.
const patchAlways = 1 << 16

// patchable reports whether a kept read of n groups is patched with remake groups made again.
func patchable(remake, n int) bool {
	return remake <= max(n/patchShare, patchAlways)
}

// keptToPatch returns the kept read of sql over as many days as days, or nil.
func (r *Runner) keptToPatch(sql string, days []*dayRows) *keptRead {
	k, _ := r.kept.find(func(k *keptRead) bool { return k.sql == sql && len(k.days) == len(days) && len(k.groups) > 0 }, false)
	return k
}

// readPatch is what patching a kept read takes, whatever key its readers take: the kept
// read, the groups made again (g, by person then hash) and their persons (remade, all of
// them made again).
type readPatch struct {
	kept   *keptRead
	g      *touchGrouper
	remade []uint64
}

// cut returns the patched read's batches and its groups (keptRead.patched).
func (p *readPatch) cut() ([]*personBatch, []keptGroup) {
	return p.kept.patched(p.g, p.remade)
}

// patchRead returns what patches the kept read of sql into a read of sql over days with
// links, as the comment at the top of this file says; nil when there is none to patch or
// patching would make too many groups again.
func (r *Runner) patchRead(sql string, days []*dayRows, links map[uint64]uint64) (*readPatch, error) {
	k := r.keptToPatch(sql, days)
	if k == nil {
		return nil, nil
	}
	var touched []uint64
	for i, d := range days {
		if d == k.days[i] {
			continue
		}
		for _, x := range k.days[i].groups {
			touched = append(touched, x.hash)
		}
		for _, x := range d.groups {
			touched = append(touched, x.hash)
		}
		if !patchable(len(touched), len(k.groups)) {
			return nil, nil
		}
	}
	remake, persons := k.touchedPersons(newHashSet(touched), movedPersons(k.links, links))
	if !patchable(len(remake), len(k.groups)) {
		return nil, nil
	}
	g, err := groupHashes(days, links, remake)
	if err != nil {
		return nil, err
	}
	// the persons the remade groups go to, and the groups of those none of whose groups was remade
	gained := distinctPersons(g.groups)
	if extra := k.groupsOf(subtract(gained, persons)); len(extra) > 0 {
		if g, err = groupHashes(days, links, append(remake, extra...)); err != nil {
			return nil, err
		}
	}
	return &readPatch{kept: k, g: g, remade: union(persons, gained)}, nil
}

// movedPersons returns the persons, in k's groups, of the keys whose link differs between
// old and links (added, removed or changed): the key itself, or its old link. A group whose
// person the new links change had one of them.
func movedPersons(old, links map[uint64]uint64) map[uint64]bool {
	moved := map[uint64]bool{}
	for key, person := range old {
		if now, ok := links[key]; !ok || now != person {
			moved[key], moved[person] = true, true
		}
	}
	for key := range links {
		if _, ok := old[key]; !ok {
			moved[key] = true
		}
	}
	return moved
}

// touchedPersons returns the hashes of every group of k's persons that have a group among
// touched or are among moved (with touched's own), and those persons, ascending.
func (k *keptRead) touchedPersons(touched hashSet, moved map[uint64]bool) (remake, persons []uint64) {
	remake = append(remake, touched.sorted...)
	for i := 0; i < len(k.groups); {
		p, hit := k.groups[i].person, len(moved) > 0 && moved[k.groups[i].person]
		j := i
		for ; j < len(k.groups) && k.groups[j].person == p; j++ {
			hit = hit || touched.has(k.groups[j].hash)
		}
		if hit {
			persons = append(persons, p)
			for _, x := range k.groups[i:j] {
				remake = append(remake, x.hash)
			}
		}
		i = j
	}
	return remake, persons
}

// groupsOf returns the hashes of k's groups of persons (ascending).
func (k *keptRead) groupsOf(persons []uint64) []uint64 {
	var hashes []uint64
	for _, p := range persons {
		i, _ := slices.BinarySearchFunc(k.groups, p, func(x keptGroup, p uint64) int { return cmp.Compare(x.person, p) })
		for ; i < len(k.groups) && k.groups[i].person == p; i++ {
			hashes = append(hashes, k.groups[i].hash)
		}
	}
	return hashes
}

// groupHashes merges the groups whose hash is among hashes from their parts in days (each
// day's, dayRows.pick) into a grouper's groups, sorted by person, then hash, with links.
func groupHashes(days []*dayRows, links map[uint64]uint64, hashes []uint64) (*touchGrouper, error) {
	slices.Sort(hashes)
	hashes = slices.Compact(hashes)
	picked := make([]*dayRows, len(days))
	eachDay(len(days), func(i int) { picked[i] = days[i].pick(hashes) })
	g := &touchGrouper{links: links}
	return g, g.group(picked)
}

// pick returns a day holding d's parts of the groups whose hash is among hashes
// (ascending), with their conversions, sharing d's keys and conversions; nil when it holds
// none of them.
func (d *dayRows) pick(hashes []uint64) *dayRows {
	out := &dayRows{keys: d.keys, conv: d.conv}
	h := 0
	for i, x := range d.groups {
		for h < len(hashes) && hashes[h] < x.hash {
			h++
		}
		if h == len(hashes) {
			break
		}
		if hashes[h] != x.hash {
			continue
		}
		y := x
		y.from = uint32(len(out.groupConv))
		out.groupConv = append(out.groupConv, d.groupConv[x.from:d.groupEnd(i)]...)
		out.groups = append(out.groups, y)
		out.parts[x.hash>>56]++
	}
	if len(out.groups) == 0 {
		return nil
	}
	return out
}

// patched returns k's batches and its groups with the persons of remade (all of them made
// again: g, by person then hash) in place of k's: every person of k's not among remade is
// copied, and every person of g's gathered anew, in person order. The batches' keys are
// k's, then those of g's the remade persons have that k's lack.
func (k *keptRead) patched(g *touchGrouper, remade []uint64) ([]*personBatch, []keptGroup) {
	w := &batchWriter{b: newBatch().withVisits(), kept: k.batches, keys: slices.Clip(k.keys())}
	w.b.keys = w.keys
	groups := make([]keptGroup, 0, len(k.groups)+len(g.groups))
	oi, gi, ri := 0, 0, 0 // where the walk stands in k.groups, g.groups and remade
	ob, op := 0, 0        // and in k's batches: person op of batch ob
	copied := 0           // the first of k.groups not yet copied into groups
	for oi < len(k.groups) || gi < len(g.groups) {
		if oi < len(k.groups) && (gi == len(g.groups) || k.groups[oi].person <= g.groups[gi].person) {
			p, end := k.groups[oi].person, oi
			for end < len(k.groups) && k.groups[end].person == p {
				end++
			}
			for ri < len(remade) && remade[ri] < p {
				ri++
			}
			if ri < len(remade) && remade[ri] == p { // made again: left out
				groups = append(groups, k.groups[copied:oi]...)
				copied = end
				w.flush()
			} else {
				w.copyPerson(k.batches[ob], op)
			}
			if op++; op == len(k.batches[ob].ends) {
				ob, op = ob+1, 0
			}
			oi = end
			continue
		}
		p, end := g.groups[gi].person, gi
		for end < len(g.groups) && g.groups[end].person == p {
			end++
		}
		groups = append(groups, k.groups[copied:oi]...)
		copied = oi
		for _, x := range g.groups[gi:end] {
			groups = append(groups, keptGroup{x.person, g.hashes[x.idx]})
		}
		w.newPerson(g, g.groups[gi:end])
		gi = end
	}
	groups = append(groups, k.groups[copied:]...)
	w.flush()
	if len(w.b.ends) > 0 {
		w.b.fit()
		w.out = append(w.out, w.b)
	}
	for _, b := range w.out {
		b.keys = w.keys // every index is below its length: nothing is handed out yet
	}
	return w.out, groups
}

// batchWriter cuts batches of whole people as touchGrouper.send does, from people copied
// out of kept batches and people gathered from groups. The people copied are copied a run
// at a time: src's persons first to next (excluded) wait to be.
type batchWriter struct {
	b           *personBatch
	out         []*personBatch
	src         *personBatch
	first, next int
	kept        []*personBatch    // the kept read's batches
	keys        []string          // the batches' keys: the kept read's, then the grouper's it lacks
	keyOf       map[string]uint32 // each of keys' index, made for the first person gathered from groups
	remap       []uint32          // by the grouper's key index, its index in keys plus one; 0 when not looked up yet
}

// key returns the index in w.keys of g's key k, adding it when w.keys lacks it.
func (w *batchWriter) key(g *touchGrouper, k uint32) uint32 {
	if w.remap == nil {
		w.remap = make([]uint32, len(g.keys))
	}
	if i := w.remap[k]; i != 0 {
		return i - 1
	}
	if w.keyOf == nil {
		w.keyOf = make(map[string]uint32, len(w.keys))
		for i, s := range w.keys {
			w.keyOf[s] = uint32(i)
		}
	}
	s := g.keys[k]
	i, ok := w.keyOf[s]
	if !ok {
		i = uint32(len(w.keys))
		w.keys = append(w.keys, s)
		w.keyOf[s] = i
	}
	w.remap[k] = i + 1
	return i
}

// copyPerson adds person i of the kept batch src, whose touchpoints and conversions are
// sorted already.
func (w *batchWriter) copyPerson(src *personBatch, i int) {
	if w.src != src || w.next != i {
		w.flush()
		w.src, w.first, w.next = src, i, i
	}
	w.next++
	start, end := personStart(src, w.first), src.ends[i]
	if len(w.b.touches)+int(end.touches-start.touches)+len(w.b.convs)+int(end.convs-start.convs) >= batchRows {
		w.flush()
		w.cut()
	}
}

// newPerson adds the person of groups (g's, sorted by hash), sorting its touchpoints and
// conversions (touchGrouper.send).
func (w *batchWriter) newPerson(g *touchGrouper, groups []touchGroup) {
	w.flush()
	from := w.b.end()
	for _, x := range groups {
		g.appendGroup(w.b, w.key(g, x.k), x)
	}
	w.b.keys = w.keys // sortPerson's, with the keys just added
	w.b, _ = w.b.endPerson(from, func(b *personBatch) { w.out = append(w.out, b) })
}

// flush copies the persons waiting to be into the batch.
func (w *batchWriter) flush() {
	if w.src == nil || w.first == w.next {
		w.src = nil
		return
	}
	src, b := w.src, w.b
	start, end := personStart(src, w.first), src.ends[w.next-1]
	base := b.end()
	b.touches = append(b.touches, src.touches[start.touches:end.touches]...)
	b.convs = append(b.convs, src.convs[start.convs:end.convs]...)
	b.visits = append(b.visits, src.visits[start.visits:end.visits]...)
	for _, e := range src.ends[w.first:w.next] {
		b.ends = append(b.ends, personEnd{e.touches - start.touches + base.touches, e.convs - start.convs + base.convs,
			e.visits - start.visits + base.visits})
	}
	w.src = nil
}

// cut ends the batch and starts the next in its room (newBatch).
func (w *batchWriter) cut() {
	room := w.b.fit()
	w.out = append(w.out, w.b)
	w.b = newBatchRoom(room)
}

// personStart returns where person i of b starts.
func personStart(b *personBatch, i int) personEnd {
	if i == 0 {
		return personEnd{}
	}
	return b.ends[i-1]
}

// distinctPersons returns the persons of groups (sorted by person), each once.
func distinctPersons(groups []touchGroup) []uint64 {
	var out []uint64
	for i, x := range groups {
		if i == 0 || x.person != groups[i-1].person {
			out = append(out, x.person)
		}
	}
	return out
}

// subtract returns the values of a (ascending) not in b (ascending).
func subtract(a, b []uint64) []uint64 {
	var out []uint64
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			out = append(out, x)
		}
	}
	return out
}

// union returns the values of a and b (each ascending), ascending, each once.
func union(a, b []uint64) []uint64 {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// hashSet is a set of group hashes: sorted, with a bitmap of their top bits that answers
// most lookups of a hash not in it without a search.
type hashSet struct {
	sorted []uint64
	bits   []uint64
}

// hashSetBits is how many top bits of a hash index hashSet's bitmap (128 KiB).
const hashSetBits = 20

// newHashSet returns the set of hashes (which it sorts).
func newHashSet(hashes []uint64) hashSet {
	slices.Sort(hashes)
	s := hashSet{sorted: slices.Compact(hashes), bits: make([]uint64, 1<<hashSetBits/64)}
	for _, h := range s.sorted {
		b := h >> (64 - hashSetBits)
		s.bits[b/64] |= 1 << (b % 64)
	}
	return s
}

// has reports whether h is in s.
func (s hashSet) has(h uint64) bool {
	if b := h >> (64 - hashSetBits); s.bits[b/64]&(1<<(b%64)) == 0 {
		return false
	}
	_, ok := slices.BinarySearch(s.sorted, h)
	return ok
}
