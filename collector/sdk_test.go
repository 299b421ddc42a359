package collector

import (
	"context"
	"net"
	"sort"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

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
	srv, err := New(Config{Sites: testSites(t), Sink: sink, Now: func() time.Time { return time.Now() }})
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
