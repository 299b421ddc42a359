package report

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// morningEvent returns an event of site morning on March d, 2026, at hh:mm, received then.
func morningEvent(id string, d, hh, mm int, typ, name, anon, user, session, channel string, revenue float64) event.Event {
	ts := time.Date(2026, 3, d, hh, mm, 0, 0, time.UTC)
	return event.Event{ID: id, SiteID: "morning", TS: ts, ReceivedAt: ts, Type: typ, Name: name, AnonID: anon,
		UserID: user, SessionID: session, Path: "/", Channel: channel, Source: "src-" + channel, Revenue: revenue}
}

// morningTraffic is March 1 to 5, 2026, on site morning, the 5th being today:
//   - A (ma): a Paid Search session from 23:50 on the 1st past midnight, buying for 40 at
//     00:20 on the 2nd: one session, on the 1st; its rows are on two days.
//   - B (mb): an Email session at 10:00 on the 2nd, buying for 25 at 10:05; the purchase is
//     stored twice (a replay of the same event id): one conversion.
//   - C (mc): an Organic Search session at 09:00 on the 3rd, no purchase.
//   - D (md, signed in as ud): a Direct session at 12:00 on the 4th, buying for 10 at 12:30.
//   - E (me): a Referral session at 08:00 on the 5th, no purchase yet.
func morningTraffic() []event.Event {
	return []event.Event{
		morningEvent("ma-1", 1, 23, 50, "pageview", "", "ma", "", "sA", "Paid Search", 0),
		morningEvent("ma-2", 2, 0, 10, "pageview", "", "ma", "", "sA", "Paid Search", 0),
		morningEvent("ma-3", 2, 0, 20, "track", "purchase", "ma", "", "sA", "", 40),
		morningEvent("mb-1", 2, 10, 0, "pageview", "", "mb", "", "sB", "Email", 0),
		morningEvent("mb-2", 2, 10, 5, "track", "purchase", "mb", "", "sB", "", 25),
		morningEvent("mb-2", 2, 10, 5, "track", "purchase", "mb", "", "sB", "", 25),
		morningEvent("mc-1", 3, 9, 0, "pageview", "", "mc", "", "sC", "Organic Search", 0),
		morningEvent("md-1", 4, 12, 0, "pageview", "", "md", "ud", "sD", "Direct", 0),
		morningEvent("md-2", 4, 12, 30, "track", "purchase", "md", "ud", "sD", "", 10),
		morningEvent("me-1", 5, 8, 0, "pageview", "", "me", "", "sE", "Referral", 0),
	}
}

// TestDayGroupsMorning: the reports that read touch_rows, run through a Runner with a
// store as the morning's events come in, each change touching one day while the other days
// come from the store as they were grouped (their day parts, merged by hash with the day
// read again: daygroups.go), answer exactly what a fresh Runner without a store answers
// (compared as JSON, every report), and the channels and the overview's totals are those
// worked out by hand. Merges are stopped, so that the replays stay stored twice. The groups
// are merged by four goroutines however few they are (minRangeRows 1), each its own range
// of hashes, as a read of millions of groups is.
func TestDayGroupsMorning(t *testing.T) {
	defer func(was int) { minRangeRows = was }(minRangeRows)
	minRangeRows = 1
	conn, db := journeytest.Database(t)
	for _, table := range []string{"events", "session_aggregates"} {
		if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+db+"."+table); err != nil {
			t.Fatal(err)
		}
	}
	journeytest.Insert(t, conn, morningTraffic())
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 24, Metrics: m}
	reports := []struct {
		name string
		opts map[string]string
	}{
		{"channels", map[string]string{}},
		{"overview", map[string]string{"interval": "day"}},
		{"top", map[string]string{"dimension": "channel,source"}},
		{"attribution", map[string]string{"model": "all"}},
		{"paths", map[string]string{}},
		{"time-to-convert", map[string]string{}},
	}
	// step runs every report through the store and checks it against a fresh Runner's, the
	// days the store gave (hits) and read again (misses) over all reports, and the channels
	// and the overview's totals against want (each a row's cells, as text).
	step := func(name string, hits, misses float64, channels, totals string) {
		t.Helper()
		h0, m0 := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses)
		for _, rep := range reports {
			opts := map[string]string{"from": "2026-03-01", "to": "2026-03-06"}
			for k, v := range rep.opts {
				opts[k] = v
			}
			req, err := ParseRequest("morning", goal.Definitions{}, opts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			got := reportJSON(t, stored, rep.name, req)
			if want := reportJSON(t, &Runner{Conn: conn, DB: db}, rep.name, req); got != want {
				t.Errorf("%s: %s through the store:\n%s\nfrom a fresh Runner:\n%s", name, rep.name, got, want)
			}
			res, err := stored.Run(context.Background(), rep.name, req) // from the store alone now: the same again
			if err != nil {
				t.Fatal(err)
			}
			switch rep.name {
			case "channels":
				if got := fmt.Sprint(res.Tables[0].Rows); got != channels {
					t.Errorf("%s: channels %s, want %s", name, got, channels)
				}
			case "overview":
				if got := fmt.Sprint(res.Tables[0].Rows); got != totals {
					t.Errorf("%s: the overview's totals %s, want %s", name, got, totals)
				}
			}
		}
		h, ms := testutil.ToFloat64(m.hits)-h0, testutil.ToFloat64(m.misses)-m0
		if h != hits || ms != misses {
			t.Errorf("%s: %v days from the store and %v read again, want %v and %v", name, h, ms, hits, misses)
		}
	}
	// Each report runs twice through the store, over the five days, and the overview over
	// the previous period's five too (February 24 to 28): 10 runs x 5 days + 2 x 10 = 70
	// days a step. The store keeps a day per touch_rows query without its period, whatever
	// the key (touchKey): every report here shares it. Cold, the first run that asks for a
	// day reads it: channels the five, the overview the five before, 10 read and 60 from
	// the store.
	//
	// Cold, by hand. Channels (sessions, people, conversions, revenue), by sessions then name:
	// every channel has one session of one person; Paid Search A's, with its purchase of 40
	// on the 2nd (the session started on the 1st: one session, not two), Email B's purchase of
	// 25 once (the replay is the same event id), Direct D's 10. The overview's totals
	// (metric, value, previous, change): 5 visitors (A to E), 5 sessions, 3 conversions,
	// 3/5 = 60 % of the visitors converted, 75 revenue; nothing in the previous period.
	const coldChannels = "[[Direct 1 1 1 10] [Email 1 1 1 25] [Organic Search 1 1 0 0] [Paid Search 1 1 1 40] [Referral 1 1 0 0]]"
	coldTotals := "[[visitors 5 0 <nil>] [sessions 5 0 <nil>] [conversions 3 0 <nil>] [conversion_rate 0.6 0 <nil>] [revenue 75 0 <nil>]]"
	step("cold", 60, 10, coldChannels, coldTotals)

	// The morning: today (the 5th) has new events. E buys for 7 at 08:10 in its session; F
	// (mf) comes from Paid Search at 09:30; C signs in as ud at 09:40 (an identify: C and D
	// are one person, ud, from now on, on every day). Only the 5th is read again, once (its
	// print changed): 1 day read, 69 from the store. The links changed too, so no kept read
	// answers the first run of each of the two reads (channels, top and the journey reports
	// share one, whatever their keys; the overview's is its own, over ten days): the stored
	// days' parts are merged with the 5th's (patched: every key the kept read held, top's
	// whole visit among them); the 10 runs after them take the kept groups.
	// Channels: Paid Search 2 sessions of 2 people (A, F), 1 conversion of 40; Referral E's
	// purchase of 7; the rest as before. Totals: 5 visitors (A, B, ud = C and D, E, F),
	// 6 sessions, 4 conversions, 4 converters of 5 visitors (A, B, ud, E): 0.8, revenue 82.
	kept := testutil.ToFloat64(m.keptReads)
	journeytest.Insert(t, conn, []event.Event{
		morningEvent("me-2", 5, 8, 10, "track", "purchase", "me", "", "sE", "", 7),
		morningEvent("mf-1", 5, 9, 30, "pageview", "", "mf", "", "sF", "Paid Search", 0),
		morningEvent("mc-2", 5, 9, 40, "identify", "", "mc", "ud", "", "", 0),
	})
	morningChannels := "[[Paid Search 2 2 1 40] [Direct 1 1 1 10] [Email 1 1 1 25] [Organic Search 1 1 0 0] [Referral 1 1 1 7]]"
	morningTotals := "[[visitors 5 0 <nil>] [sessions 6 0 <nil>] [conversions 4 0 <nil>] [conversion_rate 0.8 0 <nil>] [revenue 82 0 <nil>]]"
	step("the morning", 69, 1, morningChannels, morningTotals)
	if n := testutil.ToFloat64(m.keptReads) - kept; n != 12-2 {
		t.Errorf("the morning: the kept groups answered %v times, want %d (every run but the first of each read)", n, 12-2)
	}

	// A late event into an earlier day: C's purchase of 15 at 09:15 on the 3rd, in its
	// session, received today. Only the 3rd is read again. Organic Search now converts once
	// for 15; ud's people stay one. Totals: 5 conversions, revenue 97, converters unchanged
	// (ud converted already): 0.8. The 3rd is read again once, for every key.
	late := morningEvent("mc-3", 3, 9, 15, "track", "purchase", "mc", "", "sC", "", 15)
	late.ReceivedAt = time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	lateChannels := "[[Paid Search 2 2 1 40] [Direct 1 1 1 10] [Email 1 1 1 25] [Organic Search 1 1 1 15] [Referral 1 1 1 7]]"
	lateTotals := "[[visitors 5 0 <nil>] [sessions 6 0 <nil>] [conversions 5 0 <nil>] [conversion_rate 0.8 0 <nil>] [revenue 97 0 <nil>]]"
	step("a late event on the 3rd", 69, 1, lateChannels, lateTotals)

	// A replay of A's visit after midnight (ma-2, the same event again) changes the 2nd's
	// print: the 2nd is read again (once) and its part of A's session (the visit at 00:10, the
	// purchase) merged with the 1st's stored part (the visit at 23:50): still one Paid
	// Search session of the 1st, one purchase of 40. Nothing changes.
	journeytest.Insert(t, conn, morningTraffic()[1:2])
	step("a replay on the 2nd, across midnight", 69, 1, lateChannels, lateTotals)
}

// TestDayGroupVisitOfOneSecond: a session whose day comes in several rows (parts of
// session_aggregates, read without FINAL) takes the visit of the least order key, as
// visit_state's argMin does, where the rows' visits fall in one second: worked out by
// hand, the visit at 100.100 s (Paid Social) before those at 100.900 s (Referral) and
// 101.050 s (Direct), and of two visits at 100.100 s the one of the smaller event id hash;
// in whatever order the rows come.
func TestDayGroupVisitOfOneSecond(t *testing.T) {
	key := func(ts, ms, h uint64) uint64 { return (ts*1000+ms)<<20 | h }
	rows := []struct {
		row   touchRow
		visit string
	}{
		{touchRow{hash: 5, anon: 1, t: 100, flags: visitOrder(key(100, 900, 7))}, "Referral"},
		{touchRow{hash: 5, anon: 3, t: 101, flags: visitOrder(key(101, 50, 1))}, "Direct"},
		{touchRow{hash: 5, anon: 2, t: 100, flags: visitOrder(key(100, 100, 9))}, "Email"},
		{touchRow{hash: 5, anon: 2, t: 100, flags: visitOrder(key(100, 100, 3))}, "Paid Social"},
	}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}} {
		d := &dayRows{keyOf: map[string]uint32{}}
		for _, i := range order {
			if err := d.row(rows[i].row, rows[i].visit, false, rowConversion{}); err != nil {
				t.Fatal(err)
			}
		}
		d.done(false)
		if len(d.groups) != 1 {
			t.Fatalf("rows in order %v: %d groups, want 1", order, len(d.groups))
		}
		g := d.groups[0]
		if got := d.keys[g.k]; got != "Paid Social" || g.t != 100 || g.anon != 3 {
			t.Errorf("rows in order %v: visit %q at %d, anon %d; want Paid Social at 100, anon 3", order, got, g.t, g.anon)
		}
	}
}
