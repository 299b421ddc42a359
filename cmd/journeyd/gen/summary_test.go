package gen

import (
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
)

// TestSummary counts a hand-made run: two visitors, three sessions, one sign-in.
func TestSummary(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	events := []event.Event{
		{Type: event.TypePageview, Name: "/", AnonID: "a1", SessionID: "s1", TS: t0},
		{Type: event.TypeEvent, Name: "add_to_cart", AnonID: "a1", SessionID: "s1", TS: t0.Add(time.Minute)},
		{Type: event.TypeEvent, Name: "purchase", AnonID: "a1", UserID: "u1", SessionID: "s2", TS: t0.Add(time.Hour)},
		{Type: event.TypeEvent, Name: "add_to_cart", AnonID: "a2", SessionID: "s3", TS: t0.Add(2 * time.Hour)},
		{Type: event.TypeServer, Name: "order_paid", UserID: "u1", TS: t0.Add(3 * time.Hour)},
	}
	var b strings.Builder
	if err := Summarize(events).Write(&b); err != nil {
		t.Fatal(err)
	}
	// 5 events; sessions s1, s2, s3; anonymous ids a1, a2; user id u1. Types: event 3
	// (add_to_cart 2, purchase 1), pageview 1 (its name is a path, not listed), server 1.
	want := "5 events, 3 sessions, 2 anonymous ids, 1 user ids, from 2026-01-02 10:00 to 2026-01-02 13:00 UTC\n" +
		"  event              3  (add_to_cart 2, purchase 1)\n" +
		"  pageview           1\n" +
		"  server             1  (order_paid 1)\n"
	if b.String() != want {
		t.Fatalf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}
