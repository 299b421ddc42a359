package collector

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/enrich/standard"
	"github.com/journeyd/journeyd/collector/pixel"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// browserSites: both sites list their origins, so that a preflight can be refused.
func browserSites(c *Config) {
	reg, err := site.NewRegistry([]site.Site{
		{ID: "shop", Origins: []string{"https://shop.example"}, WriteKeys: []string{shopKey}},
		{ID: "blog", Origins: []string{"https://blog.example"}, WriteKeys: []string{blogKey}},
	})
	if err != nil {
		panic(err)
	}
	c.Sites = reg
}

// wantCORS checks that resp lets origin read it, credentials included.
func wantCORS(t *testing.T, what string, resp *fasthttp.Response, origin string) {
	t.Helper()
	if got := string(resp.Header.Peek("Access-Control-Allow-Origin")); got != origin {
		t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", what, got, origin)
	}
	if origin != "" && string(resp.Header.Peek("Access-Control-Allow-Credentials")) != "true" {
		t.Errorf("%s: credentials not allowed", what)
	}
}

func TestSDKPreflight(t *testing.T) {
	h := newHarness(t, browserSites)
	f := func(path, origin string, want int) {
		t.Helper()
		resp := h.do("OPTIONS", path, nil, "Origin", origin, "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "authorization,content-type,x-retry-count")
		allowed := ""
		if want == 204 {
			allowed = origin
		}
		if resp.StatusCode() != want {
			t.Fatalf("OPTIONS %s from %s: %d %s, want %d", path, origin, resp.StatusCode(), resp.Body(), want)
		}
		wantCORS(t, "OPTIONS "+path, resp, allowed)
		if want == 204 && string(resp.Header.Peek("Access-Control-Allow-Headers")) != "authorization,content-type,x-retry-count" {
			t.Errorf("OPTIONS %s: allowed headers %q, want the requested ones", path, resp.Header.Peek("Access-Control-Allow-Headers"))
		}
	}
	for _, p := range []string{"/v1/t", "/v1/p", "/v1/i", "/v1/b", "/v1/track", "/v1/batch", "/sourceConfig/", "/com.snowplowanalytics.snowplow/tp2"} {
		f(p, "https://shop.example", 204)
		f(p, "https://blog.example", 204)
		f(p, "https://evil.example", 403)
	}
}

func TestSegmentSettings(t *testing.T) {
	h := newHarness(t, browserSites)
	resp := h.do("GET", "/v1/projects/"+shopKey+"/settings", nil, "Origin", "https://shop.example")
	if resp.StatusCode() != 200 {
		t.Fatalf("settings: %d %s", resp.StatusCode(), resp.Body())
	}
	wantCORS(t, "settings", resp, "https://shop.example")
	var s struct {
		Integrations map[string]struct{ APIKey, APIHost, Protocol string }
	}
	if err := json.Unmarshal(resp.Body(), &s); err != nil {
		t.Fatal(err)
	}
	// The harness sends to http://journeyd: the SDK is to post to http://journeyd/v1/<letter>.
	if got := s.Integrations["Segment.io"]; got.APIKey != shopKey || got.APIHost != "journeyd/v1" || got.Protocol != "http" {
		t.Fatalf("Segment.io settings %+v, want the key, journeyd/v1 and http", got)
	}
	f := func(uri, origin string, want int) {
		t.Helper()
		if resp := h.do("GET", uri, nil, "Origin", origin); resp.StatusCode() != want {
			t.Fatalf("GET %s from %s: %d %s, want %d", uri, origin, resp.StatusCode(), resp.Body(), want)
		}
	}
	f("/v1/projects/unknown-key/settings", "https://shop.example", 404)
	f("/v1/projects/"+shopKey+"/settings", "https://blog.example", 403) // another site's origin
	f("/v1/projects/"+shopKey+"/other", "https://shop.example", 404)
}

func TestRudderConfig(t *testing.T) {
	h := newHarness(t, browserSites)
	resp := h.do("GET", "/sourceConfig/?p=npm&v=3.34.1&build=modern&writeKey="+blogKey, nil,
		"Origin", "https://blog.example", "Authorization", basic(blogKey))
	if resp.StatusCode() != 200 {
		t.Fatalf("sourceConfig: %d %s", resp.StatusCode(), resp.Body())
	}
	wantCORS(t, "sourceConfig", resp, "https://blog.example")
	var c struct {
		Source struct {
			ID           string
			Enabled      bool
			Destinations []any
			Config       map[string]any
		}
	}
	if err := json.Unmarshal(resp.Body(), &c); err != nil || c.Source.ID != "blog" || !c.Source.Enabled || c.Source.Destinations == nil || c.Source.Config == nil {
		t.Fatalf("sourceConfig %s (%v): want the enabled source blog with no destinations", resp.Body(), err)
	}
	if resp := h.do("GET", "/sourceConfig/?writeKey=nope", nil); resp.StatusCode() != 404 {
		t.Fatalf("unknown key: %d", resp.StatusCode())
	}
}

// analytics-next's track from the shop's page: text/plain, Basic auth, the key in the body.
const browserTrack = `{"timestamp":"2025-06-01T11:59:59.000Z","sentAt":"2025-06-01T12:00:00.000Z","type":"track",
 "event":"Signed Up","properties":{"plan":"pro"},"anonymousId":"anon-1","messageId":"ajs-1","writeKey":"` + shopKey + `",
 "context":{"page":{"url":"https://shop.example/pricing","referrer":"$direct"},"userAgent":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"}}`

func TestSegmentFromBrowser(t *testing.T) {
	h := newHarness(t, browserSites)
	resp := h.do("POST", "/v1/t", []byte(browserTrack), "Origin", "https://shop.example",
		"Content-Type", "text/plain", "Authorization", basic(shopKey))
	if resp.StatusCode() != 200 {
		t.Fatalf("POST /v1/t: %d %s", resp.StatusCode(), resp.Body())
	}
	wantCORS(t, "POST /v1/t", resp, "https://shop.example")
	evs := h.sink.take()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	// A browser's track is an event like the snippet's, at the corrected time (1 s before
	// it was sent), with no referrer for RudderStack's "$direct".
	e := evs[0]
	if e.Type != event.TypeEvent || e.Name != "Signed Up" || e.SiteID != "shop" || e.Referrer != "" || !e.TS.Equal(testNow.Add(-1e9)) {
		t.Fatalf("event %s %q site %s referrer %q at %v", e.Type, e.Name, e.SiteID, e.Referrer, e.TS)
	}
	// The blog's origin may not send with the shop's key: 403, nothing stored.
	resp = h.do("POST", "/v1/t", []byte(strings.Replace(browserTrack, "ajs-1", "ajs-2", 1)), "Origin", "https://blog.example",
		"Content-Type", "text/plain", "Authorization", basic(shopKey))
	if resp.StatusCode() != 403 || len(h.sink.take()) != 0 || h.counter(rejected, "segment_t", "origin") != 1 {
		t.Fatalf("the blog's origin with the shop's key: %d %s", resp.StatusCode(), resp.Body())
	}
	// A backend's track (no Origin) stays a server event.
	resp = h.do("POST", "/v1/track", []byte(strings.Replace(browserTrack, "ajs-1", "srv-1", 1)), "Authorization", basic(shopKey))
	if evs := h.sink.take(); resp.StatusCode() != 200 || len(evs) != 1 || evs[0].Type != event.TypeServer {
		t.Fatalf("backend track: %d %s, %d events", resp.StatusCode(), resp.Body(), len(evs))
	}
}

// tp2 is a browser tracker's batch: a page view and a structured event of the shop.
const tp2 = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[
{"e":"pv","aid":"shop","eid":"sp-1","duid":"d1","sid":"s1","url":"https://shop.example/","tv":"js-4.10.1","dtm":"1748779199000","stm":"1748779200000"},
{"e":"se","aid":"shop","eid":"sp-2","duid":"d1","sid":"s1","se_ca":"cart","se_ac":"add","dtm":"1748779200000","stm":"1748779200000"}]}`

func TestSnowplowEndpoints(t *testing.T) {
	h := newHarness(t, browserSites)
	post := func(body, origin string) *fasthttp.Response {
		return h.do("POST", "/com.snowplowanalytics.snowplow/tp2", []byte(body), "Origin", origin, "Content-Type", "application/json; charset=UTF-8")
	}
	resp := post(tp2, "https://shop.example")
	if resp.StatusCode() != 200 {
		t.Fatalf("tp2: %d %s", resp.StatusCode(), resp.Body())
	}
	wantCORS(t, "tp2", resp, "https://shop.example")
	evs := h.sink.take()
	if len(evs) != 2 || evs[0].Type != event.TypePageview || evs[1].Name != "add" || evs[0].SiteID != "shop" ||
		evs[0].AnonID != "d1" || evs[1].SessionID != "s1" || !evs[0].TS.Equal(testNow.Add(-1e9)) {
		t.Fatalf("tp2 events: %+v", evs)
	}
	f := func(body, origin string, want int, msg string) {
		t.Helper()
		resp := post(body, origin)
		if resp.StatusCode() != want || !strings.Contains(string(resp.Body()), msg) {
			t.Fatalf("%s: %d %s, want %d with %q", body, resp.StatusCode(), resp.Body(), want, msg)
		}
		if n := len(h.sink.take()); n != 0 {
			t.Fatalf("%s: stored %d events", body, n)
		}
	}
	f(`{"data":"x"}`, "https://shop.example", 400, "payload_data")
	f(strings.ReplaceAll(tp2, `"shop"`, `"nosuch"`), "https://shop.example", 400, `unknown application id "nosuch"`)
	f(strings.ReplaceAll(tp2, "sp-", "new-"), "https://blog.example", 403, "may not send events for site")
	f(tp2, "https://shop.example", 200, "") // a retry: duplicates, dropped
	if got := h.counter(rejected, "snowplow_tp2", "duplicate"); got != 2 {
		t.Fatalf("duplicates counted %v, want 2", got)
	}

	resp = h.do("GET", "/i?e=pv&aid=shop&eid=sp-3&duid=d1&url=https%3A%2F%2Fshop.example%2Fa", nil, "Origin", "https://shop.example")
	if resp.StatusCode() != 200 || string(resp.Body()) != string(pixel.GIF) || len(resp.Header.Peek(RejectHeader)) != 0 {
		t.Fatalf("GET /i: %d %q reject %q", resp.StatusCode(), resp.Body(), resp.Header.Peek(RejectHeader))
	}
	wantCORS(t, "GET /i", resp, "https://shop.example")
	if evs := h.sink.take(); len(evs) != 1 || evs[0].URL != "https://shop.example/a" {
		t.Fatalf("GET /i events: %+v", evs)
	}
	resp = h.do("GET", "/i?e=pv", nil)
	if resp.StatusCode() != 200 || string(resp.Header.Peek(RejectHeader)) != "malformed" {
		t.Fatalf("GET /i without aid: %d reject %q", resp.StatusCode(), resp.Header.Peek(RejectHeader))
	}
}

// TestSegmentBrowserBatch: analytics-next in batching mode posts /v1/b with the write key
// and one sentAt for the batch; every message is a browser event of the key's site.
func TestSegmentBrowserBatch(t *testing.T) {
	h := newHarness(t, browserSites)
	body := `{"writeKey":"` + shopKey + `","sentAt":"2025-06-01T12:00:00.000Z","batch":[
 {"type":"page","anonymousId":"anon-2","messageId":"b-1","timestamp":"2025-06-01T11:59:58.000Z","properties":{"url":"https://shop.example/"}},
 {"type":"track","event":"Clicked","anonymousId":"anon-2","messageId":"b-2","timestamp":"2025-06-01T11:59:59.000Z"}]}`
	resp := h.do("POST", "/v1/b", []byte(body), "Origin", "https://shop.example", "Content-Type", "text/plain", "Authorization", basic(shopKey))
	if resp.StatusCode() != 200 {
		t.Fatalf("POST /v1/b: %d %s", resp.StatusCode(), resp.Body())
	}
	evs := h.sink.take()
	// Both messages, 2 s and 1 s before the batch was sent.
	if len(evs) != 2 || evs[0].Type != event.TypePageview || evs[1].Type != event.TypeEvent || evs[1].Name != "Clicked" ||
		!evs[0].TS.Equal(testNow.Add(-2e9)) || !evs[1].TS.Equal(testNow.Add(-1e9)) {
		t.Fatalf("batch events: %+v", evs)
	}
}

// TestSnowplowEnriched runs tp2 posts through the real enrichment chain: the request's
// address and user agent describe a browser's events, a mobile tracker's own ua and ip win,
// and SP-Anonymous keeps the address out.
func TestSnowplowEnriched(t *testing.T) {
	en, err := standard.New(standard.Options{TrustedProxies: []string{"127.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, browserSites, func(c *Config) { c.Enricher, c.ClientIP = en, en.ClientIP })
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	mobile := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","aid":"shop","eid":"m-1","ua":"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1","ip":"203.0.113.50","url":"https://shop.example/"}]}`
	post := func(body string, headers ...string) {
		t.Helper()
		resp := h.do("POST", "/com.snowplowanalytics.snowplow/tp2", []byte(body), append([]string{"User-Agent", ua, "X-Forwarded-For", "198.51.100.23"}, headers...)...)
		if resp.StatusCode() != 200 {
			t.Fatalf("tp2: %d %s", resp.StatusCode(), resp.Body())
		}
	}
	post(tp2, "Origin", "https://shop.example")
	post(mobile)
	post(strings.ReplaceAll(tp2, "sp-", "anon-"), "Origin", "https://shop.example", "SP-Anonymous", "*")
	evs := h.sink.take()
	if len(evs) != 5 {
		t.Fatalf("%d events, want 2 + 1 + 2", len(evs))
	}
	if e := evs[0]; e.IP != "198.51.100.0" || e.Device != "desktop" {
		t.Errorf("browser's event: ip %q device %q, want the request's 198.51.100.0 and desktop", e.IP, e.Device)
	}
	if e := evs[2]; e.IP != "203.0.113.0" || e.Device != "mobile" {
		t.Errorf("mobile tracker's event: ip %q device %q, want its own 203.0.113.0 and mobile", e.IP, e.Device)
	}
	if e := evs[3]; e.IP != "" || e.Country != "" || e.Device != "desktop" {
		t.Errorf("SP-Anonymous event: ip %q country %q device %q, want no address", e.IP, e.Country, e.Device)
	}
}
