package report

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// plantFunnels returns the traffic of n people over January 2026 whose sessions come from
// several devices, channels and countries, stepping through a four-step funnel (product
// page, cart, checkout, purchase) with gaps in and beyond a 7-day window.
func plantFunnels(n int) []event.Event {
	rng := rand.New(rand.NewPCG(13, 29))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []event.Event{{Type: "pageview", Path: "/product/1"}, {Type: "event", Name: "add_to_cart"},
		{Type: "event", Name: "checkout"}, {Type: "event", Name: "purchase"}}
	var events []event.Event
	for p := range n {
		at := start.Add(time.Duration(rng.IntN(20*24*3600)) * time.Second)
		for s := range 1 + rng.IntN(3) {
			device := []string{"mobile", "desktop", "tablet"}[rng.IntN(3)]
			channel := []string{"", "Direct", "Email", "Paid Search"}[rng.IntN(4)]
			country := []string{"DE", "FR", "US"}[rng.IntN(3)]
			depth := rng.IntN(5)
			for k := range depth {
				e := steps[k]
				e.ID, e.SiteID, e.TS, e.ReceivedAt = fmt.Sprintf("f%d", len(events)), "shop", at, at
				e.AnonID, e.SessionID, e.Device, e.Channel, e.Country = fmt.Sprintf("a%d", p), fmt.Sprintf("s%d-%d", p, s), device, channel, country
				events = append(events, e)
				at = at.Add(time.Duration(rng.IntN(4*24*3600)) * time.Second) // some steps beyond the 7-day window
			}
			events = append(events, event.Event{ID: fmt.Sprintf("f%d", len(events)), SiteID: "shop", TS: at, ReceivedAt: at, Type: "pageview", Path: "/",
				AnonID: fmt.Sprintf("a%d", p), SessionID: fmt.Sprintf("s%d-%d", p, s), Device: device, Channel: channel, Country: country})
			at = at.Add(time.Duration(rng.IntN(3*24*3600)) * time.Second)
		}
	}
	return events
}

// TestFunnelsInOneRead holds the funnel of several breakdowns read at once (funnels, what
// barriers runs) to the funnel of each breakdown alone: on planted traffic of people whose
// sessions come from several devices, channels and countries (their segment is their first
// event's), stepping through a four-step funnel with gaps in and beyond its window, stored
// twice, every breakdown's rows are the same either way, and the breakdowns' entrants sum
// to the funnel without a breakdown, as barriers' overall rates assume.
func TestFunnelsInOneRead(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := plantFunnels(400)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	r := &Runner{Conn: conn, DB: db, EventsOnly: true}
	ctx := context.Background()
	req, err := ParseRequest("shop", goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-03-01",
		"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "window": "7d"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.db = r.DB
	dims := []string{"device", "channel", "country"}
	together, err := r.funnels(ctx, req, dims)
	if err != nil {
		t.Fatal(err)
	}
	overall, err := r.Funnel(ctx, req, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(overall) != 4 || overall[0].Entered < 100 || overall[3].Entered == 0 {
		t.Fatalf("the planted funnel: %+v, want 4 steps, at least 100 people entering, some reaching the last", overall)
	}
	for d, dim := range dims {
		alone, err := r.Funnel(ctx, req, dim)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(together[d]) != fmt.Sprint(alone) || len(alone) < 8 {
			t.Errorf("by %s: in one read\n%v\nalone\n%v\n(want the same, at least two segments)", dim, together[d], alone)
		}
		sum := make([]int64, 4)
		for _, row := range together[d] {
			sum[row.Step-1] += row.Entered
		}
		for i := range sum {
			if sum[i] != overall[i].Entered {
				t.Errorf("by %s: step %d: the segments' entrants sum to %d, the funnel has %d", dim, i+1, sum[i], overall[i].Entered)
			}
		}
	}
}

// TestFunnelAndBarriersShareOneRead asks for barriers (three breakdowns) and then the
// funnel, as the dashboard does, while the only turn is taken: barriers' read holds the
// overall funnel too, the funnel joins it, and one query answers both (the server's SELECT
// count), with the answers each gives alone; asked one after the other, they run one query
// each.
func TestFunnelAndBarriersShareOneRead(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, plantFunnels(300))
	r := &Runner{Conn: conn, DB: db, MaxConcurrent: 1, EventsOnly: true} // funnel.sql's share (funnelshare.go)
	ctx := context.Background()
	opts := map[string]string{"from": "2026-01-01", "to": "2026-03-01",
		"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "window": "7d"}
	request := func() *Request {
		req, err := ParseRequest("shop", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset

	before := selectQueries(t, conn)
	alone := map[string]string{}
	for _, name := range []string{"funnel", "barriers"} {
		got, err := runJSON(ctx, r, name, request())
		if err != nil {
			t.Fatal(err)
		}
		alone[name] = got
	}
	if n := queriesSince(t, conn, before, offset); n != 2 {
		t.Fatalf("the funnel and barriers one after the other ran %d queries, want 2", n)
	}
	if !strings.Contains(alone["barriers"], "tablet") || !strings.Contains(alone["funnel"], "add_to_cart") {
		t.Fatalf("the reports alone answered nothing to compare: %s, %s", alone["funnel"], alone["barriers"])
	}

	// Barriers first, as the dashboard asks: its read, waiting for the turn held here,
	// holds its three breakdowns and the overall funnel (""), so the funnel asked next
	// joins it without adding a breakdown.
	endTurn, err := r.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before = selectQueries(t, conn)
	type answer struct{ name, json string }
	answers := make(chan answer, 2)
	errs := make(chan error, 2)
	key, err := funnelKey(request())
	if err != nil {
		t.Fatal(err)
	}
	read := func(joined int) []string {
		for deadline := time.Now().Add(stuck); ; time.Sleep(10 * time.Millisecond) {
			r.sharesMu.Lock()
			f := r.funnelReads[key]
			var by []string
			if f != nil && f.joined == joined {
				by = slices.Clone(f.by)
			}
			r.sharesMu.Unlock()
			if by != nil {
				return by
			}
			if time.Now().After(deadline) {
				t.Fatalf("no read of the funnel with %d reports joined", joined)
			}
		}
	}
	for i, name := range []string{"barriers", "funnel"} {
		req := request()
		go func() {
			got, err := runJSON(ctx, r, name, req)
			errs <- err
			answers <- answer{name, got}
		}()
		if by := read(i); !slices.Equal(by, []string{"device", "channel", "country", ""}) {
			t.Fatalf("with %s asked, the read takes the breakdowns %q, want device, channel, country and none", name, by)
		}
	}
	endTurn()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		a := <-answers
		if a.json != alone[a.name] {
			t.Errorf("%s in the shared read:\n%s\nalone:\n%s", a.name, a.json, alone[a.name])
		}
	}
	if n := queriesSince(t, conn, before, offset); n != 1 {
		t.Errorf("the funnel and barriers asked at once ran %d queries, want 1", n)
	}
}
