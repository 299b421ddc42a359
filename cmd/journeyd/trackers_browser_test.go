package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/journeyd/journeyd/snippet/browsertest"
)

// trackersDir is where make deps installs the browser trackers from npm
// (deploy/trackers/package.json, deploy/install-deps.sh).
var trackersDir = filepath.Join("..", "..", "var", "trackers", "node_modules")

// trackerBundles are the standalone builds the test pages load, as the npm packages ship them.
var trackerBundles = map[string]string{
	"segment":  "@segment/analytics-next/dist/umd/index.js",
	"rudder":   "@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js",
	"snowplow": "@snowplow/browser-tracker/dist/index.umd.min.js",
}

// trackersConfig: the SDKs' site lists the test pages' origin; the other site lists an origin
// nothing serves. {pages} is the test pages' origin.
const trackersConfig = `
sites:
  - id: sdkshop
    origins: ["{pages}"]
    write_keys: ["segment-key-0001", "rudder-key-00001"]
  - id: other
    origins: ["https://other.example"]
    write_keys: ["other-key-000001"]
`

// mobileUA is the browser's user agent: an Android phone, so that device and OS come from
// the request (or the SDK's context.userAgent) and not from a default.
const mobileUA = "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"

// TestBrowserTrackers loads the real Segment, RudderStack and Snowplow browser SDKs from npm
// in headless Chromium, pointed at a real journeyd with a throwaway ClickHouse database by
// the one line the README gives for each, and checks the rows that land.
func TestBrowserTrackers(t *testing.T) {
	for _, rel := range trackerBundles {
		if _, err := os.Stat(filepath.Join(trackersDir, rel)); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the browser trackers are not installed and CI=true (run make deps): %v", err)
			}
			t.Skipf("the browser trackers are not installed (run make deps): %v", err)
		}
	}
	pages := newTrackerPages(t)
	a := startApp(t, strings.ReplaceAll(trackersConfig, "{pages}", pages.URL))
	browser := browsertest.Start(t, chromedp.UserAgent(mobileUA))
	t.Run("segment", func(t *testing.T) { testSegmentBrowser(t, a, browser, pages.URL) })
	t.Run("segment-batching", func(t *testing.T) { testSegmentBatching(t, a, browser, pages.URL) })
	t.Run("rudderstack", func(t *testing.T) { testRudderBrowser(t, a, browser, pages.URL) })
	t.Run("snowplow", func(t *testing.T) { testSnowplowBrowser(t, a, browser, pages.URL) })
	t.Run("snowplow-get-and-pings", func(t *testing.T) { testSnowplowGetPings(t, a, browser, pages.URL) })
	t.Run("preflight-refused", func(t *testing.T) { testTrackerPreflightRefused(t, a, browser, pages.URL) })
}

// newTrackerPages serves the test pages, /npm/ (the installed packages) and, for
// analytics-next's lazily loaded chunks, /analytics-next/bundles/.
func newTrackerPages(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/npm/", http.StripPrefix("/npm/", http.FileServer(http.Dir(trackersDir))))
	umd := filepath.Join(trackersDir, "@segment", "analytics-next", "dist", "umd")
	mux.Handle("/analytics-next/bundles/", http.StripPrefix("/analytics-next/bundles/", http.FileServer(http.Dir(umd))))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		sdk := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".html")
		bundle, ok := trackerBundles[sdk]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// analytics-next loads its chunks from the CDN it saw when its script ran: here,
		// the page's own server, as a site's bundler would ship them.
		fmt.Fprintf(w, `<!doctype html><html><head><title>%s page</title>
<script>window.analytics = {_cdn: location.origin};</script>
<script src="/npm/%s"></script></head><body>%s</body></html>`, sdk, bundle, sdk)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// trackerRow is a row of events, the columns these tests check.
type trackerRow struct {
	Type, Name, Anon, User, Session, Channel, Device, Lib string
	Props                                                 map[string]string
}

// trackerRows returns the rows of events of site sdkshop matching where, in time order.
func trackerRows(t *testing.T, a *testApp, where string) []trackerRow {
	t.Helper()
	rows, err := a.Conn.Query(context.Background(), `SELECT type, name, anon_id, user_id, session_id, channel, device, lib,
		props.key, props.value FROM events WHERE site_id = 'sdkshop' AND `+where+` ORDER BY ts, ts_ms`)
	if err != nil {
		t.Fatalf("cannot read events: %v", err)
	}
	defer rows.Close()
	var out []trackerRow
	for rows.Next() {
		var r trackerRow
		var keys, values []string
		if err := rows.Scan(&r.Type, &r.Name, &r.Anon, &r.User, &r.Session, &r.Channel, &r.Device, &r.Lib, &keys, &values); err != nil {
			t.Fatalf("cannot read events: %v", err)
		}
		r.Props = map[string]string{}
		for i := range min(len(keys), len(values)) {
			r.Props[keys[i]] = values[i]
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// oneRow returns the one row of rows with type typ and name, failing otherwise.
func oneRow(t *testing.T, rows []trackerRow, typ, name string) trackerRow {
	t.Helper()
	var got []trackerRow
	for _, r := range rows {
		if r.Type == typ && r.Name == name {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d rows of %s %q among %+v, want 1", len(got), typ, name, rows)
	}
	return got[0]
}

// checkVisit checks what every row of one SDK's visit shares: the visitor's anonymous id,
// one session, the channel of the landing URL's campaign, and the phone the browser's user
// agent claims. (The OS is not checked: Chromium's client hints, which enrichment prefers,
// still name the machine's real platform.)
func checkVisit(t *testing.T, rows []trackerRow, anon, channel string) {
	t.Helper()
	for _, r := range rows {
		if r.Anon != anon || r.Session == "" || r.Session != rows[0].Session {
			t.Errorf("%s %q: anon %q session %q; want %q and the visit's one session %q", r.Type, r.Name, r.Anon, r.Session, anon, rows[0].Session)
		}
		if r.Channel != channel || r.Device != "mobile" {
			t.Errorf("%s %q: channel %q device %q; want %s and mobile", r.Type, r.Name, r.Channel, r.Device, channel)
		}
	}
}

// wantProp checks one property of a row.
func wantProp(t *testing.T, r trackerRow, key, want string) {
	t.Helper()
	if got, ok := r.Props[key]; !ok || got != want {
		t.Errorf("%s %q: property %s = %q, want %q (props %v)", r.Type, r.Name, key, got, want, r.Props)
	}
}

// testSegmentBrowser: analytics-next with cdnURL pointed at journeyd. It reads the settings
// there and posts /v1/p, /v1/t and /v1/i with text/plain bodies and Basic auth, each after
// a preflight.
func testSegmentBrowser(t *testing.T, a *testApp, browser context.Context, pages string) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(pages+"/segment.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring"))
	anon := browsertest.Eval[string](t, tab, fmt.Sprintf(`(async () => {
		const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({writeKey: 'segment-key-0001', cdnURL: %q});
		await analytics.page();
		await analytics.track('Add To Cart', {sku: 'kettle', price: 49});
		await analytics.identify('ada@example.com', {plan: 'pro'});
		return analytics.user().anonymousId();
	})()`, a.URL))
	// A page view, the event and the identify: three rows of the visitor.
	who := fmt.Sprintf("anon_id = '%s'", anon)
	a.waitCount(t, "SELECT count() FROM events WHERE site_id = 'sdkshop' AND "+who, 3)
	rows := trackerRows(t, a, who)
	checkVisit(t, rows, anon, "Email")
	oneRow(t, rows, "pageview", "")
	add := oneRow(t, rows, "event", "Add To Cart")
	wantProp(t, add, "sku", "kettle")
	wantProp(t, add, "price", "49")
	id := oneRow(t, rows, "identify", "")
	wantProp(t, id, "plan", "pro")
	if id.User != "ada@example.com" || !strings.HasPrefix(id.Lib, "analytics.js") {
		t.Errorf("identify: user %q lib %q, want ada@example.com from analytics.js", id.User, id.Lib)
	}
	noPageErrors(t, tab)
}

// testSegmentBatching: analytics-next in batching mode posts its events together to /v1/b.
func testSegmentBatching(t *testing.T, a *testApp, browser context.Context, pages string) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(pages+"/segment.html"))
	anon := browsertest.Eval[string](t, tab, fmt.Sprintf(`(async () => {
		const [analytics] = await AnalyticsNext.AnalyticsBrowser.load({writeKey: 'segment-key-0001', cdnURL: %q},
			{integrations: {'Segment.io': {deliveryStrategy: {strategy: 'batching', config: {size: 2, timeout: 500}}}}});
		analytics.track('First', {n: 1});
		analytics.track('Second', {n: 2});
		return analytics.user().anonymousId();
	})()`, a.URL))
	who := fmt.Sprintf("site_id = 'sdkshop' AND anon_id = '%s'", anon)
	a.waitCount(t, "SELECT count() FROM events WHERE "+who+" AND type = 'event' AND name IN ('First', 'Second')", 2)
	resp, err := http.Get(a.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(metrics), `journeyd_collector_requests_total{code="200",endpoint="segment_b"}`) {
		t.Errorf("no answered request of /v1/b in /metrics")
	}
	noPageErrors(t, tab)
}

// testRudderBrowser: RudderStack's SDK v3 with journeyd as data plane and configUrl. It
// reads /sourceConfig/ and posts /v1/page, /v1/track and /v1/identify.
func testRudderBrowser(t *testing.T, a *testApp, browser context.Context, pages string) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(pages+"/rudder.html?utm_source=google&utm_medium=cpc&utm_campaign=kettles"))
	ids := browsertest.Eval[[]string](t, tab, fmt.Sprintf(`new Promise((resolve) => {
		const ra = new rudderanalytics.RudderAnalytics();
		ra.load('rudder-key-00001', %q, {configUrl: %q, logLevel: 'ERROR'});
		ra.ready(() => {
			ra.page();
			ra.track('Add To Cart', {sku: 'kettle', price: 49});
			ra.identify('bob@example.com', {plan: 'team'});
			resolve([ra.getAnonymousId(), String(ra.getSessionId())]);
		});
	})`, a.URL, a.URL))
	anon, sid := ids[0], ids[1]
	who := fmt.Sprintf("anon_id = '%s'", anon)
	a.waitCount(t, "SELECT count() FROM events WHERE site_id = 'sdkshop' AND "+who, 3)
	rows := trackerRows(t, a, who)
	// google / cpc is Paid Search; RudderStack's own session id is kept.
	checkVisit(t, rows, anon, "Paid Search")
	oneRow(t, rows, "pageview", "")
	add := oneRow(t, rows, "event", "Add To Cart")
	wantProp(t, add, "sku", "kettle")
	wantProp(t, add, "price", "49")
	id := oneRow(t, rows, "identify", "")
	wantProp(t, id, "plan", "team")
	if rows[0].Session != sid {
		t.Errorf("session %q, want RudderStack's own %q", rows[0].Session, sid)
	}
	if id.User != "bob@example.com" {
		t.Errorf("identify: user %q, want bob@example.com", id.User)
	}
	noPageErrors(t, tab)
}

// testSnowplowBrowser: Snowplow's browser tracker with journeyd as its collector and the
// site id as its appId. It posts tp2 batches with credentials, each after a preflight.
func testSnowplowBrowser(t *testing.T, a *testApp, browser context.Context, pages string) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(pages+"/snowplow.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring"))
	ids := browsertest.Eval[[]string](t, tab, fmt.Sprintf(`(() => {
		const sp = snowplowBrowserTracking;
		const tracker = sp.newTracker('sp1', %q, {appId: 'sdkshop', bufferSize: 1});
		sp.trackPageView();
		sp.trackStructEvent({category: 'video', action: 'play', label: 'intro', property: 'hd', value: 1.5});
		sp.trackSelfDescribingEvent({event: {schema: 'iglu:com.acme/add_to_cart/jsonschema/1-0-0', data: {sku: 'kettle', quantity: 2}}});
		return [tracker.getDomainUserId(), tracker.getDomainSessionId()];
	})()`, a.URL))
	anon, sid := ids[0], ids[1]
	who := fmt.Sprintf("anon_id = '%s'", anon)
	a.waitCount(t, "SELECT count() FROM events WHERE site_id = 'sdkshop' AND "+who, 3)
	rows := trackerRows(t, a, who)
	checkVisit(t, rows, anon, "Email")
	if rows[0].Session != sid {
		t.Errorf("session %q, want the tracker's own %q", rows[0].Session, sid)
	}
	pv := oneRow(t, rows, "pageview", "")
	if pv.Props["web_page.id"] == "" || !strings.HasPrefix(pv.Lib, "js-") {
		t.Errorf("page view: props %v lib %q, want the web_page context's id and the tracker's version", pv.Props, pv.Lib)
	}
	play := oneRow(t, rows, "event", "play")
	for k, v := range map[string]string{"category": "video", "label": "intro", "property": "hd", "value": "1.5"} {
		wantProp(t, play, k, v)
	}
	add := oneRow(t, rows, "event", "add_to_cart")
	wantProp(t, add, "sku", "kettle")
	wantProp(t, add, "quantity", "2")
	wantProp(t, add, "$schema", "iglu:com.acme/add_to_cart/jsonschema/1-0-0")
	noPageErrors(t, tab)
}

// testSnowplowGetPings: the tracker in GET mode (its requests go to /i, credentialed) with
// activity tracking: a page view, then page pings while the page is active, each a leave of
// 10 s engaged time.
func testSnowplowGetPings(t *testing.T, a *testApp, browser context.Context, pages string) {
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(pages+"/snowplow.html"))
	anon := browsertest.Eval[string](t, tab, fmt.Sprintf(`(() => {
		const sp = snowplowBrowserTracking;
		const tracker = sp.newTracker('sp2', %q, {appId: 'sdkshop', eventMethod: 'get'});
		sp.enableActivityTracking({minimumVisitLength: 1, heartbeatDelay: 1});
		sp.trackPageView();
		setInterval(() => sp.updatePageActivity(), 200); // the visitor keeps moving
		return tracker.getDomainUserId();
	})()`, a.URL))
	who := fmt.Sprintf("site_id = 'sdkshop' AND anon_id = '%s'", anon)
	a.waitCount(t, "SELECT count() FROM events WHERE "+who+" AND type = 'pageview'", 1)
	// Pings keep coming while the page is active: wait for the first one.
	a.waitCount(t, "SELECT least(count(), 1) FROM events WHERE "+who+" AND type = 'leave' AND name = 'page_ping'", 1)
	var engaged uint32
	if err := a.Conn.QueryRow(context.Background(), "SELECT any(engaged_ms) FROM events WHERE "+who+" AND type = 'leave'").Scan(&engaged); err != nil {
		t.Fatal(err)
	}
	if engaged != 10000 {
		t.Errorf("a page ping's engaged time %d ms, want 10000", engaged)
	}
	noPageErrors(t, tab)
}

// testTrackerPreflightRefused: a page of an origin no site lists (the same server under
// another host name) cannot post to the SDKs' endpoints: the browser's preflight is refused,
// and so is the one a client asks for by hand.
func testTrackerPreflightRefused(t *testing.T, a *testApp, browser context.Context, pages string) {
	other := strings.Replace(pages, "127.0.0.1", "localhost", 1)
	tab := browsertest.Tab(t, browser, true, pageHooks...)
	browsertest.Do(t, tab, chromedp.Navigate(other+"/segment.html"))
	for _, path := range []string{"/v1/t", "/v1/track", "/com.snowplowanalytics.snowplow/tp2"} {
		got := browsertest.Eval[string](t, tab, fmt.Sprintf(`fetch(%q, {method: 'POST', credentials: 'include',
			headers: {'Content-Type': 'application/json', 'Authorization': 'Basic ' + btoa('segment-key-0001:')},
			body: '{"type":"track","event":"x","anonymousId":"refused"}'}).then(() => 'sent', (e) => 'refused: ' + e)`, a.URL+path))
		if !strings.HasPrefix(got, "refused") {
			t.Errorf("POST %s from %s: %s, want the preflight refused", path, other, got)
		}
		req, _ := http.NewRequest("OPTIONS", a.URL+path, nil)
		req.Header.Set("Origin", other)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("OPTIONS %s from %s: %d, ACAO %q; want 403 and no ACAO", path, other, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	a.waitCount(t, "SELECT count() FROM events WHERE anon_id = 'refused'", 0)
}
