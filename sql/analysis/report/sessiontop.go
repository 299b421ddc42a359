package report

import (
	"cmp"
	"context"
	"slices"
	"strings"
)

// The top lists of the session dimensions, on the session route (fromDays, dimensions
// a visit holds), are counted here from the touch groups of a touch_rows.sql read (the one
// the overview and the journey reports read too) taken by the session's whole first visit
// (touchKey's field 0: visit_state's fields joined by 0xFF), split in journeyd once per
// distinct visit: the answers of top_sessions.sql and top.sql, without
// ClickHouse grouping the millions of sessions (docs/BENCHMARKS.md).

// wholeVisit is the $visit_key that keys each session by its whole first visit: touch_key
// itself (touchKey's field 0).
const wholeVisit = "touch_key"

// topValue is one value of one dimension of the top report (or one channel of the
// channels report) as it is counted.
type topValue struct {
	dimension, value              string
	sessions, people, conversions uint64
	revenue                       float64
	last                          int // the last person counted in people
}

// count counts session s of person (people counted so far, in person order) into v: a
// session, its conversions and their revenue, and the person once.
func (v *topValue) count(s sessionVisit, person int) {
	v.sessions++
	v.conversions += uint64(s.convs)
	v.revenue += s.value
	if v.last != person {
		v.last = person
		v.people++
	}
}

// topFromSessions answers top.sql's rows for the session dimensions dims (each a field of
// the first visit, visitHolds) over req, which fromDays allows: per dimension (in name order)
// its limit values with the most sessions (then by value), each with its sessions, the
// distinct people who had them, the conversions made inside them and their revenue,
// rounded to cents. A session takes each dimension's value from its first visit (the
// dimension's empty value, emptyKey, where the field is empty).
func (r *Runner) topFromSessions(ctx context.Context, req *Request, dims []string, limit int) ([][]any, error) {
	p, err := conversionParams(req)
	if err != nil {
		return nil, err
	}
	r.touchParams(req, p, "channel", "Direct") // the emails' key, which top does not count
	p[visitKeyParam] = fragment(wholeVisit)
	values := map[[2]string]*topValue{}
	visits := map[string][]*topValue{} // each distinct first visit's value of each dimension
	person := 0
	err = r.readPeople(ctx, p, func(b *personBatch) {
		b.sessionPeople(func(sessions []sessionVisit, _ []conversionAt) {
			person++
			for _, s := range sessions {
				k := b.keys[s.k]
				counted, ok := visits[k]
				if !ok {
					counted = topValuesOf(k, dims, values)
					visits[k] = counted
				}
				for _, v := range counted {
					v.count(s, person)
				}
			}
		})
	})
	if err != nil {
		return nil, err
	}
	all := make([]*topValue, 0, len(values))
	for _, v := range values {
		all = append(all, v)
	}
	slices.SortFunc(all, func(a, b *topValue) int {
		return cmp.Or(strings.Compare(a.dimension, b.dimension), cmp.Compare(b.sessions, a.sessions), strings.Compare(a.value, b.value))
	})
	var rows [][]any
	for i, n := 0, 0; i < len(all); i++ {
		if i > 0 && all[i].dimension != all[i-1].dimension {
			n = 0
		}
		if n++; n <= limit {
			v := all[i]
			rows = append(rows, []any{v.dimension, v.value, v.sessions, v.people, v.conversions, round(v.revenue, 2)})
		}
	}
	return rows, nil
}

// topValuesOf returns the value of each of dims in the first visit visit (its fields
// joined by 0xFF, numbered as visitFields), as entries of values, which it adds to.
func topValuesOf(visit string, dims []string, values map[[2]string]*topValue) []*topValue {
	fields := strings.Split(visit, "\xff")
	out := make([]*topValue, 0, len(dims))
	for _, dim := range dims {
		value := ""
		if i := visitFields[dim]; i <= len(fields) {
			value = fields[i-1]
		}
		if value == "" {
			value = emptyKey(dim)
		}
		v, ok := values[[2]string{dim, value}]
		if !ok {
			v = &topValue{dimension: dim, value: value}
			values[[2]string{dim, value}] = v
		}
		out = append(out, v)
	}
	return out
}
