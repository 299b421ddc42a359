package report

import (
	"context"
	_ "embed"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The dashboard asks in two waves (DashboardPanels: the overview and the top lists, then
// the rest at once), and Warm runs its panels one after the other; each report reads the
// prints of its period's days first (day_prints.sql, about 0.5 s of ClickHouse's CPU at 10
// million events), the same days again and again, seconds apart. A Runner with PrintsReuse
// therefore keeps the prints it read, each read with the list of the events' data parts
// taken just before it (day_parts.sql, a few milliseconds), and answers a later ask from
// them where nothing can have changed them since: it lists the parts again, and a day is
// taken from a kept read when no part listed in one list and not in the other (or active in
// one and not in the other) holds events of that day, by the part's least and most event
// time. ClickHouse never changes a part in place and never gives a name twice: an insert
// adds a part, a merge (which drops replayed copies) and a mutation (an erasure) replace
// parts by new ones, and a dropped partition leaves its parts listed, inactive, for
// old_parts_lifetime (8 minutes by default), longer than PrintsReuse may keep a read
// (maxPrintsReuse). So whatever changed a day's events between the list before the read
// and the list of the ask shows in their difference, and the kept print of every other day
// is the print the ask would read now. The days that may have changed (on a live site,
// today's: its inserts) are read again, and only they. The ask's list is taken before
// its prints are read, as the read's is, so the rule of the store (daystore.go: settled.sql
// and the rows are read after the prints) holds as for prints read at the ask. With no
// part listed (a Distributed or a Buffer table) nothing is kept.

// DefaultPrintsReuse is how long journeyd serve keeps the prints of days read
// (Runner.PrintsReuse): about a dashboard's open and a warm-up's round.
const DefaultPrintsReuse = 2 * time.Minute

// maxPrintsReuse bounds PrintsReuse: below old_parts_lifetime's default (8 minutes), so
// that the parts of a partition dropped after a read are still listed.
const maxPrintsReuse = 5 * time.Minute

//go:embed day_parts.sql
var dayPartsSQL string

// maxKeptPrints is how many reads of prints a Runner keeps for each site at most.
const maxKeptPrints = 8

// partsList is the events' data parts at a moment (day_parts.sql), by name.
type partsList map[string]dataPart

// dataPart is one listed part: whether it is active and the days of its events.
type dataPart struct {
	active      bool
	first, last uint16 // its first and last day; 0 and maxDay when its times are unknown
}

// maxDay is the last day a uint16 numbers.
const maxDay = 1<<16 - 1

// changedDays returns the day ranges in which the events may differ between the moments of
// a and b: those of the parts in one and not in the other, or active in one only.
func changedDays(a, b partsList) [][2]uint16 {
	var out [][2]uint16
	for name, p := range a {
		if q, ok := b[name]; !ok || q.active != p.active {
			out = append(out, [2]uint16{p.first, p.last})
		}
	}
	for name, q := range b {
		if _, ok := a[name]; !ok {
			out = append(out, [2]uint16{q.first, q.last})
		}
	}
	return out
}

// readParts lists the events' data parts now (day_parts.sql); nil when none is listed,
// which tells nothing.
func (r *Runner) readParts(ctx context.Context) (partsList, error) {
	sql, err := Fill(dayPartsSQL, map[string]Value{"database": String(r.DB)})
	if err != nil {
		return nil, err
	}
	parts := partsList{}
	err = r.streamSQL(ctx, "day_parts", sql, func(rows driver.Rows) error {
		var (
			name       string
			active     uint8
			minT, maxT uint32
		)
		for rows.Next() {
			if err := rows.Scan(&name, &active, &minT, &maxT); err != nil {
				return err
			}
			p := dataPart{active: active == 1, first: 0, last: maxDay}
			if minT != 0 || maxT != 0 {
				p.first, p.last = epochDay(time.Unix(int64(minT), 0)), epochDay(time.Unix(int64(maxT), 0))
			}
			parts[name] = p
		}
		return nil
	})
	if err != nil || len(parts) == 0 {
		return nil, err
	}
	return parts, nil
}

// partsAt is a list of parts and when it was asked for.
type partsAt struct {
	parts partsList
	at    time.Time
}

// keptPrints is one read of prints kept: of days first to end (excluded), read after the
// parts were listed (before).
type keptPrints struct {
	first, end uint16
	prints     []dayPrint
	before     partsAt
}

// printCache is the reads of prints a Runner keeps (PrintsReuse), by the query with its
// period left open, the newest first.
type printCache struct {
	mu    sync.Mutex
	reads map[string][]*keptPrints
}

// now returns the Runner's time.
func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// printsReuse returns how long the Runner keeps reads of prints, within maxPrintsReuse.
func (r *Runner) printsReuse() time.Duration {
	return min(r.PrintsReuse, maxPrintsReuse)
}

// fill sets prints[n-first], of each day n of first to end (excluded) that a kept read of
// key answers at the moment of now (listed then), and returns the other days, ascending.
func (c *printCache) fill(key string, now partsAt, reuse time.Duration, first, end uint16, prints []dayPrint) []uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := make([]bool, end-first)
	for _, k := range c.reads[key] {
		if now.at.Sub(k.before.at) > reuse || now.at.Before(k.before.at) {
			continue
		}
		changed := changedDays(k.before.parts, now.parts)
	days:
		for n := max(first, k.first); n < min(end, k.end); n++ {
			if got[n-first] {
				continue
			}
			for _, c := range changed {
				if c[0] <= n && n <= c[1] {
					continue days
				}
			}
			prints[n-first], got[n-first] = k.prints[n-k.first], true
		}
	}
	var rest []uint16
	for i, ok := range got {
		if !ok {
			rest = append(rest, first+uint16(i))
		}
	}
	return rest
}

// keep keeps a read of key's prints of days first to end, read after before was listed,
// and drops the reads older than reuse of every key, and past maxKeptPrints of key.
func (c *printCache) keep(key string, before partsAt, reuse time.Duration, first, end uint16, prints []dayPrint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reads == nil {
		c.reads = map[string][]*keptPrints{}
	}
	k := &keptPrints{first: first, end: end, prints: prints, before: before}
	c.reads[key] = append([]*keptPrints{k}, c.reads[key]...)
	for key, reads := range c.reads {
		live := reads[:0]
		for _, k := range reads {
			if before.at.Sub(k.before.at) <= reuse && len(live) < maxKeptPrints {
				live = append(live, k)
			}
		}
		clear(reads[len(live):])
		if len(live) == 0 {
			delete(c.reads, key)
		} else {
			c.reads[key] = live
		}
	}
}
