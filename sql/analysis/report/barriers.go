package report

import (
	"context"
	"slices"
	"sort"
)

func init() {
	register("barriers", "funnel step × segment cells ranked by people lost against the step's overall rate", runBarriers)
}

// Barrier is one funnel step in one segment, with how many people it lost against the
// step's overall conversion rate.
type Barrier struct {
	Dimension   string
	Segment     string
	Step        int
	Name        string
	Previous    int64   // entered the step before
	Entered     int64   // entered this step
	Rate        float64 // Entered / Previous
	OverallRate float64 // the same for everyone
	Lost        float64 // Previous × OverallRate − Entered
}

// DefaultBarrierDimensions are the breakdowns barriers uses when --by is not given.
var DefaultBarrierDimensions = []string{"device", "channel", "country"}

// Barriers runs the funnel by each dimension (one query for all of them) and ranks the
// step × segment cells by people lost, most first. The overall rate of each step is the first breakdown's, summed over its
// segments: every person (or session) entering a step is in exactly one segment, their first
// event's, and which events the funnel reads does not change who enters a step (windowFunnel
// and the step times ignore the events that match no step), so the sums are the overall
// funnel's counts without a pass of its own.
func (r *Runner) Barriers(ctx context.Context, req *Request) ([]Barrier, error) {
	dims := req.By
	if len(dims) == 0 {
		dims = DefaultBarrierDimensions
	}
	// One read for every breakdown, and for none: the overall funnel costs the read one
	// segment more per person, and a funnel asked while the read is under way (the
	// dashboard asks barriers, then the funnel) joins it instead of reading the events
	// again (funnelshare.go).
	funnels, err := r.funnels(ctx, req, append(slices.Clone(dims), ""))
	if err != nil {
		return nil, err
	}
	var out []Barrier
	rate := overallRates(funnels[0])
	for d, dim := range dims {
		out = append(out, barriers(dim, funnels[d], rate)...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Lost > out[j].Lost })
	return out, nil
}

// overallRates returns each step's conversion from the previous step over all segments of
// one breakdown: the people entering it summed over the segments, against the step before.
func overallRates(rows []FunnelRow) map[int]float64 {
	entered := map[int]int64{}
	for _, f := range rows {
		entered[f.Step] += f.Entered
	}
	rate := make(map[int]float64, len(entered))
	for step, n := range entered {
		rate[step] = 1
		if step > 1 {
			rate[step] = ratio(float64(n), float64(entered[step-1]))
		}
	}
	return rate
}

func barriers(dim string, rows []FunnelRow, rate map[int]float64) []Barrier {
	var out []Barrier
	for i, f := range rows {
		if f.Step == 1 || i == 0 {
			continue
		}
		prev := rows[i-1].Entered
		out = append(out, Barrier{Dimension: dim, Segment: f.Segment, Step: f.Step, Name: f.Name,
			Previous: prev, Entered: f.Entered, Rate: f.FromPrev, OverallRate: rate[f.Step],
			Lost: float64(prev)*rate[f.Step] - float64(f.Entered)})
	}
	return out
}

func runBarriers(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	bs, err := r.Barriers(ctx, req)
	if err != nil {
		return nil, err
	}
	t := Table{Name: "barriers", Columns: []string{"dimension", "segment", "step", "name", "previous", "entered", "rate", "overall_rate", "lost"}}
	for _, b := range bs {
		t.Rows = append(t.Rows, []any{b.Dimension, b.Segment, b.Step, b.Name, b.Previous, b.Entered,
			round(b.Rate, 4), round(b.OverallRate, 4), round(b.Lost, 1)})
	}
	return &Result{Tables: []Table{t}}, nil
}
