package report

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/attribution"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// plantJourneys returns the traffic of n people over January 2026 that exercises every
// rule of the journey cut: sessions of several channels (Direct among them), touchpoints
// in the same second (and in the second of a conversion), email opens outside sessions, conversions inside and outside
// sessions, several per person, some more than the 30-day lookback after the touchpoints
// before them, server events that are never touchpoints, and people who never convert.
func plantJourneys(n int) []event.Event {
	rng := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	channels := []string{"", "Organic Search", "Paid Search", "Email", "Referral"}
	var out []event.Event
	add := func(e event.Event) {
		e.ID = fmt.Sprintf("e%d", len(out))
		e.SiteID = "shop"
		e.ReceivedAt = e.TS
		out = append(out, e)
	}
	for p := range n {
		anon := fmt.Sprintf("a%d", p)
		user := ""
		if p%3 == 0 {
			user = fmt.Sprintf("u%d", p)
		}
		at := start.Add(time.Duration(rng.IntN(20*24*3600)) * time.Second)
		for s := range 1 + rng.IntN(4) {
			session := fmt.Sprintf("s%d-%d", p, s)
			ch := channels[rng.IntN(len(channels))]
			add(event.Event{TS: at, Type: "pageview", AnonID: anon, SessionID: session, Path: "/", Channel: ch})
			if rng.IntN(4) == 0 { // a second visit event in the same second, another channel
				add(event.Event{TS: at, Type: "pageview", AnonID: anon, SessionID: session, Path: "/b", Channel: channels[rng.IntN(len(channels))]})
			}
			next := at.Add(time.Duration(rng.IntN(12*24*3600)) * time.Second)
			if rng.IntN(3) == 0 {
				add(event.Event{TS: at.Add(time.Minute), Type: "event", Name: "purchase", AnonID: anon, UserID: user,
					SessionID: session, Channel: ch, Revenue: float64(rng.IntN(100000)) / 100})
				if rng.IntN(3) == 0 { // the next visit in the second of the conversion
					next = at.Add(time.Minute)
				}
			}
			switch rng.IntN(8) {
			case 0:
				add(event.Event{TS: at.Add(2 * time.Hour), Type: "email_open", AnonID: anon, Channel: "Email"})
			case 1: // two touchpoints in one second: their order is their keys'
				add(event.Event{TS: at, Type: "email_open", AnonID: anon, Channel: "Email", Source: "newsletter"})
			}
			at = next
		}
		if user != "" && rng.IntN(2) == 0 { // a backend order outside any session
			add(event.Event{TS: at, Type: "track", Name: "order_paid", UserID: user, Revenue: 10})
			add(event.Event{TS: at, Type: "identify", AnonID: anon, UserID: user})
		}
		if rng.IntN(6) == 0 { // long after: beyond the lookback of the touchpoints before
			add(event.Event{TS: at.Add(40 * 24 * time.Hour), Type: "track", Name: "purchase", AnonID: anon, Revenue: 5})
		}
	}
	return out
}

// TestJourneysAgreeWithLibrary holds the report engine's journey cut (journeypaths.go) to the
// SQL library's (include/journeys.sql, include/conversion_paths.sql): on the same planted
// traffic, stored twice as a replay would, attribution's paths, the paths report and
// time-to-convert's conversions must be the same whichever of the two computes them,
// keyed by channel and by source.
func TestJourneysAgreeWithLibrary(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := plantJourneys(300)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	r := &Runner{Conn: conn, DB: db}
	ctx := context.Background()
	for _, by := range []string{"channel", "source"} {
		req, err := ParseRequest("shop", goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-04-01", "by": by}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.journeyPaths(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		want, err := r.libraryPaths(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || len(got) < 20 {
			t.Fatalf("by %s: the engine cut %d attribution paths, the library %d (want the same, and at least 20)", by, len(got), len(want))
		}
		var conversions, nulls float64
		for i := range got {
			g, w := got[i], want[i]
			if fmt.Sprint(g.Channels, g.AgeDays, g.Conversions, g.Nulls) != fmt.Sprint(w.Channels, w.AgeDays, w.Conversions, w.Nulls) ||
				math.Abs(g.Value-w.Value) > 1e-9*math.Max(1, math.Abs(w.Value)) {
				t.Errorf("by %s: path %d: engine %+v, library %+v", by, i, g, w)
			}
			conversions += g.Conversions
			nulls += g.Nulls
		}
		if conversions == 0 || nulls == 0 {
			t.Errorf("by %s: %v conversions and %v null paths: the planted traffic must give both", by, conversions, nulls)
		}

		table, err := r.pathsTable(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		p, err := journeyParams(req)
		if err != nil {
			t.Fatal(err)
		}
		p["value"] = fragment(valueExpr(req.Conversion))
		p["limit"] = Int(int64(req.Top))
		lib, err := r.Query(ctx, "paths", p)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(table.Columns) != fmt.Sprint(lib.Columns) || len(table.Rows) != len(lib.Data) || len(lib.Data) == 0 {
			t.Fatalf("by %s: paths: engine %v with %d rows, library %v with %d rows", by, table.Columns, len(table.Rows), lib.Columns, len(lib.Data))
		}
		for i, row := range table.Rows {
			for c := range row {
				if fmt.Sprint(row[c]) != fmt.Sprint(lib.Data[i][c]) {
					t.Errorf("by %s: paths row %d: engine %v, library %v", by, i, row, lib.Data[i])
					break
				}
			}
		}

		counts := map[[2]int]int64{}
		if err := r.timeToConvert(ctx, req, func(d, n int) { counts[[2]int{d, n}]++ }); err != nil {
			t.Fatal(err)
		}
		delete(p, "limit")
		lib, err = r.Query(ctx, "time-to-convert", p)
		if err != nil {
			t.Fatal(err)
		}
		if len(lib.Data) != len(counts) || len(counts) < 5 {
			t.Fatalf("by %s: time-to-convert: engine %d (days, touchpoints) cells, library %d (want the same, and at least 5)", by, len(counts), len(lib.Data))
		}
		for _, row := range lib.Data {
			cell := [2]int{int(toFloat(row[0])), int(toFloat(row[1]))}
			if counts[cell] != int64(toFloat(row[2])) {
				t.Errorf("by %s: time-to-convert %v: engine %d conversions, library %v", by, cell, counts[cell], row[2])
			}
		}
	}
}

// libraryPaths runs the library's attribution.sql and returns its rows as attribution
// paths, in the order of Paths: what an analyst running the SQL by hand gets.
func (r *Runner) libraryPaths(ctx context.Context, req *Request) ([]attribution.Path, error) {
	p, err := journeyParams(req)
	if err != nil {
		return nil, err
	}
	p["value"] = fragment(valueExpr(req.Conversion))
	rows, err := r.Query(ctx, "attribution", p)
	if err != nil {
		return nil, err
	}
	if len(rows.Data) > 0 && len(rows.Data[0]) != 5 {
		return nil, fmt.Errorf("cannot read attribution paths: want 5 columns, got %v", rows.Columns)
	}
	paths := make([]attribution.Path, 0, len(rows.Data))
	for _, row := range rows.Data {
		keys, _ := row[0].([]string)
		ages, _ := row[1].([]float64)
		if len(ages) != len(keys) {
			ages = nil
		}
		paths = append(paths, attribution.Path{Channels: keys, AgeDays: ages,
			Conversions: toFloat(row[2]), Value: toFloat(row[3]), Nulls: toFloat(row[4])})
	}
	sortPaths(paths)
	return paths, nil
}

// TestCutJourneysSameSecondByKey: a touch_rows read's batch sorts a person's touchpoints
// by the whole touch_key, and a reader of one of its fields cuts them by that field. Two
// touchpoints in second 10, "Paid Search\xffzeta" and "Referral\xffalpha", sort by the
// whole key Paid Search first; by source (field 2) the journey is alpha, then zeta, as
// sortPerson sorts the source's own rows; by channel (field 1) Paid Search, then Referral.
func TestCutJourneysSameSecondByKey(t *testing.T) {
	raw := []string{"Referral\xffalpha", "Paid Search\xffzeta", "Email\xffnews"}
	touches := []touchpoint{{5, 2}, {10, 1}, {10, 0}} // sorted by time, then raw key
	convs := []conversionAt{{20, 1}}
	for _, c := range []struct {
		key  touchKey
		want string
	}{
		{touchKey{}, "[Email\xffnews Paid Search\xffzeta Referral\xffalpha]"},
		{touchKey{field: 1, empty: "Direct"}, "[Email Paid Search Referral]"},
		{touchKey{field: 2, empty: "(none)"}, "[news alpha zeta]"},
	} {
		var got []string
		var j cutJourney
		cutJourneys(c.key.keysOf(raw), touches, convs, 30*86400, &j, func(j *cutJourney) {
			got = append(got, fmt.Sprint(j.keys, j.times))
		})
		if want := c.want + " [5 10 10]"; len(got) != 1 || got[0] != want {
			t.Errorf("key %+v: journeys %q, want one: %q", c.key, got, want)
		}
	}
}
