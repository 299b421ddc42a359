package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func init() {
	register("channels", "sessions, people, conversions and revenue by channel", runChannels)
	register("paths", "the most common touchpoint paths to conversion, their conversion rate and time to convert", runPaths)
	register("next", "what people do right after an event (set by after)", runNext)
	register("time-to-convert", "days and touchpoints before conversion", runTimeToConvert)
	register("retention", "weekly cohorts by first purchase (or visit) and the share returning within a window (set by within; several, e.g. 7d,14d,30d, in one query, each row with its window)", runRetention)
	register("stages", "the journey map: people reaching each stage, stage-to-stage conversion, time, channels", runStages)
}

// table runs query with params and returns its rows as a Table named name.
func (r *Runner) table(ctx context.Context, name, query string, params map[string]Value) (Table, error) {
	rows, err := r.Query(ctx, query, params)
	if err != nil {
		return Table{}, err
	}
	return Table{Name: name, Columns: rows.Columns, Rows: rows.Data}, nil
}

func conversionParams(req *Request) (map[string]Value, error) {
	st, err := req.Conversion.Step()
	if err != nil {
		return nil, err
	}
	p := req.base()
	p["conversion"] = fragment(cond(st))
	p["value"] = fragment(valueExpr(req.Conversion))
	return p, nil
}

func runChannels(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	p, err := conversionParams(req)
	if err != nil {
		return nil, err
	}
	r.touchParams(req, p, "channel", "Direct")
	var t Table
	if readsSessions(p) {
		t, err = r.channelsFromSessions(ctx, p)
	} else {
		t, err = r.table(ctx, "channels", "channels", p)
	}
	return &Result{Tables: []Table{t}}, err
}

func runPaths(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	t, err := r.pathsTable(ctx, req)
	return &Result{Tables: []Table{t}}, err
}

func runNext(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	if len(req.After.Alts) == 0 {
		return nil, usageErrorf("no event to follow: set after to a step, e.g. event:add_to_cart")
	}
	p := req.base()
	p["after"] = fragment(cond(req.After))
	rows, err := r.nextFromRows(ctx, p, req.Top) // nextrows.go: next.sql's answer
	if err != nil {
		return nil, err
	}
	return &Result{Tables: []Table{{Name: "next", Columns: rows.Columns, Rows: rows.Data}}}, nil
}

func runTimeToConvert(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	byDay, byTouch, total := map[string]int64{}, map[string]int64{}, int64(0)
	err := r.timeToConvert(ctx, req, func(d, n int) {
		byDay[dayBucket(d)]++
		byTouch[touchBucket(n)]++
		total++
	})
	if err != nil {
		return nil, err
	}
	days := Table{Name: "days", Columns: []string{"days", "conversions", "share"}}
	touches := Table{Name: "touchpoints", Columns: []string{"touchpoints", "conversions", "share"}}
	for _, b := range dayBuckets {
		days.Rows = append(days.Rows, []any{b, byDay[b], round(ratio(float64(byDay[b]), float64(total)), 4)})
	}
	for _, b := range touchBuckets {
		touches.Rows = append(touches.Rows, []any{b, byTouch[b], round(ratio(float64(byTouch[b]), float64(total)), 4)})
	}
	return &Result{Tables: []Table{days, touches}}, nil
}

var (
	dayBuckets   = []string{"0", "1", "2-3", "4-7", "8-14", "15-30", "31+"}
	touchBuckets = []string{"1", "2", "3", "4", "5-7", "8+"}
)

func dayBucket(d int) string {
	for _, b := range []struct {
		max  int
		name string
	}{{0, "0"}, {1, "1"}, {3, "2-3"}, {7, "4-7"}, {14, "8-14"}, {30, "15-30"}} {
		if d <= b.max {
			return b.name
		}
	}
	return "31+"
}

func touchBucket(n int) string {
	switch {
	case n <= 4:
		return fmt.Sprint(max(n, 1))
	case n <= 7:
		return "5-7"
	}
	return "8+"
}

// cohortStep returns the step of the retention cohort event; first_visit is any event, a
// step with no alternatives.
func cohortStep(req *Request) (goal.Step, error) {
	switch req.Cohort {
	case "first_visit":
		return goal.Step{}, nil
	case "first_purchase", "first_conversion":
		return req.Conversion.Step()
	}
	st, err := goal.ParseStep(strings.TrimPrefix(req.Cohort, "first_"))
	if err != nil {
		return st, err
	}
	return req.Defs.Expand(st)
}

// returnStep returns the step of the retention return event: the conversion by default.
func returnStep(req *Request) (goal.Step, error) {
	if req.Return != "" {
		st, err := goal.ParseStep(req.Return)
		if err != nil {
			return st, err
		}
		return req.Defs.Expand(st)
	}
	return req.Conversion.Step()
}

// cohortCond returns the condition of the retention cohort event, whose step (cohortStep)
// is st.
func cohortCond(req *Request, st goal.Step) string {
	if req.Cohort == "first_visit" {
		return "1"
	}
	return cond(st)
}

// runRetention answers every return window of req with one query. With one window the
// table is cohort_week, people, returned, rate; with several, each row starts with its
// window (within, as FormatDuration writes it: 7d, 8d12h), the rows in order of window,
// shortest first, then of cohort week. Each window has its own cohorts: only the people
// whose window has fully passed by the end of the period (retention.sql).
func runRetention(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	cohortSt, err := cohortStep(req) // first_visit's has no alternative
	if err != nil {
		return nil, optionError("cohort", err)
	}
	ret, err := returnStep(req)
	if err != nil {
		return nil, optionError("return", err)
	}
	withins := req.Withins
	if len(withins) == 0 {
		withins = []time.Duration{req.Within}
	}
	secs, names := make([]string, len(withins)), make(map[int64]string, len(withins))
	within := make([]uint64, len(withins))
	for i, w := range withins {
		n := int64(w / time.Second)
		if _, twice := names[n]; twice || n <= 0 {
			return nil, usageErrorf("within %s: want windows of whole, distinct seconds", FormatDuration(w))
		}
		secs[i], names[n] = strconv.FormatInt(n, 10), FormatDuration(time.Duration(n)*time.Second) // what the query runs
		within[i] = uint64(n)
	}
	p := req.base()
	p["cohort"], p["return"] = fragment(cohortCond(req, cohortSt)), fragment(cond(ret))
	p["touch_events"] = r.touchEvents(cohortSt, ret)
	p["within"] = fragment("[" + strings.Join(secs, ", ") + "]")
	var t Table
	if r.fromDays(req) { // each day's cohort and return events (retentiondays.go)
		var rows *Rows
		if rows, err = r.retentionFromDays(ctx, p, within); err == nil {
			t = Table{Name: "retention", Columns: rows.Columns, Rows: rows.Data}
		}
	} else {
		t, err = r.table(ctx, "retention", "retention", p)
	}
	if err != nil || r.ShowSQL != nil {
		return &Result{Tables: []Table{t}}, err
	}
	if len(withins) == 1 { // the table of one window, as before windows could be several
		t.Columns = t.Columns[1:]
		for i, row := range t.Rows {
			t.Rows[i] = row[1:]
		}
		return &Result{Tables: []Table{t}}, nil
	}
	for _, row := range t.Rows {
		row[0] = names[int64(toFloat(row[0]))]
	}
	return &Result{Tables: []Table{t}}, nil
}

func runStages(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	p, n, purchase, repeat, err := stageParams(req)
	if err != nil {
		return nil, err
	}
	keep := len(req.Filter) == 0 && midnight(req.From) && midnight(req.To) // whole days, each day's rows its own
	rows, ok, err := r.stagesFromDays(ctx, p, n, purchase, repeat, keep)   // stagerows.go
	if err == nil && !ok {
		rows, err = r.Query(ctx, "stages", p)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Tables: []Table{stageTable(req.Defs.StageList(), rows)}}, nil
}

// stageParams returns the parameters of stages.sql for req, the number of stages, the
// purchase stage (0-based) and which stages are repeat stages.
func stageParams(req *Request) (p map[string]Value, n, purchase int, repeat []bool, err error) {
	stages := req.Defs.StageList()
	conds, repeat := make([]string, len(stages)), make([]bool, len(stages))
	for i, s := range stages {
		st, err := goal.ParseStep(s.Match)
		if err == nil {
			st, err = req.Defs.Expand(st)
		}
		if err != nil {
			return nil, 0, 0, nil, fmt.Errorf("stage %s: %w", s.Name, err)
		}
		conds[i], repeat[i] = cond(st), s.Repeat
	}
	p = req.base()
	stepParams(p, conds, len(conds)+1)
	delete(p, "step_arrays") // the arrays of the stages after purchase are in $chain
	purchase = goal.PurchaseStage(stages)
	p["chain"] = fragment(stageChain(len(stages), purchase, repeat))
	p["purchase"] = Int(int64(purchase + 1))
	return p, len(stages), purchase, repeat, nil
}

// stageChain returns the times each person reached each of n stages (DESIGN §7): a stage up
// to the purchase stage (index purchase) is reached at the earliest event of it or of any
// later stage up to purchase (a minIf over those stages' conditions), so the map is monotone
// and the purchase stage counts the people with a conversion; a stage after it follows the
// purchase (strictly after it for a repeat stage such as retention), found in an array of
// that stage's times, which the items start with. 0 is not reached.
func stageChain(n, purchase int, repeat []bool) string {
	var b strings.Builder
	for k := purchase + 2; k <= n; k++ {
		fmt.Fprintf(&b, "groupArrayIf(toUInt32(ts), s%d) AS a%d,\n", k, k)
	}
	names := make([]string, n)
	for k := 1; k <= n; k++ {
		names[k-1] = fmt.Sprintf("t%d", k)
		if k-1 <= purchase {
			conds := make([]string, 0, purchase-k+2)
			for j := k; j <= purchase+1; j++ {
				conds = append(conds, fmt.Sprintf("s%d", j))
			}
			fmt.Fprintf(&b, "minIf(toUInt32(ts), %s) AS t%d,\n", strings.Join(conds, " OR "), k)
			continue
		}
		cmp := ">="
		if repeat[k-1] {
			cmp = ">"
		}
		fmt.Fprintf(&b, "if(t%d = 0, 0, arrayReduce('min', arrayFilter(t -> t %s t%d, a%d))) AS t%d,\n", purchase+1, cmp, purchase+1, k, k)
	}
	fmt.Fprintf(&b, "[%s] AS chain", strings.Join(names, ", "))
	return b.String()
}

func stageTable(stages []goal.Stage, rows *Rows) Table {
	t := Table{Name: "stages", Columns: []string{"stage", "name", "people", "from_previous", "from_first", "median_seconds", "top_channels"}}
	people := make([]int64, len(stages))
	median := make([]float64, len(stages))
	channels := make([]string, len(stages))
	for _, row := range rows.Data {
		k := int(toFloat(row[0])) - 1
		if k < 0 || k >= len(stages) {
			continue
		}
		people[k], median[k] = int64(toFloat(row[1])), toFloat(row[2])
		if ch, ok := row[3].([]string); ok {
			channels[k] = strings.Join(ch, ", ")
		}
	}
	for k, s := range stages {
		prev := people[0]
		if k > 0 {
			prev = people[k-1]
		}
		t.Rows = append(t.Rows, []any{k + 1, s.Name, people[k], round(ratio(float64(people[k]), float64(prev)), 4),
			round(ratio(float64(people[k]), float64(people[0])), 4), median[k], channels[k]})
	}
	return t
}
