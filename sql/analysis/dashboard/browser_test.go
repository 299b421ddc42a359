package dashboard

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/journeyd/journeyd/snippet/browsertest"
	"github.com/journeyd/journeyd/sql/analysis/attribution"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

const stubToken = "s3cret"

// reportStub answers /api/v1/reports/NAME like report.Handler, from fixed tables encoded by
// report.Result.JSON and attribution.Compute, so the page sees the real JSON shapes. It is
// the dashboard that is under test here, not ClickHouse.
type reportStub struct {
	mu       sync.Mutex
	requests []string // NAME?query of each authorized request
}

func (s *reportStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+stubToken {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"missing or wrong admin token: send Authorization: Bearer TOKEN"}`))
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/api/v1/reports/")
	s.mu.Lock()
	s.requests = append(s.requests, name+"?"+r.URL.RawQuery)
	s.mu.Unlock()
	body, err := stubReport(name, r.URL.Query())
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(body)
}

func tables(ts ...report.Table) any { return (&report.Result{Tables: ts}).JSON() }

// stubRetention is the stub's retention answer: per window, the week 2025-03-03 (10 people)
// and the week 2025-03-10 (8 people), which only the 7 and 14 day windows have passed; and
// how many came back.
var stubRetention = []struct {
	within   string
	returned [2]int // -1: the week is not in the window's cohorts
}{{"7d", [2]int{3, 2}}, {"14d", [2]int{4, 4}}, {"30d", [2]int{5, -1}}, {"60d", [2]int{6, -1}}, {"90d", [2]int{7, -1}}}

// retentionTable answers the retention report for the windows of within as runRetention
// does: one window, the columns of old; several, each row led by its window, shortest first.
func retentionTable(within string) report.Table {
	asked := strings.Split(within, ",")
	t := report.Table{Name: "retention", Columns: []string{"within", "cohort_week", "people", "returned", "rate"}}
	weeks, people := []time.Time{time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)}, []int{10, 8}
	for _, w := range stubRetention {
		for i, n := range w.returned {
			if n >= 0 && slices.Contains(asked, w.within) {
				t.Rows = append(t.Rows, []any{w.within, weeks[i], people[i], n, float64(n) / float64(people[i])})
			}
		}
	}
	if len(asked) == 1 {
		t.Columns = t.Columns[1:]
		for i, row := range t.Rows {
			t.Rows[i] = row[1:]
		}
	}
	return t
}

func stubReport(name string, q url.Values) (any, error) {
	if _, err := report.Lookup(name); err != nil {
		return nil, err
	}
	switch name {
	case "channels":
		return tables(report.Table{Name: "channels", Columns: []string{"channel", "sessions", "people", "conversions", "revenue"},
			Rows: [][]any{{"Organic Search", 120, 90, 12, 1440.5}, {"Paid Search", 80, 70, 10, 990}, {"<img src=x onerror=alert(1)>", 5, 5, 0, 0}}}), nil
	case "funnel":
		return tables(report.Table{Name: "funnel", Columns: []string{"segment", "step", "name", "entered", "from_first", "from_previous", "dropped", "median_seconds"},
			Rows: [][]any{{"", 1, "pageview:/product/*", 100, 1, 1, 0, 0}, {"", 2, "event:add_to_cart", 40, 0.4, 0.4, 60, 120}}}), nil
	case "barriers":
		return tables(report.Table{Name: "barriers", Columns: []string{"dimension", "segment", "step", "name", "previous", "entered", "rate", "overall_rate", "lost"},
			Rows: [][]any{{"device", "mobile", 2, "event:add_to_cart", 50, 5, 0.1, 0.4, 15}}}), nil
	case "attribution":
		paths := []attribution.Path{{Channels: []string{"Organic Search", "Email"}, Conversions: 3, Value: 30, Nulls: 2},
			{Channels: []string{"Paid Search"}, Conversions: 2, Value: 20, Nulls: 4}}
		res, err := attribution.Compute(paths, attribution.Models, attribution.DefaultOptions())
		return map[string]any{"models": res}, err
	case "paths":
		return tables(report.Table{Name: "paths", Columns: []string{"path", "conversions", "nulls", "conversion_rate", "median_days"},
			Rows: [][]any{{"Organic Search > Email", 3, 2, 0.6, 1.5}}}), nil
	case "time-to-convert":
		return tables(report.Table{Name: "days", Columns: []string{"days", "conversions", "share"}, Rows: [][]any{{"0", 3, 0.6}, {"1", 2, 0.4}}},
			report.Table{Name: "touchpoints", Columns: []string{"touchpoints", "conversions", "share"}, Rows: [][]any{{"1", 5, 1}}}), nil
	case "retention":
		return tables(retentionTable(q.Get("within"))), nil
	case "dropped": // the shape runDropped gives its JSON: times in RFC 3339, anon_ids an array
		return map[string]any{"dropped": []map[string]any{
			{"person": "user-c", "user_id": "user-c", "anon_ids": []string{"c-laptop", "c-phone"}, "last_seen": "2026-03-05T13:01:00Z",
				"left_at": "2026-03-02T13:01:00Z", "value": 50, "last_channel": "Paid Search"},
			{"person": "<img src=x onerror=alert(2)>", "user_id": "", "anon_ids": []string{"<img src=x onerror=alert(2)>"},
				"last_seen": "2026-03-02T12:03:00Z", "left_at": "2026-03-02T12:03:00Z", "value": 30, "last_channel": "Email"}}}, nil
	case "stages":
		return tables(report.Table{Name: "stages", Columns: []string{"stage", "name", "people", "from_previous", "from_first", "median_seconds", "top_channels"},
			Rows: [][]any{{1, "awareness", 100, 1, 1, 0, "Organic Search"}, {2, "purchase", 10, 0.1, 0.1, 3600, "Email"}}}), nil
	}
	return tables(), nil
}

// serveDashboard serves Handler and the stub on one origin, as journeyd does.
func serveDashboard(t *testing.T, stub *reportStub) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dash, api := Handler(), fasthttpadaptor.NewFastHTTPHandler(stub)
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if strings.HasPrefix(string(ctx.Path()), "/api/v1/reports") {
			api(ctx)
			return
		}
		dash(ctx)
	}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown() })
	return "http://" + l.Addr().String()
}

// errorHook records page exceptions and CSP violations in window.__errors.
const errorHook = `window.__errors = [];
addEventListener('error', (e) => __errors.push(String(e.message)));
addEventListener('unhandledrejection', (e) => __errors.push(String(e.reason)));
document.addEventListener('securitypolicyviolation', (e) => __errors.push('CSP: ' + e.violatedDirective + ' ' + e.blockedURI));`

func startTab(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Tab(t, browsertest.Start(t), false, errorHook)
}

// poll evaluates js in the page until it returns a truthy value, for up to 15 seconds.
func poll[T any](t *testing.T, ctx context.Context, what, js string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Poll[T](js, chromedp.WithPollingTimeout(15*time.Second)))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	browsertest.Do(t, ctx, actions...)
}

// show fills in the settings form and submits it.
func show(t *testing.T, ctx context.Context, site, token string) {
	t.Helper()
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#site"), site), chromedp.SetValue(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#settings button.primary")))
}

// TestBrowserDashboard loads the dashboard in Chromium against the stub: every panel
// renders, a visitor-controlled value stays text, and a wrong token shows the token hint.
func TestBrowserDashboard(t *testing.T) {
	stub := &reportStub{}
	base := serveDashboard(t, stub)
	ctx := startTab(t)
	do(t, ctx, chromedp.Navigate(base+"/dashboard/"))
	hint := poll[string](t, ctx, "the first-visit hint", `document.getElementById('status').textContent`)
	if !strings.Contains(hint, "admin token") {
		t.Fatalf("status before any setting = %q, want a hint to enter the admin token", hint)
	}
	show(t, ctx, "shop", stubToken)
	checkChannels(t, ctx)
	checkPanels(t, ctx, stub)

	do(t, ctx, chromedp.Navigate(base+"/dashboard"))
	show(t, ctx, "shop", "wrong")
	// One clear message for a wrong token (issue 19), not one error box per panel.
	msg := poll[string](t, ctx, "the 401 message in the status line",
		`document.getElementById('status').classList.contains('error') && document.getElementById('status').textContent`)
	if !strings.Contains(msg, "admin token") || !strings.Contains(msg, "401") {
		t.Fatalf("status after a 401 says %q, want the admin token hint", msg)
	}
	if n := poll[int](t, ctx, "panels settled after the 401", `!document.querySelector('.panel.loading') &&
		document.querySelectorAll('.error-box').length + 1`); n != 1 {
		t.Fatalf("%d panels show an error box after a 401, want none: the status line says it once", n-1)
	}
	if hidden := poll[string](t, ctx, "the token box", `String(document.getElementById('token-field').hidden)`); hidden != "false" {
		t.Fatalf("the token box is hidden after a 401, want it shown")
	}
	stored := poll[[]string](t, ctx, "the stored token", `[sessionStorage.getItem('journeyd.token'), JSON.stringify(localStorage)]`)
	if stored[0] != "wrong" || strings.Contains(stored[1], "wrong") {
		t.Fatalf("token in sessionStorage %q, localStorage %s: want it in sessionStorage only", stored[0], stored[1])
	}
	if errs := poll[[]string](t, ctx, "page errors", `window.__errors`); len(errs) != 0 {
		t.Fatalf("page errors or CSP violations: %q", errs)
	}
}

func checkChannels(t *testing.T, ctx context.Context) {
	t.Helper()
	names := poll[[]string](t, ctx, "the channels table",
		`(() => { const r = [...document.querySelectorAll('#channels tbody tr td:first-child')].map(td => td.textContent); return r.length && r })()`)
	want := []string{"Organic Search", "Paid Search", "<img src=x onerror=alert(1)>"}
	if strings.Join(names, "|") != strings.Join(want, "|") {
		t.Fatalf("channels rows %q, want %q", names, want)
	}
	if n := poll[int](t, ctx, "bars", `document.querySelectorAll('#channels svg.cellbar').length + document.querySelectorAll('#channels img').length * 100`); n != 3 {
		t.Fatalf("channels panel has %d bars (+100 per <img>), want 3 bars and no markup from report values", n)
	}
}

// checkPanels waits until no panel is loading and checks each drew what the stub answered.
func checkPanels(t *testing.T, ctx context.Context, stub *reportStub) {
	t.Helper()
	poll[bool](t, ctx, "all panels loaded", `[...document.querySelectorAll('.panel')].every(p =>
		!p.classList.contains('loading') && p.querySelector('.body').textContent !== 'Loading…')`)
	if errs := poll[[]string](t, ctx, "error boxes", `[...document.querySelectorAll('.error-box')].map(e => e.textContent)`); len(errs) != 0 {
		t.Fatalf("panels show errors: %q", errs)
	}
	counts := poll[map[string]int](t, ctx, "panel contents", `(() => { const n = (s) => document.querySelectorAll(s).length;
		return {models: n('#attribution thead th'), stages: n('#stages svg rect.box'), cohorts: n('#retention tbody td.cell'),
			funnel: n('#funnel tbody tr'), barriers: n('#funnel .barriers li'), paths: n('#paths .chip'), ttc: n('#ttc svg rect.bar')}; })()`)
	want := map[string]int{"models": 1 + len(attribution.Models), "stages": 2, "cohorts": 10, "funnel": 2, "barriers": 1, "paths": 2, "ttc": 3}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("panel %s drew %d items, want %d (all: %v)", k, counts[k], v, counts)
		}
	}
	// The grid's rows: week, people (of the shortest window), the rate within 7, 14, 30, 60
	// and 90 days: 3, 4, 5, 6, 7 of 10; 2 and 4 of 8, and no cohort for the longer windows.
	grid := poll[[]string](t, ctx, "the retention grid", `(() => { const r = [...document.querySelectorAll('#retention tbody tr')]
		.map(tr => [...tr.cells].map(td => td.textContent).join('|')); return r.length && r })()`)
	if want := []string{"2025-03-03|10|30%|40%|50%|60%|70%", "2025-03-10|8|25%|50%|–|–|–"}; !slices.Equal(grid, want) {
		t.Errorf("retention grid %q, want %q", grid, want)
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	var retention []string
	for _, r := range stub.requests {
		if !strings.Contains(r, "site=shop") || !strings.Contains(r, "from=") || !strings.Contains(r, "to=") {
			t.Errorf("request %q lacks the site or the period", r)
		}
		if strings.HasPrefix(r, "retention?") {
			retention = append(retention, r)
		}
	}
	// One request for the whole grid, every window in it.
	if len(retention) != 1 || !strings.Contains(retention[0], "within="+url.QueryEscape("7d,14d,30d,60d,90d")) {
		t.Errorf("the retention grid asked %q, want one request with within=7d,14d,30d,60d,90d", retention)
	}
}

// TestBrowserWhoDropped: "who dropped here" on a funnel step asks the dropped report for
// that step and the next one within the funnel's window, and lists the people it answers,
// their values as text.
func TestBrowserWhoDropped(t *testing.T) {
	stub := &reportStub{}
	base := serveDashboard(t, stub)
	ctx := startTab(t)
	do(t, ctx, chromedp.Navigate(base+"/dashboard/"))
	show(t, ctx, "shop", stubToken)
	// The stub's funnel has two steps: the first has the button, the last has none.
	buttons := poll[int](t, ctx, "the funnel's who-dropped buttons", `document.querySelectorAll('#funnel tbody tr').length === 2 &&
		document.querySelectorAll('#funnel tbody tr')[1].querySelectorAll('button.who').length === 0 &&
		document.querySelectorAll('#funnel button.who').length`)
	if buttons != 1 {
		t.Fatalf("%d who-dropped buttons, want 1 (on step 1 of 2)", buttons)
	}
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#window"), "36h"), chromedp.Click(chromedp.CSS("#funnel-form button[type=submit]")))
	poll[bool](t, ctx, "the funnel reloaded", `!document.getElementById('funnel').classList.contains('loading') && !!document.querySelector('#funnel button.who')`)
	do(t, ctx, chromedp.Click(chromedp.CSS("#funnel button.who")))
	rows := poll[[]string](t, ctx, "the drop-off list", `(() => { const r = [...document.querySelectorAll('#dropped-list tbody tr')]
		.map(tr => [...tr.children].map(td => td.textContent).join('|')); return r.length && r })()`)
	want := []string{
		"user-c|user-c|c-laptop c-phone|2026-03-02 13:01:00 UTC|2026-03-05 13:01:00 UTC|50.00|Paid Search",
		"<img src=x onerror=alert(2)>|–|<img src=x onerror=alert(2)>|2026-03-02 12:03:00 UTC|2026-03-02 12:03:00 UTC|30.00|Email",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Fatalf("drop-off list:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if n := poll[int](t, ctx, "markup in the list", `document.querySelectorAll('#dropped-list img').length + 1`); n != 1 {
		t.Fatalf("the drop-off list holds %d <img>, want none: report values must stay text", n-1)
	}
	stub.mu.Lock()
	var asked []string
	for _, r := range stub.requests {
		if strings.HasPrefix(r, "dropped?") {
			asked = append(asked, r)
		}
	}
	stub.mu.Unlock()
	if len(asked) != 1 || !strings.Contains(asked[0], "site=shop") ||
		!strings.Contains(asked[0], "did=pageview%3A%2Fproduct%2F*") || !strings.Contains(asked[0], "not=event%3Aadd_to_cart") ||
		!strings.Contains(asked[0], "within=36h") {
		t.Fatalf("dropped requests %q, want one for did=pageview:/product/*, not=event:add_to_cart, within=36h", asked)
	}
	if errs := poll[[]string](t, ctx, "page errors", `window.__errors`); len(errs) != 0 {
		t.Fatalf("page errors or CSP violations: %q", errs)
	}
}
