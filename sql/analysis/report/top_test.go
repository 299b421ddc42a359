package report_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

// topEvent is one planted event of the top tests: "type name anon user session time path
// channel source campaign device country browser", time with milliseconds.
type topEvent struct {
	typ, name, anon, user, session, at, path, channel, source, campaign, device, country, browser string
	bot                                                                                           bool
	revenue                                                                                       float64
}

func (e topEvent) event(t *testing.T, i int) event.Event {
	t.Helper()
	ts, err := time.Parse("2006-01-02 15:04:05.000", e.at)
	if err != nil {
		t.Fatal(err)
	}
	return event.Event{ID: fmt.Sprintf("t%04d", i), SiteID: "shop", TS: ts, ReceivedAt: ts, Type: e.typ, Name: e.name,
		AnonID: e.anon, UserID: e.user, SessionID: e.session, Path: e.path, Channel: e.channel, Source: e.source,
		Campaign: e.campaign, Device: e.device, Country: e.country, Browser: e.browser, IsBot: e.bot, Revenue: e.revenue}
}

// topTraffic is asked for 2026-01-02 and 01-03 (from 01-02 to 01-04): eight sessions count.
//   - s0 (a0): a visit on 01-01 23:55 (Email), outside the period, and one on 01-02 00:05
//     (Social, facebook, /welcome, DE, mobile, Safari): the period's first visit is the
//     second;
//   - s1 (a1): 01-02 10:00 Email, newsletter, winter, /, DE, mobile, Safari; a purchase of 50;
//   - s2 (a1, identified as u1 in it): 01-03 09:00 Email, newsletter, spring, /blog, DE,
//     desktop, Firefox: a1 resolves to u1, so s1 and s2 are one person, once among Email's
//     people;
//   - s3 (a2): crosses midnight with its visit after it only: on 01-02 a bot's pageview
//     (Referral, left out) and a2's identify as u2, on 01-03 00:10 the visit: Organic
//     Search, google, /pricing, US, desktop, Chrome; its person is u2 (from 01-02's row);
//   - s4 (a3): crosses midnight with visits on both days: 01-02 23:58 Paid Search, google,
//     brand, /, US, desktop, Chrome, then /pricing and a purchase of 30 on 01-03;
//   - s5 (a4): a bot's pageview (Social, facebook) 30 s before the human one: Referral,
//     news.site, /news, US, mobile, Chrome;
//   - s6 (a5): an event at 14:00:00.200 and a pageview at 14:00:00.300 of the same second:
//     the first by milliseconds is the event: Direct, /b, FR, desktop, Firefox;
//   - s7 (a6): an identify alone: no visit, not a session of the report;
//   - s8 (a7): 01-03 23:55 Email, newsletter, winter, /, FR, mobile, Safari; its purchase of
//     20 at 01-04 00:05 is after the period;
//   - s9 (a8): 01-01 only, before the period; u2's server purchase is outside any session.
//
// Every event is stored twice, as a replay would: nothing may change.
var topTraffic = []topEvent{
	{"pageview", "", "a0", "", "s0", "2026-01-01 23:55:00.000", "/", "Email", "newsletter", "old", "mobile", "DE", "Safari", false, 0},
	{"pageview", "", "a0", "", "s0", "2026-01-02 00:05:00.000", "/welcome", "Social", "facebook", "", "mobile", "DE", "Safari", false, 0},
	{"pageview", "", "a1", "", "s1", "2026-01-02 10:00:00.100", "/", "Email", "newsletter", "winter", "mobile", "DE", "Safari", false, 0},
	{"pageview", "", "a1", "", "s1", "2026-01-02 10:05:00.000", "/product/x", "", "", "", "mobile", "DE", "Safari", false, 0},
	{"event", "purchase", "a1", "", "s1", "2026-01-02 10:10:00.000", "/product/x", "", "", "", "mobile", "DE", "Safari", false, 50},
	{"pageview", "", "a1", "", "s2", "2026-01-03 09:00:00.000", "/blog", "Email", "newsletter", "spring", "desktop", "DE", "Firefox", false, 0},
	{"identify", "", "a1", "u1", "s2", "2026-01-03 09:01:00.000", "", "", "", "", "", "", "", false, 0},
	{"pageview", "", "a2", "", "s3", "2026-01-02 23:50:00.000", "/bot", "Referral", "spam.site", "", "desktop", "US", "Chrome", true, 0},
	{"identify", "", "a2", "u2", "s3", "2026-01-02 23:55:00.000", "", "", "", "", "", "", "", false, 0},
	{"pageview", "", "a2", "", "s3", "2026-01-03 00:10:00.000", "/pricing", "Organic Search", "google", "", "desktop", "US", "Chrome", false, 0},
	{"pageview", "", "a3", "", "s4", "2026-01-02 23:58:00.000", "/", "Paid Search", "google", "brand", "desktop", "US", "Chrome", false, 0},
	{"pageview", "", "a3", "", "s4", "2026-01-03 00:02:00.000", "/pricing", "", "", "", "desktop", "US", "Chrome", false, 0},
	{"event", "purchase", "a3", "", "s4", "2026-01-03 00:05:00.000", "/pricing", "", "", "", "desktop", "US", "Chrome", false, 30},
	{"pageview", "", "a4", "", "s5", "2026-01-03 12:00:00.000", "/", "Social", "facebook", "", "desktop", "US", "Chrome", true, 0},
	{"pageview", "", "a4", "", "s5", "2026-01-03 12:00:30.000", "/news", "Referral", "news.site", "", "mobile", "US", "Chrome", false, 0},
	{"pageview", "", "a5", "", "s6", "2026-01-03 14:00:00.300", "/a", "", "", "", "desktop", "FR", "Firefox", false, 0},
	{"event", "click", "a5", "", "s6", "2026-01-03 14:00:00.200", "/b", "", "", "", "desktop", "FR", "Firefox", false, 0},
	{"identify", "", "a6", "u6", "s7", "2026-01-03 15:00:00.000", "", "", "", "", "", "", "", false, 0},
	{"pageview", "", "a7", "", "s8", "2026-01-03 23:55:00.000", "/", "Email", "newsletter", "winter", "mobile", "FR", "Safari", false, 0},
	{"event", "purchase", "a7", "", "s8", "2026-01-04 00:05:00.000", "/", "", "", "", "mobile", "FR", "Safari", false, 20},
	{"pageview", "", "a8", "", "s9", "2026-01-01 10:00:00.000", "/", "", "", "", "desktop", "DE", "Chrome", false, 0},
	{"server", "purchase", "", "u2", "", "2026-01-03 16:00:00.000", "", "", "", "", "", "", "", false, 70},
}

func plantTop(t *testing.T, traffic []topEvent) (fast, raw *report.Runner) {
	t.Helper()
	conn, db := journeytest.Database(t)
	es := make([]event.Event, len(traffic))
	for i, e := range traffic {
		es[i] = e.event(t, i)
	}
	journeytest.Insert(t, conn, es)
	journeytest.Insert(t, conn, es) // stored twice, as a replay would
	fast, raw = &report.Runner{Conn: conn, DB: db}, &report.Runner{Conn: conn, DB: db, EventsOnly: true}
	return fast, raw
}

// topRows runs the top report and returns its rows as "dimension value sessions people
// conversions revenue", one a line, and the name of the query that read them: top (the
// events) or touch_rows (the sessions, counted in journeyd).
func topRows(t *testing.T, r *report.Runner, opts map[string]string) (string, string) {
	t.Helper()
	all := map[string]string{"from": "2026-01-02", "to": "2026-01-04", "dimension": "channel,source,campaign,entry_page,country,device,browser"}
	for k, v := range opts {
		all[k] = v
	}
	req, err := report.ParseRequest("shop", goal.Definitions{}, all, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var sql bytes.Buffer
	if _, err := report.ShowingSQL(r, &sql).Run(context.Background(), "top", req); err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), "top", req)
	if err != nil {
		t.Fatalf("top %v: %v", opts, err)
	}
	var lines []string
	for _, row := range res.Tables[0].Rows {
		lines = append(lines, fmt.Sprintf("%v %v %v %v %v %v", row[0], row[1], row[2], row[3], row[4], row[6]))
	}
	// The query that reads the sessions' rows is the first printed but the person links the
	// session route reads before it (and pages, for the page dimension, after it), by its
	// library name: touch_rows' two parts show as touch_rows:sessions and touch_rows:events.
	name := ""
	for _, line := range strings.Split(sql.String(), "\n") {
		if q, ok := strings.CutPrefix(line, "-- "); ok && !strings.Contains(q, " ") && q != "person_links" && name == "" {
			name, _, _ = strings.Cut(q, ":")
		}
	}
	return strings.Join(lines, "\n"), name
}

// TestTopFromSessions checks the top report's figures, read from session_aggregates, against
// the planted traffic, and that the events give the same rows.
func TestTopFromSessions(t *testing.T) {
	fast, raw := plantTop(t, topTraffic)
	// Per session (first visit in the period; person; conversions in the period):
	//   s0 Social facebook (none) /welcome DE mobile Safari; a0
	//   s1 Email newsletter winter / DE mobile Safari; u1 (a1 linked to u1); 1 of 50
	//   s2 Email newsletter spring /blog DE desktop Firefox; u1
	//   s3 Organic Search google (none) /pricing US desktop Chrome; u2
	//   s4 Paid Search google brand / US desktop Chrome; a3; 1 of 30 (on 01-03)
	//   s5 Referral news.site (none) /news US mobile Chrome; a4
	//   s6 Direct (none) (none) /b FR desktop Firefox; a5
	//   s8 Email newsletter winter / FR mobile Safari; a7 (its purchase is on 01-04)
	// Each dimension's values by sessions, then by value: Email has 3 sessions of 2 people
	// (u1 twice, a7), 1 conversion of 50; google 2 sessions (s3, s4) of u2 and a3 with s4's 30;
	// (none) campaigns are s0, s3, s5, s6; / is the entry of s1, s4 and s8 (u1, a3, a7; 50+30);
	// DE holds s0, s1, s2 of a0 and u1 (2 people); desktop s2, s3, s4, s6 of u1, u2, a3, a5;
	// mobile s0, s1, s5, s8 of a0, u1, a4, a7.
	want := strings.Join([]string{
		"browser Chrome 3 3 1 30", "browser Safari 3 3 1 50", "browser Firefox 2 2 0 0",
		"campaign (none) 4 4 0 0", "campaign winter 2 2 1 50", "campaign brand 1 1 1 30", "campaign spring 1 1 0 0",
		"channel Email 3 2 1 50", "channel Direct 1 1 0 0", "channel Organic Search 1 1 0 0",
		"channel Paid Search 1 1 1 30", "channel Referral 1 1 0 0", "channel Social 1 1 0 0",
		"country DE 3 2 1 50", "country US 3 3 1 30", "country FR 2 2 0 0",
		"device desktop 4 4 1 30", "device mobile 4 4 1 50",
		"entry_page / 3 3 2 80", "entry_page /b 1 1 0 0", "entry_page /blog 1 1 0 0", "entry_page /news 1 1 0 0",
		"entry_page /pricing 1 1 0 0", "entry_page /welcome 1 1 0 0",
		"source newsletter 3 2 1 50", "source google 2 2 1 30", "source (none) 1 1 0 0",
		"source facebook 1 1 0 0", "source news.site 1 1 0 0",
	}, "\n")
	got, query := topRows(t, fast, nil)
	if query != "touch_rows" {
		t.Errorf("a whole-day period without a filter ran %s, want top_sessions", query)
	}
	if got != want {
		t.Errorf("top from sessions:\n%s\nwant:\n%s", got, want)
	}
	got, query = topRows(t, raw, nil)
	if query != "top" {
		t.Errorf("the raw runner ran %s, want top", query)
	}
	if got != want {
		t.Errorf("top from events:\n%s\nwant:\n%s", got, want)
	}
}

// TestTopFromSessionsOnlyWhereExact checks that the top report reads the events wherever
// session_aggregates cannot give the same answer: a filter, a period that does not start or
// end at midnight UTC, a dimension the first visit's row does not keep.
func TestTopFromSessionsOnlyWhereExact(t *testing.T) {
	r := &report.Runner{DB: "journeyd"}
	for _, c := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{}, "touch_rows"},
		{map[string]string{"dimension": "medium,page"}, "touch_rows"},
		{map[string]string{"filter": "device=mobile"}, "top"},
		{map[string]string{"from": "2026-01-02T05:30:00Z"}, "top"},
		{map[string]string{"to": "2026-01-03T12:00:00Z"}, "top"},
		{map[string]string{"dimension": "channel,referrer_host"}, "top"},
		{map[string]string{"dimension": "os"}, "top"},
	} {
		if _, got := topRows(t, report.ShowingSQL(r, &bytes.Buffer{}), c.opts); got != c.want {
			t.Errorf("top %v ran %s, want %s", c.opts, got, c.want)
		}
	}
}

// TestTopFromSessionsAgrees holds the two ways of the top report to the same rows on random
// traffic (seeded): sessions of one to eight events around midnights, inside and across
// the period's ends, visits in the same second and the same millisecond, bots' events,
// identify calls, conversions, email opens in sessions, every event stored twice. Each
// dimension's every value is compared (top 1000).
func TestTopFromSessionsAgrees(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	pick := func(s ...string) string { return s[rng.Intn(len(s))] }
	start := time.Date(2026, 1, 1, 22, 0, 0, 0, time.UTC)
	var traffic []topEvent
	for s := 0; s < 300; s++ {
		anon := fmt.Sprintf("a%d", rng.Intn(120))
		at := start.Add(time.Duration(rng.Intn(4*24*3600)) * time.Second)
		if rng.Intn(3) == 0 { // near a midnight
			at = at.Truncate(24 * time.Hour).Add(24*time.Hour - time.Duration(rng.Intn(600))*time.Second)
		}
		for e, n := 0, 1+rng.Intn(8); e < n; e++ {
			ev := topEvent{typ: pick("pageview", "pageview", "event", "screen", "leave", "identify", "email_open", "server"),
				anon: anon, session: fmt.Sprintf("s%d", s), at: at.Format("2006-01-02 15:04:05.000"),
				path: pick("/", "/a", "/b", ""), channel: pick("", "Email", "Organic Search", "Paid Search"),
				source: pick("", "google", "newsletter"), campaign: pick("", "winter", "spring"),
				device: pick("desktop", "mobile", ""), country: pick("DE", "US", ""), browser: pick("Chrome", "Safari"),
				bot: rng.Intn(6) == 0}
			if ev.typ == "identify" || rng.Intn(8) == 0 {
				ev.user = fmt.Sprintf("u%d", rng.Intn(60))
			}
			if rng.Intn(5) == 0 {
				ev.name, ev.revenue = "purchase", float64(rng.Intn(100))
			}
			traffic = append(traffic, ev)
			// the next event: the same millisecond, the same second or up to 20 minutes on
			switch rng.Intn(4) {
			case 0:
			case 1:
				at = at.Add(time.Duration(rng.Intn(999-at.Nanosecond()/1e6+1)) * time.Millisecond)
			default:
				at = at.Add(time.Duration(rng.Intn(1200000)) * time.Millisecond)
			}
		}
	}
	fast, raw := plantTop(t, traffic)
	opts := map[string]string{"from": "2026-01-02", "to": "2026-01-05", "top": "1000",
		"dimension": "channel,source,medium,campaign,entry_page,country,device,browser"}
	got, query := topRows(t, fast, opts)
	want, _ := topRows(t, raw, opts)
	if query != "touch_rows" {
		t.Fatalf("ran %s, want top_sessions", query)
	}
	if n := strings.Count(want, "\n") + 1; n < 20 {
		t.Fatalf("the random traffic gives %d rows, want a test with 20 or more:\n%s", n, want)
	}
	if got != want {
		t.Errorf("top from sessions:\n%s\nfrom events:\n%s", got, want)
	}
}
