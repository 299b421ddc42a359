package report

import (
	"container/list"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The reports on the sessions' route (fromDays: whole UTC days, no filter) that read
// touch_rows.sql (attribution, paths, time-to-convert, channels, the overview) read its
// rows for every day of their period, about one pass over the events
// of ClickHouse's CPU and 4-5 s of journeyd's at 10 million events, although the days
// before today have seldom changed since the last report. A Runner with StoreBytes keeps
// each day's rows, as read, in a store of its own, keyed by the query that fills them
// (touch_rows.sql with everything but the period and its days filled: site, conversion,
// value; not the key, which journeyd takes out of the rows, so that one kind of day serves
// every report and key) and the day, and reads from ClickHouse only the days whose events have
// changed since (dayPrints), in one query of their contiguous ranges ($days): from the
// events of those days when they span up to eventDays (include/event_day_rows.sql, the
// same rows as session_aggregates gives, a sixth of the cost for a day), else from
// session_aggregates, as a whole period is read. Each day's rows are grouped on their own
// when they are read, and the store keeps the day's part of each touch group rather than
// its rows (daygroups.go); the parts of all the days are then merged as one read's rows
// would be grouped (touchGrouper.group), so the answers are those of one read of the whole
// period. The person links are read again every time:
// a new identify changes the person of old days' rows, and they are cheap to read.
//
// When a day's events changed: day_prints.sql gives each day of the period the count of
// the site's events and the sum of a 64-bit hash of each one's id, event time and receipt
// time. journeyd only inserts events and deletes them (erasure, a dropped partition); a
// stored event is never changed in place. Any insert adds a row to the count, so an insert
// changes the count unless a merge of ReplacingMergeTree removes as many replayed copies
// meanwhile; then the sum still changes unless the hashes of the rows added equal those of
// the copies removed, a 64-bit collision (an event's id, event time and receipt time make
// its content: a replay from the spool is a byte-identical copy, and a client's retry of
// the same id has another receipt time). A count and max(received_at) alone would miss
// that case: a late event received before the newest one while a merge drops a replay.
// A change the print misses costs the day's rows kept from before; a print that changes
// while the rows do not (a merge dropping a replay copy) costs one read of the day. With
// PrintsReuse, a print read a moment ago stands for a later report's while the list of the
// events' data parts shows that nothing can have changed the day since (printcache.go).
//
// The rows of a day are kept only when ClickHouse was not writing while they were read
// (settled.sql): an INSERT into events writes its events first and the sessions of
// session_aggregates (from its materialized view) after them, so rows read in between
// would hold the new events' print without their sessions; and an erasure's ALTER ...
// DELETE runs in the background, one table after the other. When no INSERT runs and no
// mutation is left undone at a moment between the print and the read of the rows, the rows
// are at least as new as the print (a later change gives another print, which reads the day
// again). Such a read still answers the report; it is only not kept. A partition dropped by
// hand is no mutation: session_aggregates' and touch_events' must go before the events'
// (docs/BENCHMARKS.md).
// In a cluster (events a Distributed table) the inserts run on other servers and reach the
// shards later, out of the sight of the node journeyd asks: settled.sql is never settled
// there, and the store keeps nothing.

// DefaultStoreBytes is the bound `journeyd report` gives the days' rows it keeps
// (Runner.StoreBytes), and the least journeyd serve's default gives them (which scales with
// the memory, cmd/journeyd/storebytes.go): every default dashboard panel's days of about 20
// million events a month.
const DefaultStoreBytes = 1 << 30

//go:embed day_prints.sql
var dayPrintsSQL string

//go:embed settled.sql
var settledSQL string

// dayPrint tells whether a day's events have changed: their count and the sum of their
// hashes (day_prints.sql). A day without events has the zero print.
type dayPrint struct {
	events, hash uint64
}

// dayRows is one day's rows of a touch_rows read, kept as read, then grouped (done): keys
// and conversions are the day's own (rows and groups index them). Once stored it is never
// changed: readers share it.
type dayRows struct {
	rows      [][]touchRow // in chunks (dayChunk), so that a day's rows are never copied as they grow; nil once grouped
	keys      []string
	conv      []rowConversion
	keyOf     map[string]uint32 // while the day is read; nil once it is done
	groups    []dayGroup        // the day's part of each touch group, by hash (daygroups.go)
	groupConv []int32           // the groups' conversions, an index into conv each
	parts     [256]uint32       // how many groups fall in each top byte of their hash
}

// size is about how many bytes the day holds: groups (40 bytes each), rows (none once it is
// grouped), conversions, keys and their headers.
func (d *dayRows) size() int64 {
	n := int64(cap(d.groups))*40 + int64(cap(d.groupConv))*4 + int64(cap(d.rows))*24 + int64(cap(d.conv))*32 + int64(len(d.keys))*16 + 256*4 + 256
	for _, chunk := range d.rows {
		n += int64(cap(chunk)) * 40
	}
	for _, c := range d.conv {
		n += int64(len(c.id))
	}
	for _, k := range d.keys {
		n += int64(len(k))
	}
	return n
}

// row adds row, whose key is key (when row.t != 0) and conversion c (when isConv), to d.
func (d *dayRows) row(row touchRow, key string, isConv bool, c rowConversion) error {
	row.k = 0
	if row.t != 0 {
		row.k = d.keyIndex(key)
	}
	return d.add(row, isConv, c)
}

// keyIndex returns the index of key in d.keys, adding it when it is new.
func (d *dayRows) keyIndex(key string) uint32 {
	idx, ok := d.keyOf[key]
	if !ok {
		idx = uint32(len(d.keys))
		d.keys = append(d.keys, key)
		d.keyOf[key] = idx
	}
	return idx
}

// keyIndexBytes is keyIndex of key's bytes, which it copies only when the key is new.
func (d *dayRows) keyIndexBytes(key []byte) uint32 {
	if idx, ok := d.keyOf[string(key)]; ok {
		return idx
	}
	return d.keyIndex(string(key))
}

// add adds row, whose k is its key's index already (0 when row.t is 0), and conversion c
// (when isConv), to d.
func (d *dayRows) add(row touchRow, isConv bool, c rowConversion) error {
	row.conv = -1
	if isConv {
		if len(d.conv) >= 1<<31-1 {
			return fmt.Errorf("more than %d conversions in a day are more than one read can hold", len(d.conv))
		}
		row.conv = int32(len(d.conv))
		d.conv = append(d.conv, c)
	}
	last := len(d.rows) - 1
	if last < 0 || len(d.rows[last]) == cap(d.rows[last]) {
		room := partRows
		if last >= 0 {
			room = min(2*cap(d.rows[last]), dayChunk)
		}
		d.rows = append(d.rows, make([]touchRow, 0, room))
		last++
	}
	d.rows[last] = append(d.rows[last], row)
	return nil
}

// dayChunk is the most rows a chunk of dayRows holds (320 KiB): its chunks start at partRows
// and double up to it. On the bench's 10 million events, growing each day's rows as one
// slice cost about 0.3 s of journeyd's CPU, copying them into fresh memory, and a kept day
// was copied once more to trim it.
const dayChunk = 1 << dayChunkBits

// dayChunkBits is the bits of a row's index in its chunk (rowOrder).
const dayChunkBits = 13

// done ends the day's read: it drops the key index, groups the rows (dayRows.group, which
// drops them) and, when kept, trims the room the slices grew beyond their contents.
func (d *dayRows) done(keep bool) {
	d.doneParted(keep, nil)
}

// doneParted is done for a day whose first chunks a dayParter partitioned while they were
// read (runs, as dayParter.runs holds them for the day).
func (d *dayRows) doneParted(keep bool, runs []*chunkRuns) {
	d.keyOf = nil
	d.group(runs)
	if keep && cap(d.groups) > len(d.groups)+len(d.groups)/8 {
		d.groups = append([]dayGroup(nil), d.groups...)
	}
	if keep && cap(d.conv) > len(d.conv)+len(d.conv)/8 {
		d.conv = append([]rowConversion(nil), d.conv...)
	}
}

// dayKey names a stored day: the query that fills its rows (touch_rows.sql with the period
// left open, storeQuery) and the day (days since 1970-01-01).
type dayKey struct {
	query string
	day   uint16
}

// keptDay is what the store keeps of one day: a read's rows of that day, as its report
// holds them (dayRows for touch_rows, pageDay for page_rows, stageDay for stage_rows,
// retentionDay for retention_rows).
// Once stored it is never changed: readers share it.
type keptDay interface {
	size() int64 // about how many bytes it holds
}

// storedDay is one entry of the store.
type storedDay struct {
	key   dayKey
	print dayPrint
	rows  keptDay
	bytes int64
}

// dayStore keeps days' rows within max bytes, the least recently used going first.
type dayStore struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	days    map[dayKey]*list.Element
	lru     list.List // of *storedDay, the most recently used first
	metrics *Metrics
	disk    *dayDisk // where the days are kept across restarts (daydisk.go); nil: memory only
	reading map[dayKey]*dayRead
}

// dayRead is a day a read of a query is taking now (keptDays: from the store or from
// ClickHouse), which another read of the same query waits for instead of reading it too:
// the dashboard opens the overview (its period and the one before) and the top lists (its
// period) at once, and the two would each read the same days of touch_rows from
// ClickHouse, the costliest query of the dashboard, at the same time. print, rows and ok
// are set before done is closed; ok false: the read failed, and whoever waited reads the
// day itself. owner is the read taking it (under dayStore.mu).
type dayRead struct {
	done  chan struct{}
	print dayPrint
	rows  keptDay
	ok    bool
	owner *dayClaim
}

// dayClaim is one read's claim on days of a query: the days first to end (excluded) it
// asks for, and whether it has begun to take the days it claimed (started, under
// dayStore.mu). Until then, a read asking for more days, all of this one's among them (the
// overview, when a top list came first), takes its claimed days over: it reads them with
// its own in one query, and this read waits for them, where otherwise each would read its
// days in a query of its own (on touch_rows, from session_aggregates, whose key makes a
// read of a few days cost about what the month does).
type dayClaim struct {
	first, end uint16
	started    bool
}

// claim returns, of the days first to end (excluded) of query, those another read is
// taking (wait) and the others, ascending, which the caller takes now (own) and must end
// (finish), as c, its claim: those no read takes and those of a read not started yet
// whose days are all within first to end, fewer than these (dayClaim).
func (s *dayStore) claim(query string, c *dayClaim) (own []uint16, wait map[uint16]*dayRead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reading == nil {
		s.reading = map[dayKey]*dayRead{}
	}
	for n := c.first; n < c.end; n++ {
		k := dayKey{query, n}
		if d, ok := s.reading[k]; ok {
			if o := d.owner; !o.started && c.first <= o.first && o.end <= c.end && o.end-o.first < c.end-c.first {
				d.owner = c
				own = append(own, n)
				continue
			}
			if wait == nil {
				wait = map[uint16]*dayRead{}
			}
			wait[n] = d
			continue
		}
		s.reading[k] = &dayRead{done: make(chan struct{}), owner: c}
		own = append(own, n)
	}
	return own, wait
}

// start begins c's taking of its days: of own, those claim gave it, it returns those still
// its own and adds those another read took over to wait (made when nil). A read that took
// a day over may have ended it already (its prints came sooner than c's): that day waits
// on a read ended without rows, so that c takes it from the store, or reads it again.
func (s *dayStore) start(query string, c *dayClaim, own []uint16, wait map[uint16]*dayRead) ([]uint16, map[uint16]*dayRead) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.started = true
	still := own[:0:0]
	var ended *dayRead
	for _, n := range own {
		d := s.reading[dayKey{query, n}]
		if d == nil {
			if ended == nil {
				ended = &dayRead{done: make(chan struct{})}
				close(ended.done)
			}
			d = ended
		}
		if d.owner == c {
			still = append(still, n)
			continue
		}
		if wait == nil {
			wait = map[uint16]*dayRead{}
		}
		wait[n] = d
	}
	return still, wait
}

// finish ends the days of query claim gave c (own) that are still its own: days[n-first]
// is day n's rows, of print prints[n-first]; days is nil when the caller could not take
// them.
func (s *dayStore) finish(query string, c *dayClaim, own []uint16, first uint16, prints []dayPrint, days []keptDay) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range own {
		k := dayKey{query, n}
		d := s.reading[k]
		if d == nil || d.owner != c {
			continue
		}
		if days != nil {
			d.print, d.rows, d.ok = prints[n-first], days[n-first], true
		}
		delete(s.reading, k)
		close(d.done)
	}
}

// get returns the rows of day k stored with print p, or nil; a day stored with another
// print is dropped.
func (s *dayStore) get(k dayKey, p dayPrint) keptDay {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.days[k]
	switch {
	case !ok:
		s.metrics.miss()
		return nil
	case e.Value.(*storedDay).print != p:
		s.remove(e)
		s.metrics.miss()
		return nil
	}
	s.lru.MoveToFront(e)
	s.metrics.hit()
	return e.Value.(*storedDay).rows
}

// put stores rows as day k with print p and evicts the least recently used days past the
// bound. A day larger than the whole bound is not stored.
func (s *dayStore) put(k dayKey, p dayPrint, rows keptDay) {
	d := &storedDay{key: k, print: p, rows: rows, bytes: rows.size()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.days[k]; ok {
		s.remove(e)
	}
	if d.bytes > s.max {
		return
	}
	s.days[k] = s.lru.PushFront(d)
	s.bytes += d.bytes
	s.disk.mark(k, d)
	for s.bytes > s.max {
		s.remove(s.lru.Back())
		s.metrics.evicted()
	}
	s.metrics.setBytes(s.bytes)
}

// remove takes e out of the store. The caller holds mu.
func (s *dayStore) remove(e *list.Element) {
	d := s.lru.Remove(e).(*storedDay)
	delete(s.days, d.key)
	s.bytes -= d.bytes
	s.disk.mark(d.key, nil)
	s.metrics.setBytes(s.bytes)
}

// dayStore returns the Runner's store, or nil when it keeps none (StoreBytes 0). The first
// call makes it, with the days of StoreDir when it is set (daydisk.go); calls meanwhile
// wait for them.
func (r *Runner) dayStore() *dayStore {
	if r.StoreBytes <= 0 {
		return nil
	}
	r.storeOnce.Do(func() {
		s := &dayStore{max: r.StoreBytes, days: map[dayKey]*list.Element{}, metrics: r.Metrics}
		if r.StoreDir != "" {
			s.disk = r.openStoreDir(s)
		}
		r.store = s
	})
	return r.store
}

// openStoreDir opens StoreDir for s and loads its days into s, or logs why the store is
// kept in memory only and returns nil.
func (r *Runner) openStoreDir(s *dayStore) *dayDisk {
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	disk, err := openDayDisk(r.StoreDir, log, r.Metrics)
	if err != nil {
		log.Warn("the report store is kept in memory only: a restart starts it empty", "err", err)
		return nil
	}
	st := disk.load(s)
	log.Info("report store loaded", "dir", r.StoreDir, "days", st.days, "bytes", st.bytes, "dropped_corrupt", st.dropped["corrupt"],
		"dropped_format", st.dropped["format"], "dropped_kind", st.dropped["kind"], "dropped_bound", st.dropped["bound"],
		"took", time.Since(start).Round(time.Millisecond))
	return disk
}

// LoadStore makes the Runner's store now, loading the days of StoreDir, rather than at the
// first report (which waits for the load). journeyd serve calls it at start.
func (r *Runner) LoadStore() {
	r.dayStore()
}

// Close writes the days stored but not yet on disk (StoreDir), within ctx, and releases
// the directory. Reports after Close keep their days in memory only.
func (r *Runner) Close(ctx context.Context) error {
	r.storeOnce.Do(func() {}) // waits for a load under way; after it, no store is made
	if r.store == nil || r.store.disk == nil {
		return nil
	}
	return r.store.disk.close(ctx, r.store.order)
}

// order returns the keys of the days stored, the most recently used first.
func (s *dayStore) order() []dayKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]dayKey, 0, len(s.days))
	for e := s.lru.Front(); e != nil; e = e.Next() {
		keys = append(keys, e.Value.(*storedDay).key)
	}
	return keys
}

// epochDay is the number of a UTC day, as ClickHouse's toUInt16 of a Date gives it.
func epochDay(t time.Time) uint16 { return uint16(t.Unix() / int64(day/time.Second)) }

// dayDate returns the ClickHouse Date of day n.
func dayDate(n uint16) string {
	return "toDate('" + dayTime(n).Format(time.DateOnly) + "')"
}

// readDays returns the rows of every day of read's period: from the store where a
// day's print has not changed since it was stored, the others from ClickHouse in one query,
// kept in the store when ClickHouse was settled (keptDays).
func (r *Runner) readDays(ctx context.Context, read *sharedRead) ([]*dayRows, error) {
	if read.from.IsZero() || !midnight(read.from) || !midnight(read.until) {
		return nil, fmt.Errorf("cannot read the rows of touch_rows from %v to %v: the period is not whole UTC days", read.from, read.until)
	}
	first, end := epochDay(read.from), epochDay(read.until)
	days, err := r.keptDays(ctx, "touch_rows", read.params, first, end, func(p map[string]Value, keep bool) ([]keptDay, error) {
		var instead map[string]string
		if p["until"].at.Sub(p["from"].at) <= time.Duration(eventDays)*day {
			instead = map[string]string{"session_part_rows.sql": "event_day_rows.sql"}
		}
		sessions, err := r.sqlPart("session_rows", p, instead)
		if err != nil {
			return nil, err
		}
		events, err := r.sqlPart("touch_rows", p, map[string]string{"session_touch_rows.sql": "touch_rows_of_events.sql"})
		if err != nil {
			return nil, err
		}
		rows, err := r.readRows(ctx, sessions, events, first, end, keep)
		out := make([]keptDay, len(rows))
		for i, d := range rows {
			if d == nil {
				d = &dayRows{}
			}
			out[i] = d
		}
		return out, err
	})
	if err != nil {
		return nil, err
	}
	rows := make([]*dayRows, len(days))
	for i, d := range days {
		rows[i] = d.(*dayRows)
	}
	return rows, nil
}

// keptDays returns what the library query name, filled with params (whose $from and
// $until are first and end, and $days 1), gives of each day first to end (excluded):
// days[n-first] is day n's. Where the Runner keeps a store, a day whose print has not
// changed since it was stored comes from there; a day another read of the same query is
// taking now comes from that read when its print is the same (dayRead); the others are
// read (read, with params narrowed to them: $from, $until and $days), in one query, and
// stored when ClickHouse was settled (keep), as the comment at the top of this file says.
// read returns an entry for every day of first to end, none nil, those of the days it did
// not read aside.
func (r *Runner) keptDays(ctx context.Context, name string, params map[string]Value, first, end uint16,
	read func(params map[string]Value, keep bool) ([]keptDay, error)) ([]keptDay, error) {
	return r.keptDaysSized(ctx, name, params, first, end, func(p map[string]Value, keep bool, _ []uint64) ([]keptDay, error) {
		return read(p, keep)
	})
}

// keptDaysSized is keptDays whose read is also told how many events each day it reads
// holds (events[n-first], the count of the day's print; 0 for a day it does not read; nil
// without a store, which reads no prints), so that it can make room for a day's rows at
// once: rows appended one by one into a growing slice are copied about once more each,
// into fresh memory (on the bench's cold dashboard a tenth of journeyd's CPU went to
// growing days' slices and to the page faults of their new memory).
func (r *Runner) keptDaysSized(ctx context.Context, name string, params map[string]Value, first, end uint16,
	read func(params map[string]Value, keep bool, events []uint64) ([]keptDay, error)) ([]keptDay, error) {
	s := r.dayStore()
	if s == nil || end <= first {
		return read(params, false, nil)
	}
	query, err := r.storeQuery(name, params)
	if err != nil {
		return nil, err
	}
	// The days are claimed before their prints are read, so that of the reports asked at
	// once the first to come takes every day it asks for (the dashboard's overview, whose
	// prints the others share, printshare.go) and the others wait for those they share.
	// The claimed days are ended before this read waits for others' (which may wait for
	// these), and also when it fails or panics: no read waits for ever.
	c := &dayClaim{first: first, end: end}
	own, wait := s.claim(query, c)
	days, prints, err := func() (days []keptDay, prints []dayPrint, err error) {
		done := false
		defer func() {
			if !done {
				s.finish(query, c, own, first, nil, nil)
			}
		}()
		if prints, err = r.dayPrints(ctx, params, first, end); err != nil {
			return nil, nil, err
		}
		own, wait = s.start(query, c, own, wait)
		days = make([]keptDay, end-first)
		var missing []uint16
		for _, n := range own {
			if d := s.get(dayKey{query, n}, prints[n-first]); d != nil {
				days[n-first] = d
			} else {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			if err = r.readMissing(ctx, s, query, params, first, end, missing, prints, days, read); err != nil {
				return nil, nil, err
			}
		}
		s.finish(query, c, own, first, prints, days)
		done = true
		return days, prints, nil
	}()
	if err != nil {
		return nil, err
	}
	var again []uint16 // the days whose other read failed or saw another print: read here
	for n, d := range wait {
		select {
		case <-d.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("cannot wait for the rows of query %s of day %s: %w", name, dayTime(n).Format(time.DateOnly), ctx.Err())
		}
		if d.ok && d.print == prints[n-first] {
			s.metrics.hit() // read once, for both
			days[n-first] = d.rows
		} else if x := s.get(dayKey{query, n}, prints[n-first]); x != nil {
			days[n-first] = x
		} else {
			again = append(again, n)
		}
	}
	if len(again) > 0 {
		slices.Sort(again)
		if err := r.readMissing(ctx, s, query, params, first, end, again, prints, days, read); err != nil {
			return nil, err
		}
	}
	return days, nil
}

// readMissing reads the days missing (ascending) of first to end into days (readDaysOf).
func (r *Runner) readMissing(ctx context.Context, s *dayStore, query string, params map[string]Value, first, end uint16,
	missing []uint16, prints []dayPrint, days []keptDay, read func(params map[string]Value, keep bool, events []uint64) ([]keptDay, error)) error {
	return r.readDaysOf(ctx, s, query, params, first, end, missing, prints, read, func(all []keptDay) {
		for _, n := range missing {
			days[n-first] = all[n-first]
		}
	})
}

// readDaysOf reads the days missing (ascending) of first to end in one query (read, its
// params narrowed to them unless they are all the days, told each day's event count),
// stores each when ClickHouse was settled, and hands what read returned for every day of
// first to end to got.
func (r *Runner) readDaysOf(ctx context.Context, s *dayStore, query string, params map[string]Value, first, end uint16,
	missing []uint16, prints []dayPrint, read func(params map[string]Value, keep bool, events []uint64) ([]keptDay, error), got func([]keptDay)) error {
	settled, err := r.settled(ctx)
	if err != nil {
		return err
	}
	p := params
	if len(missing) < int(end-first) {
		p = maps.Clone(params)
		p["from"], p["until"], p["days"] = Time(dayTime(missing[0])), Time(dayTime(missing[len(missing)-1]+1)), fragment(dayRanges(missing))
	}
	events := make([]uint64, end-first)
	for _, n := range missing {
		events[n-first] = prints[n-first].events
	}
	all, err := read(p, settled, events)
	if err != nil {
		return err
	}
	for _, n := range missing {
		if settled {
			s.put(dayKey{query, n}, prints[n-first], all[n-first])
		} else {
			r.Metrics.unsettled()
		}
	}
	got(all)
	return nil
}

// eventDays is up to how many days (from the first to the last read) a read of touch_rows
// takes from the events themselves (include/event_day_rows.sql) rather than from
// session_aggregates, whose key, by session,
// makes a few days cost about what the whole month does: on the bench server's 10 million
// events (330 000 a day) one day of the events cost 0.35-0.4 s of ClickHouse's CPU, any day
// of session_aggregates 2.3-2.5 s, the whole month's 2.9 s (docs/BENCHMARKS.md). A variable
// so that a test can send every read through the events.
var eventDays = 4

// dayTime returns the start of day n.
func dayTime(n uint16) time.Time { return time.Unix(int64(n)*int64(day/time.Second), 0).UTC() }

// dayRanges returns the condition of touch_rows' $days that keeps the days of missing
// (ascending), as their contiguous ranges.
func dayRanges(missing []uint16) string {
	var ranges []string
	for i := 0; i < len(missing); {
		j := i + 1
		for j < len(missing) && missing[j] == missing[j-1]+1 {
			j++
		}
		ranges = append(ranges, fmt.Sprintf("day >= %s AND day < %s", dayDate(missing[i]), dayDate(missing[j-1]+1)))
		i = j
	}
	return "(" + strings.Join(ranges, " OR ") + ")"
}

// storeQuery returns what names the rows a read of the library query name fills in the
// store: the query with every placeholder but the period's ($from, $until, $days) filled.
func (r *Runner) storeQuery(name string, params map[string]Value) (string, error) {
	p := maps.Clone(params)
	p["from"], p["until"], p["days"] = fragment("FROM"), fragment("UNTIL"), fragment("DAYS")
	return r.SQL(name, p)
}

// readRows runs sessions and events, touch_rows' two parts (session_rows.sql, and
// touch_rows.sql with its include/session_touch_rows.sql narrowed to the events' rows), at
// once, and returns their rows by day: days[n-first] holds day n's (nil: none), for the
// days first to end (excluded), trimmed to keep when keep. ClickHouse 18.16 runs a query on
// one thread here, the two parts of touch_rows' UNION ALL one after the other; as two
// queries they take both cores, and the read ends in about the time of its longer part (on
// the bench's 10 million events 1.4 s against 2.35 s, docs/BENCHMARKS.md). Each part's rows
// go to days of their own, the events' then into the sessions' (dayRows.merge), which are
// most rows.
func (r *Runner) readRows(ctx context.Context, sessions, events string, first, end uint16, keep bool) ([]*dayRows, error) {
	days := make([]*dayRows, max(int(end)-int(first), 0))
	p := newDayParter(len(days))
	scan := newDayScan(first, days, p)
	eventRows := make([]*dayRows, len(days))
	eventScan := newDayScan(first, eventRows, nil)
	err := r.atOnce(ctx, func(ctx context.Context) error {
		return r.selectSQL(ctx, "touch_rows:sessions", sessions, scan.sessionCols.all(), scan.sessionBlock)
	}, func(ctx context.Context) error {
		return r.selectSQL(ctx, "touch_rows:events", events, eventScan.cols.all(), eventScan.block)
	})
	p.wait()
	// The days are grouped on up to groupWorkers goroutines, each taking the next day not
	// taken: once the read has ended, ClickHouse leaves the cores to journeyd, and a day is
	// grouped on its own (dayRows.group).
	merged := make([]error, len(days))
	eachDay(len(days), func(i int) {
		d, e := days[i], eventRows[i]
		switch {
		case e == nil:
		case d == nil:
			d, days[i] = e, e
		default:
			merged[i] = d.merge(e)
		}
		if d != nil {
			d.doneParted(keep, p.runs[i])
		}
	})
	if err == nil {
		err = errors.Join(merged...)
	}
	return days, err
}

// merge adds the rows of e, a day read apart from d (its keys and conversions its own), to d,
// whose read has not ended (done): e's chunks, their keys and conversions renumbered in
// place, join d's as they are (group takes chunks of any length up to dayChunk), and e's
// conversions are appended at once. Row by row through dayRows.row, the events' 450 000
// rows of the bench's 10 million events cost 0.17 s of journeyd's CPU, most of it growing
// the slices.
func (d *dayRows) merge(e *dayRows) error {
	if len(d.conv)+len(e.conv) > 1<<31-1 {
		return fmt.Errorf("more than %d conversions in a day are more than one read can hold", len(d.conv)+len(e.conv))
	}
	keys := make([]uint32, len(e.keys))
	for i, key := range e.keys {
		keys[i] = d.keyIndex(key)
	}
	shift := int32(len(d.conv))
	d.conv = append(d.conv, e.conv...)
	for _, chunk := range e.rows {
		for i := range chunk {
			row := &chunk[i]
			if row.t != 0 {
				row.k = keys[row.k]
			}
			if row.conv >= 0 {
				row.conv += shift
			}
		}
	}
	d.rows = append(d.rows, e.rows...)
	e.rows, e.conv, e.keys = nil, nil, nil // d's now
	return nil
}

// dayParter partitions the chunks of a read's days by their rows' top hash byte
// (partChunk), each as soon as it is full, on a goroutine of its own while the read goes
// on: the first step of grouping a day (dayRows.group), which waits for the day's last row,
// and so for the end of the read. While the rows stream in, the cores are not all busy
// (ClickHouse makes them about as fast as journeyd decodes and keeps them); after it,
// ClickHouse is idle and the report waits for the grouping.
type dayParter struct {
	runs [][]*chunkRuns // by day, the runs of its chunks handed over (the first len of them); read once wait returned
	jobs chan partJob
	wg   sync.WaitGroup
}

// partJob is a full chunk to partition, and where its runs go.
type partJob struct {
	chunk []touchRow
	runs  *chunkRuns
}

// newDayParter returns a dayParter for a read of days days, its goroutine started; the
// caller must call wait.
func newDayParter(days int) *dayParter {
	// room for every chunk of the bench's cold month (about 370), so that the scan seldom
	// waits for the goroutine
	p := &dayParter{runs: make([][]*chunkRuns, days), jobs: make(chan partJob, 512)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var scratch []touchRow
		for j := range p.jobs {
			scratch = partChunk(j.chunk, j.runs, scratch)
		}
	}()
	return p
}

// full hands over the chunks of day i (d) before its last not yet handed over: full ones,
// to which the scan adds no more rows.
func (p *dayParter) full(i int, d *dayRows) {
	for c := len(p.runs[i]); c < len(d.rows)-1; c++ {
		runs := new(chunkRuns)
		p.runs[i] = append(p.runs[i], runs)
		p.jobs <- partJob{d.rows[c], runs}
	}
}

// wait returns once every chunk handed over is partitioned. No chunk may be handed over after.
func (p *dayParter) wait() {
	close(p.jobs)
	p.wg.Wait()
}

// touchColumns are the columns of touch_rows, which each block of a read fills
// (clickhouse.Select): decoded into the same memory block after block, rather than into
// new columns a block and then a row at a time through Scan, which cost journeyd about as
// much CPU as ClickHouse spent on the query (docs/BENCHMARKS.md).
type touchColumns struct {
	hash, user, anon clickhouse.Fixed[uint64]
	visit            clickhouse.Fixed[uint32]
	key              clickhouse.Strings
	email, conv      clickhouse.Fixed[uint8]
	convT            clickhouse.Fixed[uint32]
	convV            clickhouse.Fixed[float64]
	id               clickhouse.Strings
	day              clickhouse.Fixed[uint16]
}

// all returns the columns in touch_rows' order.
func (c *touchColumns) all() []clickhouse.Column {
	return []clickhouse.Column{&c.hash, &c.user, &c.anon, &c.visit, &c.key, &c.email, &c.conv, &c.convT, &c.convV, &c.id, &c.day}
}

// sessionColumns are the columns of session_rows.sql, touch_rows' sessions as journeyd
// reads them, which each block of a read fills, as touchColumns.
type sessionColumns struct {
	hash, user, anon clickhouse.Fixed[uint64]
	visit            clickhouse.Fixed[uint32]
	order            clickhouse.Fixed[uint64]
	key              clickhouse.Strings
	day              clickhouse.Fixed[uint16]
}

// all returns the columns in session_rows' order.
func (c *sessionColumns) all() []clickhouse.Column {
	return []clickhouse.Column{&c.hash, &c.user, &c.anon, &c.visit, &c.order, &c.key, &c.day}
}

// dayScan reads the blocks of touch_rows (block) or session_rows (sessionBlock) into days
// by their rows' day (days[day-first]), handing each full chunk of a day to p (nil: none).
type dayScan struct {
	first       uint16
	days        []*dayRows
	p           *dayParter
	cols        touchColumns
	sessionCols sessionColumns
	// each day's last key and its index: a touch group's rows come together, with its
	// key, though the days of the rows alternate; a compare with the last key is cheaper
	// than the map lookup, which hashes the key (a third of dayRows.row's time)
	last []lastKey
}

// lastKey is a day's last key (one of the day's keys) and its index.
type lastKey struct {
	key string
	k   uint32
}

// newDayScan returns a dayScan of days, the days from first on.
func newDayScan(first uint16, days []*dayRows, p *dayParter) *dayScan {
	return &dayScan{first: first, days: days, p: p, last: make([]lastKey, len(days))}
}

// block adds the rows of the block s.cols holds to their days.
func (s *dayScan) block(rows int) error {
	c := &s.cols
	for i := range rows {
		row := touchRow{hash: c.hash[i], user: c.user[i], anon: c.anon[i], t: c.visit[i]}
		if c.email[i] == 1 {
			row.flags = emailRow
		}
		isConv := c.conv[i] == 1
		var conv rowConversion
		if isConv {
			conv = rowConversion{t: c.convT[i], v: c.convV[i], id: c.id.String(i)}
		}
		if err := s.add(c.day[i], row, c.key.Bytes(i), isConv, conv); err != nil {
			return err
		}
	}
	return nil
}

// sessionBlock adds the rows of the block s.sessionCols holds to their days.
func (s *dayScan) sessionBlock(rows int) error {
	c := &s.sessionCols
	for i := range rows {
		row := touchRow{hash: c.hash[i], user: c.user[i], anon: c.anon[i], t: c.visit[i]}
		if row.t != 0 {
			row.flags = visitOrder(c.order[i])
		}
		if err := s.add(c.day[i], row, c.key.Bytes(i), false, rowConversion{}); err != nil {
			return err
		}
	}
	return nil
}

// add adds row, whose key is key (when row.t != 0), and its conversion c (when isConv) to
// day n.
func (s *dayScan) add(n uint16, row touchRow, key []byte, isConv bool, c rowConversion) error {
	if n < s.first || int(n-s.first) >= len(s.days) {
		return fmt.Errorf("a row of day %d is outside the period's days %d to %d", n, s.first, int(s.first)+len(s.days))
	}
	d := s.days[n-s.first]
	if d == nil {
		d = &dayRows{keyOf: map[string]uint32{}}
		s.days[n-s.first] = d
	}
	if row.t != 0 {
		if l := &s.last[n-s.first]; len(key) > 0 && l.key == string(key) {
			row.k = l.k
		} else {
			row.k = d.keyIndexBytes(key)
			l.key, l.k = d.keys[row.k], row.k
		}
	}
	chunks := len(d.rows)
	if err := d.add(row, isConv, c); err != nil {
		return err
	}
	if s.p != nil && len(d.rows) != chunks { // a new chunk: the one before is full
		s.p.full(int(n-s.first), d)
	}
	return nil
}

// readPrints reads the print of each day first to end (excluded) of the site of params
// (day_prints.sql): prints[n-first] is day n's. Reports share such reads (dayPrints). A
// period of printHalves days or more is read in two queries at once, each of about half
// its days (the events' key starts with the site and the day, so each reads only its
// days): ClickHouse 18.16 runs a query on one thread here, and a cold report waits for
// the prints before it reads any rows (0.5 s of a month of 10 million events alone).
func (r *Runner) readPrints(ctx context.Context, params map[string]Value, first, end uint16) ([]dayPrint, error) {
	prints := make([]dayPrint, end-first)
	parts := [][2]uint16{{first, end}}
	if end-first >= printHalves {
		mid := first + (end-first)/2
		parts = [][2]uint16{{first, mid}, {mid, end}}
	}
	reads := make([]func(context.Context) error, len(parts))
	for i, part := range parts {
		reads[i] = func(ctx context.Context) error {
			return r.readPrintsOf(ctx, params, first, part[0], part[1], prints)
		}
	}
	return prints, r.atOnce(ctx, reads...)
}

// printHalves is the fewest days readPrints reads in two queries; a variable so that a
// test can read a month's in one, as before.
var printHalves uint16 = 14

// readPrintsOf reads the prints of the days from to end (excluded) into prints, which holds
// those from first on (readPrints).
func (r *Runner) readPrintsOf(ctx context.Context, params map[string]Value, first, from, end uint16, prints []dayPrint) error {
	sql, err := Fill(dayPrintsSQL, map[string]Value{"db": Ident(r.DB), "site": params["site"],
		"from": Time(dayTime(from)), "until": Time(dayTime(end))})
	if err != nil {
		return err
	}
	return r.streamSQL(ctx, "day_prints", sql, func(rows driver.Rows) error {
		var n uint16
		var p dayPrint
		for rows.Next() {
			if err := rows.Scan(&n, &p.events, &p.hash); err != nil {
				return err
			}
			if n >= from && n < end {
				prints[n-first] = p
			}
		}
		return nil
	})
}

// settled reports whether ClickHouse runs no INSERT and has no mutation of the database
// left to do (settled.sql), so that rows read from now on may be kept under the prints
// read before.
func (r *Runner) settled(ctx context.Context) (bool, error) {
	sql, err := Fill(settledSQL, map[string]Value{"database": String(r.DB)})
	if err != nil {
		return false, err
	}
	busy := uint64(0)
	err = r.streamSQL(ctx, "settled", sql, func(rows driver.Rows) error {
		for rows.Next() {
			if err := rows.Scan(&busy); err != nil {
				return err
			}
		}
		return nil
	})
	return busy == 0 && r.ShowSQL == nil, err
}
