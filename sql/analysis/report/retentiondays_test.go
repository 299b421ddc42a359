package report

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// TestRetentionDays: the retention grid (first purchase, a purchase again, windows of 1
// and 2 days) over the week of storeTraffic, run again and again through a Runner with a
// store as events come in: the days whose events did not change come from the store, the
// days that changed are read again, and the grid is the one worked out by hand (and a
// Runner's without a store, which runs retention.sql).
func TestRetentionDays(t *testing.T) {
	conn, db := journeytest.Database(t)
	// a1 buys again at 09:00 on the 3rd, 22 h 55 min after its first purchase (10:05 on
	// the 2nd).
	journeytest.Insert(t, conn, append(storeTraffic(), storeEvent("a1-4", 3, 9, 0, "track", "purchase", "a1", "", "s8", "", 15)))
	s := newDayRig(t, conn, db, "retention", map[string]string{"within": "1d,2d"})
	s.format = retentionText

	// By hand: 2026-03-02 is a Monday, so every purchase of the week falls in the cohort
	// week of 03-02. a1's cohort time is 10:05 on the 2nd and it returns within a day; u3
	// buys at 11:10 on the 4th and not again. Both windows end before the period does
	// (03-08 00:00): each window's cohort is a1 and u3, 2 people, 1 returned, 0.5. Cold,
	// every day is read: the prints, settled, retention_rows and the links, four queries.
	const cold = "1d 2026-03-02 2 1 0.5; 2d 2026-03-02 2 1 0.5"
	if got := s.run(); got != cold {
		t.Fatalf("retention, cold: %s, want %s", got, cold)
	}
	s.expect("cold", 0, 7, 4)
	if got := s.run(); got != cold {
		t.Fatalf("retention again: %s, want %s", got, cold)
	}
	s.expect("again", 7, 0, 2)

	// A late purchase of a2 (09:20 on the 3rd, received on the 9th): the 3rd alone is read
	// again; a2 is in both cohorts and does not return: 3 people, 1 returned, 0.3333.
	late := storeEvent("a2-2", 3, 9, 20, "track", "purchase", "a2", "", "s3", "", 5)
	late.ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	const withLate = "1d 2026-03-02 3 1 0.3333; 2d 2026-03-02 3 1 0.3333"
	if got := s.run(); got != withLate {
		t.Fatalf("retention after a late purchase on the 3rd: %s, want %s", got, withLate)
	}
	s.expect("late purchase", 6, 1, 4)

	// An identify on the 6th links a2 to u3 (the 6th is read again): a2's purchase at 09:20
	// on the 3rd, a day the store holds unchanged, is now u3's cohort time, and u3's own at
	// 11:10 on the 4th its return, 1 day 1 h 50 min later: within 2 days, not 1. Two people
	// (a1, u3): 1d 1 returned (a1), 0.5; 2d 2 returned, 1.
	journeytest.Insert(t, conn, []event.Event{storeEvent("a2-3", 6, 8, 0, "identify", "", "a2", "u3", "", "", 0)})
	const linked = "1d 2026-03-02 2 1 0.5; 2d 2026-03-02 2 2 1"
	if got := s.run(); got != linked {
		t.Fatalf("retention after a2 was linked to u3: %s, want %s", got, linked)
	}
	s.expect("identify", 6, 1, 4)

	// A replayed copy of a1's first purchase (the same event id, stored twice) changes the
	// print of the 2nd, which is read again, and not the grid: a copy moves no earliest
	// time; nor does the merge that drops it.
	journeytest.Insert(t, conn, storeTraffic()[3:4])
	if got := s.run(); got != linked {
		t.Fatalf("retention after a replay: %s, want %s", got, linked)
	}
	s.expect("replay", 6, 1, 4)
	optimize(t, conn, db)
	if got := s.run(); got != linked {
		t.Fatalf("retention after the merge: %s, want %s", got, linked)
	}
	s.expect("merge", 6, 1, 4)
}

// retentionText writes retention's rows as "within week people returned rate; ...".
func retentionText(rows [][]any) string {
	lines := make([]string, len(rows))
	for i, row := range rows {
		cells := make([]string, len(row))
		for j, v := range row {
			if t, ok := v.(time.Time); ok {
				v = t.Format(time.DateOnly)
			}
			cells[j] = fmt.Sprint(v)
		}
		lines[i] = strings.Join(cells, " ")
	}
	return strings.Join(lines, "; ")
}

// TestRetentionDaysAgree: the retention grid over planted traffic (plantStages: purchases
// and purchases again, backend orders by user id, sign-ins linking two devices, two
// events in one second), stored twice as a replay would, for cohorts of first purchase and
// of first visit and one or several windows, run twice through a Runner with a store, the
// second time from the store alone, and through one without a store, answers what
// retention.sql answers over the events; with a filter or a period not of whole days the
// store is not used. A cohort and return of purchases (touch_events) give the grid the
// events give.
func TestRetentionDaysAgree(t *testing.T) {
	conn, db := journeytest.Database(t)
	// and a first purchase whose 7-day window ends exactly at the end of the first period
	// (01-25 00:00 + 7d = 02-01 00:00): in that window's cohort
	end := time.Date(2026, 1, 25, 0, 0, 0, 0, time.UTC)
	events := append(plantStages(300), event.Event{ID: "edge-1", SiteID: "shop", TS: end, ReceivedAt: end, Type: "event", Name: "purchase", AnonID: "edge"})
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26, Metrics: m}
	plain := &Runner{Conn: conn, DB: db, EventsOnly: true} // retention.sql over the events
	unstored := &Runner{Conn: conn, DB: db}                // the days read for each report alone, or retention.sql
	for _, opts := range []map[string]string{
		{"from": "2026-01-01", "to": "2026-02-01", "cohort": "first_purchase", "within": "1d,7d,14d"},
		{"from": "2026-01-01", "to": "2026-02-01", "cohort": "first_visit", "within": "2d"},
		{"from": "2026-01-05", "to": "2026-01-26", "cohort": "first_visit", "return": "event:purchase", "within": "12h,3d"},
		{"from": "2026-01-01", "to": "2026-02-01", "within": "7d", "filter": "device=mobile"},
		{"from": "2026-01-03T12:00:00Z", "to": "2026-01-25T06:00:00Z", "within": "1d"},
	} {
		req, err := ParseRequest("shop", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := reportJSON(t, plain, "retention", req)
		if !strings.Contains(want, "returned") {
			t.Fatalf("%v: retention.sql answers no row: %s", opts, want)
		}
		whole := opts["filter"] == "" && len(opts["from"]) == 10
		// Without a store: from the days' rows over whole days, else by retention.sql, each
		// reading touch_events for the purchases, and the events for a conversion that may
		// also be a page view (one no event is; touchevents.go).
		if got := reportJSON(t, unstored, "retention", req); got != want {
			t.Fatalf("%v without a store:\n%s\nretention.sql over the events:\n%s", opts, got, want)
		}
		if opts["cohort"] != "first_visit" { // a cohort of any visit reads every event
			views := maps.Clone(opts)
			views["conversion"] = "purchase|order_paid|Order Completed|pageview:/no-such-page"
			viewReq, err := ParseRequest("shop", goal.Definitions{}, views, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			query := map[bool]string{true: "-- retention_rows\n", false: "-- retention\n"}[whole]
			if sql, viewSQL := shownSQL(t, unstored, "retention", req), shownSQL(t, unstored, "retention", viewReq); !strings.Contains(sql, query) || !strings.Contains(sql, ".`touch_events`") || strings.Contains(viewSQL, "touch_events") {
				t.Fatalf("%v: %sreads touch_events for the purchase and events for a page view, but:\n%s\n%s", opts, query, sql, viewSQL)
			}
			if fromEvents := reportJSON(t, unstored, "retention", viewReq); fromEvents != want {
				t.Fatalf("%v: from touch_events\n%s\nfrom the events\n%s", opts, want, fromEvents)
			}
		}
		for run := range 2 {
			h0, m0 := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses)
			if got := reportJSON(t, stored, "retention", req); got != want {
				t.Fatalf("%v, run %d through the store:\n%s\nretention.sql:\n%s", opts, run, got, want)
			}
			hits, misses := testutil.ToFloat64(m.hits)-h0, testutil.ToFloat64(m.misses)-m0
			if whole && run == 1 && (hits == 0 || misses != 0) {
				t.Errorf("%v: the second run took %v days from the store and read %v, want all from the store", opts, hits, misses)
			} else if !whole && hits+misses != 0 {
				t.Errorf("%v: %v days from the store and %v read, want the store unused (a filter, or not whole days)", opts, hits, misses)
			}
		}
	}
}

// shownSQL returns the queries r (its database and switches, without its store) would
// run for report name over req.
func shownSQL(t *testing.T, r *Runner, name string, req *Request) string {
	t.Helper()
	var shown strings.Builder
	show := &Runner{Conn: r.Conn, DB: r.DB, ShowSQL: &shown, EventsOnly: r.EventsOnly}
	if _, err := show.Run(context.Background(), name, req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return shown.String()
}
