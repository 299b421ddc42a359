package report

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// plantNext returns the traffic of n people over January 2026 for the next report: page
// views of a few paths, carts, checkouts and purchases, several events in one second (their
// order is their event ids', which sort differently from their numbers: e9 after e10),
// server events by user id outside sessions, sign-ins linking a second anonymous id to the
// user, sessions on mobile and desktop, and bots.
func plantNext(n int) []event.Event {
	rng := rand.New(rand.NewPCG(5, 23))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := []struct{ typ, name, path string }{
		{"pageview", "", "/"}, {"pageview", "", "/a"}, {"pageview", "", "/b"}, {"event", "add_to_cart", ""},
		{"event", "add_to_cart", ""}, {"event", "checkout", ""}, {"event", "purchase", ""}, {"server", "order_paid", ""},
	}
	var out []event.Event
	add := func(e event.Event) {
		e.ID = fmt.Sprintf("e%d", rng.IntN(1_000_000_000)) // ids in no order of time
		e.SiteID = "shop"
		e.ReceivedAt = e.TS
		out = append(out, e)
	}
	for p := range n {
		anons := []string{fmt.Sprintf("a%d", p), fmt.Sprintf("b%d", p)}
		user := fmt.Sprintf("u%d", p)
		bot := rng.IntN(10) == 0
		device := []string{"mobile", "desktop"}[rng.IntN(2)]
		at := start.Add(time.Duration(rng.IntN(20*24*3600)) * time.Second)
		for i := range 1 + rng.IntN(12) {
			k := kinds[rng.IntN(len(kinds))]
			e := event.Event{TS: at, Type: k.typ, Name: k.name, Path: k.path, AnonID: anons[rng.IntN(2)], IsBot: bot,
				SessionID: fmt.Sprintf("s%d-%d", p, i/4), Device: device}
			switch rng.IntN(5) {
			case 0: // by the user id alone, as a backend sends it, outside any session
				e.AnonID, e.UserID, e.SessionID = "", user, ""
			case 1: // sign-in: the anonymous id is the user's
				add(event.Event{TS: at, Type: "identify", AnonID: e.AnonID, UserID: user})
			}
			add(e)
			if rng.IntN(3) > 0 {
				at = at.Add(time.Duration(rng.IntN(900)) * time.Second)
			}
		}
	}
	return out
}

// TestNextAgreesWithLibrary holds the next report gathered in journeyd (nextrows.go) to the
// library's next.sql: on the same planted traffic, stored twice as a replay would, both give
// the same rows, for two events to follow, with and without a filter.
func TestNextAgreesWithLibrary(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := plantNext(500)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	r := &Runner{Conn: conn, DB: db}
	for _, opts := range []map[string]string{
		{"after": "event:add_to_cart"},
		{"after": "pageview:/a", "top": "3"},
		{"after": "event:add_to_cart", "filter": "device=mobile"},
	} {
		opts["from"], opts["to"] = "2026-01-01", "2026-03-01"
		got, want := nextBothWays(t, r, opts)
		if len(want.Data) < 3 {
			t.Fatalf("%v: the library gives %d rows, want at least 3 from the planted traffic", opts, len(want.Data))
		}
		if fmt.Sprint(got.Columns, got.Data) != fmt.Sprint(want.Columns, want.Data) {
			t.Errorf("%v: journeyd gives\n%v %v\nthe library\n%v %v", opts, got.Columns, got.Data, want.Columns, want.Data)
		}
	}
}

// nextBothWays returns the rows of the next report with opts both from next_rows
// (nextFromRows) and from the library's next.sql.
func nextBothWays(t *testing.T, r *Runner, opts map[string]string) (got, want *Rows) {
	t.Helper()
	ctx := context.Background()
	req, err := ParseRequest("shop", goal.Definitions{}, opts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.db = r.DB // as Run sets it, for the filter's subqueries
	p := req.base()
	p["after"] = fragment(cond(req.After))
	if got, err = r.nextFromRows(ctx, p, req.Top); err != nil {
		t.Fatal(err)
	}
	p["limit"] = Int(int64(req.Top))
	if want, err = r.Query(ctx, "next", p); err != nil {
		t.Fatal(err)
	}
	return got, want
}

// TestNextByHand checks the next report gathered in journeyd against figures worked out by
// hand, every event stored twice (a replay counts once):
//   - p1: a page view /a before the first cart (never counted), a cart n9 at 10:00:10 and a
//     page view /b n10 in the same second, a checkout at 10:00:20, a cart at 10:05:00 last:
//     in the order of time, then event id, /b (n10) comes before the cart (n9), so the
//     cart is followed by the checkout, and the last cart by (end);
//   - p2: a cart by anonymous id a2 at 11:00:00, a sign-in linking a2 to u2 (identify: never
//     an action), a page view /c by a2, an order by u2 alone: one person, the cart
//     followed by /c;
//   - p3: two carts in one second (k1, k2): the first followed by the second, the second by
//     (end);
//   - p5: a cart and /e, twice: /e follows twice, for one person;
//   - a bot's cart and page view /d: left out.
//
// So (end) 2 times for 2 people, /e 2 times for 1, then once each, by label: the cart, the
// checkout, /c.
func TestNextByHand(t *testing.T) {
	conn, db := journeytest.Database(t)
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	var events []event.Event
	add := func(id, at, typ, name, path, anon, user string, bot bool) {
		d, err := time.ParseDuration(at)
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, event.Event{ID: id, SiteID: "shop", TS: day.Add(d), ReceivedAt: day.Add(d), Type: typ, Name: name,
			Path: path, AnonID: anon, UserID: user, IsBot: bot})
	}
	add("n1", "10h", "pageview", "", "/a", "p1", "", false)
	add("n9", "10h0m10s", "event", "add_to_cart", "", "p1", "", false)
	add("n10", "10h0m10s", "pageview", "", "/b", "p1", "", false)
	add("n11", "10h0m20s", "event", "checkout", "", "p1", "", false)
	add("n12", "10h5m", "event", "add_to_cart", "", "p1", "", false)
	add("m1", "11h", "event", "add_to_cart", "", "a2", "", false)
	add("m0", "11h0m20s", "identify", "", "", "a2", "u2", false)
	add("m2", "11h0m30s", "pageview", "", "/c", "a2", "", false)
	add("m3", "11h10m", "server", "order", "", "", "u2", false)
	add("k1", "12h", "event", "add_to_cart", "", "p3", "", false)
	add("k2", "12h", "event", "add_to_cart", "", "p3", "", false)
	add("q1", "13h", "event", "add_to_cart", "", "p5", "", false)
	add("q2", "13h0m5s", "pageview", "", "/e", "p5", "", false)
	add("q3", "13h1m", "event", "add_to_cart", "", "p5", "", false)
	add("q4", "13h1m5s", "pageview", "", "/e", "p5", "", false)
	add("b1", "14h", "event", "add_to_cart", "", "bot", "", true)
	add("b2", "14h0m1s", "pageview", "", "/d", "bot", "", true)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	got, want := nextBothWays(t, &Runner{Conn: conn, DB: db}, map[string]string{"from": "2026-01-01", "to": "2026-02-01", "after": "event:add_to_cart"})
	hand := "[[(end) 2 2] [pageview /e 2 1] [event add_to_cart 1 1] [event checkout 1 1] [pageview /c 1 1]]"
	if fmt.Sprint(got.Data) != hand {
		t.Errorf("journeyd gives\n%v\nworked out by hand\n%s", got.Data, hand)
	}
	if fmt.Sprint(want.Data) != hand {
		t.Errorf("the library gives\n%v\nworked out by hand\n%s", want.Data, hand)
	}
}
