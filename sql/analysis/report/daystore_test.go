package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// storeEvent returns an event of site store on March d, 2026, at hh:mm, received then.
func storeEvent(id string, d, hh, mm int, typ, name, anon, user, session, channel string, revenue float64) event.Event {
	ts := time.Date(2026, 3, d, hh, mm, 0, 0, time.UTC)
	return event.Event{ID: id, SiteID: "store", TS: ts, ReceivedAt: ts, Type: typ, Name: name, AnonID: anon,
		UserID: user, SessionID: session, Path: "/", Channel: channel, Revenue: revenue}
}

// storeTraffic is the first week of March 2026 on site store: a1 comes from Paid Search on
// the 1st and buys for 20 after an Email visit on the 2nd; a5 comes from Paid Search on the
// 1st and does not buy; a2 from Paid Search on the 3rd, no purchase (yet); u3, on device a3,
// from Email on the 4th, buying for 30 ten minutes later; a4 from Referral on the 5th. The
// 6th and 7th have no event.
func storeTraffic() []event.Event {
	return []event.Event{
		storeEvent("a1-1", 1, 10, 0, "pageview", "", "a1", "", "s1", "Paid Search", 0),
		storeEvent("a5-1", 1, 12, 0, "pageview", "", "a5", "", "s5", "Paid Search", 0),
		storeEvent("a1-2", 2, 10, 0, "pageview", "", "a1", "", "s2", "Email", 0),
		storeEvent("a1-3", 2, 10, 5, "track", "purchase", "a1", "", "s2", "", 20),
		storeEvent("a2-1", 3, 9, 0, "pageview", "", "a2", "", "s3", "Paid Search", 0),
		storeEvent("a3-1", 4, 11, 0, "pageview", "", "a3", "u3", "s4", "Email", 0),
		storeEvent("a3-2", 4, 11, 10, "track", "purchase", "a3", "u3", "s4", "", 30),
		storeEvent("a4-1", 5, 12, 0, "pageview", "", "a4", "", "s6", "Referral", 0),
	}
}

// storeRig runs paths over the week of storeTraffic through a Runner with a store, and
// counts what each run asked of ClickHouse and of the store.
type storeRig struct {
	t       *testing.T
	conn    driver.Conn
	r       *Runner
	plain   *Runner // without a store, from the events' own queries: the answer to agree with
	m       *Metrics
	offset  uint64 // SELECT queries that reading the count adds (selectQueries)
	hits    float64
	misses  float64
	queries uint64
}

func newStoreRig(t *testing.T, conn driver.Conn, db string, bytes int64) *storeRig {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	return &storeRig{t: t, conn: conn, r: &Runner{Conn: conn, DB: db, StoreBytes: bytes, Metrics: m},
		plain: &Runner{Conn: conn, DB: db, EventsOnly: true}, m: m, offset: offset}
}

// run runs paths through the store and returns its rows as text; it checks that the
// Runner without a store answers the same, and notes the run's hits, misses and queries.
func (s *storeRig) run() string {
	s.t.Helper()
	req, err := ParseRequest("store", goal.Definitions{}, map[string]string{"from": "2026-03-01", "to": "2026-03-08"}, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	before, h0, m0 := selectQueries(s.t, s.conn), testutil.ToFloat64(s.m.hits), testutil.ToFloat64(s.m.misses)
	res, err := s.r.Run(context.Background(), "paths", req)
	if err != nil {
		s.t.Fatal(err)
	}
	s.queries = queriesSince(s.t, s.conn, before, s.offset)
	s.hits, s.misses = testutil.ToFloat64(s.m.hits)-h0, testutil.ToFloat64(s.m.misses)-m0
	got, err := json.Marshal(res)
	if err != nil {
		s.t.Fatal(err)
	}
	if want := reportJSON(s.t, s.plain, "paths", req); string(got) != want {
		s.t.Fatalf("paths from the store\n%s\nfrom ClickHouse alone\n%s", got, want)
	}
	return fmt.Sprint(res.Tables[0].Rows)
}

// expect checks the last run's hits, misses and queries.
func (s *storeRig) expect(step string, hits, misses float64, queries uint64) {
	s.t.Helper()
	if s.hits != hits || s.misses != misses || s.queries != queries {
		s.t.Errorf("%s: %v days from the store, %v from ClickHouse, %d queries; want %v, %v and %d",
			step, s.hits, s.misses, s.queries, hits, misses, queries)
	}
}

// expectShared is expect for a run of two reads of days at once that share one read of
// the prints when the second joins the first's still in flight (printshare.go): queries,
// or one more when a loaded machine started the second after the first's prints ended.
func (s *storeRig) expectShared(step string, hits, misses float64, queries uint64) {
	s.t.Helper()
	if s.hits != hits || s.misses != misses || s.queries < queries || s.queries > queries+1 {
		s.t.Errorf("%s: %v days from the store, %v from ClickHouse, %d queries; want %v, %v and %d (or %d)",
			step, s.hits, s.misses, s.queries, hits, misses, queries, queries+1)
	}
}

// TestDayStore: paths over a week, run again and again through a Runner with a store, as
// each change to the events comes in. The days whose events did not change come from the
// store: the second run of the same report runs two queries (the days' prints and the
// person links) and no touch_rows; a late purchase on a stored day, an identify that links
// an old visitor to a user, a replayed copy of an event and the merge that drops it each
// read again the one day they changed, two replays on days apart the two days, and the
// answers are those worked out by hand (and those of a Runner without a store).
func TestDayStore(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	s := newStoreRig(t, conn, db, 1<<20)

	// Paths, by hand: a1's journey Paid Search > Email converts (1 day and 5 minutes,
	// 1.0035 days: 1), u3's Email converts (10 minutes, 0.0069 days: 0.01); the journeys of
	// a5 and a2 (Paid Search) and a4 (Referral) do not, and paths lists only the paths that
	// convert. Cold, every day is read: the prints, settled, the person links and
	// touch_rows' two parts (its sessions' and its events' rows, readRows), five queries;
	// the store then holds the seven days, the 6th and 7th empty.
	const cold = "[[Email 1 0 1 0.01] [Paid Search > Email 1 0 1 1]]"
	if got := s.run(); got != cold {
		t.Fatalf("paths, cold: %s, want %s", got, cold)
	}
	s.expect("cold", 0, 7, 5)
	if got := s.run(); got != cold {
		t.Fatalf("paths again: %s, want %s", got, cold)
	}
	s.expect("again", 7, 0, 2)
	// The same days' rows, stored, and the same links: the groups kept of the first run
	// answer (keptreads.go), once.
	if n := testutil.ToFloat64(s.m.keptReads); n != 1 {
		t.Errorf("the second run took the kept groups %v times, want once", n)
	}

	// A late purchase of a2 (5, at 09:20 on the 3rd, in its session, received on the 9th):
	// the 3rd is read again, alone (prints, settled, links, touch_rows' two parts). Paid
	// Search now converts once (a2, 20 minutes: 0.0139 days, 0.01) beside a5's journey that
	// does not (rate 0.5); the three paths convert once each and are listed by name.
	late := storeEvent("a2-2", 3, 9, 20, "track", "purchase", "a2", "", "s3", "", 5)
	late.ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	const withLate = "[[Email 1 0 1 0.01] [Paid Search 1 1 0.5 0.01] [Paid Search > Email 1 0 1 1]]"
	if got := s.run(); got != withLate {
		t.Fatalf("paths after a late purchase on the 3rd: %s, want %s", got, withLate)
	}
	s.expect("late purchase", 6, 1, 5)
	if n := testutil.ToFloat64(s.m.keptReads); n != 1 {
		t.Errorf("after a late purchase the kept groups answered %v times in all, want still once: the 3rd was read again", n)
	}

	// An identify on the 6th links a5 to u3: a5's Paid Search visit of the 1st, a day the
	// store holds unchanged, is now u3's, and u3's path is Paid Search > Email (from 12:00
	// on the 1st to 11:10 on the 4th: 2.965 days). a5 is no person of its own any more:
	// Paid Search's journey that did not convert is gone. Paid Search > Email converts
	// twice, its upper median 2.97 days; Email alone no more.
	journeytest.Insert(t, conn, []event.Event{storeEvent("a5-2", 6, 8, 0, "identify", "", "a5", "u3", "", "", 0)})
	const linked = "[[Paid Search > Email 2 0 1 2.97] [Paid Search 1 0 1 0.01]]"
	if got := s.run(); got != linked {
		t.Fatalf("paths after a5 was linked to u3: %s, want %s", got, linked)
	}
	s.expect("identify", 6, 1, 5)
	// Again, nothing changed since: the kept groups answer, with the new links.
	if got := s.run(); got != linked {
		t.Fatalf("paths again after the identify: %s, want %s", got, linked)
	}
	s.expect("again after the identify", 7, 0, 2)
	if n := testutil.ToFloat64(s.m.keptReads); n != 2 {
		t.Errorf("the kept groups answered %v times in all, want twice", n)
	}

	// A replayed copy of a1's purchase changes nothing but the print of the 2nd, which is
	// read again; so does the merge that drops the copy.
	journeytest.Insert(t, conn, storeTraffic()[3:4])
	if got := s.run(); got != linked {
		t.Fatalf("paths after a replay: %s, want %s", got, linked)
	}
	s.expect("replay", 6, 1, 5)
	if err := conn.Exec(context.Background(), "OPTIMIZE TABLE "+db+".events FINAL"); err != nil {
		t.Fatal(err)
	}
	var copies uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".events WHERE event_id = 'a1-3'").Scan(&copies); err != nil || copies != 1 {
		t.Fatalf("after OPTIMIZE FINAL the purchase is stored %d times (%v), want once", copies, err)
	}
	if got := s.run(); got != linked {
		t.Fatalf("paths after the merge: %s, want %s", got, linked)
	}
	s.expect("merge", 6, 1, 5)

	// Replays on the 1st and the 4th at once: the two days, apart, are read again in one
	// query of two ranges (from the events: they span four days), the answer unchanged.
	journeytest.Insert(t, conn, []event.Event{storeTraffic()[0], storeTraffic()[5]})
	if got := s.run(); got != linked {
		t.Fatalf("paths after replays on the 1st and the 4th: %s, want %s", got, linked)
	}
	s.expect("two days apart", 5, 2, 5)

	// An identify on the 9th, after the period, links a2 to u3: no day of the week
	// changed, every day comes from the store, but the links did, so the kept groups do not
	// answer: a2's Paid Search visit and purchase on the 3rd are now u3's, as a Runner
	// without a store answers too (run checks it).
	kept := testutil.ToFloat64(s.m.keptReads)
	journeytest.Insert(t, conn, []event.Event{storeEvent("a2-3", 9, 8, 0, "identify", "", "a2", "u3", "", "", 0)})
	if got := s.run(); got == linked {
		t.Fatalf("paths after a2 was linked to u3 on the 9th: %s, unchanged", got)
	}
	s.expect("identify after the period", 7, 0, 2)
	if n := testutil.ToFloat64(s.m.keptReads); n != kept {
		t.Errorf("the kept groups answered after the links changed (%v times, was %v)", n, kept)
	}
}

// TestDayStoreEvicts: a store bound to the bytes of the week's last two days keeps those
// two once a cold run has read all seven (five evicted, the least recently used: the
// earliest, put first), and the next run reads the other five again.
func TestDayStoreEvicts(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	all := newStoreRig(t, conn, db, 1<<20)
	want := all.run()
	var last2 int64
	for _, n := range []uint16{epochDay(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)), epochDay(time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC))} {
		for k, e := range all.r.store.days {
			if k.day == n {
				last2 += e.Value.(*storedDay).bytes
			}
		}
	}
	if len(all.r.store.days) != 7 || last2 == 0 {
		t.Fatalf("the unbounded store holds %d days, the last two %d bytes; want 7 days", len(all.r.store.days), last2)
	}

	s := newStoreRig(t, conn, db, last2)
	if got := s.run(); got != want {
		t.Fatalf("paths through the bounded store: %s, want %s", got, want)
	}
	s.expect("cold, bounded", 0, 7, 5)
	if ev := testutil.ToFloat64(s.m.evictions); ev < 5 {
		t.Errorf("%v days evicted, want at least 5", ev)
	}
	if b := testutil.ToFloat64(s.m.bytes); b > float64(last2) {
		t.Errorf("the store holds %v bytes, above its bound %d", b, last2)
	}
	if got := s.run(); got != want {
		t.Fatalf("paths through the bounded store, again: %s, want %s", got, want)
	}
	s.expect("again, bounded", 2, 5, 5)
}

// TestDayStoreAgrees: the reports that read touch_rows (attribution, paths,
// time-to-convert, channels, the overview) over the journey test's traffic and the edge
// sessions (stored twice, as a replay would), run twice through a Runner with a store,
// the second time from the store alone, answer what a Runner without one answers, whether
// the first run reads the days from session_aggregates or from the events.
func TestDayStoreAgrees(t *testing.T) {
	conn, db := journeytest.Database(t)
	// Merges stopped, so that the replay below is still stored twice and the sessions' rows
	// are still apart when the reports run.
	for _, table := range []string{"events", "session_aggregates"} {
		if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+db+"."+table); err != nil {
			t.Fatal(err)
		}
	}
	events := append(plantJourneys(300), plantSessionEdges("edge")...)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	plain := &Runner{Conn: conn, DB: db}
	for _, days := range []int{0, 1000} {
		t.Run(fmt.Sprintf("eventDays=%d", days), func(t *testing.T) { storeAgrees(t, conn, db, plain, days) })
	}
}

// storeAgrees runs the reports of TestDayStoreAgrees with eventDays set to days: 0 reads
// every day from session_aggregates, 1000 every day from the events (event_day_rows.sql).
func storeAgrees(t *testing.T, conn driver.Conn, db string, plain *Runner, days int) {
	defer func(was int) { eventDays = was }(eventDays)
	eventDays = days
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26, Metrics: m}
	reports := []struct {
		name string
		opts map[string]string
	}{
		{"attribution", map[string]string{"model": "all", "by": "channel"}},
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
			want := reportJSON(t, plain, rep.name, req)
			for run := range 2 {
				hits, misses := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses)
				if got := reportJSON(t, stored, rep.name, req); got != want {
					t.Errorf("%s %v on %s, run %d through the store:\n%s\nwithout one:\n%s", rep.name, rep.opts, site, run+1, got, want)
				}
				h, m := testutil.ToFloat64(m.hits)-hits, testutil.ToFloat64(m.misses)-misses
				if run == 1 && (h < 45 || m != 0) {
					t.Errorf("%s %v on %s, run 2: %v days from the store and %v from ClickHouse, want every day (45, or 90 with the previous period) from the store", rep.name, rep.opts, site, h, m)
				}
			}
		}
	}
}

// TestClaimTakenOverAndEnded: a read (a top list) claims days 3 to 5 of a query and,
// before it starts (its prints still coming), a read asking for more days (the overview,
// 0 to 9) takes them over, reads and ends them. The first then starts: none of its days
// is its own any more, and it waits for each on a read already ended without rows, after
// which it takes the day from the store or reads it again. It found no read for them and
// failed with a nil dereference in bench-reports' warm dashboard (seventeenth session).
func TestClaimTakenOverAndEnded(t *testing.T) {
	s := &dayStore{}
	top := &dayClaim{first: 3, end: 6}
	own, wait := s.claim("q", top)
	if !slices.Equal(own, []uint16{3, 4, 5}) || wait != nil {
		t.Fatalf("the first claim owns %v and waits for %d days, want 3 4 5 and none", own, len(wait))
	}
	overview := &dayClaim{first: 0, end: 10}
	all, others := s.claim("q", overview)
	if len(all) != 10 || others != nil {
		t.Fatalf("the wider claim owns %v and waits for %d days, want all ten (three taken over) and none", all, len(others))
	}
	all, others = s.start("q", overview, all, others)
	s.finish("q", overview, all, 0, make([]dayPrint, 10), make([]keptDay, 10))

	still, wait := s.start("q", top, own, wait)
	if len(still) != 0 || len(wait) != 3 {
		t.Fatalf("the first read, started after the other ended its days, owns %v and waits for %d, want none and 3", still, len(wait))
	}
	for n, d := range wait {
		select {
		case <-d.done:
		default:
			t.Errorf("day %d waits on a read not ended", n)
		}
		if d.ok {
			t.Errorf("day %d waits on a read with rows, want none (taken from the store or read again)", n)
		}
	}
}

// TestDayRowsMerge: a day's rows read in two parts (touch_rows' sessions and events,
// readRows), each with keys and conversions of its own, merged, group as the same rows read
// in one part do. By hand: the sessions' part holds session 1 (hash 1, a visit at 100 by
// "Paid Search", whose first chunk is full: merged rows go to later chunks) and session 2
// (hash 2, at 200 by "Direct"); the events' part, whose keys come in another order, holds
// session 1's purchase (40 at 150, id p1), an email open of its own group (hash 3, at 50 by
// "Email"), session 2's purchase (15 at 260, id p2), stored twice (a replay), and an
// impression of its own group (hash 4, at 70 by "Direct", a key the sessions' part holds
// too). Grouped: hash 1 visits at 100 by Paid Search with p1; hash 2 at 200 by Direct with
// p2 once; hash 3 at 50 by Email and hash 4 at 70 by Direct, emails; three keys in all.
func TestDayRowsMerge(t *testing.T) {
	sessions := &dayRows{keyOf: map[string]uint32{}}
	for i := range partRows {
		if err := sessions.row(touchRow{hash: 1, anon: 11, t: uint32(100 + i)}, "Paid Search", false, rowConversion{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sessions.row(touchRow{hash: 2, anon: 12, t: 200}, "Direct", false, rowConversion{}); err != nil {
		t.Fatal(err)
	}
	events := &dayRows{keyOf: map[string]uint32{}}
	for _, r := range []struct {
		row  touchRow
		key  string
		conv *rowConversion
	}{
		{touchRow{hash: 3, anon: 13, t: 50, flags: emailRow}, "Email", nil},
		{touchRow{hash: 2, anon: 12}, "", &rowConversion{260, 15, "p2"}},
		{touchRow{hash: 1, anon: 11}, "", &rowConversion{150, 40, "p1"}},
		{touchRow{hash: 2, anon: 12}, "", &rowConversion{260, 15, "p2"}},
		{touchRow{hash: 4, anon: 14, t: 70, flags: emailRow}, "Direct", nil},
	} {
		var c rowConversion
		if r.conv != nil {
			c = *r.conv
		}
		if err := events.row(r.row, r.key, r.conv != nil, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := sessions.merge(events); err != nil {
		t.Fatal(err)
	}
	sessions.done(false)
	var got []string
	for i, g := range sessions.groups {
		var convs []string
		for _, c := range sessions.groupConv[g.from:sessions.groupEnd(i)] {
			convs = append(convs, fmt.Sprintf("%s %v at %d", sessions.conv[c].id, sessions.conv[c].v, sessions.conv[c].t))
		}
		got = append(got, fmt.Sprintf("%d: anon %d, visit at %d by %s, email %v, %v", g.hash, g.anon, g.t, sessions.keys[g.k], g.email, convs))
	}
	want := []string{
		"1: anon 11, visit at 100 by Paid Search, email false, [p1 40 at 150]",
		"2: anon 12, visit at 200 by Direct, email false, [p2 15 at 260]",
		"3: anon 13, visit at 50 by Email, email true, []",
		"4: anon 14, visit at 70 by Direct, email true, []",
	}
	if !slices.Equal(got, want) {
		t.Errorf("the merged day groups as\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(sessions.keys) != 3 {
		t.Errorf("the merged day holds the keys %q, want Paid Search, Direct and Email once each", sessions.keys)
	}
}

// TestKeepingWaits: a read waits for the keep of its own query going on (keeping.wait),
// and not for another query's.
func TestKeepingWaits(t *testing.T) {
	var k keeping
	endA := k.begin("a")
	endB := k.begin("b")
	waited := make(chan string, 2)
	go func() { k.wait("a"); waited <- "a" }()
	k.wait("c") // no keep of c: returns at once
	endB()
	select {
	case q := <-waited:
		t.Fatalf("the read of %s ended its wait while its keep went on", q)
	case <-time.After(50 * time.Millisecond): // not a timing assertion: the wait must not end at all
	}
	endA()
	select {
	case <-waited:
	case <-time.After(stuck):
		t.Fatal("the read of a waits still after its keep ended")
	}
	k.wait("a")
	k.wait("b")
}

// TestPrintsInHalves: the prints of February 20 to March 14 (22 days: two queries of 11,
// readPrints) are those of one query. By hand, from storeTraffic: two events on each of
// March 1, 2 and 4, one on the 3rd and the 5th, none on the other days.
func TestPrintsInHalves(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	r := &Runner{Conn: conn, DB: db}
	march := func(d int) uint16 { return epochDay(time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC)) }
	first, end := march(1)-9, march(15)
	params := map[string]Value{"site": String("store")}
	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	before := selectQueries(t, conn)
	halves, err := r.readPrints(context.Background(), params, first, end)
	if err != nil {
		t.Fatal(err)
	}
	if n := queriesSince(t, conn, before, offset); n != 2 {
		t.Errorf("the prints of 22 days ran %d queries, want 2", n)
	}
	defer func(was uint16) { printHalves = was }(printHalves)
	printHalves = end - first + 1
	whole, err := r.readPrints(context.Background(), params, first, end)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(halves, whole) {
		t.Errorf("the prints read in two halves %v differ from those read at once %v", halves, whole)
	}
	want := map[uint16]uint64{march(1): 2, march(2): 2, march(3): 1, march(4): 2, march(5): 1}
	for i, p := range halves {
		if n := first + uint16(i); p.events != want[n] || (p.hash == 0) != (want[n] == 0) {
			t.Errorf("day %s: %d events (hash %x), want %d", dayDate(n), p.events, p.hash, want[n])
		}
	}
}
