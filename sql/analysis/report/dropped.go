package report

import (
	"context"
	"strings"
	"time"
)

func init() {
	register("dropped", "who did a step (set by did) and not the next (not) within a time after it (within): abandoned carts, a funnel step's drop-off, with ids, last seen, value left, last channel", runDropped)
}

// droppedLimit is the default number of people the dropped report lists.
const droppedLimit = 1000

// runDropped lists the people whose latest did event was not followed by a not event
// within the within time, once that time has passed (the query's header, dropped.sql, says the rules).
// Times are given to the second in UTC (RFC 3339) and the anonymous ids as one
// space-separated string in tables and CSV, as an array in JSON.
func runDropped(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	if len(req.Did.Alts) == 0 || len(req.Not.Alts) == 0 {
		return nil, usageErrorf("dropped needs the step people did and the one they did not: set did and not, e.g. did event:add_to_cart, not purchase, within 24h")
	}
	if len(req.Withins) > 1 {
		return nil, usageErrorf("within: dropped takes one time, not %d: give one, e.g. within 24h", len(req.Withins))
	}
	p := req.base()
	p["did"], p["then"] = fragment(cond(req.Did)), fragment(cond(req.Not))
	p["within"] = Int(int64(req.Within / time.Second))
	limit := droppedLimit
	if req.limitGiven {
		limit = req.Top
	}
	p["limit"] = Int(int64(limit))
	t, err := r.table(ctx, "dropped", "dropped", p)
	if err != nil {
		return nil, err
	}
	body := make([]map[string]any, 0, len(t.Rows))
	for _, row := range t.Rows {
		o := make(map[string]any, len(row))
		for i, v := range row {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC().Format(time.RFC3339)
			}
			o[t.Columns[i]] = v
			if ids, ok := v.([]string); ok {
				if ids == nil {
					o[t.Columns[i]] = []string{}
				}
				v = strings.Join(ids, " ")
			}
			row[i] = v
		}
		body = append(body, o)
	}
	return &Result{Tables: []Table{t}, Body: map[string]any{"dropped": body}}, nil
}
