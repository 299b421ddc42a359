package report

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// keysTraffic is site keys from March 10 to 12, 2026: sessions whose first visits differ
// in every field a key reads, and emails with utm source, medium and campaign.
//   - P1 (a1): a Paid Search visit (google, cpc, campaign spring; DE, desktop, Firefox) on
//     the 10th at 09:00; an email click (Email, newsletter, email, spring) on the 11th at
//     08:00; a purchase of 40 at 08:10 in a session with no visit (s2: no touchpoint).
//   - P2 (a2): a visit with no channel, source, medium or campaign (Direct; FR, mobile,
//     Chrome) on the 10th at 12:00; an Organic Search visit (bing, organic, no campaign;
//     FR, desktop, Chrome) on the 12th at 10:00, buying for 25 in it at 10:05.
//   - P3 (a3): an email open (Email, newsletter, email, no campaign) on the 12th at 15:00, a
//     purchase of 10 outside any session at 15:10, then a Referral visit (news.example,
//     referral; US, desktop, Firefox) at 15:30.
func keysTraffic() []event.Event {
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	var out []event.Event
	add := func(e event.Event) {
		e.ID, e.SiteID, e.ReceivedAt = fmt.Sprintf("k%d", len(out)), "keys", e.TS
		out = append(out, e)
	}
	add(event.Event{TS: at(10, 9, 0), Type: "pageview", AnonID: "a1", SessionID: "s1", Path: "/", Channel: "Paid Search",
		Source: "google", Medium: "cpc", Campaign: "spring", Country: "DE", Device: "desktop", Browser: "Firefox"})
	add(event.Event{TS: at(11, 8, 0), Type: "email_click", AnonID: "a1", Channel: "Email", Source: "newsletter", Medium: "email", Campaign: "spring"})
	add(event.Event{TS: at(11, 8, 10), Type: "track", Name: "purchase", AnonID: "a1", SessionID: "s2", Revenue: 40})
	add(event.Event{TS: at(10, 12, 0), Type: "pageview", AnonID: "a2", SessionID: "s3", Path: "/", Country: "FR", Device: "mobile", Browser: "Chrome"})
	add(event.Event{TS: at(12, 10, 0), Type: "pageview", AnonID: "a2", SessionID: "s4", Path: "/", Channel: "Organic Search",
		Source: "bing", Medium: "organic", Country: "FR", Device: "desktop", Browser: "Chrome"})
	add(event.Event{TS: at(12, 10, 5), Type: "track", Name: "purchase", AnonID: "a2", SessionID: "s4", Revenue: 25})
	add(event.Event{TS: at(12, 15, 0), Type: "email_open", AnonID: "a3", Channel: "Email", Source: "newsletter", Medium: "email"})
	add(event.Event{TS: at(12, 15, 10), Type: "track", Name: "purchase", AnonID: "a3", Revenue: 10})
	add(event.Event{TS: at(12, 15, 30), Type: "pageview", AnonID: "a3", SessionID: "s5", Path: "/", Channel: "Referral",
		Source: "news.example", Medium: "referral", Country: "US", Device: "desktop", Browser: "Firefox"})
	return out
}

// TestOneReadServesEveryKey: attribution by channel and by source, the top lists (their
// dimensions the whole first visit's fields) and channels, asked for at once through a
// Runner with a store, read touch_rows once (its rows keyed the same for every key, each
// reader taking its key out of them: touchKey), and each answers what worked out by hand
// below says and what a Runner grouping the events answers; attribution by campaign asked
// afterwards reads no touch_rows at all, its days and groups those of that read.
//
// The server counts the SELECT queries it starts (system.events SelectQuery): the Runner's
// only turn is held until the four readers have joined one read, which then runs the
// person links, the days' prints, settled.sql and touch_rows' two parts: 5 queries, every
// one of the 3 days read from ClickHouse (store misses). Two reads, one per key, would run 10.
func TestOneReadServesEveryKey(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, keysTraffic())
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 24, MaxConcurrent: 1, Metrics: m}
	events := &Runner{Conn: conn, DB: db, EventsOnly: true}
	ctx := context.Background()
	request := func(opts map[string]string) *Request {
		all := map[string]string{"from": "2026-03-10", "to": "2026-03-13"}
		for k, v := range opts {
			all[k] = v
		}
		req, err := ParseRequest("keys", goal.Definitions{}, all, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	type panel struct {
		name string
		opts map[string]string
		want string // the first table's rows
	}
	panels := []panel{
		// By channel (model, key, conversions, value, removal effect; each model's rows by
		// conversions, then key, every key of a touchpoint listed, 0 when it has no
		// credit: P3's Referral visit after its purchase is a journey that does not
		// convert). First touch: P1's Paid Search (40), P2's Direct (25: its empty
		// channel), P3's Email open (10). Last touch: P1's email click (40) and P3's open
		// (10), Email twice for 50; P2's Organic Search (25).
		{"attribution", map[string]string{"model": "first,last", "by": "channel"},
			"[[first Direct 1 25 0] [first Email 1 10 0] [first Paid Search 1 40 0] [first Organic Search 0 0 0] [first Referral 0 0 0] " +
				"[last Email 2 50 0] [last Organic Search 1 25 0] [last Direct 0 0 0] [last Paid Search 0 0 0] [last Referral 0 0 0]]"},
		// By source: first google (P1), (none) (P2's visit without a source), newsletter
		// (P3's open); last newsletter twice (P1's click, P3's open, the emails' own utm
		// source), bing (P2); the other sources 0.
		{"attribution", map[string]string{"model": "first,last", "by": "source"},
			"[[first (none) 1 25 0] [first google 1 40 0] [first newsletter 1 10 0] [first bing 0 0 0] [first news.example 0 0 0] " +
				"[last newsletter 2 50 0] [last bing 1 25 0] [last (none) 0 0 0] [last google 0 0 0] [last news.example 0 0 0]]"},
		// The top lists of the sessions (dimension, value, sessions, people, conversions,
		// conversion rate, revenue; by dimension, then sessions, then value): s1 (P1), s3
		// and s4 (P2), s5 (P3); s2 has no visit and the emails are no sessions. The one
		// conversion inside a session is P2's 25 in s4 (Organic Search, bing, no campaign,
		// FR, desktop). Campaign: (none) s3, s4, s5 of P2 and P3, 1 of 3 converts (0.3333);
		// spring s1. Country: FR s3 and s4 of P2, 1 of 2 (0.5); DE; US. Device: desktop s1,
		// s4, s5 of three people (0.3333); mobile s3.
		{"top", map[string]string{"dimension": "channel,source,campaign,device,country", "top": "10"},
			"[[campaign (none) 3 2 1 0.3333 25] [campaign spring 1 1 0 0 0] " +
				"[channel Direct 1 1 0 0 0] [channel Organic Search 1 1 1 1 25] [channel Paid Search 1 1 0 0 0] [channel Referral 1 1 0 0 0] " +
				"[country FR 2 1 1 0.5 25] [country DE 1 1 0 0 0] [country US 1 1 0 0 0] " +
				"[device desktop 3 3 1 0.3333 25] [device mobile 1 1 0 0 0] " +
				"[source (none) 1 1 0 0 0] [source bing 1 1 1 1 25] [source google 1 1 0 0 0] [source news.example 1 1 0 0 0]]"},
		// Channels (sessions, people, conversions, revenue): one session each, Organic
		// Search's with P2's 25.
		{"channels", nil, "[[Direct 1 1 0 0] [Organic Search 1 1 1 25] [Paid Search 1 1 0 0] [Referral 1 1 0 0]]"},
	}

	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	endTurn, err := r.turn(ctx) // the read waits for this turn until every reader has joined
	if err != nil {
		t.Fatal(err)
	}
	before := selectQueries(t, conn)
	type answer struct {
		i    int
		rows string
		err  error
	}
	answers := make(chan answer, len(panels))
	for i, p := range panels {
		req := request(p.opts)
		go func() {
			res, err := r.Run(ctx, p.name, req)
			if err != nil {
				answers <- answer{i, "", err}
				return
			}
			answers <- answer{i, fmt.Sprint(res.Tables[0].Rows), nil}
		}()
	}
	p, err := r.touchpointParams(request(panels[0].opts))
	if err != nil {
		t.Fatal(err)
	}
	_, sql, _, _, _, err := r.touchpointsSQL(p)
	if err != nil {
		t.Fatal(err)
	}
	for began := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		r.sharesMu.Lock()
		read, have := r.shares[sql], 0
		if read != nil {
			have = len(read.members)
		}
		r.sharesMu.Unlock()
		if have == len(panels) {
			break
		}
		if time.Since(began) > stuck {
			t.Fatalf("the read open to joiners has %d members, want %d: the readers of other keys did not join it", have, len(panels))
		}
	}
	endTurn()
	for range panels {
		a := <-answers
		if a.err != nil {
			t.Fatalf("%s %v: %v", panels[a.i].name, panels[a.i].opts, a.err)
		}
		if a.rows != panels[a.i].want {
			t.Errorf("%s %v: %s, want %s", panels[a.i].name, panels[a.i].opts, a.rows, panels[a.i].want)
		}
	}
	if n := queriesSince(t, conn, before, offset); n != 5 {
		t.Errorf("the four readers of three keys ran %d queries, want 5: one read of touch_rows", n)
	}
	if hits, misses := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses); hits != 0 || misses != 3 {
		t.Errorf("the read took %v days from the store and %v from ClickHouse, want 0 and 3", hits, misses)
	}
	for _, p := range panels {
		req := request(p.opts)
		if got, want := reportJSON(t, r, p.name, req), reportJSON(t, events, p.name, req); got != want {
			t.Errorf("%s %v through the one read:\n%s\nfrom the events:\n%s", p.name, p.opts, got, want)
		}
	}

	// Attribution by campaign, afterwards: the person links and the days' prints, 2
	// queries, the 3 days from the store, its batches cut from the groups kept. First touch:
	// (none) P2's visit (25) and P3's open without a campaign (10), 2 for 35; spring P1's
	// visit (40). Last touch: (none) P2's Organic Search visit (25) and P3's open (10);
	// spring P1's email click (40).
	req := request(map[string]string{"model": "first,last", "by": "campaign"})
	before, h0, m0 := selectQueries(t, conn), testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses)
	res, err := r.Run(ctx, "attribution", req)
	if err != nil {
		t.Fatal(err)
	}
	if n := queriesSince(t, conn, before, offset); n != 2 {
		t.Errorf("attribution by campaign after the read ran %d queries, want 2 (no touch_rows)", n)
	}
	if h, ms := testutil.ToFloat64(m.hits)-h0, testutil.ToFloat64(m.misses)-m0; h != 3 || ms != 0 {
		t.Errorf("attribution by campaign took %v days from the store and %v from ClickHouse, want 3 and 0", h, ms)
	}
	want := "[[first (none) 2 35 0] [first spring 1 40 0] [last (none) 2 35 0] [last spring 1 40 0]]"
	if got := fmt.Sprint(res.Tables[0].Rows); got != want {
		t.Errorf("attribution by campaign: %s, want %s", got, want)
	}
	if got, want := reportJSON(t, r, "attribution", req), reportJSON(t, events, "attribution", req); got != want {
		t.Errorf("attribution by campaign from the store:\n%s\nfrom the events:\n%s", got, want)
	}
}

// TestSessionTouchesSQLKeys: include/session_touches.sql, where a query that includes
// touches.sql reads the sessions (the library's SQL route, run by hand: no report runs it),
// takes each key out of touch_rows' one key per row ($visit_key over touch_key), so that
// touchpoints.sql gives the same rows from the sessions as from the events for every key,
// on keysTraffic: by hand, for the channel, P1's Paid Search visit and Email click, P2's
// Direct and Organic Search visits, P3's Email open and Referral visit, 6 touchpoints, and
// the conversion rows of the three persons (P1's 40 in its visitless session, P2's 25 in
// its Organic Search session, P3's 10 outside any).
func TestSessionTouchesSQLKeys(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, keysTraffic())
	sessions := &Runner{Conn: conn, DB: db}
	events := &Runner{Conn: conn, DB: db, EventsOnly: true}
	for _, by := range []string{"channel", "source", "medium", "campaign"} {
		req, err := ParseRequest("keys", goal.Definitions{}, map[string]string{"from": "2026-03-10", "to": "2026-03-13", "by": by}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		rows := func(r *Runner, route string) []string {
			p, err := r.touchpointParams(req)
			if err != nil {
				t.Fatal(err)
			}
			if got := readsSessions(p); got != (route == "sessions") {
				t.Fatalf("by %s: the %s route reads the sessions: %v", by, route, got)
			}
			res, err := r.Query(context.Background(), "touchpoints", p)
			if err != nil {
				t.Fatalf("by %s, the %s route: %v", by, route, err)
			}
			out := make([]string, len(res.Data))
			for i, row := range res.Data {
				out[i] = fmt.Sprint(row)
			}
			slices.Sort(out)
			return out
		}
		got, want := rows(sessions, "sessions"), rows(events, "events")
		touches := 0
		for _, row := range want {
			if strings.Contains(row, " 1 ") { // visit = 1
				touches++
			}
		}
		if touches != 6 || len(want) != 8 {
			t.Errorf("by %s, the events route: %d rows, %d touchpoints, want 8 and 6 (the traffic as planted): %v", by, len(want), touches, want)
		}
		if !slices.Equal(got, want) {
			t.Errorf("by %s: touchpoints.sql from the sessions\n%v\nfrom the events\n%v", by, got, want)
		}
	}
}
