package report

import (
	"cmp"
	"context"
	"slices"
)

// Channels and the overview count sessions, people and conversions: on the session route
// (touchParams filled $visit_key) they read the touch groups of touch_rows.sql, as the
// journey reports do, and count them here, instead of letting ClickHouse 18.16 group the
// millions of sessions again (channels.sql and overview.sql, which the events route and
// analysts still run): that regrouping costs it about what grouping every event does,
// where journeyd groups the rows in a fraction of it (touchrows.go, docs/BENCHMARKS.md).
// The groups come in batches of whole people (share.go), so a read asked for by channels
// and the journey reports at once (the same site, period and conversion, whatever their
// keys, touchKey) is shared,
// and distinct people are counted by noting the last person counted, without sets.

// sessionVisit is one session of a person in a batch of a touch_rows read: its visit's
// time and key (an index into the batch's keys), and the count and value of the
// conversions made inside it.
type sessionVisit struct {
	t, convs, k uint32
	value       float64
}

// visit returns group's session: its visit, keyed by k (group.k in the batch's keys), and
// its conversions' count and summed value.
func (g *touchGrouper) visit(group touchGroup, k uint32) sessionVisit {
	v := sessionVisit{t: group.t, convs: group.to - group.from, k: k}
	for _, c := range g.convs[group.from:group.to] {
		v.value += c.v
	}
	return v
}

// sessionPeople calls fn with each person's sessions and conversions in the batch.
func (b *personBatch) sessionPeople(fn func([]sessionVisit, []conversionAt)) {
	var from personEnd
	for _, end := range b.ends {
		fn(b.visits[from.visits:end.visits], b.convs[from.convs:end.convs])
		from = end
	}
}

// readsSessions reports whether a query filled with p reads its touches from the sessions
// (touchParams): then its touch groups come from touch_rows.sql, grouped in journeyd.
func readsSessions(p map[string]Value) bool {
	_, ok := p[visitKeyParam]
	return ok
}

// channelsFromSessions answers channels.sql's rows from the touch groups of the touch_rows
// read p fills (readsSessions): per channel (the key of the session's first visit), its
// sessions, the distinct people who had them, the conversions made inside them and their
// revenue, rounded to cents; ordered by sessions, most first, then channel.
func (r *Runner) channelsFromSessions(ctx context.Context, p map[string]Value) (Table, error) {
	index := map[string]*topValue{}
	var rows []*topValue
	person := 0
	err := r.readPeople(ctx, p, func(b *personBatch) {
		b.sessionPeople(func(visits []sessionVisit, _ []conversionAt) {
			person++
			for _, v := range visits {
				k := b.keys[v.k]
				row, ok := index[k]
				if !ok {
					row = &topValue{dimension: "channel", value: k}
					index[k] = row
					rows = append(rows, row)
				}
				row.count(v, person)
			}
		})
	})
	if err != nil {
		return Table{}, err
	}
	slices.SortFunc(rows, func(a, b *topValue) int {
		return cmp.Or(cmp.Compare(b.sessions, a.sessions), cmp.Compare(a.value, b.value))
	})
	t := Table{Name: "channels", Columns: []string{"channel", "sessions", "people", "conversions", "revenue"}}
	for _, row := range rows {
		t.Rows = append(t.Rows, []any{row.value, row.sessions, row.people, row.conversions, round(row.revenue, 2)})
	}
	return t, nil
}

// overviewBucket is one bucket of the overview as it is counted.
type overviewBucket struct {
	seen                                       bool
	visitors, sessions, conversions, converter uint64
	revenue                                    float64
	lastVisitor, lastConverter                 int // the last person counted in visitors and converters
}

// add counts into the bucket a session (conversion false) or a conversion of value v of
// person.
func (b *overviewBucket) add(person int, conversion bool, v float64) {
	b.seen = true
	if !conversion {
		b.sessions++
		if b.lastVisitor != person {
			b.lastVisitor = person
			b.visitors++
		}
		return
	}
	b.conversions++
	b.revenue += v
	if b.lastConverter != person {
		b.lastConverter = person
		b.converter++
	}
}

// metrics returns the bucket's figures as overview.sql's row gives them.
func (b *overviewBucket) metrics(revenue float64) bucketMetrics {
	return bucketMetrics{"visitors": float64(b.visitors), "sessions": float64(b.sessions),
		"conversions": float64(b.conversions), "converters": float64(b.converter), "revenue": round(revenue, 2)}
}

// overviewFromSessions answers overview.sql's rows, as figures[period][bucket] (period 1
// the current, 0 the previous; bucket -1 a period's total), from the touch groups of the
// touch_rows read p fills (readsSessions) over both periods, from to until; current is
// where the current period starts and step the bucket length in seconds. A session counts
// in the bucket of its first visit, with its person as a visitor; every conversion of a
// person, inside a session or outside any, in the bucket of its time, with its person as a
// converter.
func (r *Runner) overviewFromSessions(ctx context.Context, p map[string]Value, from, current uint32, step int64) ([2]map[int]bucketMetrics, error) {
	var buckets [2][]overviewBucket
	var totals [2]overviewBucket
	person := 0
	add := func(t uint32, conversion bool, v float64) {
		period, start := 0, from
		if t >= current {
			period, start = 1, current
		}
		k := int((int64(t) - int64(start)) / step)
		if k < 0 {
			return // never: the read holds the times of the two periods only
		}
		for len(buckets[period]) <= k {
			buckets[period] = append(buckets[period], overviewBucket{})
		}
		buckets[period][k].add(person, conversion, v)
		totals[period].add(person, conversion, v)
	}
	err := r.readPeople(ctx, p, func(b *personBatch) {
		b.sessionPeople(func(visits []sessionVisit, convs []conversionAt) {
			person++
			for _, v := range visits {
				add(v.t, false, 0)
			}
			for _, c := range convs {
				add(c.t, true, c.v)
			}
		})
	})
	figures := [2]map[int]bucketMetrics{{}, {}}
	if err != nil {
		return figures, err
	}
	for period := range buckets {
		revenue := 0.0
		for k := range buckets[period] {
			if b := &buckets[period][k]; b.seen {
				figures[period][k] = b.metrics(b.revenue)
				revenue += b.revenue
			}
		}
		if totals[period].seen {
			figures[period][-1] = totals[period].metrics(revenue)
		}
	}
	return figures, nil
}
