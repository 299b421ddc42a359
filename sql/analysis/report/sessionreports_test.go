package report

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// TestOverviewFromSessionsByBucket: the overview counted in journeyd from the touch groups
// of the sessions puts each session in the bucket of its first visit and each conversion
// in the bucket of its own time, in both periods, and answers as overview.sql over the
// events does for day and hour buckets and another conversion.
//
// The edge sessions (plantSessionEdges), January 2026 by day against December, worked out
// by hand: G's session starts on December 31 at 23:58 (previous period, day 31: one
// session of one visitor) and its purchase of 5 is on January 1 (day 1: one conversion,
// no session); the six second users' Direct sessions are on January 5 (6 sessions, 6
// visitors); A's Paid Search session starts on January 10 at 23:50 and its purchase of 30
// is on January 11; B's session (its signup is no purchase) on January 13, C on the 14th,
// D on the 15th (its email open is no session), s9 on the 20th; E (bots) and F (an email
// open alone) are none. The six H sessions start on January 21 to 26 at 23:59, and each
// one's purchase (1 to 6) comes after midnight: January 22 has H1's session and H0's
// purchase of 1, January 27 H5's purchase of 6 alone.
func TestOverviewFromSessionsByBucket(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, append(plantJourneys(300), plantSessionEdges("edge")...))
	sessions := &Runner{Conn: conn, DB: db}
	raw := &Runner{Conn: conn, DB: db, EventsOnly: true}
	ctx := context.Background()

	req, err := ParseRequest("edge", goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-02-01", "interval": "day"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := sessions.Run(ctx, "overview", req)
	if err != nil {
		t.Fatal(err)
	}
	series := res.Tables[1]
	col := map[string]int{}
	for i, c := range series.Columns {
		col[c] = i
	}
	// day (1-based) -> sessions, visitors, conversions, revenue of the current period.
	want := map[int][4]float64{1: {0, 0, 1, 5}, 5: {6, 6, 0, 0}, 10: {1, 1, 0, 0}, 11: {0, 0, 1, 30}, 13: {1, 1, 0, 0},
		14: {1, 1, 0, 0}, 15: {1, 1, 0, 0}, 20: {1, 1, 0, 0}, 21: {1, 1, 0, 0}, 22: {1, 1, 1, 1}, 23: {1, 1, 1, 2},
		24: {1, 1, 1, 3}, 25: {1, 1, 1, 4}, 26: {1, 1, 1, 5}, 27: {0, 0, 1, 6}}
	if len(series.Rows) != 31 {
		t.Fatalf("%d days in January's series, want 31", len(series.Rows))
	}
	for i, row := range series.Rows {
		w := want[i+1]
		got := [4]float64{toFloat(row[col["sessions"]]), toFloat(row[col["visitors"]]), toFloat(row[col["conversions"]]), toFloat(row[col["revenue"]])}
		if got != w {
			t.Errorf("January %d: sessions, visitors, conversions, revenue %v, want %v", i+1, got, w)
		}
		prev := [2]float64{toFloat(row[col["previous_sessions"]]), toFloat(row[col["previous_visitors"]])}
		if wantPrev := [2]float64{}; i == 30 && prev != [2]float64{1, 1} || i != 30 && prev != wantPrev {
			t.Errorf("December %d: sessions, visitors %v, want G's session on the 31st alone", i+1, prev)
		}
	}

	// Both ways agree on the shop's traffic and the edges, by day, by hour, and with
	// signups as the conversion (inside and outside sessions alike).
	for _, site := range []string{"shop", "edge"} {
		for _, opts := range []map[string]string{
			{"from": "2026-01-01", "to": "2026-02-01", "interval": "day"},
			{"from": "2026-01-10", "to": "2026-01-12"}, // two days: by hour
			{"from": "2026-01-01", "to": "2026-02-01", "conversion": "signup"},
		} {
			req, err := ParseRequest(site, goal.Definitions{}, opts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"overview", "channels"} {
				var shown strings.Builder
				sessions.ShowSQL = &shown
				sessions.Run(ctx, name, req)
				sessions.ShowSQL = nil
				if !strings.Contains(shown.String(), "-- touch_rows") {
					t.Errorf("%s %v on %s: not counted from the touch groups of the sessions:\n%s", name, opts, site, shown.String())
				}
				got, want := reportJSON(t, sessions, name, req), reportJSON(t, raw, name, req)
				if got != want {
					t.Errorf("%s %v on %s: from the sessions\n%s\nfrom the events\n%s", name, opts, site, got, want)
				}
			}
		}
	}
}

// TestChannelsShareTheJourneyRead: channels asked for with attribution and paths, as the
// dashboard asks (the same site, period, key and conversion), counts its rows from the
// same read of the touch groups, and answers what it answers alone. Alone the three run
// three reads (readQueries each); together, the Runner's only turn held until all three
// have joined, one.
func TestChannelsShareTheJourneyRead(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, plantJourneys(1000))
	r := &Runner{Conn: conn, DB: db, MaxConcurrent: 1}
	ctx := context.Background()
	panels := []struct {
		name string
		opts map[string]string
	}{{"channels", nil}, journeyPanels[0], journeyPanels[1]}

	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	before := selectQueries(t, conn)
	alone := map[string]string{}
	for _, p := range panels {
		got, err := runJSON(ctx, r, p.name, panelRequest(t, p.opts))
		if err != nil {
			t.Fatal(err)
		}
		alone[p.name] = got
	}
	if n := queriesSince(t, conn, before, offset); n != 3*readQueries {
		t.Fatalf("the three reports one after the other ran %d queries, want %d (one read each)", n, 3*readQueries)
	}
	if !strings.Contains(alone["channels"], "Organic Search") {
		t.Fatalf("channels alone answered no channel to compare: %s", alone["channels"])
	}

	endTurn, err := r.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before = selectQueries(t, conn)
	answers := make(chan [3]string, len(panels))
	for _, p := range panels {
		req := panelRequest(t, p.opts)
		go func() {
			got, err := runJSON(ctx, r, p.name, req)
			answers <- [3]string{p.name, got, fmt.Sprint(err)}
		}()
	}
	waitMembers(t, r, panelRequest(t, nil), len(panels))
	endTurn()
	for range panels {
		var a [3]string
		select {
		case a = <-answers:
		case <-time.After(stuck):
			t.Fatal("the reports did not answer")
		}
		if a[2] != "<nil>" {
			t.Fatalf("%s together with the others: %s", a[0], a[2])
		}
		if a[1] != alone[a[0]] {
			t.Errorf("%s together with the others answered\n%s\nalone\n%s", a[0], a[1], alone[a[0]])
		}
	}
	if n := queriesSince(t, conn, before, offset); n != readQueries {
		t.Errorf("channels, attribution and paths together ran %d queries, want %d: one shared read", n, readQueries)
	}
}

// TestTopSessionsSQLAgrees: the library's top_sessions.sql, which journeyd no longer runs
// (it counts the same from the touch groups, topFromSessions), still answers what journeyd
// answers, on the journey test's traffic and the edge sessions, every value of all eight
// dimensions a visit holds, so that the file an analyst runs by hand stays right.
func TestTopSessionsSQLAgrees(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := append(plantJourneys(300), plantSessionEdges("edge")...)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events) // stored twice, as a replay would
	r := &Runner{Conn: conn, DB: db}
	ctx := context.Background()
	dims := []string{"channel", "source", "medium", "campaign", "entry_page", "country", "device", "browser"}
	for _, site := range []string{"shop", "edge"} {
		req, err := ParseRequest(site, goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-02-01"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.topFromSessions(ctx, req, dims, 1000)
		if err != nil {
			t.Fatal(err)
		}
		p, err := conversionParams(req)
		if err != nil {
			t.Fatal(err)
		}
		delete(p, "filter")
		var keys []string
		for _, dim := range dims {
			i := visitFields[dim]
			keys = append(keys, fmt.Sprintf("(%s, if(first[%d] = '', %s, first[%d]))", quote(dim), i, quote(emptyKey(dim)), i))
		}
		p["dimensions"], p["limit"] = fragment(strings.Join(keys, ",\n")), Int(1000)
		want, err := r.Query(ctx, "top_sessions", p)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Data) < len(dims) {
			t.Fatalf("%s: top_sessions.sql gives %d rows, want a value of each of the %d dimensions at least", site, len(want.Data), len(dims))
		}
		if fmt.Sprint(got) != fmt.Sprint(want.Data) {
			t.Errorf("%s: counted from the touch groups\n%v\ntop_sessions.sql\n%v", site, got, want.Data)
		}
	}
}
