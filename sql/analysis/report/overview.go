package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

func init() {
	register("overview", "visitors, sessions, conversions, conversion rate and revenue over time (set by interval), against the previous period", runOverview)
	register("top", "the top values of a dimension (set by dimension: channel, source, campaign, page, entry_page, country, device, ...) by sessions or visitors", runTop)
}

// interval returns the overview's bucket length: the one asked for, else an hour up to two
// days, a day up to 120 days, a week beyond.
func (req *Request) interval() (string, time.Duration) {
	name := req.Interval
	if name == "" {
		switch span := req.To.Sub(req.From); {
		case span <= 2*day:
			name = "hour"
		case span <= 120*day:
			name = "day"
		default:
			name = "week"
		}
	}
	return name, map[string]time.Duration{"hour": time.Hour, "day": day, "week": 7 * day}[name]
}

// overviewMetrics are the overview's metrics, as the columns of overview.sql name them
// (conversion_rate is derived: converters / visitors).
var overviewMetrics = []string{"visitors", "sessions", "conversions", "conversion_rate", "revenue"}

// bucketMetrics are one bucket's figures, by overview.sql's column names.
type bucketMetrics map[string]float64

func (m bucketMetrics) get(metric string) float64 {
	if metric == "conversion_rate" {
		return round(ratio(m["converters"], m["visitors"]), 4)
	}
	return m[metric]
}

func runOverview(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	name, step := req.interval()
	span := req.To.Sub(req.From)
	n := int((span + step - 1) / step)
	if n > 2000 {
		return nil, usageErrorf("interval %s: the period holds %d of them, at most 2000 are drawn: choose a longer interval", name, n)
	}
	whole := *req
	whole.From, whole.current = req.From.Add(-span), req.From
	p, err := conversionParams(&whole)
	if err != nil {
		return nil, err
	}
	r.touchParams(&whole, p, "channel", "Direct")
	// figures[period][bucket]: period 1 is the current one, 0 the previous; bucket -1 the total.
	var figures [2]map[int]bucketMetrics
	if readsSessions(p) {
		figures, err = r.overviewFromSessions(ctx, p, uint32(whole.From.Unix()), uint32(req.From.Unix()), int64(step/time.Second))
	} else {
		figures, err = r.overviewFromEvents(ctx, p, req.From, step)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Tables: []Table{overviewTotals(figures), overviewSeries(figures, req.From, span, step, n, name)}}, nil
}

// overviewFromEvents answers the overview's figures by overview.sql filled with p, the
// current period starting at current, in buckets of step.
func (r *Runner) overviewFromEvents(ctx context.Context, p map[string]Value, current time.Time, step time.Duration) ([2]map[int]bucketMetrics, error) {
	figures := [2]map[int]bucketMetrics{{}, {}}
	p["current"], p["bucket"] = Time(current), Int(int64(step/time.Second))
	rows, err := r.Query(ctx, "overview", p)
	if err != nil {
		return figures, err
	}
	for _, row := range rows.Data {
		m := bucketMetrics{}
		for i, c := range rows.Columns[2:] {
			m[c] = toFloat(row[i+2])
		}
		figures[int(toFloat(row[0]))&1][int(toFloat(row[1]))] = m
	}
	return figures, nil
}

func overviewTotals(figures [2]map[int]bucketMetrics) Table {
	t := Table{Name: "totals", Columns: []string{"metric", "value", "previous", "change"}}
	for _, metric := range overviewMetrics {
		cur, prev := figures[1][-1].get(metric), figures[0][-1].get(metric)
		var change any
		if prev != 0 {
			change = round(cur/prev-1, 4)
		}
		t.Rows = append(t.Rows, []any{metric, cur, prev, change})
	}
	return t
}

func overviewSeries(figures [2]map[int]bucketMetrics, from time.Time, span, step time.Duration, n int, interval string) Table {
	t := Table{Name: "series", Columns: []string{"bucket", "start", "previous_start"}}
	for _, metric := range overviewMetrics {
		t.Columns = append(t.Columns, metric, "previous_"+metric)
	}
	layout := "2006-01-02"
	if interval == "hour" {
		layout = "2006-01-02 15:04"
	}
	for i := 0; i < n; i++ {
		start := from.Add(time.Duration(i) * step)
		row := []any{i, start.UTC().Format(layout), start.Add(-span).UTC().Format(layout)}
		for _, metric := range overviewMetrics {
			row = append(row, figures[1][i].get(metric), figures[0][i].get(metric))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// topColumns maps the dimensions of the top report to the column of a session's first
// visit event that is its value; page ranks pages by the people who viewed them.
var topColumns = map[string]string{"entry_page": "path", "page": "path"}

func topColumn(dim string) (string, bool) {
	if col, ok := topColumns[dim]; ok {
		return col, true
	}
	col, ok := dimensions[dim]
	return col, ok
}

// TopDimensions lists the dimensions the top report ranks.
func TopDimensions() []string {
	m := map[string]string{}
	for k, v := range dimensions {
		m[k] = v
	}
	for k, v := range topColumns {
		m[k] = v
	}
	return sortedKeys(m)
}

// runTop ranks the values of each dimension asked for: the session dimensions in one pass,
// as the table top, and page, when asked for, by pages.sql as the table pages. The session
// dimensions are counted from the touch groups of the sessions (topFromSessions) when that
// gives top.sql's answers exactly (fromDays, and dimensions among those of the first
// visit session_aggregates keeps); otherwise from the events, by top.sql.
func runTop(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	res := &Result{}
	var dims []string
	for _, dim := range req.Dimensions {
		if dim != "page" {
			dims = append(dims, dim)
		}
	}
	if len(dims) > 0 {
		var data [][]any
		if r.fromDays(req) && visitHolds(dims) {
			var err error
			if data, err = r.topFromSessions(ctx, req, dims, req.Top); err != nil {
				return nil, err
			}
		} else {
			p, err := conversionParams(req)
			if err != nil {
				return nil, err
			}
			p["limit"] = Int(int64(req.Top))
			var cols, keys []string
			for _, dim := range dims {
				col, _ := topColumn(dim)
				cols = append(cols, col)
				keys = append(keys, fmt.Sprintf("(%s, if(first.%d = '', %s, first.%d))", quote(dim), len(cols), quote(emptyKey(dim)), len(cols)))
			}
			p["columns"], p["dimensions"] = fragment(strings.Join(cols, ", ")), fragment(strings.Join(keys, ",\n"))
			rows, err := r.Query(ctx, "top", p)
			if err != nil {
				return nil, err
			}
			data = rows.Data
		}
		t := Table{Name: "top", Columns: []string{"dimension", "value", "sessions", "people", "conversions", "conversion_rate", "revenue"}}
		for _, row := range data {
			t.Rows = append(t.Rows, []any{row[0], row[1], row[2], row[3], row[4], round(ratio(toFloat(row[4]), toFloat(row[2])), 4), row[5]})
		}
		res.Tables = append(res.Tables, t)
	}
	if slices.Contains(req.Dimensions, "page") {
		p := req.base()
		p["limit"] = Int(int64(req.Top))
		var t Table
		var err error
		if r.fromDays(req) {
			t, err = r.pagesFromDays(ctx, p, epochDay(req.From), epochDay(req.To), req.Top)
		} else {
			t, err = r.table(ctx, "pages", "pages", p)
		}
		if err != nil {
			return nil, err
		}
		res.Tables = append(res.Tables, t)
	}
	return res, nil
}

// visitHolds reports whether every dimension of dims is a field of the first visit
// session_aggregates keeps.
func visitHolds(dims []string) bool {
	for _, dim := range dims {
		if _, ok := visitFields[dim]; !ok {
			return false
		}
	}
	return true
}
