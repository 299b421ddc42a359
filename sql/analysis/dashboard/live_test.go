package dashboard

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/chromedp/chromedp"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/snippet/browsertest"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

const liveToken = "live-token"

// visit is one planted event: type, name, anonymous id, user id, session, time, path,
// channel, device, country, browser, revenue and props as k=v.
type visit struct {
	typ, name, anon, user, session, at, path, channel, device, country, browser string
	revenue                                                                     float64
	props                                                                       string
}

// liveTraffic: the period shown is 2026-01-02 and 01-03, the previous one 2025-12-31 and
// 2026-01-01.
//   - s1 (a1, 01-02, Email, mobile, DE, Safari): /, /product/x, add_to_cart, a purchase of 50;
//   - s2 (a2, 01-02, Organic Search, desktop, US, Chrome): /, /product/x, add_to_cart, no purchase;
//   - s3 (a3, 01-03, no channel: Direct, desktop, US, Chrome): /pricing, identifies as u3
//     (plan=pro), who buys for 30 at 15:00 in a server event outside any session;
//   - previous period: s0 (a2, 01-01, Organic Search) and s9 (a4, 12-31, Email, mobile,
//     a purchase of 20).
var liveTraffic = []visit{
	{"pageview", "", "a1", "", "s1", "2026-01-02 10:00:00", "/", "Email", "mobile", "DE", "Safari", 0, ""},
	{"pageview", "", "a1", "", "s1", "2026-01-02 10:05:00", "/product/x", "", "mobile", "DE", "Safari", 0, ""},
	{"event", "add_to_cart", "a1", "", "s1", "2026-01-02 10:06:00", "/product/x", "", "mobile", "DE", "Safari", 0, ""},
	{"event", "purchase", "a1", "", "s1", "2026-01-02 10:10:00", "/product/x", "", "mobile", "DE", "Safari", 50, ""},
	{"pageview", "", "a2", "", "s2", "2026-01-02 12:00:00", "/", "Organic Search", "desktop", "US", "Chrome", 0, ""},
	{"pageview", "", "a2", "", "s2", "2026-01-02 12:01:00", "/product/x", "", "desktop", "US", "Chrome", 0, ""},
	{"event", "add_to_cart", "a2", "", "s2", "2026-01-02 12:02:00", "/product/x", "", "desktop", "US", "Chrome", 0, ""},
	{"pageview", "", "a3", "", "s3", "2026-01-03 09:00:00", "/pricing", "", "desktop", "US", "Chrome", 0, ""},
	{"identify", "", "a3", "u3", "s3", "2026-01-03 09:01:00", "", "", "", "", "", 0, "plan=pro"},
	{"server", "purchase", "", "u3", "", "2026-01-03 15:00:00", "", "", "", "", "", 30, ""},
	{"pageview", "", "a2", "", "s0", "2026-01-01 08:00:00", "/", "Organic Search", "desktop", "US", "Chrome", 0, ""},
	{"pageview", "", "a4", "", "s9", "2025-12-31 20:00:00", "/", "Email", "mobile", "DE", "Safari", 0, ""},
	{"event", "purchase", "a4", "", "s9", "2025-12-31 20:05:00", "/", "Email", "mobile", "DE", "Safari", 20, ""},
}

func insertVisits(t *testing.T, conn driver.Conn, events []visit) {
	t.Helper()
	es := make([]event.Event, len(events))
	for i, e := range events {
		es[i] = journeytest.Planted(t, i, e.typ, e.name, e.anon, e.user, e.session, e.at, e.path, e.channel,
			e.device, e.country, e.browser, e.revenue, e.props)
	}
	journeytest.Insert(t, conn, es)
}

// liveServer serves the dashboard, the reports API and the person API over the planted
// traffic in a real ClickHouse, behind the admin token as journeyd does, and records the
// API requests it answers.
type liveServer struct {
	base     string
	mu       sync.Mutex
	requests []string
}

func (s *liveServer) asked(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.requests {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func (s *liveServer) reset() {
	s.mu.Lock()
	s.requests = nil
	s.mu.Unlock()
}

func startLive(t *testing.T) *liveServer {
	t.Helper()
	conn, db := journeytest.Database(t)
	insertVisits(t, conn, liveTraffic)
	insertVisits(t, conn, liveTraffic) // stored twice, as a replay would: no figure may change
	sites := map[string]goal.Definitions{"shop": {}}
	reports, person, dash := report.Handler(conn, db, sites), report.PersonHandler(conn, db, sites), Handler()
	s := &liveServer{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		path := string(ctx.Path())
		if !strings.HasPrefix(path, "/api/") {
			dash(ctx)
			return
		}
		if string(ctx.Request.Header.Peek("Authorization")) != "Bearer "+liveToken {
			ctx.SetStatusCode(fasthttp.StatusUnauthorized)
			ctx.SetBodyString(`{"error":"missing or wrong admin token"}`)
			return
		}
		s.mu.Lock()
		s.requests = append(s.requests, strings.TrimPrefix(path, "/api/v1/")+"?"+string(ctx.QueryArgs().QueryString()))
		s.mu.Unlock()
		if path == report.PersonPath {
			person(ctx)
			return
		}
		reports(ctx)
	}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown() })
	s.base = "http://" + l.Addr().String()
	return s
}

// liveView is the view of the planted period, as a link would carry it.
const liveView = "#site=shop&from=2026-01-02&to=2026-01-03&interval=day"

// signInLive opens the dashboard at view and signs in once.
func signInLive(t *testing.T, ctx context.Context, s *liveServer, view string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(s.base+"/dashboard/"+view))
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#token"), liveToken), chromedp.Click(chromedp.CSS("#settings button.primary")))
	settled(t, ctx)
}

// settled waits until no panel is loading.
func settled(t *testing.T, ctx context.Context) {
	t.Helper()
	poll[bool](t, ctx, "all panels loaded", `[...document.querySelectorAll('.panel')].every(p =>
		!p.classList.contains('loading') && p.querySelector('.body').textContent !== 'Loading…') &&
		!!document.querySelector('#overview .kpi')`)
}

// kpis returns the overview's cards as "label value change".
func kpis(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return poll[[]string](t, ctx, "the overview cards", `[...document.querySelectorAll('#overview .kpi')].map(k =>
		k.querySelector('.kpi-label').textContent + ' ' + k.querySelector('.kpi-value').textContent + ' ' + k.querySelector('.kpi-change').textContent)`)
}

// topRows returns the values listed in the top panel of dim.
func topRows(t *testing.T, ctx context.Context, dim string) string {
	t.Helper()
	return strings.Join(poll[[]string](t, ctx, "top "+dim, `[...document.querySelectorAll('#top-`+dim+` tbody tr')].map(tr =>
		[...tr.children].filter((td, i) => i !== 2).map(td => td.textContent).join(' '))`), "; ")
}

// TestBrowserLiveOverview opens the dashboard on a real ClickHouse: the overview's cards and
// top lists match the planted traffic, a click on a row narrows every panel and goes into
// the URL, and a reload of that URL restores the view without signing in again.
func TestBrowserLiveOverview(t *testing.T) {
	s := startLive(t)
	ctx := startTab(t)
	signInLive(t, ctx, s, liveView)
	// This period: sessions s1, s2, s3 of a1, a2 and u3; conversions a1's 50 and u3's 30 (2
	// of 3 visitors, 67 %). Previous: s0, s9 of a2 and a4, a4's purchase of 20 (1 of 2, 50 %).
	want := []string{"Visitors 3 ▲ +50% vs previous", "Sessions 3 ▲ +50% vs previous", "Conversions 2 ▲ +100% vs previous",
		"Conversion rate 67% ▲ +33% vs previous", "Revenue 80.00 ▲ +300% vs previous"}
	if got := kpis(t, ctx); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("overview cards %q, want %q", got, want)
	}
	if n := poll[int](t, ctx, "the overview chart", `document.querySelectorAll('#overview svg circle.dot').length`); n != 2 {
		t.Errorf("the overview chart has %d points, want 2 (one a day)", n)
	}
	// People, bar, conversions: Direct (u3's session, whose purchase came outside it), Email
	// (a1, who bought inside), Organic Search (a2).
	if got := topRows(t, ctx, "channel"); got != "Direct 1 0; Email 1 1; Organic Search 1 0" {
		t.Errorf("top channels %q", got)
	}
	// Pages: / by a1 and a2, /product/x by a1 and a2 (two views), /pricing by u3.
	if got := topRows(t, ctx, "page"); got != "/ 2 2; /product/x 2 2; /pricing 1 1" {
		t.Errorf("top pages %q", got)
	}
	if errs := poll[[]string](t, ctx, "page errors", `window.__errors`); len(errs) != 0 {
		t.Fatalf("page errors or CSP violations: %q", errs)
	}

	s.reset()
	do(t, ctx, chromedp.Click(chromedp.CSS(`#top-channel button.filter-link[data-value="Email"]`)))
	poll[bool](t, ctx, "the filter chip", `document.querySelector('#filters .chip.filter')?.textContent.includes('channel = Email')`)
	settled(t, ctx)
	// Email alone: s1 of a1 with its purchase of 50; before, s9 of a4 with 20.
	narrowed := []string{"Visitors 1 = 0% vs previous", "Sessions 1 = 0% vs previous", "Conversions 1 = 0% vs previous",
		"Conversion rate 100% = 0% vs previous", "Revenue 50.00 ▲ +150% vs previous"}
	checkNarrowed := func(when string) {
		t.Helper()
		if got := kpis(t, ctx); strings.Join(got, "|") != strings.Join(narrowed, "|") {
			t.Fatalf("%s: overview cards %q, want %q", when, got, narrowed)
		}
		for dim, want := range map[string]string{"channel": "Email 1 1", "device": "mobile 1 1", "browser": "Safari 1 1",
			"page": "/ 1 1; /product/x 1 1", "entry_page": "/ 1 1", "country": "DE 1 1"} {
			if got := topRows(t, ctx, dim); got != want {
				t.Errorf("%s: top %s %q, want %q", when, dim, got, want)
			}
		}
		if got := poll[[]string](t, ctx, "channels", `[...document.querySelectorAll('#channels tbody td:first-child')].map(td => td.textContent)`); strings.Join(got, ",") != "Email" {
			t.Errorf("%s: the channels panel lists %q, want Email alone", when, got)
		}
	}
	checkNarrowed("after the click")
	// Every report the page asked for carries the filter: the overview, two top lists,
	// stages, channels, time to convert, attribution, barriers, funnel, paths, and one
	// retention request for all five windows.
	asked := s.asked("reports/")
	if len(asked) < 11 {
		t.Fatalf("only %d report requests after the click: %q", len(asked), asked)
	}
	for _, r := range asked {
		if !strings.Contains(r, "filter=channel%3DEmail") {
			t.Errorf("request %q lacks the filter", r)
		}
	}
	hash := poll[string](t, ctx, "the URL", `location.hash`)
	if !strings.Contains(hash, "filter=channel%3DEmail") || !strings.Contains(hash, "from=2026-01-02") {
		t.Fatalf("the URL %q does not keep the filter and the period", hash)
	}

	// Panel state goes into the URL too, and a reload restores all of it.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#overview .kpi[data-metric="revenue"]`)),
		chromedp.SetValue(chromedp.CSS("#steps"), "pageview:/,event:add_to_cart,conversion"),
		chromedp.Click(chromedp.CSS("#funnel-form button[type=submit]")))
	settled(t, ctx)
	do(t, ctx, chromedp.Reload())
	settled(t, ctx)
	checkNarrowed("after a reload")
	restored := poll[[]string](t, ctx, "the restored view", `[document.getElementById('steps').value,
		document.querySelector('#overview .kpi[aria-pressed="true"]').dataset.metric, String(document.getElementById('token-field').hidden)]`)
	if strings.Join(restored, "|") != "pageview:/,event:add_to_cart,conversion|revenue|true" {
		t.Fatalf("after a reload: steps, metric, token box hidden = %q", restored)
	}
	// The funnel on Email: a1 viewed /, added to cart and bought.
	if got := poll[[]string](t, ctx, "funnel", `[...document.querySelectorAll('#funnel tbody tr td:nth-child(2)')].map(td => td.textContent)`); strings.Join(got, ",") != "1,1,1" {
		t.Errorf("the funnel on Email enters %q, want 1,1,1", got)
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`#filters .remove`)))
	settled(t, ctx)
	if got := kpis(t, ctx); !strings.HasPrefix(got[0], "Visitors 3 ") {
		t.Fatalf("after removing the filter the cards say %q, want 3 visitors again", got)
	}
}

// TestBrowserLiveJourneys checks the pictures and the people on a real ClickHouse: the
// journey map and the paths as flow diagrams, the person page from the drop-off list and by
// id (kept in the URL), and a panel's CSV export.
func TestBrowserLiveJourneys(t *testing.T) {
	s := startLive(t)
	ctx := startTab(t)
	signInLive(t, ctx, s, liveView+"&steps=pageview%3A%2F%2Cevent%3Aadd_to_cart%2Cconversion&window=1d")
	// Default stages over a1, a2 and u3: awareness 3; consideration and decision 3 (a1 and a2
	// viewed a product and added to cart, u3's purchase reaches every stage before it);
	// purchase 2 (a1, u3); retention and advocacy 0, which the flow leaves out (the table
	// lists them). Channels Direct, Email and Organic Search feed the first stage; 1 leaves
	// after decision (a2) and 2 after purchase.
	flowFigures := poll[map[string]any](t, ctx, "the journey map flow", `(() => { const f = document.querySelector('#stages svg.chart');
		return f && {stages: [...f.querySelectorAll('rect.stage')].length, sources: f.querySelectorAll('rect.source').length,
			sinks: f.querySelectorAll('rect.sink').length, links: [...f.querySelectorAll('path.link title')].map(t => t.textContent),
			nodes: [...f.querySelectorAll('g > title')].map(t => t.textContent)}; })()`)
	if flowFigures["stages"] != 4.0 || flowFigures["sources"] != 3.0 || flowFigures["sinks"] != 2.0 {
		t.Errorf("journey map flow: %v stage nodes, %v channel nodes, %v leaving nodes; want 4, 3 and 2", flowFigures["stages"], flowFigures["sources"], flowFigures["sinks"])
	}
	links := fmt.Sprint(flowFigures["links"])
	for _, want := range []string{"awareness → consideration: 3", "decision → purchase: 2", "decision → left after decision: 1",
		"purchase → left after purchase: 2", "Email → awareness: 1"} {
		if !strings.Contains(links, want) {
			t.Errorf("journey map flow links %s: missing %q", links, want)
		}
	}
	if nodes := fmt.Sprint(flowFigures["nodes"]); !strings.Contains(nodes, "purchase: 2") || !strings.Contains(nodes, "awareness: 3") ||
		strings.Contains(nodes, "retention") {
		t.Errorf("journey map flow nodes %s: want awareness 3 and purchase 2, and no retention node (0 people)", nodes)
	}
	// Paths to conversion: a1's Email visit and u3's Direct one, each before one conversion.
	paths := poll[[]string](t, ctx, "the paths flow", `(() => { const r = [...document.querySelectorAll('#paths svg.chart g > title')].map(t => t.textContent); return r.length && r; })()`)
	if got := strings.Join(paths, "|"); !strings.Contains(got, "conversion: 2") || !strings.Contains(got, "Email: 1") || !strings.Contains(got, "Direct: 1") {
		t.Errorf("paths flow nodes %q, want Email 1 and Direct 1 flowing into conversion 2", paths)
	}

	// Two segments side by side: everyone (A) against the people on the pro plan (B: u3, whose
	// purchase reaches every stage up to purchase).
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#compare"), "trait.plan=pro"), chromedp.Click(chromedp.CSS("#stages-form button")))
	compared := poll[[]string](t, ctx, "the compared journey maps", `(() => { const r = [...document.querySelectorAll('#stages table.compare tbody tr')]
		.map(tr => [...tr.children].map(td => td.textContent).join('|')); return r.length && r; })()`)
	wantCompared := []string{"1. awareness|3|100%|1|100%", "2. consideration|3|100%|1|100%", "3. decision|3|100%|1|100%",
		"4. purchase|2|67%|1|100%", "5. retention|0|0%|0|0%", "6. advocacy|0|0%|0|0%"}
	if strings.Join(compared, "\n") != strings.Join(wantCompared, "\n") {
		t.Errorf("compared journey maps:\n%s\nwant:\n%s", strings.Join(compared, "\n"), strings.Join(wantCompared, "\n"))
	}
	if n := poll[int](t, ctx, "two flows", `document.querySelectorAll('#stages svg.chart').length`); n != 2 {
		t.Errorf("%d flow diagrams when comparing, want 2", n)
	}
	if len(s.asked("reports/stages?")) < 2 || !strings.Contains(strings.Join(s.asked("reports/stages?"), " "), "filter=trait.plan%3Dpro") {
		t.Errorf("stages requests %q: want one for segment B with filter trait.plan=pro", s.asked("reports/stages?"))
	}

	// Who dropped between add to cart and the conversion within a day: a2 (01-02 12:02, no
	// purchase); a1 bought. Their name opens their journey: s0 and s2, four events.
	do(t, ctx, chromedp.Click(chromedp.CSS(`#funnel tbody tr:nth-child(2) button.who`)))
	do(t, ctx, chromedp.Click(chromedp.CSS(`#dropped-list a.person-link[data-person="a2"]`)))
	person := func(id string) []string {
		t.Helper()
		return poll[[]string](t, ctx, "the person page of "+id, `(() => { const p = document.getElementById('person');
			if (p.hidden || p.classList.contains('loading') || p.querySelector('.person-id')?.textContent !== '`+id+`') return null;
			return [String(p.querySelectorAll('.timeline .session').length), ...[...p.querySelectorAll('.timeline .tp')].map(li => li.textContent)]; })()`)
	}
	if got := person("a2"); len(got) != 5 || got[0] != "2" || !strings.Contains(got[1], "2026-01-01 08:00:00 UTC viewed /") {
		t.Fatalf("a2's person page: %q, want 2 sessions and 4 touchpoints, the first the view of / on 01-01", got)
	}
	if hash := poll[string](t, ctx, "the URL", `location.hash`); !strings.Contains(hash, "person=a2") {
		t.Fatalf("the URL %q does not keep the person shown", hash)
	}
	// By id: a3 is u3's anonymous id; u3's journey is the /pricing visit, the identify call
	// and the server purchase of 30 outside any session.
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#lookup-id"), "a3"), chromedp.Click(chromedp.CSS("#lookup-form button")))
	got := person("u3")
	if len(got) != 4 || got[0] != "2" || !strings.Contains(got[3], "server purchase ★ conversion 30.00") {
		t.Fatalf("u3's person page: %q, want 2 groups (s3, outside any session) and 3 touchpoints ending in the purchase of 30", got)
	}
	do(t, ctx, chromedp.Reload())
	if got := person("u3"); len(got) != 4 {
		t.Fatalf("after a reload the person page shows %q, want u3's journey again", got)
	}

	// CSV of the top channels: the rows the report answered, keys in JSON order.
	browsertest.Eval[bool](t, ctx, `window.__csv = null; { const orig = URL.createObjectURL;
		URL.createObjectURL = (b) => { window.__csv = b; return orig.call(URL, b); }; } true`)
	settled(t, ctx)
	do(t, ctx, chromedp.Click(chromedp.CSS(`#top-channel h2 button.csv`)))
	csv := browsertest.Eval[string](t, ctx, `window.__csv.text()`)
	for _, want := range []string{"report,table,conversion_rate,conversions,dimension,people,revenue,sessions,value\n",
		"top,top,0,0,channel,1,0,1,Direct\n", "top,top,1,1,channel,1,50,1,Email\n", "top,top,0,0,channel,1,0,1,Organic Search\n"} {
		if !strings.Contains(csv, want) {
			t.Errorf("CSV of the top channels:\n%s\nlacks %q", csv, want)
		}
	}
	if errs := poll[[]string](t, ctx, "page errors", `window.__errors`); len(errs) != 0 {
		t.Fatalf("page errors or CSP violations: %q", errs)
	}
}

// TestBrowserLiveNarrow loads the dashboard 420 px wide, with a person page open: nothing
// runs off the side of the page (wide tables scroll inside their panel).
func TestBrowserLiveNarrow(t *testing.T) {
	s := startLive(t)
	ctx := startTab(t)
	do(t, ctx, chromedp.EmulateViewport(420, 900))
	signInLive(t, ctx, s, liveView+"&person=a3")
	poll[bool](t, ctx, "the person page", `!!document.querySelector('#person .timeline')`)
	widths := poll[[]int](t, ctx, "the page widths", `[innerWidth, document.documentElement.scrollWidth, document.body.scrollWidth,
		Math.ceil(Math.max(...[...document.querySelectorAll('.panel, header')].map(e => e.getBoundingClientRect().right)))]`)
	if widths[0] != 420 {
		t.Fatalf("viewport %d px wide, want 420", widths[0])
	}
	if widths[1] > 420 || widths[2] > 420 || widths[3] > 420 {
		t.Fatalf("at 420 px the page is %d px wide (body %d, rightmost panel edge %d): it runs off the side", widths[1], widths[2], widths[3])
	}
}
