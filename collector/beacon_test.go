package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
)

const shopBatch = `{"site":"shop","aid":"a1","sid":"s1","sent":1748779200000,
 "utm":{"source":"yandex","medium":"cpc"},"click":{"type":"yclid","id":"Y1"},
 "events":[{"id":"b1","type":"pageview","ts":1748779195000,"url":"https://shop.example/","title":"Shop"},
           {"id":"b2","type":"event","name":"signup","ts":1748779199000,"props":{"plan":"pro"}}]}`

func TestBeacon(t *testing.T) {
	h := newHarness(t)
	resp := h.do("POST", "/e", []byte(shopBatch), "Origin", "https://shop.example", "Content-Type", "text/plain")
	if resp.StatusCode() != 204 || string(resp.Header.Peek("Access-Control-Allow-Origin")) != "https://shop.example" {
		t.Fatalf("POST /e: %d, ACAO %q: %s", resp.StatusCode(), resp.Header.Peek("Access-Control-Allow-Origin"), resp.Body())
	}
	evs := h.sink.take()
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	e := evs[0]
	if e.ID != "b1" || e.SiteID != "shop" || e.AnonID != "a1" || e.SessionID != "s1" || e.Source != "yandex" ||
		e.ClickID != "Y1" || !e.TS.Equal(testNow.Add(-5*time.Second)) || e.Library != "journeyd.js" {
		t.Fatalf("event: %+v", e)
	}
	// The same batch again: the snippet retried; both events are duplicates.
	if resp := h.do("POST", "/e", []byte(shopBatch), "Referer", "https://shop.example/cart"); resp.StatusCode() != 204 {
		t.Fatalf("retry: %d %s", resp.StatusCode(), resp.Body())
	}
	if n := len(h.sink.take()); n != 0 || h.counter(rejected, "beacon", "duplicate") != 2 {
		t.Fatalf("retry stored %d events, counted %v duplicates", n, h.counter(rejected, "beacon", "duplicate"))
	}
}

func TestBeaconPreflight(t *testing.T) {
	h := newHarness(t)
	resp := h.do("OPTIONS", "/e", nil, "Origin", "https://shop.example", "Access-Control-Request-Method", "POST")
	if resp.StatusCode() != 204 || string(resp.Header.Peek("Access-Control-Allow-Origin")) != "https://shop.example" ||
		!strings.Contains(string(resp.Header.Peek("Access-Control-Allow-Methods")), "POST") {
		t.Fatalf("preflight: %d %s", resp.StatusCode(), resp.Header.String())
	}
}

func TestBeaconFullAndRetry(t *testing.T) {
	h := newHarness(t)
	h.sink.setErr(event.ErrFull)
	resp := h.do("POST", "/e", []byte(shopBatch), "Origin", "https://shop.example")
	if resp.StatusCode() != 503 || string(resp.Header.Peek("Retry-After")) != "5" {
		t.Fatalf("full: %d, Retry-After %q", resp.StatusCode(), resp.Header.Peek("Retry-After"))
	}
	h.sink.setErr(nil)
	h.do("POST", "/e", []byte(shopBatch), "Origin", "https://shop.example")
	if n := len(h.sink.take()); n != 2 {
		t.Fatalf("the retry after a full pipeline stored %d events, want 2: the refused ids must be forgotten", n)
	}
}
