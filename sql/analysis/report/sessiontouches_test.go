package report

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// plantSessionEdges returns, on site, the sessions whose rows in session_aggregates differ
// most from their events: crossing midnight (the table has a row per day), a bot's visit
// before a person's, email events that joined a session, sessions of bots or emails alone,
// and a session that starts before the period.
func plantSessionEdges(site string) []event.Event {
	day := func(d, h, m, s int) time.Time { return time.Date(2026, 1, d, h, m, s, 0, time.UTC) }
	var out []event.Event
	add := func(e event.Event) {
		e.ID = fmt.Sprintf("%s-%d", site, len(out))
		e.SiteID = site
		e.ReceivedAt = e.TS
		out = append(out, e)
	}
	// A: a Paid Search visit at 23:50 that goes on past midnight, where the visitor signs in
	// (identify) and buys for 30: one session, of u1, with one conversion.
	add(event.Event{TS: day(10, 23, 50, 0), Type: "pageview", AnonID: "a1", SessionID: "s1", Path: "/", Channel: "Paid Search"})
	add(event.Event{TS: day(11, 0, 10, 0), Type: "pageview", AnonID: "a1", SessionID: "s1", Path: "/p", Channel: "Paid Search"})
	add(event.Event{TS: day(11, 0, 15, 0), Type: "identify", AnonID: "a1", UserID: "u1", SessionID: "s1"})
	add(event.Event{TS: day(11, 0, 20, 0), Type: "track", Name: "purchase", AnonID: "a1", UserID: "u1", SessionID: "s1", Channel: "Paid Search", Revenue: 30})
	// B: a server event of u2 before midnight, the session's only visit (Email) after it: the
	// session is u2's although its visit's day carries no user id, and although a2 was
	// linked to u2old first (so a2's own person is u2old). u2 comes back on another device
	// (a9, Organic Search, s9).
	add(event.Event{TS: day(2, 12, 0, 0), Type: "identify", AnonID: "a2", UserID: "u2old"})
	add(event.Event{TS: day(20, 10, 0, 0), Type: "pageview", AnonID: "a9", UserID: "u2", SessionID: "s9", Path: "/", Channel: "Organic Search"})
	add(event.Event{TS: day(12, 23, 55, 0), Type: "track", Name: "signup", AnonID: "a2", UserID: "u2", SessionID: "s2"})
	add(event.Event{TS: day(13, 0, 5, 0), Type: "pageview", AnonID: "a2", SessionID: "s2", Path: "/", Channel: "Email"})
	// C: a bot's Referral visit, then a person's Organic Search visit a second later in the
	// same session: the session is Organic Search, at 10:00:01.
	add(event.Event{TS: day(14, 10, 0, 0), Type: "pageview", AnonID: "a3", SessionID: "s3", Path: "/", Channel: "Referral", IsBot: true})
	add(event.Event{TS: day(14, 10, 0, 1), Type: "pageview", AnonID: "a3", SessionID: "s3", Path: "/", Channel: "Organic Search"})
	// D: an email open of u4 that joined a4's anonymous session, then a4's Direct visit: the
	// open is a touchpoint of u4's, the session a4's.
	add(event.Event{TS: day(15, 9, 0, 0), Type: "email_open", AnonID: "a4", UserID: "u4", SessionID: "s4", Channel: "Email"})
	add(event.Event{TS: day(15, 9, 1, 0), Type: "pageview", AnonID: "a4", SessionID: "s4", Path: "/"})
	// E: a session of a bot alone; F: a session of an email open alone (no visit).
	add(event.Event{TS: day(16, 8, 0, 0), Type: "pageview", AnonID: "a5", SessionID: "s5", Path: "/", Channel: "Referral", IsBot: true})
	add(event.Event{TS: day(17, 8, 0, 0), Type: "email_open", AnonID: "a6", UserID: "u6", SessionID: "s6", Channel: "Email"})
	// G: a Referral session from 23:58 on the last day before the period, buying for 5 after
	// midnight: in the period, the session starts at its visit of 00:01.
	add(event.Event{TS: time.Date(2025, 12, 31, 23, 58, 0, 0, time.UTC), Type: "pageview", AnonID: "a7", SessionID: "s7", Path: "/", Channel: "Referral"})
	add(event.Event{TS: day(1, 0, 1, 0), Type: "pageview", AnonID: "a7", SessionID: "s7", Path: "/p", Channel: "Referral"})
	add(event.Event{TS: day(1, 0, 2, 0), Type: "track", Name: "purchase", AnonID: "a7", SessionID: "s7", Channel: "Referral", Revenue: 5})
	// H: sessions that carry two user ids, one each side of midnight (a shared device): the
	// session is the user id with the greater hash's, as touches.sql takes it; the second
	// user has a Direct session of its own before, so whose the session is shows in the
	// paths.
	for i := range 6 {
		anon, session := fmt.Sprintf("h%d", i), fmt.Sprintf("sh%d", i)
		add(event.Event{TS: day(5, 10, i, 0), Type: "pageview", AnonID: "hb" + anon, UserID: fmt.Sprintf("uh%d-b", i), SessionID: "b" + session, Path: "/"})
		add(event.Event{TS: day(21+i, 23, 59, 0), Type: "pageview", AnonID: anon, UserID: fmt.Sprintf("uh%d-a", i), SessionID: session, Path: "/", Channel: "Referral"})
		add(event.Event{TS: day(22+i, 0, 1, 0), Type: "track", Name: "purchase", AnonID: anon, UserID: fmt.Sprintf("uh%d-b", i), SessionID: session, Revenue: float64(i + 1)})
	}
	return out
}

// plantSplitSession returns, on site edge, session I of a1 on January 18 whose events come
// in two inserts, so that two parts of session_aggregates (merges stopped) each hold a row
// of the session's day, with a visit in the same second: a Display visit at 10:00:00.900,
// then, inserted after it (late), a Paid Social visit at 10:00:00.100, the session's first
// visit. first holds the Display visit, late the Paid Social one.
func plantSplitSession() (first, late []event.Event) {
	at := func(ms int) time.Time { return time.Date(2026, 1, 18, 10, 0, 0, ms*1e6, time.UTC) }
	e := func(id string, ms int, channel string) event.Event {
		return event.Event{ID: id, SiteID: "edge", TS: at(ms), ReceivedAt: at(ms), Type: "pageview",
			AnonID: "ai", SessionID: "si", Path: "/", Channel: channel}
	}
	return []event.Event{e("edge-i1", 900, "Display")}, []event.Event{e("edge-i2", 100, "Paid Social")}
}

// reportJSON runs report name for req on r and returns its answer as JSON.
func reportJSON(t *testing.T, r *Runner, name string, req *Request) string {
	t.Helper()
	res, err := r.Run(context.Background(), name, req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSessionTouchesAgree: the reports that include touches.sql (attribution, paths,
// time-to-convert, channels, overview) answer the same whether they read the sessions and
// the conversions and emails ClickHouse keeps at insert time (include/session_touches.sql,
// touch_events) or group the events, on the
// journey test's traffic (touchpoints in one second, emails, conversions in and out of
// sessions, replays) and on the sessions whose table rows differ most from their events,
// each stored twice as a replay would, and a session whose first second is split between
// two inserts; and the edge sessions' channels are those worked out by hand.
func TestSessionTouchesAgree(t *testing.T) {
	conn, db := journeytest.Database(t)
	// Merges stopped, so that the replay below is still stored twice when the reports run,
	// in events, in its copy of the conversions and emails, touch_events, and in the
	// sessions' table, which journeyd reads without FINAL (session_rows.sql), and so that
	// the split session's two rows stay apart.
	for _, table := range []string{"events", "touch_events", "session_aggregates"} {
		if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+db+"."+table); err != nil {
			t.Fatal(err)
		}
	}
	events := append(plantJourneys(300), plantSessionEdges("edge")...)
	first, late := plantSplitSession()
	events = append(events, first...)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, late)
	var stored uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".events").Scan(&stored); err != nil || stored != 2*uint64(len(events))+1 {
		t.Fatalf("%d events stored (%v), want each of the %d twice and the late one", stored, err, len(events))
	}
	sessions := &Runner{Conn: conn, DB: db}
	raw := &Runner{Conn: conn, DB: db, EventsOnly: true}
	reports := []struct {
		name string
		opts map[string]string
	}{
		{"attribution", map[string]string{"model": "all", "by": "channel"}},
		{"attribution", map[string]string{"model": "all", "by": "source"}},
		{"attribution", map[string]string{"model": "all", "by": "campaign", "lookback": "7d"}},
		{"paths", map[string]string{"by": "medium"}},
		{"time-to-convert", map[string]string{}},
		{"channels", map[string]string{}},
		{"overview", map[string]string{"interval": "week"}},
	}
	for _, site := range []string{"shop", "edge"} {
		for _, rep := range reports {
			opts := map[string]string{"from": "2026-01-01", "to": "2026-02-15"}
			for k, v := range rep.opts {
				opts[k] = v
			}
			req, err := ParseRequest(site, goal.Definitions{}, opts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var shown strings.Builder
			sessions.ShowSQL = &shown
			sessions.Run(context.Background(), rep.name, req)
			sessions.ShowSQL = nil
			if !strings.Contains(shown.String(), "session_aggregates\n") || !strings.Contains(shown.String(), ".`touch_events`") {
				t.Errorf("%s %v on %s: the report does not read the sessions and touch_events:\n%s", rep.name, rep.opts, site, shown.String())
			}
			got, want := reportJSON(t, sessions, rep.name, req), reportJSON(t, raw, rep.name, req)
			if got != want {
				t.Errorf("%s %v on %s: from the sessions\n%s\nfrom the events\n%s", rep.name, rep.opts, site, got, want)
			}
		}
	}

	// The edge sessions by hand: A is Paid Search (u1, one purchase of 30), B Email (u2),
	// C Organic Search (the person's visit, not the bot's before it) and s9 too (u2 again),
	// D Direct (a4's visit; the email open in it is a touch, not a session), G Referral
	// (from its visit of 00:01 on January 1, with its purchase of 5) and the six H too (each
	// its own person, buying for 1 to 6 after midnight: 21), whose second users' sessions
	// of January 5 are Direct; I is Paid Social (its visit at 10:00:00.100, inserted after
	// the Display one at 10:00:00.900 of the same second); E (bots alone) and F (an email
	// open alone) are no session.
	req, err := ParseRequest("edge", goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-02-01"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := sessions.Run(context.Background(), "channels", req)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, row := range res.Tables[0].Rows {
		got[fmt.Sprint(row[0])] = fmt.Sprint(row[1:]...)
	}
	want := map[string]string{
		"Paid Search":    fmt.Sprint(1, 1, 1, 30),
		"Email":          fmt.Sprint(1, 1, 0, 0),
		"Organic Search": fmt.Sprint(2, 2, 0, 0),
		"Direct":         fmt.Sprint(7, 7, 0, 0),
		"Referral":       fmt.Sprint(7, 7, 7, 26),
		"Paid Social":    fmt.Sprint(1, 1, 0, 0),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("channels of the edge sessions: got %v, want %v (columns %v)", got, want, res.Tables[0].Columns)
	}

	// The overview of January against December: G's session started on December 31, so
	// over both months it is one session of December's; January has A, B, C, D, s9, the
	// six H, the six Direct ones of their second users and I: 18 sessions, of u1, u2
	// (twice), a3, a4, the six second users, ai, and those first users of H whose user id hashes greater
	// than the second's (aWins, asked of ClickHouse's cityHash64: the session is theirs);
	// the purchases of A (30), G (5, in January though its session is December's) and H
	// (21), by 8 converters (u1, a7, and each H session's user). December: G's session, of
	// 1 visitor, no purchase.
	var aWins uint64
	if err := conn.QueryRow(context.Background(), "SELECT toUInt64(countIf(cityHash64(concat('uh', toString(number), '-a')) > cityHash64(concat('uh', toString(number), '-b')))) FROM (SELECT number FROM system.numbers LIMIT 6)").Scan(&aWins); err != nil {
		t.Fatal(err)
	}
	visitors := 11 + float64(aWins)
	res, err = sessions.Run(context.Background(), "overview", req)
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]string{}
	for _, row := range res.Tables[0].Rows {
		got[fmt.Sprint(row[0])] = fmt.Sprint(row[1], row[2])
	}
	want = map[string]string{
		"visitors":        fmt.Sprint(visitors, 1),
		"sessions":        fmt.Sprint(18, 1),
		"conversions":     fmt.Sprint(8, 0),
		"conversion_rate": fmt.Sprint(round(8/visitors, 4), 0),
		"revenue":         fmt.Sprint(56, 0),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("overview of the edge sessions: got %v, want %v", got, want)
	}
}
