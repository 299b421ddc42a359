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

// TestWarm: on the 7th of March 2026 at noon, Warm reads the dashboard's opening days of
// sites store (storeTraffic, the 1st to the 5th) and empty (no events) into the store: the
// overview of the 30 days from the 6th of February to the 7th of March and of the 30
// before, 60 days of each site, and of the 30 the top lists, the top pages, the journey
// map, barriers (two kinds of day: the step events, and the units' first events for its
// breakdowns), the funnel and retention, 270 days a site, of which the top lists' 30 are
// days of touch_rows the overview read already (one kind of day whatever the key) and the
// funnel's 30 the step events barriers read: 210 read a site (the overview's 60, and 30
// each of the page views, stage_rows, funnel_rows' step events, its first events with
// barriers' breakdowns, and retention_rows), 60 from the store. Channels,
// time-to-convert, attribution and paths are not run: their 30 days are touch_rows' days
// the overview read.
// The dashboard opened afterwards reads every day of every default panel from the store;
// the channels, sources and pages are those worked out by hand. A Runner without a store
// warms nothing.
func TestWarm(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	defs := map[string]goal.Definitions{"store": {}, "empty": {}}
	now := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	s := newStoreRig(t, conn, db, 1<<24)

	before := selectQueries(t, conn)
	if err := (&Runner{Conn: conn, DB: db}).Warm(context.Background(), defs, now); err != nil {
		t.Fatal(err)
	}
	if n := queriesSince(t, conn, before, s.offset); n != 0 {
		t.Errorf("a Runner without a store ran %d queries to warm, want none", n)
	}

	if err := s.r.Warm(context.Background(), defs, now); err != nil {
		t.Fatal(err)
	}
	if hits, misses := testutil.ToFloat64(s.m.hits), testutil.ToFloat64(s.m.misses); hits != 120 || misses != 420 {
		t.Fatalf("warming read %v days from the store and %v from ClickHouse, want 120 and 420 (210 days of 2 sites; the top lists' 30 the overview's, the funnel's 30 barriers')", hits, misses)
	}

	for _, rep := range []struct {
		name string
		opts map[string]string
		days float64
		want string
	}{
		// The overview reads the 30 days and the 30 before them.
		{"overview", nil, 60, ""},
		// Channels, by hand: Paid Search has three sessions (a1's and a5's on the 1st,
		// a2's on the 3rd) of three people and no purchase; Email two (a1's on the 2nd,
		// buying for 20, and u3's on the 4th, buying for 30) of two people; Referral one
		// (a4 on the 5th). Rows: channel, sessions, people, conversions, revenue; most
		// sessions first.
		{"channels", nil, 30, "[[Paid Search 3 3 0 0] [Email 2 2 2 50] [Referral 1 1 0 0]]"},
		// The top sources, by hand: storeTraffic's visits carry no source, so all six
		// sessions have the empty source's name, (none), of 5 people (a1 twice), with
		// a1's and u3's purchases: 2 conversions, rate 0.3333, revenue 50.
		{"top", map[string]string{"dimension": "source", "top": "10"}, 30, "[[source (none) 6 5 2 0.3333 50]]"},
		// Top pages, by hand: every pageview is of /, by a1 (twice), a5, a2, u3 and a4: 5
		// people, 6 views.
		{"top", map[string]string{"dimension": "page", "top": "10"}, 30, "[[page / 5 6]]"},
		// The other panels the page opens with (DashboardPanels), each its 30 days; those
		// Warm skips read the overview's days of touch_rows; barriers its 30 days of step
		// events and 30 of first events.
		{"stages", nil, 30, ""},
		{"barriers", dashboardOpts(t, "barriers"), 60, ""},
		{"funnel", dashboardOpts(t, "funnel"), 30, ""},
		{"retention", dashboardOpts(t, "retention"), 30, ""},
		{"attribution", dashboardOpts(t, "attribution"), 30, ""},
		{"paths", dashboardOpts(t, "paths"), 30, ""},
		{"time-to-convert", nil, 30, ""},
	} {
		opts := map[string]string{"from": "2026-02-06", "to": "2026-03-08"}
		for k, v := range rep.opts {
			opts[k] = v
		}
		req, err := ParseRequest("store", goal.Definitions{}, opts, now)
		if err != nil {
			t.Fatal(err)
		}
		hits, misses := testutil.ToFloat64(s.m.hits), testutil.ToFloat64(s.m.misses)
		got := reportJSON(t, s.r, rep.name, req)
		if want := reportJSON(t, s.plain, rep.name, req); got != want {
			t.Errorf("%s after warming:\n%s\nwithout a store:\n%s", rep.name, got, want)
		}
		if h, m := testutil.ToFloat64(s.m.hits)-hits, testutil.ToFloat64(s.m.misses)-misses; h != rep.days || m != 0 {
			t.Errorf("%s after warming: %v days from the store and %v from ClickHouse, want %v and 0", rep.name, h, m, rep.days)
		}
		if rep.want == "" {
			continue
		}
		res, err := s.r.Run(context.Background(), rep.name, req)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res.Tables[0].Rows); got != rep.want {
			t.Errorf("%s after warming: %s, want %s", rep.name, got, rep.want)
		}
	}
}

// dashboardOpts returns the options of the DashboardPanels panel name.
func dashboardOpts(t *testing.T, name string) map[string]string {
	t.Helper()
	for _, group := range DashboardPanels {
		for _, p := range group {
			if p.Name == name {
				return p.Opts
			}
		}
	}
	t.Fatalf("no dashboard panel %s", name)
	return nil
}

// TestWarmAgain: a warm-up after the first reads from ClickHouse only the days whose events
// changed, for each kind of day. After the first warm-up of site store (TestWarm: 210 days
// read), a late pageview of the 3rd of March lands (a9, Email); the next warm-up reads that
// one day again for each of the six kinds it keeps (touch_rows for the overview, whose
// period before holds no changed day, and the top lists; the page views; stage_rows;
// funnel_rows' step events, which the funnel shares, and its first events with barriers'
// breakdowns; retention_rows): 6 days from ClickHouse, the other 264 of its 270 from the
// store. A third warm-up, nothing having
// changed, reads none. Then channels count the late visit: by hand, Email's 2 sessions
// (a1's, u3's) become 3 of 3 people, still 2 purchases for 50.
func TestWarmAgain(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	defs := map[string]goal.Definitions{"store": {}}
	now := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	s := newStoreRig(t, conn, db, 1<<24)
	warm := func(step string, hits, misses float64) {
		t.Helper()
		h, m := testutil.ToFloat64(s.m.hits), testutil.ToFloat64(s.m.misses)
		if err := s.r.Warm(context.Background(), defs, now); err != nil {
			t.Fatal(err)
		}
		if h, m := testutil.ToFloat64(s.m.hits)-h, testutil.ToFloat64(s.m.misses)-m; h != hits || m != misses {
			t.Errorf("%s: %v days from the store and %v from ClickHouse, want %v and %v", step, h, m, hits, misses)
		}
	}
	warm("the first warm-up", 60, 210)
	journeytest.Insert(t, conn, []event.Event{storeEvent("a9-1", 3, 15, 0, "pageview", "", "a9", "", "s9", "Email", 0)})
	warm("the warm-up after a late event", 264, 6)
	warm("a warm-up with nothing changed", 270, 0)

	req, err := ParseRequest("store", goal.Definitions{}, map[string]string{"from": "2026-02-06", "to": "2026-03-08"}, now)
	if err != nil {
		t.Fatal(err)
	}
	h, m := testutil.ToFloat64(s.m.hits), testutil.ToFloat64(s.m.misses)
	res, err := s.r.Run(context.Background(), "channels", req)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(res.Tables[0].Rows), "[[Email 3 3 2 50] [Paid Search 3 3 0 0] [Referral 1 1 0 0]]"; got != want {
		t.Errorf("channels after the late visit: %s, want %s", got, want)
	}
	if h, m := testutil.ToFloat64(s.m.hits)-h, testutil.ToFloat64(s.m.misses)-m; h != 30 || m != 0 {
		t.Errorf("channels after the warm-ups: %v days from the store and %v from ClickHouse, want 30 and 0", h, m)
	}
}
