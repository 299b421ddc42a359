package report

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// dayRig runs one report (name, with opts) over the first week of March 2026 on site
// store again and again through a Runner with a store, checks each answer against a
// Runner without one, and counts what each run asked of ClickHouse and of the store.
type dayRig struct {
	*storeRig
	name   string
	opts   map[string]string
	format func([][]any) string // the rows as text; fmt.Sprint when nil
}

func newDayRig(t *testing.T, conn driver.Conn, db, name string, opts map[string]string) *dayRig {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	s := &storeRig{t: t, conn: conn, r: &Runner{Conn: conn, DB: db, StoreBytes: 1 << 20, Metrics: m},
		plain: &Runner{Conn: conn, DB: db}, m: m, offset: offset}
	return &dayRig{storeRig: s, name: name, opts: opts}
}

// run runs the report through the store and returns its first table's rows as text,
// having checked that the Runner without a store answers the same.
func (s *dayRig) run() string {
	s.t.Helper()
	opts := map[string]string{"from": "2026-03-01", "to": "2026-03-08"}
	for k, v := range s.opts {
		opts[k] = v
	}
	req, err := ParseRequest("store", goal.Definitions{}, opts, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	before, h0, m0 := selectQueries(s.t, s.conn), testutil.ToFloat64(s.m.hits), testutil.ToFloat64(s.m.misses)
	res, err := s.r.Run(context.Background(), s.name, req)
	if err != nil {
		s.t.Fatal(err)
	}
	s.queries = queriesSince(s.t, s.conn, before, s.offset)
	s.hits, s.misses = testutil.ToFloat64(s.m.hits)-h0, testutil.ToFloat64(s.m.misses)-m0
	got, err := json.Marshal(res)
	if err != nil {
		s.t.Fatal(err)
	}
	if want := reportJSON(s.t, s.plain, s.name, req); string(got) != want {
		s.t.Fatalf("%s from the store\n%s\nfrom ClickHouse alone\n%s", s.name, got, want)
	}
	if s.format != nil {
		return s.format(res.Tables[0].Rows)
	}
	return fmt.Sprint(res.Tables[0].Rows)
}

// optimize merges the events of db (OPTIMIZE FINAL), which drops a replay's copy.
func optimize(t *testing.T, conn driver.Conn, db string) {
	t.Helper()
	if err := conn.Exec(context.Background(), "OPTIMIZE TABLE "+db+".events FINAL"); err != nil {
		t.Fatal(err)
	}
}

// TestStageDays: the journey map over the week of storeTraffic, run again and again
// through a Runner with a store as events come in. The days whose events did not change
// come from the store (stage_rows and stage_channels are not run again), the days that
// changed are read again, and the map is the one worked out by hand (and a Runner's
// without a store).
func TestStageDays(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	s := newDayRig(t, conn, db, "stages", nil)

	// By hand, the default stages (awareness any event, consideration and decision reached
	// at the earliest event of them or of a later stage up to purchase, purchase a
	// conversion): a1 is aware at 10:00 on the 1st (its Paid Search session) and reaches
	// consideration, decision and purchase with its purchase at 10:05 on the 2nd (86 700 s
	// later, then 0 s and 0 s), whose latest session event with a channel is a1-2 (Email:
	// the purchase's own row has none); u3 aware at 11:00 on the 4th (Email) and buying at
	// 11:10 (600 s, Email); a5 and a2 aware only (Paid Search), a4 (Referral). Awareness: 5
	// people, Paid Search 3, then Email and Referral 1 each (by name); consideration 2,
	// gaps [600 86700]: the median the element at half the count, 86 700; decision and
	// purchase 2, 0 s, Email. Cold, every day is read: the prints, settled, the links,
	// stage_rows and stage_channels, five queries; the store then holds the seven days.
	const cold = "[[1 awareness 5 1 1 0 Paid Search, Email, Referral] [2 consideration 2 0.4 0.4 86700 Email] " +
		"[3 decision 2 1 0.4 0 Email] [4 purchase 2 1 0.4 0 Email] [5 retention 0 0 0 0 ] [6 advocacy 0 0 0 0 ]]"
	if got := s.run(); got != cold {
		t.Fatalf("stages, cold:\n%s\nwant\n%s", got, cold)
	}
	s.expect("cold", 0, 7, 5)
	// Again: the prints and the links, every day from the store.
	if got := s.run(); got != cold {
		t.Fatalf("stages again:\n%s\nwant\n%s", got, cold)
	}
	s.expect("again", 7, 0, 2)

	// A late purchase of a2 (09:20 on the 3rd, in its session but with no channel of its
	// own, received on the 9th): the 3rd alone is read again. a2 now reaches consideration,
	// decision and purchase at 09:20, 1 200 s after its Paid Search visit, whose channel it
	// keeps. Consideration 3, gaps [600 1200 86700], median 1 200; Email 2, Paid Search 1;
	// decision and purchase 3, 0 s.
	late := storeEvent("a2-2", 3, 9, 20, "track", "purchase", "a2", "", "s3", "", 5)
	late.ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	const withLate = "[[1 awareness 5 1 1 0 Paid Search, Email, Referral] [2 consideration 3 0.6 0.6 1200 Email, Paid Search] " +
		"[3 decision 3 1 0.6 0 Email, Paid Search] [4 purchase 3 1 0.6 0 Email, Paid Search] [5 retention 0 0 0 0 ] [6 advocacy 0 0 0 0 ]]"
	if got := s.run(); got != withLate {
		t.Fatalf("stages after a late purchase on the 3rd:\n%s\nwant\n%s", got, withLate)
	}
	s.expect("late purchase", 6, 1, 5)

	// An identify on the 6th links a5 to u3 (stage_rows reads no identify, but the 6th's
	// print changed: it is read again, empty). a5's Paid Search visit at 12:00 on the 1st,
	// a day the store holds unchanged, is now u3's: u3 is aware then (Paid Search) and
	// reaches consideration at 11:10 on the 4th, 3 days less 50 minutes later (256 200 s),
	// its channel then Email. Four people are aware: Paid Search 3 (a1, u3, a2), Referral
	// 1; consideration 3, gaps [1200 86700 256200], median 86 700.
	journeytest.Insert(t, conn, []event.Event{storeEvent("a5-2", 6, 8, 0, "identify", "", "a5", "u3", "", "", 0)})
	const linked = "[[1 awareness 4 1 1 0 Paid Search, Referral] [2 consideration 3 0.75 0.75 86700 Email, Paid Search] " +
		"[3 decision 3 1 0.75 0 Email, Paid Search] [4 purchase 3 1 0.75 0 Email, Paid Search] [5 retention 0 0 0 0 ] [6 advocacy 0 0 0 0 ]]"
	if got := s.run(); got != linked {
		t.Fatalf("stages after a5 was linked to u3:\n%s\nwant\n%s", got, linked)
	}
	s.expect("identify", 6, 1, 5)

	// A replayed copy of a1's purchase (the same event id, stored twice) changes the print
	// of the 2nd, which is read again, and no answer: a copy moves no earliest time; so
	// does the merge that drops the copy.
	journeytest.Insert(t, conn, storeTraffic()[3:4])
	if got := s.run(); got != linked {
		t.Fatalf("stages after a replay:\n%s\nwant\n%s", got, linked)
	}
	s.expect("replay", 6, 1, 5)
	optimize(t, conn, db)
	if got := s.run(); got != linked {
		t.Fatalf("stages after the merge:\n%s\nwant\n%s", got, linked)
	}
	s.expect("merge", 6, 1, 5)

	// A new channel on a kept day's neighbour: a6 from Affiliate at 08:00 on the 7th, which
	// is read again alone; the channels of the other days come from the store. Awareness 5,
	// Paid Search 3, then Affiliate and Referral 1 each, by name.
	journeytest.Insert(t, conn, []event.Event{storeEvent("a6-1", 7, 8, 0, "pageview", "", "a6", "", "s7", "Affiliate", 0)})
	const affiliate = "[[1 awareness 5 1 1 0 Paid Search, Affiliate, Referral] [2 consideration 3 0.6 0.6 86700 Email, Paid Search] " +
		"[3 decision 3 1 0.6 0 Email, Paid Search] [4 purchase 3 1 0.6 0 Email, Paid Search] [5 retention 0 0 0 0 ] [6 advocacy 0 0 0 0 ]]"
	if got := s.run(); got != affiliate {
		t.Fatalf("stages after a visit from Affiliate on the 7th:\n%s\nwant\n%s", got, affiliate)
	}
	s.expect("new channel", 6, 1, 5)
}

// TestStageDaysAgree: the journey map over planted traffic (plantStages: every rule of
// the map, sign-ins, two sessions in one second), stored twice as a replay would, run
// twice through a Runner with a store, the second time from the store alone, answers
// what a Runner without one answers; with a filter or a period not of whole days nothing
// is kept, and the answer is the same too.
func TestStageDaysAgree(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := plantStages(300)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26, Metrics: m}
	plain := &Runner{Conn: conn, DB: db}
	for _, opts := range []map[string]string{
		{"from": "2026-01-01", "to": "2026-02-01"},
		{"from": "2026-01-01", "to": "2026-01-20"},
		{"from": "2026-01-01", "to": "2026-02-01", "filter": "channel=Email"},
		{"from": "2026-01-03T12:00:00Z", "to": "2026-01-25T06:00:00Z"},
	} {
		req, err := ParseRequest("shop", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := reportJSON(t, plain, "stages", req)
		for run := range 2 {
			h0 := testutil.ToFloat64(m.hits)
			if got := reportJSON(t, stored, "stages", req); got != want {
				t.Fatalf("%v, run %d through the store:\n%s\nwithout one:\n%s", opts, run, got, want)
			}
			whole := len(opts) == 2 && len(opts["from"]) == 10
			if hits := testutil.ToFloat64(m.hits) - h0; run == 1 && whole && hits == 0 {
				t.Errorf("%v: the second run took no day from the store", opts)
			} else if !whole && hits != 0 {
				t.Errorf("%v: %v days from the store, want none (a filter, or not whole days)", opts, hits)
			}
		}
	}
}
