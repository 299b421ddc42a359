package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/journeyd/journeyd/snippet/browsertest"
)

// browserConfig defines the demo shop's site; {url} is journeyd's own origin (the demo
// pages), {pages} the origin of the test's own pages.
const browserConfig = `
sites:
  - id: demo
    origins: ["{url}", "{pages}"]
`

// pageHooks run in every document of a test tab: window.__errors collects page exceptions,
// and Date.now() adds localStorage.__skew ms, so a test can move the page clock.
var pageHooks = []string{
	`window.__errors = [];
addEventListener('error', (e) => __errors.push(String(e.message)));
addEventListener('unhandledrejection', (e) => __errors.push(String(e.reason)));`,
	`(() => { const now = Date.now.bind(Date);
  Date.now = () => now() + (+localStorage.getItem('__skew') || 0); })();`,
}

// TestBrowserDemo drives the demo shop of a real journeyd (serve's wiring, a throwaway
// ClickHouse database) in headless Chromium and checks the rows that land in events.
// One journeyd and one browser serve every subtest; each subtest has a private window.
func TestBrowserDemo(t *testing.T) {
	pages := newTestPages(t)
	a := startApp(t, strings.ReplaceAll(browserConfig, "{pages}", pages.srv.URL), "--demo")
	pages.app = a.URL
	browser := browsertest.Start(t)
	t.Run("journey", func(t *testing.T) { testDemoJourney(t, a, browser) })
	t.Run("outbound", func(t *testing.T) { testDemoOutbound(t, a, browser) })
	t.Run("idle-and-second-tab", func(t *testing.T) { testDemoIdle(t, a, browser) })
	t.Run("consent", func(t *testing.T) { testDemoConsent(t, a, browser, pages) })
	// A collector that is down: snippet's TestBrowserCollectorDown, on the same build.
}

// testDemoJourney: a campaign landing, a product, add to cart, checkout with identify, the
// purchase and a single-page-app route change are one visitor's one session.
func testDemoJourney(t *testing.T, a *testApp, browser context.Context) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	do := func(actions ...chromedp.Action[chromedp.Void]) { t.Helper(); browsertest.Do(t, tab, actions...) }
	do(chromedp.Navigate(a.URL + "/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=spring&yclid=123"))
	aid, sid := visitor(t, tab)
	do(chromedp.Click(chromedp.CSS(`a[href="product.html?id=kettle"]`)), chromedp.WaitVisible(chromedp.CSS("#add")), chromedp.Click(chromedp.CSS("#add")))
	do(chromedp.WaitVisible(chromedp.CSS("#added a")), chromedp.Click(chromedp.CSS("#added a")), chromedp.WaitVisible(chromedp.CSS("#checkout")))
	do(chromedp.Click(chromedp.CSS("#checkout")), chromedp.WaitVisible(chromedp.CSS("#pay")), chromedp.Click(chromedp.CSS("#pay")), chromedp.WaitVisible(chromedp.CSS("#msg")))
	do(chromedp.Evaluate[chromedp.Void](`history.pushState({}, '', '/demo/account')`))

	who := fmt.Sprintf("site_id = 'demo' AND anon_id = '%s'", aid)
	for _, w := range []string{"type = 'pageview' AND path = '/demo/account'", "name = 'purchase'", "type = 'identify'"} {
		a.waitCount(t, "SELECT count() FROM events WHERE "+who+" AND "+w, 1)
	}
	rows := eventRows(t, a, fmt.Sprintf("site_id = 'demo' AND (anon_id = '%s' OR session_id = '%s')", aid, sid))
	channel := rows[0].Channel
	for _, r := range rows {
		if r.Anon != aid || r.Session != sid {
			t.Errorf("%s: anon %s session %s, want the browser's %s and %s", r, r.Anon, r.Session, aid, sid)
		}
		if r.Source != "newsletter" || r.Medium != "email" || r.Campaign != "spring" || r.Channel != channel || channel == "" {
			t.Errorf("%s: campaign %s/%s/%s channel %q, want the session's newsletter/email/spring and one channel", r, r.Source, r.Medium, r.Campaign, r.Channel)
		}
	}
	landing := find(t, rows, "pageview", "/demo/")
	if landing.ClickType != "yclid" || landing.ClickID != "123" || landing.Query == "" {
		t.Errorf("landing %s: click id %s=%s, query %q; want yclid=123 and the landing query", landing, landing.ClickType, landing.ClickID, landing.Query)
	}
	if p := find(t, rows, "pageview", "/demo/product.html"); p.Query != "id=kettle" {
		t.Errorf("product page view query %q, want id=kettle", p.Query)
	}
	if add := find(t, rows, "event", "add_to_cart"); add.Props["product"] != "kettle" {
		t.Errorf("add_to_cart props %v, want product kettle", add.Props)
	}
	// One leave per page, with its engaged time, also when pagehide and visibilitychange both fire.
	for _, path := range []string{"/demo/", "/demo/product.html", "/demo/cart.html", "/demo/checkout.html"} {
		find(t, rows, "pageview", path)
		if l := findLeave(t, rows, path); l.Engaged == 0 {
			t.Errorf("leave of %s has no engaged time", path)
		}
	}
	find(t, rows, "event", "checkout")
	const user = "ada@example.com"
	for _, r := range []eventRow{find(t, rows, "identify", ""), find(t, rows, "pageview", "/demo/thanks.html"),
		find(t, rows, "event", "purchase"), find(t, rows, "pageview", "/demo/account")} {
		if r.User != user {
			t.Errorf("%s after identify: user_id %q, want %s", r, r.User, user)
		}
	}
	if buy := find(t, rows, "event", "purchase"); buy.Revenue != 49 || buy.Currency != "USD" || buy.Props["order_id"] == "" {
		t.Errorf("purchase: revenue %v %s, props %v; want the kettle's 49 USD and an order id", buy.Revenue, buy.Currency, buy.Props)
	}
	noPageErrors(t, tab)
}

// testDemoOutbound: a click on the journal's outbound link lands as event "outbound".
func testDemoOutbound(t *testing.T, a *testApp, browser context.Context) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	// The machine has no internet: the browser refuses the navigation at once instead of
	// waiting for a DNS answer; the snippet's beacon leaves before it.
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	block := []*network.BlockPattern{{URLPattern: "*://en.wikipedia.org/*", Block: true}}
	if _, err := chromedp.Call(tab, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: block}); err != nil {
		t.Fatal(err)
	}
	browsertest.Do(t, tab, chromedp.Navigate(a.URL+"/demo/blog.html"))
	aid, _ := visitor(t, tab)
	browsertest.Do(t, tab, chromedp.Click(chromedp.CSS("#outbound")))
	who := fmt.Sprintf("site_id = 'demo' AND anon_id = '%s'", aid)
	a.waitCount(t, "SELECT count() FROM events WHERE "+who+" AND type = 'event' AND name = 'outbound'", 1)
	out := find(t, eventRows(t, a, who), "event", "outbound")
	if out.Props["url"] != "https://en.wikipedia.org/wiki/Coffee_preparation" || out.Path != "/demo/blog.html" {
		t.Errorf("outbound on %s with props %v, want the journal page and the link's URL", out.Path, out.Props)
	}
}

// testDemoIdle: a reload after 31 idle minutes starts a new session for the same visitor,
// and a second tab joins the session that is open.
//
// The page clock moves (Date.now), the server's does not. The snippet sends ts and sent
// from the same moved clock, so the collector's correction (received − (sent − ts)) stores
// both page views about a second apart: the server alone would see one session. The new
// session id is the snippet's, and the sessionizer keeps the snippet's id (DESIGN §6).
func testDemoIdle(t *testing.T, a *testApp, browser context.Context) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(a.URL+"/demo/blog.html"))
	aid, sid1 := visitor(t, tab)
	who := fmt.Sprintf("site_id = 'demo' AND anon_id = '%s' AND type = 'pageview'", aid)
	a.waitCount(t, "SELECT count() FROM events WHERE "+who, 1)
	browsertest.Do(t, tab, chromedp.Evaluate[chromedp.Void](`localStorage.setItem('__skew', String(31 * 60 * 1000))`), chromedp.Reload())
	aid2, sid2 := visitor(t, tab)
	if aid2 != aid || sid2 == sid1 {
		t.Fatalf("after 31 idle minutes the browser has visitor %s session %s; want visitor %s and a session other than %s", aid2, sid2, aid, sid1)
	}
	a.waitCount(t, "SELECT count() FROM events WHERE "+who, 2)

	tab2 := browsertest.Tab(t, tab, false, pageHooks...) // a tab in the same private window
	browsertest.Do(t, tab2, chromedp.Navigate(a.URL+"/demo/"))
	if aid3, sid3 := visitor(t, tab2); aid3 != aid || sid3 != sid2 {
		t.Fatalf("second tab: visitor %s session %s, want %s %s", aid3, sid3, aid, sid2)
	}
	a.waitCount(t, "SELECT count() FROM events WHERE "+who, 3)
	rows := eventRows(t, a, who)
	got := []string{rows[0].Session, rows[1].Session, rows[2].Session}
	if want := []string{sid1, sid2, sid2}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("page views (blog, blog reloaded, second tab) in sessions %q, want %q", got, want)
	}
	if d := rows[1].TS.Sub(rows[0].TS); d < 0 || d > time.Minute {
		t.Errorf("stored times %v apart, want the corrected server times of a quick reload", d)
	}
	noPageErrors(t, tab)
}

// testDemoConsent: with data-consent nothing leaves the page before journeyd('consent',
// true); then the held page view and event land.
func testDemoConsent(t *testing.T, a *testApp, browser context.Context, pages *testPages) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	var mu sync.Mutex
	var posts []string
	if err := chromedp.Listen(tab, func(ev any) {
		if r, ok := ev.(*network.EventRequestWillBeSent); ok && strings.HasPrefix(r.Request.URL, a.URL+"/e") {
			mu.Lock()
			posts = append(posts, r.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	page := pages.srv.URL + "/consent"
	browsertest.Do(t, tab, chromedp.Navigate(page), chromedp.Evaluate[chromedp.Void](`journeyd('event', 'early', {})`))
	// Four times the snippet's batching delay in the page, and twenty flush intervals.
	browsertest.Eval[bool](t, tab, `new Promise((r) => setTimeout(() => r(true), 2000))`)
	where := fmt.Sprintf("site_id = 'demo' AND url = '%s'", page)
	a.waitCount(t, "SELECT count() FROM events WHERE "+where, 0)
	mu.Lock()
	before := len(posts)
	mu.Unlock()
	if stored := browsertest.Eval[string](t, tab, `document.cookie + (localStorage._jd || '')`); before > 0 || stored != "" {
		t.Fatalf("before consent: %d requests to /e, stored %q; want none", before, stored)
	}
	browsertest.Do(t, tab, chromedp.Evaluate[chromedp.Void](`journeyd('consent', true)`))
	aid, sid := visitor(t, tab)
	a.waitCount(t, "SELECT count() FROM events WHERE "+where, 2)
	rows := eventRows(t, a, where)
	if rows[0].Type != "pageview" || rows[1].Name != "early" || rows[0].Anon != aid || rows[1].Session != sid {
		t.Fatalf("after consent: %v; want the page view and the early event of visitor %s session %s", rows, aid, sid)
	}
}

// testPages serves pages of the test's own origin that embed journeyd's /t.js.
type testPages struct {
	srv *httptest.Server
	app string // journeyd's URL, set once it runs
}

const testPage = `<!doctype html><html><head><title>Test page</title>
<script>window.journeyd=window.journeyd||function(){(journeyd.q=journeyd.q||[]).push(arguments)}</script>
<script defer src="%s/t.js" data-site="demo" %s></script></head>
<body><a id="out" href="/next" onclick="event.preventDefault()">next</a></body></html>`

func newTestPages(t *testing.T) *testPages {
	t.Helper()
	p := &testPages{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs := map[string]string{"/consent": "data-consent"}[r.URL.Path]
		fmt.Fprintf(w, testPage, p.app, attrs)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// visitor returns the anonymous and session id the snippet keeps in the _jd cookie.
func visitor(t *testing.T, tab context.Context) (aid, sid string) {
	t.Helper()
	raw := browsertest.Eval[string](t, tab, `new Promise((r) => { const f = () => {
		const m = document.cookie.match(/(?:^|; )_jd=([^;]*)/); m ? r(decodeURIComponent(m[1])) : setTimeout(f, 50) }; f() })`)
	var v struct {
		A string          `json:"a"`
		S json.RawMessage `json:"s"`
	}
	var s []any
	if err := json.Unmarshal([]byte(raw), &v); err != nil || json.Unmarshal(v.S, &s) != nil || len(s) == 0 {
		t.Fatalf("cookie _jd = %q: want {a: id, s: [id, ...]}", raw)
	}
	sid, _ = s[0].(string)
	if !digits.MatchString(v.A) || !digits.MatchString(sid) {
		t.Fatalf("cookie _jd = %q: want digit ids", raw)
	}
	return v.A, sid
}

// eventRow is a row of events, the columns these tests look at.
type eventRow struct {
	TS                                           time.Time
	Type, Name, Path, Query, Anon, Session, User string
	Source, Medium, Campaign, ClickType, ClickID string
	Channel, Currency                            string
	Revenue                                      float64
	Engaged                                      uint32
	Props                                        map[string]string
}

func (r eventRow) String() string { return r.Type + " " + r.Name + " " + r.Path }

// eventRows returns the rows of events matching where, in time order.
func eventRows(t *testing.T, a *testApp, where string) []eventRow {
	t.Helper()
	rows, err := a.Conn.Query(context.Background(), `SELECT ts, type, name, path, query, anon_id, session_id, user_id,
		source, medium, campaign, click_id_type, click_id, channel, currency, revenue, engaged_ms, props.key, props.value
		FROM events WHERE `+where+` ORDER BY ts, ts_ms`)
	if err != nil {
		t.Fatalf("cannot read events: %v", err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var r eventRow
		var keys, values []string
		if err := rows.Scan(&r.TS, &r.Type, &r.Name, &r.Path, &r.Query, &r.Anon, &r.Session, &r.User, &r.Source, &r.Medium,
			&r.Campaign, &r.ClickType, &r.ClickID, &r.Channel, &r.Currency, &r.Revenue, &r.Engaged, &keys, &values); err != nil {
			t.Fatalf("cannot read events: %v", err)
		}
		r.Props = map[string]string{}
		for i := range min(len(keys), len(values)) {
			r.Props[keys[i]] = values[i]
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		t.Fatalf("no events where %s (%v)", where, err)
	}
	return out
}

// find returns the one row of typ with name (events) or path (page views); "" matches any.
func find(t *testing.T, rows []eventRow, typ, nameOrPath string) eventRow {
	t.Helper()
	var got []eventRow
	for _, r := range rows {
		if r.Type == typ && (nameOrPath == "" || r.Name == nameOrPath || (typ == "pageview" && r.Path == nameOrPath)) {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d rows of %s %s among %v, want 1", len(got), typ, nameOrPath, rows)
	}
	return got[0]
}

// findLeave returns the one leave of the page at path.
func findLeave(t *testing.T, rows []eventRow, path string) eventRow {
	t.Helper()
	var got []eventRow
	for _, r := range rows {
		if r.Type == "leave" && r.Path == path {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d leaves of %s among %v, want 1", len(got), path, rows)
	}
	return got[0]
}

// noPageErrors fails the test when the tab's page raised an exception, after giving the
// snippet's batch timer time to run.
func noPageErrors(t *testing.T, tab context.Context) {
	t.Helper()
	if errs := browsertest.Eval[[]string](t, tab, `new Promise((r) => setTimeout(() => r(window.__errors), 1200))`); len(errs) > 0 {
		t.Fatalf("page exceptions: %q", errs)
	}
}
