package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/writer"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// t0 is the start of the planted traffic; until, the end of the report's period.
var (
	t0    = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	until = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
)

// cartTraffic plants the abandoned-cart cases, each person's expected place on the list of
// `dropped --did event:add_to_cart --not purchase --within 24h` worked out beside them.
func cartTraffic() []event.Event {
	n := 0
	ev := func(typ, name, anon, user, channel string, at time.Time, props ...string) event.Event {
		n++
		e := event.Event{ID: "e" + string(rune('a'+n/26)) + string(rune('a'+n%26)), SiteID: "shop", Type: typ, Name: name,
			AnonID: anon, UserID: user, Channel: channel, TS: at, ReceivedAt: at, Path: "/"}
		for i := 0; i+1 < len(props); i += 2 {
			e.SetProp(props[i], props[i+1])
		}
		return e
	}
	add := func(anon string, at time.Time, props ...string) event.Event {
		return ev(event.TypeEvent, "add_to_cart", anon, "", "", at, props...)
	}
	m := time.Minute
	h := time.Hour
	cRevenue := add("c-anon", t0.Add(3*h+m))
	cRevenue.Revenue = 50
	return []event.Event{
		// A: an Organic Search visit, signs in, adds to cart, and the backend reports the
		// purchase with the user id alone an hour later. The identify links a-anon to user-a,
		// so the purchase is the same person's: not listed.
		ev(event.TypePageview, "", "a-anon", "", "Organic Search", t0),
		ev(event.TypeIdentify, "", "a-anon", "user-a", "", t0.Add(m)),
		add("a-anon", t0.Add(2*m), "price", "20"),
		ev(event.TypeServer, "purchase", "", "user-a", "", t0.Add(62*m), "revenue", "20"),

		// B: an email click, then two items into the cart (price 10, then value 20), and no
		// purchase ever: listed, value 10 + 20 = 30, left at t0+2h3m, last channel Email.
		ev(event.TypeEmailClick, "spring", "b-anon", "", "Email", t0.Add(2*h)),
		ev(event.TypePageview, "", "b-anon", "", "Email", t0.Add(2*h+m)),
		add("b-anon", t0.Add(2*h+2*m), "price", "10"),
		add("b-anon", t0.Add(2*h+3*m), "value", "20"),

		// C: a Paid Search visit, signs in, adds an item of revenue 50, and the backend
		// reports the purchase three days later, past the 24 hours: listed as user-c with
		// anon id c-anon, value 50, left at t0+3h1m, last seen at the purchase (t0+3d3h1m),
		// last channel Paid Search (a server event is not a touch).
		ev(event.TypePageview, "", "c-anon", "", "Paid Search", t0.Add(3*h)),
		ev(event.TypeIdentify, "", "c-anon", "user-c", "", t0.Add(3*h)),
		cRevenue,
		ev(event.TypeServer, "purchase", "", "user-c", "", t0.Add(3*h+m+72*h)),

		// E: buys one item (price 5) within the hour, comes back two days later (Direct) and
		// leaves a second one (price 7, quantity 2) in the cart: the latest cart is abandoned,
		// listed with its value alone, 7 × 2 = 14, left at t0+48h1m, last channel Direct.
		ev(event.TypePageview, "", "e-anon", "", "Organic Social", t0.Add(4*h)),
		add("e-anon", t0.Add(4*h+m), "price", "5"),
		ev(event.TypeEvent, "purchase", "e-anon", "", "Organic Social", t0.Add(5*h)),
		ev(event.TypePageview, "", "e-anon", "", "Direct", t0.Add(48*h)),
		add("e-anon", t0.Add(48*h+m), "price", "7", "quantity", "2"),

		// D: adds to cart two hours before the end of the period: 22 of the 24 hours are
		// still to come, so D may yet buy: not listed.
		ev(event.TypePageview, "", "d-anon", "", "Referral", until.Add(-2*h)),
		add("d-anon", until.Add(-2*h+m), "price", "99"),
	}
}

// storedCarts stores the traffic twice, as a spool replay would before the table's merge.
func storedCarts(t *testing.T) *report.Runner {
	t.Helper()
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx := context.Background()
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	bot := cartTraffic()[2] // a bot's cart is never anyone's
	bot.ID, bot.AnonID, bot.IsBot = "bot-1", "bot-anon", true
	for i := 0; i < 2; i++ {
		w, err := writer.New(conn, writer.Config{Database: db})
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(w.Write(ctx, append(cartTraffic(), bot)), w.Close(ctx)); err != nil {
			t.Fatal(err)
		}
	}
	return &report.Runner{Conn: conn, DB: db}
}

var cartOptions = map[string]string{"did": "event:add_to_cart", "not": "purchase", "within": "24h",
	"from": "2026-03-01", "to": until.Format(time.RFC3339)}

// TestDroppedCarts: the planted people (cartTraffic) come out as worked out there, in the
// order of their latest cart (E, C, B), in every format and on the HTTP API.
func TestDroppedCarts(t *testing.T) {
	r := storedCarts(t)
	req, err := report.ParseRequest("shop", goal.Definitions{}, cartOptions, until)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), "dropped", req)
	if err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	if err := report.Write(&csv, res, "csv"); err != nil {
		t.Fatal(err)
	}
	want := `table,person,user_id,anon_ids,last_seen,left_at,value,last_channel
dropped,e-anon,,e-anon,2026-03-04T10:01:00Z,2026-03-04T10:01:00Z,14,Direct
dropped,user-c,user-c,c-anon,2026-03-05T13:01:00Z,2026-03-02T13:01:00Z,50,Paid Search
dropped,b-anon,,b-anon,2026-03-02T12:03:00Z,2026-03-02T12:03:00Z,30,Email
`
	if csv.String() != want {
		t.Fatalf("dropped as CSV:\n%s\nwant:\n%s", csv.String(), want)
	}

	// Within 4 days C's purchase, three days after the cart, comes in time: C is off the
	// list. E's cart of t0+48h1m has had its 4 days before the end (t0+7d14h) and stays.
	opts := map[string]string{}
	for k, v := range cartOptions {
		opts[k] = v
	}
	opts["within"] = "4d"
	req, _ = report.ParseRequest("shop", goal.Definitions{}, opts, until)
	if res, err = r.Run(context.Background(), "dropped", req); err != nil {
		t.Fatal(err)
	}
	if rows := res.Tables[0].Rows; len(rows) != 2 || rows[0][0] != "e-anon" || rows[1][0] != "b-anon" {
		t.Fatalf("dropped within 4d: %v, want e-anon and b-anon", rows)
	}

	// Without not, the step not done is the site's conversion: by default purchase,
	// order_paid or Order Completed, so the same list. A site whose conversion is
	// order_paid alone sees A's and C's purchases as no conversion: A joins the list.
	delete(opts, "not")
	opts["within"] = "24h"
	for _, c := range []struct {
		defs goal.Definitions
		want string
	}{
		{goal.Definitions{}, "e-anon user-c b-anon"},
		{goal.Definitions{Conversions: []goal.Conversion{{Name: "purchase", Event: "order_paid"}}}, "e-anon user-c b-anon user-a"},
	} {
		req, err = report.ParseRequest("shop", c.defs, opts, until)
		if err != nil {
			t.Fatal(err)
		}
		if res, err = r.Run(context.Background(), "dropped", req); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, row := range res.Tables[0].Rows {
			got = append(got, row[0].(string))
		}
		if strings.Join(got, " ") != c.want {
			t.Fatalf("dropped with the conversion of %+v: %q, want %s", c.defs, got, c.want)
		}
	}

	// The HTTP API answers the same list as JSON, the anonymous ids as an array.
	h := report.Handler(r.Conn, r.DB, map[string]goal.Definitions{"shop": {}})
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/api/v1/reports/dropped?site=shop&did=event:add_to_cart&not=purchase&within=24h&from=2026-03-01&to=" + until.Format(time.RFC3339))
	h(&ctx)
	var body struct {
		Dropped []struct {
			Person  string   `json:"person"`
			UserID  string   `json:"user_id"`
			AnonIDs []string `json:"anon_ids"`
			LeftAt  string   `json:"left_at"`
			Value   float64  `json:"value"`
			Channel string   `json:"last_channel"`
		} `json:"dropped"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &body); err != nil || ctx.Response.StatusCode() != 200 {
		t.Fatalf("GET dropped: %d %s (%v)", ctx.Response.StatusCode(), ctx.Response.Body(), err)
	}
	var got []string
	for _, d := range body.Dropped {
		got = append(got, strings.Join([]string{d.Person, d.UserID, strings.Join(d.AnonIDs, "+"), d.LeftAt, d.Channel}, " "))
	}
	wantAPI := []string{"e-anon  e-anon 2026-03-04T10:01:00Z Direct", "user-c user-c c-anon 2026-03-02T13:01:00Z Paid Search",
		"b-anon  b-anon 2026-03-02T12:03:00Z Email"}
	if strings.Join(got, "|") != strings.Join(wantAPI, "|") || body.Dropped[1].Value != 50 {
		t.Fatalf("GET dropped:\n%q\nwant\n%q", got, wantAPI)
	}
}
