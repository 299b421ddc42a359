package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	_ "embed"
	"fmt"
	"sort"
	"time"
)

//go:embed benchdata.sql
var benchData string

// BenchReports are the reports the benchmark times, with their options.
var BenchReports = []struct {
	Name string
	Opts map[string]string
}{
	{"funnel", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase"}},
	{"barriers", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "by": "device"}},
	{"attribution", map[string]string{"model": "all"}},
	{"paths", map[string]string{}},
	{"time-to-convert", map[string]string{}},
	{"channels", map[string]string{}},
	{"retention", map[string]string{}},
	{"stages", map[string]string{}},
	{"next", map[string]string{"after": "event:add_to_cart"}},
}

// BenchTiming is one report's median time and its ratio to the baseline pass.
type BenchTiming struct {
	Name  string
	Time  time.Duration
	Ratio float64
}

// FillBench inserts n synthetic events for site, spread over the 25 days after start (see
// benchdata.sql).
func (r *Runner) FillBench(ctx context.Context, site string, n int64, start time.Time) error {
	sql, err := Fill(benchData, map[string]Value{"db": Ident(r.DB), "site": String(site), "events": Int(n), "start": Time(start)})
	if err != nil {
		return err
	}
	if err := r.Conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("cannot insert %d benchmark events: %w", n, err)
	}
	return nil
}

// Bench times the baseline (one pass over the site's events grouped by person) and each of
// BenchReports, runs times each, and returns the medians; the baseline comes first.
func (r *Runner) Bench(ctx context.Context, site string, from, to time.Time, runs int) ([]BenchTiming, error) {
	baseSQL, err := Fill("SELECT count(), sum(length(a)) FROM (SELECT anon_id, groupArray(ts) AS a FROM $db.events WHERE site_id = $site GROUP BY anon_id)",
		map[string]Value{"db": Ident(r.DB), "site": String(site)})
	if err != nil {
		return nil, err
	}
	base, err := medianTime(runs, func() error { return r.Conn.Exec(ctx, baseSQL) })
	if err != nil {
		return nil, fmt.Errorf("cannot run the baseline pass: %w", err)
	}
	out := []BenchTiming{{Name: "baseline: groupArray(ts) by anon_id", Time: base, Ratio: 1}}
	for _, b := range BenchReports {
		opts := map[string]string{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
		for k, v := range b.Opts {
			opts[k] = v
		}
		req, err := ParseRequest(site, goal.Definitions{}, opts, to)
		if err != nil {
			return nil, err
		}
		d, err := medianTime(runs, func() error { _, err := r.Run(ctx, b.Name, req); return err })
		if err != nil {
			return nil, err
		}
		out = append(out, BenchTiming{Name: b.Name, Time: d, Ratio: d.Seconds() / base.Seconds()})
	}
	return out, nil
}

func medianTime(runs int, f func() error) (time.Duration, error) {
	times := make([]time.Duration, 0, runs)
	for i := 0; i < max(runs, 1); i++ {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], nil
}
