package bench

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/snippet/browsertest"
	"github.com/journeyd/journeyd/sql/analysis/dashboard"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
	"github.com/journeyd/journeyd/sql/store/schema"
)

var (
	dashboardEvents = flag.Int64("dashboard-events", 0, "time the dashboard's panels in Chromium on this many bench-reports events (docs/BENCHMARKS.md); 0 skips")
	dashboardRuns   = flag.Int("dashboard-runs", 3, "runs of each report timed alone before the dashboard; the median is logged")
)

// panelClock records, in the page, when each panel first finishes loading after __t0.
const panelClock = `window.__done = {};
new MutationObserver(() => {
	if (window.__t0 === undefined) return;
	for (const p of document.querySelectorAll('.panel')) {
		if (!p.hidden && !p.classList.contains('loading') && p.querySelector('.body').textContent !== '' &&
			p.querySelector('.body').textContent !== 'Loading…' && !(p.id in window.__done)) window.__done[p.id] = performance.now() - window.__t0;
	}
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['class'], childList: true});`

//go:embed morningdata.sql
var morningData string

// morningEvents is how many events the morning pass inserts into the period's last day.
const morningEvents = 400

// TestDashboardTiming measures how long the dashboard's panels take to show on the
// bench-reports data (benchdata.sql): the page opened on its 30 days, signed in, in
// Chromium, against the reports API over a fresh ClickHouse holding the events. It logs each
// panel's time from the click on Show, first (cold) and after a reload (warm: the reports
// API keeps the days' rows it read, as journeyd serve's does), then once more after a few
// hundred events came into the period's last day (morning: today has changed, every other
// day is kept; morningdata.sql), and once after a restart: a new Runner on the directory the
// first kept its days in (--report-store-dir), loaded as journeyd serve loads it at start,
// and once more so, with the warm-up journeyd serve runs at start (Runner.Warm) before
// the page is opened. It runs only with -dashboard-events N: inserting 10 million events takes minutes.
func TestDashboardTiming(t *testing.T) {
	if *dashboardEvents == 0 {
		t.Skip("run with -dashboard-events N to time the dashboard")
	}
	ctx := context.Background()
	ch := chtest.Shared(t)
	db, conn := ch.NewDatabase(t)
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	r := &report.Runner{Conn: conn, DB: db}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	began := time.Now()
	// 10 million events take more than the connection's read timeout to insert on a busy
	// machine: the insert has a connection of its own that waits longer.
	fill, err := clickhouse.Open(ctx, ch.DSN(db)+"?read_timeout=40m")
	if err != nil {
		t.Fatal(err)
	}
	defer fill.Close()
	if err := Fill(ctx, &report.Runner{Conn: fill, DB: db}, "bench", *dashboardEvents, start); err != nil {
		t.Fatal(err)
	}
	t.Logf("inserted %d events in %s", *dashboardEvents, time.Since(began).Round(time.Second))
	timings, err := TimeReports(ctx, r, "bench", start, start.AddDate(0, 0, 30), *dashboardRuns, 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tm := range timings {
		fmt.Fprintf(&b, "  %-40s %6.3f s  %5.2f\n", tm.Name, tm.Time.Seconds(), tm.Ratio)
	}
	t.Logf("each report alone, median of %d, and its ratio to the baseline:\n%s", *dashboardRuns, b.String())
	sites := map[string]goal.Definitions{"bench": {}}
	// As journeyd serve runs the reports: the warm pass finds the days' rows the cold one
	// kept; the store is kept on disk too (--report-store-dir), for the restart.
	storeDir := filepath.Join(t.TempDir(), "store")
	metrics := prometheus.NewRegistry()
	m, err := report.NewMetrics(metrics)
	if err != nil {
		t.Fatal(err)
	}
	runner := &report.Runner{Conn: conn, DB: db, StoreBytes: report.DefaultStoreBytes, StoreDir: storeDir, Metrics: m}
	var reports atomic.Pointer[fasthttp.RequestHandler]
	handler := report.RunnerHandler(runner, sites)
	reports.Store(&handler)
	dash := dashboard.Handler()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if strings.HasPrefix(string(ctx.Path()), "/api/") {
			(*reports.Load())(ctx)
			return
		}
		dash(ctx)
	}}
	go srv.Serve(l)
	defer srv.Shutdown()
	tab := browsertest.Tab(t, browsertest.Start(t), false, panelClock)
	view := "http://" + l.Addr().String() + "/dashboard/#site=bench&from=2026-01-01&to=2026-01-30"
	browsertest.Do(t, tab, chromedp.EmulateViewport(1400, 1000), chromedp.Navigate(view), chromedp.SetValue(chromedp.CSS("#token"), "any"))
	for _, pass := range []string{"cold", "warm", "morning", "restart", "restart-warmed"} {
		if pass == "morning" {
			sql, err := report.Fill(morningData, map[string]report.Value{"db": report.Ident(db), "site": report.String("bench"),
				"events": report.Int(morningEvents), "day": report.Time(time.Date(2026, 1, 30, 0, 0, 0, 0, time.UTC))})
			if err != nil {
				t.Fatal(err)
			}
			if err := conn.Exec(ctx, sql); err != nil {
				t.Fatalf("cannot insert the morning's events: %v", err)
			}
		}
		if strings.HasPrefix(pass, "restart") {
			runner, metrics = restart(t, runner, sites, &reports)
			runtime.GC()
			var mem runtime.MemStats
			runtime.ReadMemStats(&mem)
			t.Logf("%s: heap after a GC, the Runner before dropped: %.1f MB", pass, float64(mem.HeapAlloc)/1e6)
		}
		if pass == "restart-warmed" {
			// As journeyd serve starts (--report-warm): Warm runs on the days loaded before
			// the page is opened, on the day the page's period ends.
			began, cpu := time.Now(), selfCPU()
			if err := runner.Warm(ctx, sites, time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: Warm took %s (%.2f s of journeyd's CPU), days from the store %v, from ClickHouse %v", pass, time.Since(began).Round(time.Millisecond),
				(selfCPU() - cpu).Seconds(), storeMetric(t, metrics, "hits_total"), storeMetric(t, metrics, "misses_total"))
		}
		if pass != "cold" {
			browsertest.Do(t, tab, chromedp.Reload())
		}
		hits, misses := storeMetric(t, metrics, "hits_total"), storeMetric(t, metrics, "misses_total")
		var merges, mergeBytes uint64 // what ClickHouse merges in the background as the pass starts
		if err := conn.QueryRow(ctx, "SELECT count(), sum(total_size_bytes_compressed) FROM system.merges").Scan(&merges, &mergeBytes); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d merges running in ClickHouse (%d compressed bytes)", pass, merges, mergeBytes)
		cpu := selfCPU() // the reports API runs in this process: its CPU during the pass
		browsertest.Eval[bool](t, tab, `window.__t0 = performance.now(); window.__done = {}; true`)
		browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#settings button.primary")))
		tctx, cancel := context.WithTimeout(tab, 10*time.Minute)
		// Every shown panel but the person lookup (a form, drawn at once, that asks for no
		// report) counts; the lookup's own entry is left out of what is waited for.
		done, err := chromedp.Run(tctx, chromedp.Poll[map[string]float64](`(() => {
			const ids = [...document.querySelectorAll('.panel:not([hidden])')].map((p) => p.id).filter((id) => id !== 'lookup');
			return ids.every((id) => id in window.__done) && window.__done; })()`, chromedp.WithPollingTimeout(9*time.Minute)))
		cancel()
		if err != nil {
			t.Fatalf("%s: the panels did not all load: %v", pass, err)
		}
		if errs := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll('.error-box')].map(e => e.textContent)`); len(errs) > 0 {
			t.Fatalf("%s: panels show errors: %q", pass, errs)
		}
		t.Logf("%s(journeyd's CPU, this process's, from Show to the last panel: %.2f s; days from the store %v, from ClickHouse %v)",
			timingTable(pass, done), (selfCPU() - cpu).Seconds(), storeMetric(t, metrics, "hits_total")-hits, storeMetric(t, metrics, "misses_total")-misses)
	}
	if err := runner.Close(ctx); err != nil {
		t.Error(err)
	}
}

// restart stops runner as journeyd serve stops its own (Close writes the days not yet on
// disk) and returns a new Runner on the same directory, its days loaded (LoadStore, as
// serve calls it at start), serving the reports in its place, with metrics of its own.
// It logs how long the close and the load took and what was loaded.
func restart(t *testing.T, runner *report.Runner, sites map[string]goal.Definitions, reports *atomic.Pointer[fasthttp.RequestHandler]) (*report.Runner, *prometheus.Registry) {
	t.Helper()
	began := time.Now()
	if err := runner.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	closed := time.Since(began)
	files, bytes := dirSize(t, runner.StoreDir)
	metrics := prometheus.NewRegistry()
	m, err := report.NewMetrics(metrics)
	if err != nil {
		t.Fatal(err)
	}
	next := &report.Runner{Conn: runner.Conn, DB: runner.DB, StoreBytes: runner.StoreBytes, StoreDir: runner.StoreDir, Metrics: m}
	cpu := selfCPU()
	began = time.Now()
	next.LoadStore()
	loaded, loadCPU := time.Since(began), selfCPU()-cpu
	t.Logf("restart: the close of the Runner before wrote what was left in %s; %d day files, %.1f MB on disk; loaded %v days, %.1f MB in the store, in %s (%.2f s of CPU)",
		closed.Round(time.Millisecond), files, float64(bytes)/1e6, storeMetric(t, metrics, "loaded_total"), storeMetric(t, metrics, "bytes")/1e6,
		loaded.Round(time.Millisecond), loadCPU.Seconds())
	handler := report.RunnerHandler(next, sites)
	reports.Store(&handler)
	return next, metrics
}

// storeMetric returns the value of journeyd_report_store_<name> in reg.
func storeMetric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "journeyd_report_store_"+name && len(f.GetMetric()) == 1 {
			m := f.GetMetric()[0]
			return m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no journeyd_report_store_%s", name)
	return 0
}

// dirSize returns how many day files dir holds and their bytes.
func dirSize(t *testing.T, dir string) (files int, bytes int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".day") {
			files++
			bytes += info.Size()
		}
	}
	return files, bytes
}

func timingTable(pass string, done map[string]float64) string {
	ids := make([]string, 0, len(done))
	for id := range done {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return done[ids[i]] < done[ids[j]] })
	var b strings.Builder
	fmt.Fprintf(&b, "%s open, seconds from Show to each panel drawn:\n", pass)
	overview := 0.0
	for _, id := range ids {
		fmt.Fprintf(&b, "  %-16s %6.2f\n", id, done[id]/1000)
		if id == "overview" || strings.HasPrefix(id, "top-") {
			overview = max(overview, done[id])
		}
	}
	fmt.Fprintf(&b, "  overview and top lists all drawn: %.2f s; every panel: %.2f s\n", overview/1000, done[ids[len(ids)-1]]/1000)
	return b.String()
}

func TestMain(m *testing.M) { chtest.Main(m) }
