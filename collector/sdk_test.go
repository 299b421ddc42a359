package collector

import (
	"context"
	"net"
	"sort"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

	"github.com/journeyd/journeyd/collector/enrich/standard"
	"github.com/journeyd/journeyd/event"
)

// serveLoopback serves srv on a real loopback port and returns its URL.
func serveLoopback(t *testing.T, srv *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // returns at Shutdown
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// sendWithSDK sends track, identify, page and alias through the Go Segment SDK and waits
// until it has flushed them.
func sendWithSDK(t *testing.T, endpoint, key string) {
	t.Helper()
	failures := make(chan error, 10)
	client, err := analytics.NewWithConfig(key, analytics.Config{
		Endpoint: endpoint, BatchSize: 10, Interval: time.Hour,
		Callback: callback{failures},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(-time.Minute)
	for _, m := range []analytics.Message{
		analytics.Track{MessageId: "sdk-track", UserId: "u1", Event: "Order Paid", Timestamp: ts,
			Properties: analytics.NewProperties().SetRevenue(49.5).SetCurrency("EUR").Set("order_id", "o-1")},
		analytics.Identify{MessageId: "sdk-identify", AnonymousId: "anon-1", UserId: "u1", Timestamp: ts,
			Traits: analytics.NewTraits().SetEmail("u1@example.com")},
		analytics.Page{MessageId: "sdk-page", AnonymousId: "anon-1", Name: "Pricing", Timestamp: ts,
			Properties: analytics.NewProperties().SetURL("https://shop.example/pricing?utm_source=sdk")},
		analytics.Alias{MessageId: "sdk-alias", PreviousId: "anon-1", UserId: "u1", Timestamp: ts},
	} {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failures:
		t.Fatalf("the SDK failed to deliver: %v", err)
	default:
	}
}

type callback struct{ failures chan error }

func (callback) Success(analytics.Message) {}
func (c callback) Failure(_ analytics.Message, err error) {
	select {
	case c.failures <- err:
	default:
	}
}

func TestSegmentSDK(t *testing.T) {
	sink := &recordingSink{}
	srv, err := New(Config{Sites: testSites(t), Sink: sink, Clock: event.SystemClock})
	if err != nil {
		t.Fatal(err)
	}
	sendWithSDK(t, serveLoopback(t, srv), shopKey)
	evs := sink.take()
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID < evs[j].ID })
	want := []struct{ id, typ, name, anon, user string }{
		{"sdk-alias", event.TypeAlias, "", "anon-1", "u1"},
		{"sdk-identify", event.TypeIdentify, "", "anon-1", "u1"},
		{"sdk-page", event.TypePageview, "Pricing", "anon-1", ""},
		{"sdk-track", event.TypeServer, "Order Paid", "", "u1"},
	}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	for i, w := range want {
		e := evs[i]
		if e.ID != w.id || e.Type != w.typ || e.Name != w.name || e.AnonID != w.anon || e.UserID != w.user ||
			e.SiteID != "shop" || e.Library != "analytics-go" {
			t.Fatalf("event %d: %+v, want %+v", i, e, w)
		}
		// The SDK stamps sentAt by its own clock, which is the test's: the corrected time
		// is within a second of the timestamp, a minute ago.
		if d := time.Since(e.TS); d < 59*time.Second || d > 62*time.Second {
			t.Fatalf("event %s at %v, %v ago; want about a minute", e.ID, e.TS, d)
		}
	}
	if evs[3].Revenue != 49.5 || evs[3].Currency != "EUR" {
		t.Fatalf("track revenue %v %q", evs[3].Revenue, evs[3].Currency)
	}
	if evs[2].URL != "https://shop.example/pricing?utm_source=sdk" {
		t.Fatalf("page url %q", evs[2].URL)
	}
}

// TestSegmentSDKContext sends, through the Go Segment SDK and the standard enrichment chain,
// a backend's track call and an app's screen call that carry context.app, os, locale,
// timezone and traits: each is kept as a property, and context.os.name fills the os column
// unless the user agent names an OS.
func TestSegmentSDKContext(t *testing.T) {
	sink := &recordingSink{}
	en, err := standard.New(standard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Sites: testSites(t), Sink: sink, Enricher: en, ClientIP: en.ClientIP, Clock: event.SystemClock})
	if err != nil {
		t.Fatal(err)
	}
	client, err := analytics.NewWithConfig(shopKey, analytics.Config{Endpoint: serveLoopback(t, srv), BatchSize: 10, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	appCtx := &analytics.Context{
		App: analytics.AppInfo{Name: "Shop", Version: "2.3.1"}, OS: analytics.OSInfo{Name: "iOS", Version: "17.5"},
		Locale: "ru-RU", Timezone: "Europe/Moscow", Traits: analytics.NewTraits().Set("plan", "pro"),
	}
	macCtx := &analytics.Context{OS: analytics.OSInfo{Name: "iOS"},
		UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"}
	for _, m := range []analytics.Message{
		analytics.Track{MessageId: "ctx-track", UserId: "u1", Event: "Order Completed", Context: appCtx},
		analytics.Screen{MessageId: "ctx-screen", AnonymousId: "anon-1", Name: "Cart", Context: macCtx},
	} {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	evs := sink.take()
	sort.Slice(evs, func(i, j int) bool { return evs[i].ID > evs[j].ID })
	if len(evs) != 2 || evs[0].ID != "ctx-track" || evs[1].ID != "ctx-screen" {
		t.Fatalf("got %d events %+v, want ctx-track and ctx-screen", len(evs), evs)
	}
	track, screen := evs[0], evs[1]
	for key, want := range map[string]string{"context.app.name": "Shop", "context.app.version": "2.3.1",
		"context.os.name": "iOS", "context.os.version": "17.5", "context.locale": "ru-RU",
		"context.timezone": "Europe/Moscow", "context.traits.plan": "pro"} {
		if got, _ := track.Prop(key); got != want {
			t.Errorf("track: property %s = %q, want %q (props %v = %v)", key, got, want, track.PropKeys, track.PropValues)
		}
	}
	// No user agent on the backend's call: the os column is the context's.
	if track.OS != "iOS" {
		t.Errorf("track: os %q, want iOS from context.os", track.OS)
	}
	// The screen's user agent is a Mac's: it names the OS and wins; context.os stays a property.
	if got, _ := screen.Prop("context.os.name"); screen.OS != "macOS" || got != "iOS" || screen.Type != event.TypeScreen || screen.Name != "Cart" {
		t.Errorf("screen: type %q name %q os %q, context.os.name %q; want screen Cart, macOS, iOS", screen.Type, screen.Name, screen.OS, got)
	}
}
