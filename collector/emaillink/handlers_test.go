package emaillink

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeyd/journeyd/collector/pixel"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/collector/enrich/standard"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

var _ Server = (*collector.Server)(nil)

// memorySink keeps what the collector hands on, for tests that look at the events.
type memorySink struct {
	mu     sync.Mutex
	events []event.Event
}

func (m *memorySink) Write(_ context.Context, events []event.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, events...)
	return nil
}

func (m *memorySink) take() []event.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.events
	m.events = nil
	return out
}

type fixture struct {
	srv    *collector.Server
	sink   *memorySink
	reg    *prometheus.Registry
	signer *Signer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	sites, err := site.NewRegistry([]site.Site{{ID: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	en, err := standard.New(standard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{sink: &memorySink{}, reg: prometheus.NewRegistry(), signer: signer(t, "k1:0123456789abcdef0123")}
	f.srv, err = collector.New(collector.Config{Sites: sites, Sink: f.sink, Enricher: en, Registerer: f.reg,
		Clock: event.ClockFunc(func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) })})
	if err != nil {
		t.Fatal(err)
	}
	Register(f.srv, Config{Signer: f.signer, Sites: sites, AdminToken: "admin-secret-token",
		Clock: event.ClockFunc(func() time.Time { return fixtureNow })})
	return f
}

// fixtureNow is the time of the fixture's collector and link handlers.
var fixtureNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// do serves one request through the collector's handler.
func (f *fixture) do(method, uri string, body []byte, headers ...string) *fasthttp.Response {
	var ctx fasthttp.RequestCtx
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.SetBody(body)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	ctx.Init(req, &net.TCPAddr{IP: net.ParseIP("81.2.69.160"), Port: 5000}, nil)
	f.srv.Handler()(&ctx)
	resp := &fasthttp.Response{}
	ctx.Response.CopyTo(resp)
	return resp
}

func (f *fixture) rejected(endpoint, reason string) float64 {
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "journeyd_collector_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["endpoint"] == endpoint && labels["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestClickRedirectsAndRecords(t *testing.T) {
	f := newFixture(t)
	token, _ := f.signer.Sign(sample)
	resp := f.do("GET", "http://t.shop.example/r/"+token, nil, "Referer", "https://mail.google.com/")
	if resp.StatusCode() != fasthttp.StatusFound || string(resp.Header.Peek("Location")) != sample.URL {
		t.Fatalf("click answered %d Location %q; want 302 to %q", resp.StatusCode(), resp.Header.Peek("Location"), sample.URL)
	}
	events := f.sink.take()
	if len(events) != 1 {
		t.Fatalf("%d events recorded, want 1", len(events))
	}
	e := events[0]
	if e.Type != event.TypeEmailClick || e.Name != ClickName || e.SiteID != "shop" || e.URL != sample.URL ||
		e.Host != "shop.example" || e.Path != "/cart" || e.UserID != "u-42" || e.AnonID != "a-1" ||
		e.Source != "trigger" || e.Medium != "email" || e.Campaign != "abandoned cart" || e.Content != "button" ||
		e.Channel != "Email" || e.ReferrerKind != "email" || e.Browser != "Chrome" || e.IP != "81.2.69.0" {
		t.Fatalf("click event %+v", e)
	}
}

func TestForgedClickNeverRedirects(t *testing.T) {
	f := newFixture(t)
	token, _ := f.signer.Sign(sample)
	evil := signer(t, "k1:not-the-server-secret!")
	forged, _ := evil.Sign(Link{SiteID: "shop", URL: "https://evil.example/phish"})
	for _, tok := range []string{forged, token[:len(token)-2] + "AA", "", "garbage", token + "/x"} {
		resp := f.do("GET", "/r/"+tok, nil)
		if resp.StatusCode() != fasthttp.StatusBadRequest || len(resp.Header.Peek("Location")) != 0 {
			t.Fatalf("token %.30q answered %d Location %q; want 400 without a redirect", tok, resp.StatusCode(), resp.Header.Peek("Location"))
		}
	}
	if n := len(f.sink.take()); n != 0 {
		t.Fatalf("forged clicks recorded %d events", n)
	}
	if got := f.rejected("r", "bad_signature"); got != 2 {
		t.Fatalf("bad_signature rejections counted %v, want 2", got)
	}
}

func TestOpenAlwaysAnswersTheGIF(t *testing.T) {
	f := newFixture(t)
	token, _ := f.signer.Sign(sample)
	resp := f.do("GET", "/o/"+token+".gif", nil, "User-Agent", "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)")
	if resp.StatusCode() != 200 || !bytes.Equal(resp.Body(), pixel.GIF) || len(pixel.GIF) != 43 || len(resp.Header.Peek(RejectHeader)) != 0 {
		t.Fatalf("open answered %d, %d bytes, reject %q", resp.StatusCode(), len(resp.Body()), resp.Header.Peek(RejectHeader))
	}
	events := f.sink.take()
	if len(events) != 1 || events[0].Type != event.TypeEmailOpen || events[0].Name != OpenName ||
		events[0].Channel != "Email" || events[0].IsBot || events[0].UserID != "u-42" {
		t.Fatalf("open events %+v", events)
	}
	if v, _ := events[0].Prop("link_url"); v != sample.URL {
		t.Fatalf("open link_url %q", v)
	}
	resp = f.do("GET", "/o/"+token[:len(token)-3]+"x.gif", nil)
	if resp.StatusCode() != 200 || !bytes.Equal(resp.Body(), pixel.GIF) || string(resp.Header.Peek(RejectHeader)) != "bad_signature" {
		t.Fatalf("tampered open answered %d, reject %q", resp.StatusCode(), resp.Header.Peek(RejectHeader))
	}
	other, _ := f.signer.Sign(Link{SiteID: "nosuchsite", URL: "https://a.example/"})
	if resp = f.do("GET", "/o/"+other+".gif", nil); string(resp.Header.Peek(RejectHeader)) != "unknown_site" {
		t.Fatalf("open of an unknown site: reject %q", resp.Header.Peek(RejectHeader))
	}
	if n := len(f.sink.take()); n != 0 || f.rejected("o", "bad_signature") != 1 {
		t.Fatalf("rejected opens recorded %d events, counted %v", n, f.rejected("o", "bad_signature"))
	}
}

func TestAPI(t *testing.T) {
	f := newFixture(t)
	body := []byte(`{"site":"shop","url":"https://shop.example/sale","campaign":"spring","user_id":"u-7"}`)
	resp := f.do("POST", "http://t.shop.example/api/v1/links", body, "Authorization", "Bearer admin-secret-token")
	var urls URLs
	if resp.StatusCode() != 200 || json.Unmarshal(resp.Body(), &urls) != nil {
		t.Fatalf("API answered %d %s", resp.StatusCode(), resp.Body())
	}
	if !strings.HasPrefix(urls.Click, "http://t.shop.example/r/") || urls.Open != "http://t.shop.example/o/"+urls.Token+".gif" {
		t.Fatalf("API urls %+v", urls)
	}
	l, err := f.signer.Verify(urls.Token)
	if err != nil || l.Medium != "email" || l.UserID != "u-7" || l.Campaign != "spring" {
		t.Fatalf("API token carries %+v, %v", l, err)
	}
	check := func(method string, body []byte, status int, headers ...string) {
		t.Helper()
		if resp := f.do(method, "/api/v1/links", body, headers...); resp.StatusCode() != status {
			t.Fatalf("%s %s: %d %s, want %d", method, body, resp.StatusCode(), resp.Body(), status)
		}
	}
	check("POST", body, 401)
	check("POST", body, 401, "Authorization", "Bearer wrong")
	check("POST", body, 200, "Authorization", "bearer admin-secret-token") // the scheme in any case, as the reports API
	check("GET", nil, 405, "X-Admin-Token", "admin-secret-token")
	check("POST", []byte(`{"site":"shop"`), 400, "X-Admin-Token", "admin-secret-token")
	check("POST", []byte(`{"site":"shop","url":"javascript:alert(1)","campaign":"c"}`), 400, "X-Admin-Token", "admin-secret-token")
	check("POST", []byte(`{"site":"other","url":"https://a.example/","campaign":"c"}`), 400, "X-Admin-Token", "admin-secret-token")
}

// TestExpiredLinks: at the fixture's time (2025-03-01 12:00) a link that expired a second
// before answers 410 to a click and records nothing, its open pixel still answers the GIF
// but records nothing; both count the reason expired. A link expiring a second later works.
func TestExpiredLinks(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		expires time.Time
		click   int
		events  int
	}{{fixtureNow.Add(-time.Second), 410, 0}, {fixtureNow.Add(time.Second), 302, 2}} {
		l := sample
		l.SiteID, l.ExpiresAt = "shop", c.expires.Unix()
		token, err := f.signer.Sign(l)
		if err != nil {
			t.Fatal(err)
		}
		before := f.rejected("r", "expired") + f.rejected("o", "expired")
		if got := f.do("GET", ClickPrefix+token, nil).StatusCode(); got != c.click {
			t.Errorf("click on a link expiring %v: %d, want %d", c.expires, got, c.click)
		}
		open := f.do("GET", OpenPrefix+token+OpenSuffix, nil)
		if open.StatusCode() != 200 || string(open.Header.ContentType()) != "image/gif" {
			t.Errorf("open pixel of a link expiring %v: %d %s, want the GIF", c.expires, open.StatusCode(), open.Header.ContentType())
		}
		if n := len(f.sink.take()); n != c.events {
			t.Errorf("link expiring %v recorded %d events, want %d", c.expires, n, c.events)
		}
		if c.events == 0 && f.rejected("r", "expired")+f.rejected("o", "expired") != before+2 {
			t.Errorf("expired link: rejections counted %v, want 2 more than %v", f.rejected("r", "expired")+f.rejected("o", "expired"), before)
		}
	}
}
