package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

func init() {
	register("funnel", "people entering each step, conversion from the first and previous step, drop-off, median time between steps", runFunnel)
}

// FunnelRow is one step of a funnel in one segment.
type FunnelRow struct {
	Segment     string
	Step        int // 1-based
	Name        string
	Entered     int64
	FromFirst   float64 // share of the segment's step-1 entrants
	FromPrev    float64 // share of the previous step's entrants
	Dropped     int64   // entered the previous step but not this one
	MedianDelay time.Duration
}

// Funnel runs the funnel query for req.Steps broken down by the dimension by ("" for none)
// and returns one row per segment and step, steps without entrants included.
func (r *Runner) Funnel(ctx context.Context, req *Request, by string) ([]FunnelRow, error) {
	rows, err := r.funnels(ctx, req, []string{by})
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// funnels runs the funnel query once for req.Steps broken down by each dimension of by ("" for
// none) and returns, per dimension, what Funnel returns for it: one read of the events
// instead of one per dimension (each reads them all, as the segment is the first event's).
func (r *Runner) funnels(ctx context.Context, req *Request, by []string) ([][]FunnelRow, error) {
	if len(req.Steps) < 2 {
		return nil, usageErrorf("a funnel needs at least two steps: set steps, e.g. 'pageview:/product/*,conversion'")
	}
	if _, err := funnelParams(req, by); err != nil {
		return nil, err
	}
	if err := r.checkStrict(req); err != nil {
		return nil, err
	}
	rows, read, err := r.sharedFunnel(ctx, req, by) // funnelshare.go
	if err != nil {
		return nil, err
	}
	out := make([][]FunnelRow, len(by))
	for d := range by {
		entered := map[string][]int64{}
		median := map[string][]float64{}
		var segments []string
		for _, row := range rows.Data {
			if int(toFloat(row[0])) != slices.Index(read, by[d])+1 {
				continue
			}
			seg, step := toString(row[1]), int(toFloat(row[2]))
			if _, ok := entered[seg]; !ok {
				segments = append(segments, seg)
				entered[seg] = make([]int64, len(req.Steps))
				median[seg] = make([]float64, len(req.Steps))
			}
			if step >= 1 && step <= len(req.Steps) {
				entered[seg][step-1] = int64(toFloat(row[3]))
				median[seg][step-1] = toFloat(row[4])
			}
		}
		for _, seg := range segments {
			out[d] = append(out[d], funnelRows(req.Steps, seg, entered[seg], median[seg])...)
		}
	}
	return out, nil
}

func funnelRows(steps []goal.Step, seg string, entered []int64, median []float64) []FunnelRow {
	out := make([]FunnelRow, len(steps))
	for i := range steps {
		row := FunnelRow{Segment: seg, Step: i + 1, Name: steps[i].Text, Entered: entered[i],
			FromFirst: ratio(float64(entered[i]), float64(entered[0])), FromPrev: 1}
		if i > 0 {
			row.FromPrev = ratio(float64(entered[i]), float64(entered[i-1]))
			row.Dropped = entered[i-1] - entered[i]
			row.MedianDelay = time.Duration(median[i]) * time.Second
		}
		out[i] = row
	}
	return out
}

func funnelParams(req *Request, by []string) (map[string]Value, error) {
	cols, refs, segments := []string{"'' AS d1"}, []string{"d1"}, "['']"
	broken := false
	for i, dim := range by {
		col, err := dimension(dim)
		if err != nil {
			return nil, err
		}
		if col == "" {
			continue
		}
		if !broken {
			cols, refs, broken = cols[:0], refs[:0], true
		}
		cols = append(cols, fmt.Sprintf("%s AS d%d", col, i+1))
		refs = append(refs, fmt.Sprintf("d%d", i+1))
	}
	if broken {
		segs := make([]string, len(by))
		for i, dim := range by {
			segs[i] = "''"
			if dim != "" {
				segs[i] = fmt.Sprintf("argMin(d%d, ts)", i+1)
			}
		}
		segments = "[" + strings.Join(segs, ", ") + "]"
	}
	p := req.base()
	p["window"] = Int(int64(req.Window / time.Second))
	if req.Strict {
		p["window"] = fragment(fmt.Sprintf("%d, 'strict_order'", int64(req.Window/time.Second)))
	}
	p["unit"] = fragment("person")
	if req.PerSession {
		p["unit"] = fragment("session_id")
	}
	p["breakdowns"], p["breakdown_refs"], p["segments"] = fragment(strings.Join(cols, ", ")), fragment(strings.Join(refs, ", ")), fragment(segments)
	conds := make([]string, len(req.Steps))
	for i, st := range req.Steps {
		conds[i] = cond(st)
	}
	stepParams(p, conds, 2)
	// Only step and exclusion events matter, unless the segment (the first event's) or
	// strict order (broken by any other event) needs them all.
	p["keep"] = fragment(strings.ReplaceAll(p["step_refs"].SQL(), ",", " OR") + " OR sx")
	if broken || req.Strict {
		p["keep"] = fragment("1")
	}
	p["chain"] = fragment(chain(len(req.Steps), int64(req.Window/time.Second), nil))
	p["exclusion"], p["excluded"] = fragment("toUInt8(0)"), fragment("0")
	if len(req.Exclude) > 0 {
		ex := make([]string, len(req.Exclude))
		for i, st := range req.Exclude {
			ex[i] = cond(st)
		}
		p["exclusion"] = fragment("toUInt8(" + strings.Join(ex, " OR ") + ")")
		p["excluded"] = fragment(fmt.Sprintf("arrayExists(t -> t >= t1 AND t <= t1 + %d, ax)", int64(req.Window/time.Second)))
	}
	return p, nil
}

// stepParams sets the step placeholders of a query from the step conditions: $steps (the
// conditions as columns s1..sn), $step_refs (s1, ..., sn) and $step_arrays (ak..an: each
// person's times of the events that match each step from step k = first on; the steps
// before it need no array, their times are plain aggregates).
func stepParams(p map[string]Value, conds []string, first int) {
	cols, refs := make([]string, len(conds)), make([]string, len(conds))
	var arrays []string
	for i, c := range conds {
		cols[i] = fmt.Sprintf("toUInt8(%s) AS s%d", c, i+1)
		refs[i] = fmt.Sprintf("s%d", i+1)
		if i+1 >= first {
			arrays = append(arrays, fmt.Sprintf("groupArrayIf(toUInt32(ts), s%d) AS a%d", i+1, i+1))
		}
	}
	p["steps"] = fragment(strings.Join(cols, ", "))
	p["step_refs"] = fragment(strings.Join(refs, ", "))
	p["step_arrays"] = fragment(strings.Join(arrays, ",\n"))
}

// chain returns the SELECT items t1..tn and chain = [t1, ..., tn]: the time of each step
// along the earliest chain that starts at the first step-1 event, 0 once the chain breaks.
// t1 is a plain minIf (no array a1: cheaper per person); window 0 means no window;
// repeat[k] asks for step k strictly after step k-1.
func chain(n int, window int64, repeat []bool) string {
	var b strings.Builder
	b.WriteString("minIf(toUInt32(ts), s1) AS t1,\n")
	for k := 2; k <= n; k++ {
		cmp := ">="
		if k <= len(repeat) && repeat[k-1] {
			cmp = ">"
		}
		limit := ""
		if window > 0 {
			limit = fmt.Sprintf(" AND t <= t1 + %d", window)
		}
		fmt.Fprintf(&b, "if(t%d = 0, 0, arrayReduce('min', arrayFilter(t -> t %s t%d%s, a%d))) AS t%d,\n",
			k-1, cmp, k-1, limit, k, k)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("t%d", i+1)
	}
	fmt.Fprintf(&b, "[%s] AS chain", strings.Join(names, ", "))
	return b.String()
}

func runFunnel(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	by := ""
	if len(req.By) > 0 {
		by = req.By[0]
	}
	rows, err := r.Funnel(ctx, req, by)
	if err != nil {
		return nil, err
	}
	t := Table{Name: "funnel", Columns: []string{"segment", "step", "name", "entered", "from_first", "from_previous", "dropped", "median_seconds"}}
	for _, f := range rows {
		t.Rows = append(t.Rows, []any{f.Segment, f.Step, f.Name, f.Entered, round(f.FromFirst, 4),
			round(f.FromPrev, 4), f.Dropped, f.MedianDelay.Seconds()})
	}
	return &Result{Tables: []Table{t}}, nil
}

// strictSince is the first ClickHouse release whose windowFunnel has the strict_order mode.
var strictSince = clickhouse.Version{Major: 21, Minor: 1}

// checkStrict refuses strict order on a server without windowFunnel's strict_order mode.
func (r *Runner) checkStrict(req *Request) error {
	if !req.Strict || r.Conn == nil {
		return nil
	}
	v, err := clickhouse.ServerVersion(r.Conn)
	if err != nil {
		return err
	}
	if !v.AtLeast(strictSince) {
		return usageErrorf("strict order needs ClickHouse %s or newer; this server is %s: drop strict", strictSince, v)
	}
	return nil
}
