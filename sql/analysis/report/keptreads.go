package report

import (
	"maps"
	"slices"
	"sync"
	"unsafe"
)

// A report of the session route whose days all come from the store (daystore.go) still
// merges their parts of the touch groups (daygroups.go) and sorts the groups by person:
// about 1 s of journeyd's CPU at 10 million events, the most of a warm report. Yet when the same read (the same
// touch_rows query: site, period, conversion, whatever the key) finds the very same days' rows, the
// stored ones themselves, and the same person links, its groups are those of the last time.
// The Runner therefore keeps the batches of the last few reads with the rows and links
// they came from, and hands them out again while both are unchanged: exact as the store
// is, for a stored day's rows do not change (a change to the day's events gives it other
// rows, read anew), and the links are compared whole. A day read again, evicted, or read
// while ClickHouse was writing (not stored) comes with rows of its own, and the read is
// grouped afresh. Handed out batches are never changed (share.go), so readers share them.

// keptReadsMax is how many reads' batches a Runner keeps at most.
const keptReadsMax = 4

// keptRead is the batches of one grouped read, keyed by the whole touch_key (a reader of
// any key takes them with its own keys, sendByKey), and what they came from, with the
// groups that gave them (patchreads.go).
type keptRead struct {
	sql     string
	days    []*dayRows
	links   map[uint64]uint64
	batches []*personBatch
	groups  []keptGroup
}

// keys returns the touch_keys of k's batches, which they all share: a read's batches are
// cut with one table (touchGrouper.send, keptRead.patched).
func (k *keptRead) keys() []string {
	return k.batches[len(k.batches)-1].keys
}

// keptGroup is one group of a kept read, in the read's order (by person, then hash): its
// person and its hash.
type keptGroup struct {
	person, hash uint64
}

// keptGroups returns what a kept read holds of g's groups, sorted by person then hash.
func keptGroups(g *touchGrouper) []keptGroup {
	out := make([]keptGroup, len(g.groups))
	for i, x := range g.groups {
		out[i] = keptGroup{x.person, g.hashes[x.idx]}
	}
	return out
}

// recent keeps the results of a Runner's last few reads (keptRead, keptFunnel), the most
// recently used first, within a count and a bound on their bytes together.
type recent[T any] struct {
	mu    sync.Mutex
	items []recentItem[T]
}

// recentItem is one result recent keeps, and about how many bytes it holds.
type recentItem[T any] struct {
	v     T
	bytes int64
}

// find returns the most recently used item match accepts, and whether there is one; when
// use, the item becomes the most recently used.
func (l *recent[T]) find(match func(T) bool, use bool) (T, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, it := range l.items {
		if match(it.v) {
			if use {
				copy(l.items[1:i+1], l.items[:i])
				l.items[0] = it
			}
			return it.v, true
		}
	}
	var none T
	return none, false
}

// keep drops the items replaced accepts, puts v (about bytes bytes) first, and drops the
// least recently used past most items or limit bytes together. An item larger than limit
// alone is not kept.
func (l *recent[T]) keep(v T, bytes int64, most int, limit int64, replaced func(T) bool) {
	if bytes > limit {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = slices.DeleteFunc(l.items, func(it recentItem[T]) bool { return replaced(it.v) })
	l.items = append([]recentItem[T]{{v, bytes}}, l.items...)
	total := int64(0)
	for i, it := range l.items {
		total += it.bytes
		if i >= most || total > limit {
			l.items = l.items[:i]
			break
		}
	}
}

// keptRead returns the kept read of sql over days with links, or nil; its batches, with a
// key's keys (sendByKey), are what a read of it gives for that key.
func (r *Runner) keptRead(sql string, days []*dayRows, links map[uint64]uint64) *keptRead {
	k, ok := r.kept.find(func(k *keptRead) bool {
		return k.sql == sql && slices.Equal(k.days, days) && maps.Equal(k.links, links)
	}, true)
	if !ok {
		return nil
	}
	return k
}

// keepBatches keeps the batches of a read of sql over days with links and their groups
// (by person, then hash), when the Runner keeps days (StoreBytes); the reads kept take at
// most StoreBytes besides the store's own (158 MB a read of the bench's month at 10
// million events, 44 MB of it the groups: the overview's two periods and the other panels'
// one fit in the default), the least recently used going first. It replaces a kept read of
// the same sql: that one's days are older (a read of the same sql gets the store's
// newest), and it can answer no later read.
func (r *Runner) keepBatches(sql string, days []*dayRows, links map[uint64]uint64, batches []*personBatch, groups []keptGroup) {
	if r.dayStore() == nil || len(batches) == 0 {
		return // nothing to keep, or a read with no person
	}
	bytes := int64(cap(groups)) * int64(unsafe.Sizeof(keptGroup{}))
	for _, b := range batches {
		bytes += int64(cap(b.touches))*int64(unsafe.Sizeof(touchpoint{})) + int64(cap(b.convs))*int64(unsafe.Sizeof(conversionAt{})) +
			int64(cap(b.visits))*int64(unsafe.Sizeof(sessionVisit{})) + int64(cap(b.ends))*int64(unsafe.Sizeof(personEnd{})) +
			int64(unsafe.Sizeof(personBatch{}))
	}
	k := &keptRead{sql: sql, days: days, links: links, batches: batches, groups: groups}
	r.kept.keep(k, bytes, keptReadsMax, r.StoreBytes, func(other *keptRead) bool { return other.sql == sql })
}

// keeping counts, by query, the reads of touch_rows whose batches are being kept now
// (runShared keeps them once its members have theirs): a read of the same query waits for
// them before it looks for kept batches (groupTouchRows), as it would find them had they
// been kept before the reports answered. The zero value is ready.
type keeping struct {
	mu   sync.Mutex
	busy map[string]int
	idle chan struct{} // closed, and a new one made, as a keep ends
}

// begin counts a keep of query sql; end ends it.
func (k *keeping) begin(sql string) (end func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.busy == nil {
		k.busy = map[string]int{}
	}
	k.busy[sql]++
	return func() {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.busy[sql]--; k.busy[sql] == 0 {
			delete(k.busy, sql)
		}
		if k.idle != nil {
			close(k.idle)
			k.idle = nil
		}
	}
}

// wait returns once no keep of query sql goes on.
func (k *keeping) wait(sql string) {
	for {
		k.mu.Lock()
		if k.busy[sql] == 0 {
			k.mu.Unlock()
			return
		}
		if k.idle == nil {
			k.idle = make(chan struct{})
		}
		idle := k.idle
		k.mu.Unlock()
		<-idle
	}
}
