package bench

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sort"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

//go:embed benchdata.sql
var benchData string

//go:embed baseline.sql
var baselineSQL string

// Reports is journeyd bench-reports: it fills site with events synthetic events over January
// 2026 (unless the site already holds exactly that many), times every report of Timed runs
// times on them, and writes the medians and their ratios to the baseline pass to w. With
// the CPU time the server spent on each report's queries (user and system, from
// system.query_log when the connection logs queries, else from /proc of chPID, the process id
// of a local ClickHouse) it also gives that time and its ratio to the baseline's: on a
// machine shared with other work that ratio is much steadier than the wall-clock one.
//
// Every report is timed cold, through a Runner like r that keeps no days' rows
// (Runner.StoreBytes 0), so that each run reads its whole period from ClickHouse, each run
// right after a baseline pass: a cold report's ratios are the medians of its runs' ratios
// to the pass before each (medianTime), and the baseline's line gives the passes timed
// alone at the start. Then the dashboard's panels are timed as serve's first open runs
// them, through an empty store, each run after a pass too, and the reports that keep days
// (Warm) and the dashboard's panels are timed warm as journeyd serve runs them the second
// time, their ratios to the baseline's line: through a Runner with a store of its own,
// filled by one run of the same report first, untimed. Those stores keep r.StoreBytes
// (serve's --report-store-bytes; report.DefaultStoreBytes when r keeps none).
func Reports(ctx context.Context, r *report.Runner, site string, events int64, runs, chPID int, w io.Writer) error {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := ensureData(ctx, r, site, events, start); err != nil {
		return err
	}
	from, to := start, start.Add(30*24*time.Hour)
	cold := runnerLike(r, 0)
	timings, err := TimeReports(ctx, cold, site, from, to, runs, chPID)
	if err != nil {
		return err
	}
	pass, err := baselinePass(ctx, r, site)
	if err != nil {
		return err
	}
	dash, err := TimeDashboard(ctx, func() *report.Runner { return cold }, site, from, to, runs, chPID, pass, timings[0])
	if err != nil {
		return err
	}
	// The dashboard's first open in journeyd serve goes through its store, empty then: the
	// panels of the second group find the days the first group's read (the touch groups'
	// rows) kept, which a Runner without a store reads again.
	first, err := TimeDashboard(ctx, func() *report.Runner { return runnerLike(r, storeBytes(r)) }, site, from, to, runs, chPID, pass, timings[0])
	if err != nil {
		return err
	}
	first.Name = "dashboard: first open, through an empty store as serve's"
	timings = append(timings, dash, first)
	warm, err := TimeWarm(ctx, r, site, from, to, runs, chPID, timings[0])
	if err != nil {
		return err
	}
	if err := printTimings(w, fmt.Sprintf("report (%d events, median of %d; ratios to the baseline pass before each run), cold", events, runs), timings); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printTimings(w, fmt.Sprintf("warm: the same again, its days' rows kept in a %.2f GiB store (median of %d)", float64(storeBytes(r))/(1<<30), runs), warm)
}

// printTimings writes timings as a table headed by title, with the server's CPU when the
// baseline (the first) has it.
func printTimings(w io.Writer, title string, timings []Timing) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if timings[0].CPU > 0 {
		fmt.Fprintf(tw, "%s\tseconds\tratio to baseline\tClickHouse CPU seconds\tCPU ratio to baseline\tjourneyd CPU seconds\tpeak query MB\tjourneyd peak heap MB\n", title)
		for _, t := range timings {
			fmt.Fprintf(tw, "%s\t%.3f\t%.2f\t%.3f\t%.2f\t%.3f\t%.0f\t%.0f\n", t.Name, t.Time.Seconds(), t.Ratio, t.CPU.Seconds(), t.CPURatio, t.GoCPU.Seconds(),
				float64(t.CHPeak)/1e6, float64(t.GoPeak)/1e6)
		}
		return tw.Flush()
	}
	fmt.Fprintf(tw, "%s\tseconds\tratio to baseline\tjourneyd CPU seconds\tjourneyd peak heap MB\n", title)
	for _, t := range timings {
		fmt.Fprintf(tw, "%s\t%.3f\t%.2f\t%.3f\t%.0f\n", t.Name, t.Time.Seconds(), t.Ratio, t.GoCPU.Seconds(), float64(t.GoPeak)/1e6)
	}
	return tw.Flush()
}

// storeBytes returns the bound of the stores the benchmark's warm Runners keep: r's, or
// report.DefaultStoreBytes when r keeps none.
func storeBytes(r *report.Runner) int64 {
	if r.StoreBytes > 0 {
		return r.StoreBytes
	}
	return report.DefaultStoreBytes
}

// runnerLike returns a Runner on r's connection and database, with r's bounds and reuse of
// the days' prints, that keeps storeBytes of days' rows (0: none).
func runnerLike(r *report.Runner, storeBytes int64) *report.Runner {
	return &report.Runner{Conn: r.Conn, DB: r.DB, MaxMemory: r.MaxMemory, MaxConcurrent: r.MaxConcurrent,
		EventsOnly: r.EventsOnly, StoreBytes: storeBytes, PrintsReuse: r.PrintsReuse}
}

// Warm are the reports of Timed that keep their days' rows over whole days (daystore.go in
// sql/analysis/report: touch_rows, stage_rows for the journey map, retention_rows,
// funnel_rows for the funnel and barriers): the ones a store of days' rows spares a read of
// the whole period.
var Warm = []string{"attribution", "paths", "time-to-convert", "channels", "overview", "top", "stages", "retention", "funnel", "barriers"}

// TimeWarm times each report of Timed named in Warm, and the dashboard's panels, a second
// time: each through a fresh Runner like r with a store (storeBytes) that
// one untimed run of the same report (or panels) has filled. The baseline, base, comes
// first in what it returns, as in TimeReports.
func TimeWarm(ctx context.Context, r *report.Runner, site string, from, to time.Time, runs, chPID int, base Timing) ([]Timing, error) {
	out := []Timing{base}
	for _, b := range Timed {
		if !slices.Contains(Warm, b.Name) {
			continue
		}
		req, err := request(b, site, from, to)
		if err != nil {
			return nil, err
		}
		warm := runnerLike(r, storeBytes(r))
		if _, err := warm.Run(ctx, b.Name, req); err != nil {
			return nil, err
		}
		m, err := medianTime(ctx, warm, runs, chPID, nil, func(tag string) error { _, err := warm.Run(withTag(ctx, tag), b.Name, req); return err })
		if err != nil {
			return nil, err
		}
		out = append(out, ratios(m.timing(b.Name), base))
		fmt.Fprintf(os.Stderr, "bench-reports: %s warm %.3f s, ClickHouse CPU %.3f s\n", b.Name, m.wall.Seconds(), m.cpu.Seconds())
	}
	warm := runnerLike(r, storeBytes(r))
	same := func() *report.Runner { return warm }
	if _, err := TimeDashboard(ctx, same, site, from, to, 1, 0, nil, base); err != nil {
		return nil, err
	}
	dash, err := TimeDashboard(ctx, same, site, from, to, runs, chPID, nil, base)
	if err != nil {
		return nil, err
	}
	return append(out, dash), nil
}

// ratios returns t with its ratios to base.
func ratios(t, base Timing) Timing {
	t.Ratio = t.Time.Seconds() / base.Time.Seconds()
	if base.CPU > 0 {
		t.CPURatio = t.CPU.Seconds() / base.CPU.Seconds()
	}
	return t
}

// ensureData fills site with n events unless it already holds exactly n.
func ensureData(ctx context.Context, r *report.Runner, site string, n int64, start time.Time) error {
	var have uint64
	q := fmt.Sprintf("SELECT count() FROM %s.events WHERE site_id = %s", report.Ident(r.DB).SQL(), report.String(site).SQL())
	if err := r.Conn.QueryRow(ctx, q).Scan(&have); err != nil {
		return fmt.Errorf("cannot count the events of site %q: %w", site, err)
	}
	switch {
	case int64(have) == n:
		return nil
	case have != 0:
		return fmt.Errorf("cannot benchmark on site %q: it holds %d events, not %d; pass another --site", site, have, n)
	}
	fmt.Fprintf(os.Stderr, "bench-reports: inserting %d synthetic events for site %q in one INSERT ... SELECT (10 million take minutes on two cores)\n", n, site)
	began := time.Now()
	if err := Fill(ctx, r, site, n, start); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench-reports: inserted in %s\n", time.Since(began).Round(time.Second))
	return nil
}

// request returns p's request for site over [from, to), with no conversion definitions.
func request(p report.Panel, site string, from, to time.Time) (*report.Request, error) {
	req, err := p.Request(site, goal.Definitions{}, from, to, to)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the options of report %s: %w", p.Name, err)
	}
	return req, nil
}

// Timed are the reports the benchmark times, with their options.
var Timed = []report.Panel{
	{Name: "funnel", Opts: map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase"}},
	{Name: "barriers", Opts: map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "by": "device"}},
	{Name: "attribution", Opts: map[string]string{"model": "all"}},
	{Name: "paths", Opts: map[string]string{}},
	{Name: "time-to-convert", Opts: map[string]string{}},
	{Name: "channels", Opts: map[string]string{}},
	{Name: "retention", Opts: map[string]string{}},
	{Name: "stages", Opts: map[string]string{}},
	{Name: "next", Opts: map[string]string{"after": "event:add_to_cart"}},
	{Name: "dropped", Opts: map[string]string{"did": "event:add_to_cart", "not": "event:purchase", "within": "1d"}},
	{Name: "overview", Opts: map[string]string{}},
	{Name: "top", Opts: map[string]string{"dimension": "channel,source,campaign,entry_page,country,device,browser"}},
	{Name: "top", Opts: map[string]string{"dimension": "page"}},
}

// Timing is one report's median time and its ratio to the baseline pass, the median CPU
// time journeyd's own side spent (GoCPU: cutting journeys, the attribution models), and,
// when the ClickHouse process was given, the median CPU time the server spent and its
// ratio to the baseline's.
type Timing struct {
	Name     string
	Time     time.Duration
	Ratio    float64
	CPU      time.Duration
	CPURatio float64
	GoCPU    time.Duration
	CHPeak   uint64 // bytes of the report's largest query on the server, the most of any run
	GoPeak   uint64 // bytes of journeyd's heap, the most of any run
}

// Fill inserts n synthetic events for site, spread over the 25 days after start (see
// benchdata.sql).
func Fill(ctx context.Context, r *report.Runner, site string, n int64, start time.Time) error {
	sql, err := report.Fill(benchData, map[string]report.Value{"db": report.Ident(r.DB), "site": report.String(site),
		"events": report.Int(n), "start": report.Time(start)})
	if err != nil {
		return err
	}
	if err := r.Conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("cannot insert %d benchmark events: %w", n, err)
	}
	return nil
}

// TimeReports times the baseline (one pass over the site's events grouped by person) and each of
// Timed, runs times each, and returns the medians; the baseline comes first. chPID, when
// not 0, is the local ClickHouse whose CPU time each run costs is measured too.
func TimeReports(ctx context.Context, r *report.Runner, site string, from, to time.Time, runs, chPID int) ([]Timing, error) {
	pass, err := baselinePass(ctx, r, site)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bench-reports: timing the baseline and %d reports, %d runs each\n", len(Timed), runs)
	m, err := medianTime(ctx, r, runs, chPID, nil, pass)
	if err != nil {
		return nil, fmt.Errorf("cannot run the baseline pass: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench-reports: baseline %.3f s (ClickHouse CPU %.3f s)\n", m.wall.Seconds(), m.cpu.Seconds())
	base := m.timing("baseline: groupArray(ts) by anon_id")
	base.Ratio, base.CPURatio = 1, 1
	out := []Timing{base}
	for _, b := range Timed {
		req, err := request(b, site, from, to)
		if err != nil {
			return nil, err
		}
		m, err := medianTime(ctx, r, runs, chPID, pass, func(tag string) error { _, err := r.Run(withTag(ctx, tag), b.Name, req); return err })
		if err != nil {
			return nil, err
		}
		out = append(out, m.ratios(m.timing(b.Name), base))
		fmt.Fprintf(os.Stderr, "bench-reports: %s %.3f s, ClickHouse CPU %.3f s, journeyd CPU %.3f s, %d page faults, %.2f passes (%d of %d)\n", b.Name, m.wall.Seconds(), m.cpu.Seconds(), m.self.Seconds(), m.faults, m.ratio, len(out)-1, len(Timed))
	}
	return out, nil
}

// baselinePass returns the baseline pass of TimeReports over site's events, run with
// the tag it is given (withTag).
func baselinePass(ctx context.Context, r *report.Runner, site string) (func(tag string) error, error) {
	sql, err := report.Fill(baselineSQL, map[string]report.Value{"db": report.Ident(r.DB), "site": report.String(site)})
	if err != nil {
		return nil, err
	}
	return func(tag string) error { return r.Conn.Exec(withTag(ctx, tag), sql) }, nil
}

// measured is what medianTime gives of a report's runs: the medians of its wall time,
// of the server CPU time of its queries and of this process's CPU time, and the peaks over
// the runs of its largest query's memory on the server and of this process's heap.
type measured struct {
	wall, cpu, self time.Duration
	chPeak, goPeak  uint64
	faults          int64 // this process's minor page faults (the median run's count)
	// ratio and cpuRatio, when paired is set: the medians of each run's wall time and
	// server CPU time over those of the baseline pass run just before it
	paired          bool
	ratio, cpuRatio float64
}

// ratios returns t with its ratios: m's paired ones when it has them, else to base.
func (m measured) ratios(t, base Timing) Timing {
	if !m.paired {
		return ratios(t, base)
	}
	t.Ratio, t.CPURatio = m.ratio, m.cpuRatio
	return t
}

// timing returns m as the Timing of the report name, without ratios.
func (m measured) timing(name string) Timing {
	return Timing{Name: name, Time: m.wall, CPU: m.cpu, GoCPU: m.self, CHPeak: m.chPeak, GoPeak: m.goPeak}
}

// medianTime runs f runs times and measures it (measured): the server CPU time of the
// queries f sent from system.query_log (queryStats; without query_log, what process chPID
// spent meanwhile, 0 without chPID). f tags its queries with the tag it is given (withTag).
// With a pass (the baseline's, baselinePass), each run of f comes right after a run of
// pass, measured alike, and f's ratios are the medians of each run's to the pass before
// it, as journeyd bench alternates its rounds: the shared machine's speed drifts over the
// minutes a benchmark takes, and a pass seconds before a run meets the same speed as it.
func medianTime(ctx context.Context, r *report.Runner, runs, chPID int, pass, f func(tag string) error) (measured, error) {
	times := make([]time.Duration, 0, runs)
	cpus := make([]time.Duration, 0, runs)
	selfs := make([]time.Duration, 0, runs)
	faults := make([]int64, 0, runs)
	var wallRatios, cpuRatios []float64 // each run's to its pass
	var m measured
	for i := 0; i < max(runs, 1); i++ {
		tag := fmt.Sprintf("journeyd-bench-%d-%d", time.Now().UnixNano(), i)
		var passWall, passCPU time.Duration
		if pass != nil {
			c0, start := procCPU(chPID), time.Now()
			if err := pass(tag + "-pass"); err != nil {
				return measured{}, fmt.Errorf("cannot run the baseline pass: %w", err)
			}
			passWall, passCPU = time.Since(start), procCPU(chPID)-c0
			if q, _, ok := queryStats(ctx, r, tag+"-pass"); ok {
				passCPU = q
			}
		}
		runtime.GC() // the heap watched holds this run's objects, not the garbage of the last
		heap := watchHeap()
		s0, f0 := selfUsage()
		start, c0 := time.Now(), procCPU(chPID)
		err := f(tag)
		s1, f1 := selfUsage()
		faults = append(faults, f1-f0)
		m.goPeak = max(m.goPeak, heap())
		if err != nil {
			return measured{}, err
		}
		times = append(times, time.Since(start))
		selfs = append(selfs, s1-s0)
		c := procCPU(chPID) - c0
		if q, peak, ok := queryStats(ctx, r, tag); ok {
			c, m.chPeak = q, max(m.chPeak, peak)
		}
		cpus = append(cpus, c)
		if pass != nil {
			wallRatios = append(wallRatios, times[len(times)-1].Seconds()/passWall.Seconds())
			if passCPU > 0 {
				cpuRatios = append(cpuRatios, c.Seconds()/passCPU.Seconds())
			}
		}
	}
	for _, d := range [][]time.Duration{times, cpus, selfs} {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	}
	slices.Sort(faults)
	m.wall, m.cpu, m.self, m.faults = times[len(times)/2], cpus[len(cpus)/2], selfs[len(selfs)/2], faults[len(faults)/2]
	if pass != nil {
		slices.Sort(wallRatios)
		slices.Sort(cpuRatios)
		m.paired, m.ratio = true, wallRatios[len(wallRatios)/2]
		if len(cpuRatios) > 0 {
			m.cpuRatio = cpuRatios[len(cpuRatios)/2]
		}
	}
	return m, nil
}

// watchHeap samples this process's heap (its objects, live or not yet swept) every 20 ms
// until the function it returns is called, which stops it and returns the greatest sample.
func watchHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		most := read()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				most = max(most, read())
			case <-stop:
				peak <- max(most, read())
				return
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-peak
	}
}

// withTag tags the queries run with the returned context with tag, as their quota key:
// unlike a query id it may be shared by queries that run at once (a report may run
// several), and system.query_log records it; reads through clickhouse.Select carry it
// too.
func withTag(ctx context.Context, tag string) context.Context {
	return clickhouse.WithQuotaKey(ctx, tag)
}

// queryStats returns the server CPU time (user and system) of the finished queries tagged
// with tag (withTag) and the greatest memory one of them used, from system.query_log, and
// false when the log has none of them (a server that does not log queries). A query the
// client has read to its end can still be finishing on the server, its row not yet logged
// (a warm dashboard once read 1.9 s that way, its 7.3 s logged a moment later), so the
// log is flushed only once system.processes holds none of the tag's queries, and read
// again for a few seconds while it has none.
func queryStats(ctx context.Context, r *report.Runner, tag string) (time.Duration, uint64, bool) {
	for try := 0; try < 50; try++ {
		var running uint64
		if err := r.Conn.QueryRow(ctx, "SELECT count() FROM system.processes WHERE quota_key = '"+tag+"'").Scan(&running); err != nil || running == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for try := 0; try < 10; try++ {
		if try > 0 {
			time.Sleep(500 * time.Millisecond)
		}
		if err := r.Conn.Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
			return 0, 0, false
		}
		var n, micros, peak uint64
		err := r.Conn.QueryRow(ctx, `SELECT count(), sum(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'UserTimeMicroseconds')]
			+ ProfileEvents.Values[indexOf(ProfileEvents.Names, 'SystemTimeMicroseconds')]), max(memory_usage)
			FROM system.query_log WHERE type = 2 AND quota_key = '`+tag+`'`).Scan(&n, &micros, &peak)
		if err != nil {
			return 0, 0, false
		}
		if n > 0 {
			return time.Duration(micros) * time.Microsecond, peak, true
		}
	}
	return 0, 0, false
}

// selfUsage returns the CPU time (user and system) this process has spent and the minor
// page faults it has taken: the first write to each page of memory the kernel maps (a 4
// KiB page, or a 2 MiB one where huge pages back the heap, cmd/journeyd/hugeheap). Both
// are 0 when they cannot be read.
func selfUsage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Minflt
}

// selfCPU returns the CPU time (user and system) this process has spent (selfUsage).
func selfCPU() time.Duration {
	cpu, _ := selfUsage()
	return cpu
}

// TimeDashboard times the dashboard's default panels run as the page runs them
// (report.DashboardPanels, which the dashboard's tests hold to app.js and journeyd serve
// warms: each group's reports at once, one group after the other), runs times,
// each run through the Runner runner returns (the same one, or a fresh one each run), and
// returns the medians as one Timing, with its ratios to the baseline pass run before
// each run (pass, baselinePass), or with no pass to base.
func TimeDashboard(ctx context.Context, runner func() *report.Runner, site string, from, to time.Time, runs, chPID int, pass func(tag string) error, base Timing) (Timing, error) {
	var reqs [][]*report.Request
	var names [][]string
	for _, group := range report.DashboardPanels {
		var rs []*report.Request
		var ns []string
		for _, p := range group {
			req, err := request(p, site, from, to)
			if err != nil {
				return Timing{}, err
			}
			rs, ns = append(rs, req), append(ns, p.Name)
		}
		reqs, names = append(reqs, rs), append(names, ns)
	}
	var r *report.Runner
	m, err := medianTime(ctx, runner(), runs, chPID, pass, func(tag string) error {
		r = runner()
		for g := range reqs {
			errs := make(chan error, len(reqs[g]))
			for i := range reqs[g] {
				go func() { _, err := r.Run(withTag(ctx, tag), names[g][i], reqs[g][i]); errs <- err }()
			}
			for range reqs[g] {
				if err := <-errs; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return Timing{}, fmt.Errorf("cannot time the dashboard's panels: %w", err)
	}
	fmt.Fprintf(os.Stderr, "bench-reports: the dashboard's default panels %.3f s, ClickHouse CPU %.3f s, journeyd CPU %.3f s, %d page faults\n", m.wall.Seconds(), m.cpu.Seconds(), m.self.Seconds(), m.faults)
	return m.ratios(m.timing("dashboard: its default panels, as the page runs them"), base), nil
}
