package report

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The funnel and barriers (funnel.sql) group every event of their period by person with
// windowFunnel and the segments' argMin: 5.5-7.5 s of ClickHouse's CPU at 10 million events
// with journeyd's settings, every time (docs/BENCHMARKS.md). A Runner answers them here
// instead when the period is whole UTC days, no filter narrows the events and the order is
// not strict: it reads each day's rows of funnel_rows.sql (per unit, its first event's time
// and the hash of its breakdown values, reduced from every event's by unitFirsts; each step
// and exclusion event; the values of each hash), which a Runner that keeps days
// (StoreBytes) takes from the store while the day's events are unchanged (daystore.go), and
// journeyd counts what funnel.sql counts:
//
//   - the unit: with per person, each person key resolved through the person links
//     (person_links.sql, read every time, as touch_rows does), the rows of a person merged
//     over the days; per session, the session;
//   - the segment of each breakdown: the value of the unit's first event of the period, the
//     earliest first of its days (argMin(d, ts)). Where two events of a unit share the
//     earliest second with different values, funnel.sql's argMin takes whichever it reads
//     first, in no defined order; journeyd takes, of one key's events, the least hash of
//     values (unitFirsts), and of a person's keys, the day row of the least person key.
//   - the level: windowFunnel(window) in its default mode, as ClickHouse computes it: each
//     event adds (time, i) for every step i it matches; sorted by time, then step, the list
//     is walked: step 1 sets start[0] to its time, step k > 1 sets start[k-1] to start[k-2]
//     when that is set and the time is at most start[k-2] + window; the level is the
//     highest step set. ClickHouse sorts by time and step since 21.2 (pull request 18884);
//     before, by time alone, keeping the order it read the events in (not defined across
//     the parts and threads of a read) and, within one event, its steps last to first, so
//     that there an event matching two steps, and its replay, change the level (18.16 counts
//     one event of steps 1 and 2 at level 1, two such events, or one and its copy, at level
//     2). On such a server a funnel in which some event of the period matches two steps
//     is left to funnel.sql (funnelCount says so); ties between events of different steps
//     in one second, which that server orders as it reads them, are counted as 21.2 sorts
//     them.
//   - the earliest chain ($chain): t1 the first step-1 time, each next step's time the
//     least of its times from the previous step's time to t1 + window (0 once the chain
//     breaks); a unit with an exclusion event from t1 to t1 + window is left out;
//   - per breakdown, segment and step up to the level: the units entering, and the median
//     of the seconds from the previous step's chain time (where the chain holds the step)
//     as quantileExact(0.5) takes it: the value at index floor(n / 2) of the sorted ones, 0
//     when there are none.
//
// An event stored twice (a replay not yet merged away) adds its time and mask twice, which
// changes neither the level (on a server that sorts a second's events by step, or when no
// event matches two steps), nor the chain, nor the first event.

// funnelDay is one UTC day of funnel_rows, as the store keeps it: with a breakdown, per
// unit key its first event's seconds into the day and the hash of its breakdown values,
// and the values of each hash; per step or exclusion event, its unit key and item (seconds
// into the day << funnelMaskBits | mask). 20 bytes a unit and 12 an event. Once stored it
// is never changed: readers share it.
type funnelDay struct {
	start  uint32   // the day's first second
	cols   uint32   // how many breakdown values a hash names
	keys   []uint64 // each unit key of the day (with a breakdown)
	first  []uint32 // each key's first event, seconds into the day
	combos []uint64 // each key's first event's hash of breakdown values
	hashes []uint64 // the hashes of the day's breakdown values
	names  []string // the values of each hash, cols a hash
	evKeys []uint64 // each step or exclusion event's unit key
	items  []uint32 // each step or exclusion event: seconds into the day << funnelMaskBits | mask
}

// funnelMaskBits is the bits of an event's mask in funnelDay.items: the steps and the
// exclusion; funnels of more steps than fit are counted by funnel.sql.
const funnelMaskBits = 15

// size is about how many bytes the day holds.
func (d *funnelDay) size() int64 {
	n := int64(cap(d.keys)+cap(d.combos)+cap(d.hashes)+cap(d.evKeys))*8 + int64(cap(d.first)+cap(d.items))*4 + int64(cap(d.names))*16 + 128
	for _, v := range d.names {
		n += int64(len(v))
	}
	return n
}

// funnelDaysRoute reports whether the funnel of req is counted from days' rows
// (funnelFromDays), kept in the Runner's store or, without one, read for this report
// alone: where fromDays allows it, in a period of seconds that fit funnelDay's, not in
// strict order, and with steps that fit a day's masks. Without a store too, that route is
// the faster: at 10 million events funnel_rows.sql's read and journeyd's count
// took 2.3-2.5 s for barriers where funnel.sql took 4.8-5.1 s, and 1.1 s for the funnel
// against 2.4-2.7 s (docs/BENCHMARKS.md).
func (r *Runner) funnelDaysRoute(req *Request) bool {
	return r.fromDays(req) && !req.Strict &&
		req.From.Before(req.To) && req.From.Unix() >= 0 && req.To.Unix() <= 1<<32-1 &&
		len(req.Steps) >= 2 && len(req.Steps)+1 <= funnelMaskBits
}

// funnelRowsParams returns the parameters of the reads of funnel_rows.sql for req and the
// breakdowns by (funnelParams' breakdowns): steps, of the rows of kind 2, which are the
// same whatever the breakdowns, so that a funnel and barriers of the same steps share
// their days (the dashboard asks for both at once); and firsts, of the rows of kinds 1 and
// 3, with a breakdown (else nil); and the indices of by that are breakdowns ("" is none).
// The two reads run at the same time (funnelFromDays): ClickHouse 18.16 runs each query
// on one thread here (funnel_rows.sql).
func funnelRowsParams(req *Request, by []string) (steps, firsts map[string]Value, cols []int, err error) {
	if steps, _, err = funnelRowsQuery(req, []string{""}); err != nil {
		return nil, nil, nil, err
	}
	if firsts, cols, err = funnelRowsQuery(req, by); err != nil || len(cols) == 0 {
		return steps, nil, nil, err
	}
	firsts["step_rows"] = fragment("0")
	return steps, firsts, cols, nil
}

// funnelRowsQuery returns the parameters of funnel_rows.sql for req and the breakdowns by,
// every kind of row asked (kinds 1 and 3 only with a breakdown), and the indices of by
// that are breakdowns.
func funnelRowsQuery(req *Request, by []string) (map[string]Value, []int, error) {
	fp, err := funnelParams(req, by)
	if err != nil {
		return nil, nil, err
	}
	var cols []int
	for i, b := range by {
		if b != "" {
			cols = append(cols, i)
		}
	}
	bits := make([]string, 0, len(req.Steps)+1)
	for i, st := range req.Steps {
		bits = append(bits, fmt.Sprintf("%d * toUInt32(%s)", 1<<i, cond(st)))
	}
	if len(req.Exclude) > 0 {
		ex := make([]string, len(req.Exclude))
		for i, st := range req.Exclude {
			ex[i] = cond(st)
		}
		bits = append(bits, fmt.Sprintf("%d * toUInt32(%s)", 1<<len(req.Steps), strings.Join(ex, " OR ")))
	}
	mask := strings.Join(bits, " + ")
	names, refs := []string{"''"}, []string{}
	if len(cols) > 0 {
		names = names[:0]
		for _, b := range cols {
			names = append(names, fmt.Sprintf("toString(length(any(d%d))), ':', any(d%d)", b+1, b+1))
			refs = append(refs, fmt.Sprintf("d%d", b+1))
		}
	}
	p := map[string]Value{"site": fp["site"], "from": fp["from"], "until": fp["until"], "days": fragment("1"),
		"person_key": fragment("if(user_id != '', user_id, anon_id)"), "breakdowns": fp["breakdowns"],
		"combo": fragment("toUInt64(0)"), "names": fragment("''"), "mask": fragment(mask),
		"first_rows": fragment("0"), "step_rows": fragment("1"), "name_rows": fragment("0")}
	if req.PerSession {
		p["person_key"] = fragment("session_id")
	}
	if len(cols) > 0 {
		p["combo"], p["first_rows"], p["name_rows"] = fragment("cityHash64("+strings.Join(refs, ", ")+")"), fragment("1"), fragment("1")
		p["names"] = fragment("concat(" + strings.Join(names, ", ") + ")")
	}
	return p, cols, nil
}

// stepSortSince is the first ClickHouse release whose windowFunnel sorts the events of one
// second by step (pull request 18884), not in the order it read them.
var stepSortSince = clickhouse.Version{Major: 21, Minor: 2}

// funnelFromDays answers funnel.sql's rows (breakdown, segment, step, entered,
// median_seconds) for req and the breakdowns by from the kept days of funnel_rows.sql and
// the person links, as the comment at the top of this file says; ok is false when they
// cannot be counted so on this server (an event matching two steps before ClickHouse 21.2):
// funnel.sql must answer.
func (r *Runner) funnelFromDays(ctx context.Context, req *Request, by []string) (rows *Rows, ok bool, err error) {
	steps, firsts, cols, err := funnelRowsParams(req, by)
	if err != nil {
		return nil, false, err
	}
	first, end := epochDay(req.From), epochDay(req.To)
	read := func(ctx context.Context, p map[string]Value, cols []int) ([]keptDay, error) {
		return r.keptDays(ctx, "funnel_rows", p, first, end, func(p map[string]Value, keep bool) ([]keptDay, error) {
			return r.readFunnelDays(ctx, p, first, end, cols, keep)
		})
	}
	var stepDays, firstDays []keptDay
	reads := []func(context.Context) error{func(ctx context.Context) (err error) { stepDays, err = read(ctx, steps, nil); return err }}
	if firsts != nil {
		reads = append(reads, func(ctx context.Context) (err error) { firstDays, err = read(ctx, firsts, cols); return err })
	}
	if err := r.atOnce(ctx, reads...); err != nil {
		return nil, false, err
	}
	var links map[uint64]uint64
	if !req.PerSession {
		if links, err = r.siteLinks(ctx, steps["site"]); err != nil {
			return nil, false, err
		}
	}
	if r.ShowSQL != nil { // shown: funnel.sql is shown too, which answers where the days cannot
		return nil, false, nil
	}
	v, err := clickhouse.ServerVersion(r.Conn)
	if err != nil {
		return nil, false, err
	}
	shape := funnelShape{steps: len(req.Steps), window: uint64(req.Window / time.Second),
		exclusion: len(req.Exclude) > 0, by: by, cols: cols, stepSorted: v.AtLeast(stepSortSince)}
	query, err := r.storeQuery("funnel_rows", steps)
	if err != nil {
		return nil, false, err
	}
	if firsts != nil {
		q, err := r.storeQuery("funnel_rows", firsts)
		if err != nil {
			return nil, false, err
		}
		query += "\n" + q
	}
	key := fmt.Sprintf("%s\n%+v", query, shape)
	from := append(slices.Clip(stepDays), firstDays...)
	if rows, ok := r.keptFunnel(key, from, links); ok {
		return rows, rows != nil, nil
	}
	rows = funnelCount(joinFunnelDays(stepDays, firstDays), links, shape)
	r.keepFunnel(key, from, links, rows)
	return rows, rows != nil, nil
}

// joinFunnelDays returns the days of a funnel: each day of steps (the rows of kind 2) with
// the rows of kinds 1 and 3 of the same day of firsts, when there is a breakdown (firsts
// not nil). The kept days stay as they are: a joined day is a new one that shares their
// slices.
func joinFunnelDays(steps, firsts []keptDay) []*funnelDay {
	out := make([]*funnelDay, len(steps))
	for i, d := range steps {
		s := d.(*funnelDay)
		if firsts == nil {
			out[i] = s
			continue
		}
		f := firsts[i].(*funnelDay)
		out[i] = &funnelDay{start: s.start, cols: f.cols, keys: f.keys, first: f.first, combos: f.combos,
			hashes: f.hashes, names: f.names, evKeys: s.evKeys, items: s.items}
	}
	return out
}

// A funnel counted again from the same stored days with the same person links counts the
// same: a stored day never changes (a change to its events gives another day, read anew).
// The Runner keeps the counts of the last few funnels with the days and links they came
// from, and hands them out again while both are unchanged, as keptreads.go does for
// touch_rows: the count of the dashboard's barriers at 10 million events is about 1 s of
// journeyd's CPU, the most of a warm one. The rows handed out are never changed.

// keptFunnelsMax is how many funnels' counts a Runner keeps at most.
const keptFunnelsMax = 8

// keptFunnel is the count of one funnel and what it came from.
type keptFunnel struct {
	key   string    // the funnel_rows queries, the period left open, and the funnelShape
	days  []keptDay // the days of its reads, those of steps then those of firsts
	links map[uint64]uint64
	rows  *Rows // nil: left to funnel.sql
}

// keptFunnel returns the count kept of the funnel key over days with links, and whether
// there is one.
func (r *Runner) keptFunnel(key string, days []keptDay, links map[uint64]uint64) (*Rows, bool) {
	k, ok := r.countedFunnels.find(func(k *keptFunnel) bool {
		return k.key == key && slices.Equal(k.days, days) && maps.Equal(k.links, links)
	}, true)
	if !ok {
		return nil, false
	}
	return k.rows, true
}

// keepFunnel keeps the count rows of the funnel key over days with links. The days a
// kept count holds stay in memory while it is kept, evicted from the store or not: the
// counts kept hold at most StoreBytes of days (about 75 MB the dashboard's barriers over a
// month at 10 million events), the least recently used going first.
func (r *Runner) keepFunnel(key string, days []keptDay, links map[uint64]uint64, rows *Rows) {
	var bytes int64
	for _, d := range days {
		bytes += d.(*funnelDay).size()
	}
	r.countedFunnels.keep(&keptFunnel{key: key, days: days, links: links, rows: rows}, bytes, keptFunnelsMax, r.StoreBytes,
		func(*keptFunnel) bool { return false })
}

// readFunnelDays runs funnel_rows filled with p and returns its rows by day: days[n-first]
// holds day n's, every day of first to end (excluded) one, whose hashes name the values of
// the breakdowns cols (the indices of the breakdowns asked that are not "",
// funnelRowsParams). When keep, the days' slices hold no room beyond their rows.
func (r *Runner) readFunnelDays(ctx context.Context, p map[string]Value, first, end uint16, cols []int, keep bool) ([]keptDay, error) {
	sql, err := r.SQL("funnel_rows", p)
	if err != nil {
		return nil, err
	}
	return r.readFunnelDaysSQL(ctx, sql, first, end, cols, keep)
}

// funnelDayRows gathers one day's rows of kinds 1 and 2 while funnel_rows streams in: the
// units' first events (unitFirsts) and the step events in chunks (rowChunks), each column
// in chunks of the same sizes.
type funnelDayRows struct {
	units  unitFirsts
	evKeys rowChunks[uint64]
	items  rowChunks[uint32]
}

// funnelColumns are the columns of funnel_rows, which each block of a read fills
// (clickhouse.Select).
type funnelColumns struct {
	kind  clickhouse.Fixed[uint8]
	day   clickhouse.Fixed[uint16]
	key   clickhouse.Fixed[uint64]
	t     clickhouse.Fixed[uint32]
	combo clickhouse.Fixed[uint64]
	names clickhouse.Strings
}

// all returns the columns in funnel_rows' order.
func (c *funnelColumns) all() []clickhouse.Column {
	return []clickhouse.Column{&c.kind, &c.day, &c.key, &c.t, &c.combo, &c.names}
}

// readFunnelDaysSQL is readFunnelDays of sql, a funnel_rows query.
//
// A day's rows of kind 1, one an event, are reduced to its units' first events as they
// come (unitFirsts). Its rows of kind 2 are gathered in chunks and copied once, when the
// read has ended, into slices of exactly their length, which the store keeps as they are:
// appended one by one into growing slices they were copied about four times over (a large
// slice grows by a quarter), and once more when kept, trimmed to their length; a read took
// 1.7x the bytes it takes now (BenchmarkReadFunnelDays, at the bench's day size). The days'
// event counts (keptDaysSized) would bound the rows but size them poorly: a day's step
// events are anything from none to all of its events, and room for every event is 12 bytes
// an event, the most of it zeroed for nothing and the rows copied again to trim it.
func (r *Runner) readFunnelDaysSQL(ctx context.Context, sql string, first, end uint16, cols []int, keep bool) ([]keptDay, error) {
	days := make([]*funnelDay, end-first)
	gathered := make([]funnelDayRows, end-first)
	for i := range days {
		days[i] = &funnelDay{start: uint32(first+uint16(i)) * uint32(day/time.Second), cols: uint32(len(cols))}
	}
	var fc funnelColumns
	err := r.selectSQL(ctx, "funnel_rows", sql, fc.all(), func(rows int) error {
		for i := range rows {
			kind, n, key, t, combo := fc.kind[i], fc.day[i], fc.key[i], fc.t[i], fc.combo[i]
			if n < first || int(n-first) >= len(days) {
				return fmt.Errorf("a row of day %d is outside the period's days %d to %d", n, first, end)
			}
			d, g := days[n-first], &gathered[n-first]
			switch kind {
			case 1:
				if t-d.start >= uint32(day/time.Second) || t < d.start {
					return fmt.Errorf("a first event of day %d at %d, another day", n, t)
				}
				g.units.add(key, t-d.start, combo)
			case 2:
				if t>>funnelMaskBits >= uint32(day/time.Second) {
					return fmt.Errorf("an event of day %d at %d s into it", n, t>>funnelMaskBits)
				}
				g.evKeys.add(key)
				g.items.add(t)
			case 3: // a few a day (the values met): appended
				d.hashes = append(d.hashes, combo)
				var err error
				if d.names, err = appendNames(d.names, fc.names.String(i), len(cols)); err != nil {
					return fmt.Errorf("day %d: %w", n, err)
				}
			default:
				return fmt.Errorf("a row of kind %d", kind)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]keptDay, len(days))
	for i, d := range days {
		g := &gathered[i]
		d.keys, d.first, d.combos = g.units.done()
		d.evKeys, d.items = g.evKeys.flat(keep), g.items.flat(keep)
		gathered[i] = funnelDayRows{} // the chunks are garbage now, before the next day's copy
		if keep {
			d.hashes, d.names = slices.Clip(d.hashes), slices.Clip(d.names)
		}
		out[i] = d
	}
	return out, nil
}

// rowChunksMin and rowChunksMax bound the rows of a chunk of rowChunks: the first chunks
// are small, so that a day of few rows takes little room, and each next as large as all
// before it, up to rowChunksMax (512 KiB of uint64), so that a day of many rows takes few
// chunks, and at most rowChunksMax rows of room beyond its rows until they are copied.
const (
	rowChunksMin = 256
	rowChunksMax = 1 << 16
)

// rowChunks gathers values appended one by one in chunks that are never copied nor grown
// while values come (a slice appended to is copied into a larger one each time it fills);
// flat copies them once into one slice. The zero value is empty.
type rowChunks[T any] struct {
	full [][]T // the chunks filled, in order
	cur  []T   // the chunk being filled
	n    int   // the values in full
}

// add appends v.
func (c *rowChunks[T]) add(v T) {
	if len(c.cur) == cap(c.cur) {
		c.next()
	}
	c.cur = append(c.cur, v)
}

// next puts the chunk being filled, if any, with the full ones and starts another.
func (c *rowChunks[T]) next() {
	if c.cur != nil {
		c.full = append(c.full, c.cur)
		c.n += len(c.cur)
	}
	c.cur = make([]T, 0, min(max(c.n, rowChunksMin), rowChunksMax))
}

// flat returns the values in order, nil for none: in a slice of exactly their length when
// exact, else (for a day not kept, whose room nobody holds on to) in the chunk being filled
// when it holds them all, as it is.
func (c *rowChunks[T]) flat(exact bool) []T {
	switch {
	case c.n+len(c.cur) == 0:
		return nil
	case len(c.full) == 0 && (!exact || len(c.cur) == cap(c.cur)):
		return c.cur
	}
	return flatChunks(append(c.full, c.cur), c.n+len(c.cur))
}

// appendNames appends to names the n values of a row of kind 3 of funnel_rows, each its
// length in bytes, a colon and the value.
func appendNames(names []string, s string, n int) ([]string, error) {
	for range n {
		colon := strings.IndexByte(s, ':')
		size, err := strconv.Atoi(s[:max(colon, 0)])
		if colon < 0 || err != nil || size < 0 || size > len(s)-colon-1 {
			return names, fmt.Errorf("cannot read the breakdown values %.40q: want length:value each", s)
		}
		names = append(names, s[colon+1:colon+1+size])
		s = s[colon+1+size:]
	}
	if s != "" {
		return names, fmt.Errorf("cannot read the breakdown values: %.40q left over", s)
	}
	return names, nil
}
