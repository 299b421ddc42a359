package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The retention grid (retention.sql) reads every event of its period, about one pass over
// the events of ClickHouse's CPU each time. A Runner answers it here instead where
// fromDays allows it (whole UTC days, no filter, not EventsOnly): from retention_rows.sql,
// a row per cohort or return event that ClickHouse does not group, each day's taken from
// the store while the day's events are unchanged when the Runner keeps days (StoreBytes,
// daystore.go). Without a store too, that is the faster: 0.19-0.21 s at 10 million events for the dashboard's
// retention, where retention.sql took 1.0-1.6 s (docs/BENCHMARKS.md). A person's cohort
// time is the earliest of their cohort events over all the days and their return the
// earliest return event after it, as retention.sql finds them, with the person links read
// every time; the cohorts and windows are then counted as retention.sql counts them.

// retentionDay is one UTC day's cohort and return events, as the store keeps them: 12
// bytes an event, its person key (before the links) and its seconds into the day beside
// its kind (bit 0 cohort, bit 1 return). Once stored it is never changed: readers share it.
type retentionDay struct {
	start uint32   // the day's first second
	keys  []uint64 // each event's person key
	items []uint32 // each event's seconds into the day << 2 | its kind
}

// size is about how many bytes the day holds.
func (d *retentionDay) size() int64 {
	return int64(cap(d.keys))*8 + int64(cap(d.items))*4 + 64
}

// retentionParams are what retention.sql's answer from the days needs besides the rows:
// the windows in seconds, in the order asked, and the end of the period.
type retentionParams struct {
	within []uint64
	until  uint32
}

// retentionFromDays answers retention.sql's rows (within, cohort_week, people, returned,
// rate; by window, then week) for params p (whole UTC days, no filter: $site, $from,
// $until, $cohort, $return, $touch_events) and the windows within (seconds) from the cohort and return
// events of each day of the period (retention_rows.sql, through the store) and the person
// links.
func (r *Runner) retentionFromDays(ctx context.Context, p map[string]Value, within []uint64) (*Rows, error) {
	from, until := p["from"].at, p["until"].at
	if until.Unix() > 1<<32-1 || from.Unix() < 0 {
		return nil, fmt.Errorf("cannot count retention from %v to %v by day: the times are 32-bit seconds", from, until)
	}
	first, end := epochDay(from), epochDay(until)
	rp := map[string]Value{"site": p["site"], "from": p["from"], "until": p["until"], "cohort": p["cohort"], "return": p["return"],
		"touch_events": p["touch_events"], "days": fragment("1")}
	days, err := r.keptDays(ctx, "retention_rows", rp, first, end, func(p map[string]Value, keep bool) ([]keptDay, error) {
		return r.readRetentionDays(ctx, p, first, end, keep)
	})
	if err != nil {
		return nil, err
	}
	links, err := r.siteLinks(ctx, p["site"])
	if err != nil || r.ShowSQL != nil {
		return &Rows{}, err
	}
	return retentionRows(days, links, retentionParams{within: within, until: uint32(until.Unix())}), nil
}

// readRetentionDays runs retention_rows filled with p and returns its events by day:
// days[n-first] holds day n's, every day of first to end (excluded) one. When keep, the
// days' slices are trimmed to their events.
func (r *Runner) readRetentionDays(ctx context.Context, p map[string]Value, first, end uint16, keep bool) ([]keptDay, error) {
	days := make([]*retentionDay, end-first)
	for i := range days {
		days[i] = &retentionDay{start: uint32(first+uint16(i)) * uint32(day/time.Second)}
	}
	sql, err := r.SQL("retention_rows", p)
	if err != nil {
		return nil, err
	}
	var (
		ns   clickhouse.Fixed[uint16]
		keys clickhouse.Fixed[uint64]
		ts   clickhouse.Fixed[uint32]
		kind clickhouse.Fixed[uint8]
	)
	err = r.selectSQL(ctx, "retention_rows", sql, []clickhouse.Column{&ns, &keys, &ts, &kind}, func(rows int) error {
		for i := range rows {
			n, t := ns[i], ts[i]
			if n < first || int(n-first) >= len(days) || t/uint32(day/time.Second) != uint32(n) {
				return fmt.Errorf("an event of day %d (at %d) is outside the period's days %d to %d", n, t, first, end)
			}
			d := days[n-first]
			d.keys, d.items = append(d.keys, keys[i]), append(d.items, (t-d.start)<<2|uint32(kind[i]&3))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]keptDay, len(days))
	for i, d := range days {
		if keep && cap(d.keys) > len(d.keys)+len(d.keys)/8 {
			d.keys, d.items = slices.Clone(d.keys), slices.Clone(d.items)
		}
		out[i] = d
	}
	return out, nil
}

// retentionEvent is one cohort or return event, its person resolved.
type retentionEvent struct {
	person uint64
	t      uint32
	kind   uint32
}

// retentionRows counts the grid as retention.sql does from the days' events, each
// person's key resolved by links: per person, t0 the earliest cohort event (no cohort
// event: no row) and the return the earliest return event strictly after t0; per window
// (ascending) and cohort week (the Monday of t0, UTC), of the people whose window ends by
// the end of the period (t0 + within <= until), how many, how many returned within it
// (return <= t0 + within) and their share, rounded to 4 places as ClickHouse rounds.
func retentionRows(days []keptDay, links map[uint64]uint64, p retentionParams) *Rows {
	n := 0
	for _, d := range days {
		n += len(d.(*retentionDay).keys)
	}
	events := make([]retentionEvent, 0, n)
	for _, kd := range days {
		d := kd.(*retentionDay)
		for i, key := range d.keys {
			if person, ok := links[key]; ok {
				key = person
			}
			events = append(events, retentionEvent{key, d.start + d.items[i]>>2, d.items[i] & 3})
		}
	}
	slices.SortFunc(events, func(a, b retentionEvent) int { return cmp.Compare(a.person, b.person) })
	type cell struct {
		within   uint64
		week     int64 // days since 1970-01-01 of the Monday
		people   uint64
		returned uint64
	}
	cells := map[[2]uint64]*cell{}
	for i := 0; i < len(events); {
		j := i + 1
		for j < len(events) && events[j].person == events[i].person {
			j++
		}
		var t0, back uint32
		for _, e := range events[i:j] {
			if e.kind&1 != 0 && (t0 == 0 || e.t < t0) {
				t0 = e.t
			}
		}
		if t0 != 0 {
			for _, e := range events[i:j] {
				if e.kind&2 != 0 && e.t > t0 && (back == 0 || e.t < back) {
					back = e.t
				}
			}
			dayN := int64(t0) / 86400
			week := dayN - (dayN+3)%7 // 1970-01-01 was a Thursday: Monday is (day+3)%7 == 0
			for _, w := range p.within {
				if uint64(t0)+w > uint64(p.until) {
					continue
				}
				k := [2]uint64{w, uint64(week)}
				c := cells[k]
				if c == nil {
					c = &cell{within: w, week: week}
					cells[k] = c
				}
				c.people++
				if back != 0 && uint64(back) <= uint64(t0)+w {
					c.returned++
				}
			}
		}
		i = j
	}
	list := make([]*cell, 0, len(cells))
	for _, c := range cells {
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b *cell) int {
		if c := cmp.Compare(a.within, b.within); c != 0 {
			return c
		}
		return cmp.Compare(a.week, b.week)
	})
	out := &Rows{Columns: []string{"within", "cohort_week", "people", "returned", "rate"}}
	wide := slices.Max(append([]uint64{0}, p.within...))
	for _, c := range list {
		out.Data = append(out.Data, []any{withinValue(c.within, wide), time.Unix(c.week*86400, 0).UTC(), c.people, c.returned,
			round(float64(c.returned)/float64(c.people), 4)})
	}
	return out
}

// withinValue returns window w as retention.sql's column within holds it: the type of the
// $within array, the narrowest unsigned integer that holds its widest window.
func withinValue(w, widest uint64) any {
	switch {
	case widest <= 1<<8-1:
		return uint8(w)
	case widest <= 1<<16-1:
		return uint16(w)
	case widest <= 1<<32-1:
		return uint32(w)
	}
	return w
}
