package report

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// TestDashboardSharesDayPrints: the overview, the top lists and the top pages, asked at
// once as the dashboard asks them, read the prints of their days (day_prints.sql) in one
// query: the overview's read, of its period and the one before (February 28 to March 7),
// covers the days of the other two (March 4 to 7), which join it while it is in flight;
// and the top lists take their days of touch_rows from the overview's read of them, one
// kind of day whatever the key (daystore.go's dayRead), instead of reading them too. Each
// answers what it answers alone.
func TestDashboardSharesDayPrints(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	ctx := context.Background()
	opts := map[string]string{"from": "2026-03-04", "to": "2026-03-08"}
	type panel struct {
		Name string
		Opts map[string]string
	}
	panels := []panel{{"overview", nil}, {"top", map[string]string{"dimension": "channel,country"}}, {"top", map[string]string{"dimension": "page"}}}
	request := func(p panel) *Request {
		o := map[string]string{}
		for k, v := range opts {
			o[k] = v
		}
		for k, v := range p.Opts {
			o[k] = v
		}
		req, err := ParseRequest("store", goal.Definitions{}, o, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset

	// Alone, each through a Runner of its own with a store and nothing kept yet: the
	// overview and the top lists read the days' prints, settled.sql, the person links and
	// touch_rows' two parts (5 queries each); the top pages the prints, settled.sql,
	// page_rows, the links and page_names (5). 15 in all.
	alone := make([]string, len(panels))
	var err error
	before := selectQueries(t, conn)
	for i, p := range panels {
		if alone[i], err = runJSON(ctx, &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26}, p.Name, request(p)); err != nil {
			t.Fatal(err)
		}
	}
	if n := queriesSince(t, conn, before, offset); n != 15 {
		t.Fatalf("the three alone ran %d queries, want 15", n)
	}

	// At once: the Runner's one turn is held until all three wait for the overview's read of
	// the prints, so the overview's comes first and the others find it in flight (two
	// queries fewer), and the overview has claimed its days of touch_rows, which the top
	// lists wait for rather than run settled.sql and touch_rows' two parts themselves
	// (three fewer again): 10.
	r := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26, MaxConcurrent: 1}
	endTurn, err := r.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before = selectQueries(t, conn)
	type answer struct {
		i    int
		json string
		err  error
	}
	answers := make(chan answer, len(panels))
	for i, p := range panels {
		req := request(p)
		go func() {
			got, err := runJSON(ctx, r, p.Name, req)
			answers <- answer{i, got, err}
		}()
		waitPrints(t, r, i+1) // the overview's read first, then each other joining it
	}
	endTurn()
	for range panels {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		if a.json != alone[a.i] {
			t.Errorf("%s asked at once:\n%s\nalone:\n%s", panels[a.i].Name, a.json, alone[a.i])
		}
	}
	if n := queriesSince(t, conn, before, offset); n != 10 {
		t.Errorf("the three asked at once ran %d queries, want 10 (one read of the prints, not three; one of touch_rows, not two)", n)
	}
}

// waitPrints waits until the one read of the days' prints in flight in r has n reports
// waiting for it.
func waitPrints(t *testing.T, r *Runner, n int) {
	t.Helper()
	for deadline := time.Now().Add(stuck); ; time.Sleep(5 * time.Millisecond) {
		r.printShares.mu.Lock()
		have := 0
		for _, reads := range r.printShares.reads {
			for _, read := range reads {
				have += read.joined
			}
		}
		r.printShares.mu.Unlock()
		if have == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d reports wait for the days' prints, want %d", have, n)
		}
	}
}

// TestTopListFirstSharesDayPrints: when a top list asks before the overview (the two are
// asked at once, and either may come first), its read of the prints of March 4 to 7 is in
// flight when the overview asks for February 28 to March 7 (its period and the one before):
// the overview joins it for March 4 to 7 and reads only February 28 to March 3 itself, not
// the whole of its days again; and it takes over the top list's claim on March 4 to 7 of
// touch_rows (dayClaim), not started yet, so that it reads all its days in one query and the
// top list waits for them, where each would read its own days. Each answers what it
// answers alone.
func TestTopListFirstSharesDayPrints(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	ctx := context.Background()
	request := func(opts map[string]string) *Request {
		o := map[string]string{"from": "2026-03-04", "to": "2026-03-08"}
		for k, v := range opts {
			o[k] = v
		}
		req, err := ParseRequest("store", goal.Definitions{}, o, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	names := []string{"top", "overview"}
	reqs := []*Request{request(map[string]string{"dimension": "channel,country"}), request(nil)}
	alone := make([]string, len(names))
	for i := range names {
		var err error
		if alone[i], err = runJSON(ctx, &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26}, names[i], reqs[i]); err != nil {
			t.Fatal(err)
		}
	}

	offset := selectQueries(t, conn)
	offset = selectQueries(t, conn) - offset
	r := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26, MaxConcurrent: 1}
	endTurn, err := r.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before := selectQueries(t, conn)
	type answer struct {
		i    int
		json string
		err  error
	}
	answers := make(chan answer, len(names))
	for i := range names {
		go func() {
			got, err := runJSON(ctx, r, names[i], reqs[i])
			answers <- answer{i, got, err}
		}()
		waitPrints(t, r, 2*i+1) // the top list's read (1), then the overview joining it and reading the rest (3 in all)
	}
	march := func(d int) uint16 { return epochDay(time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC)) }
	type span struct {
		first, end uint16
		joined     int
	}
	var inFlight []span
	r.printShares.mu.Lock()
	for _, reads := range r.printShares.reads {
		for _, read := range reads {
			inFlight = append(inFlight, span{read.first, read.end, read.joined})
		}
	}
	r.printShares.mu.Unlock()
	slices.SortFunc(inFlight, func(a, b span) int { return int(a.first) - int(b.first) })
	if want := []span{{march(4) - 4, march(4), 1}, {march(4), march(8), 2}}; !slices.Equal(inFlight, want) {
		t.Errorf("reads of prints in flight %v, want %v (the overview's of February 28 to March 3, the top list's of March 4 to 7, joined by the overview)", inFlight, want)
	}
	endTurn()
	for range names {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		if a.json != alone[a.i] {
			t.Errorf("%s asked at once:\n%s\nalone:\n%s", names[a.i], a.json, alone[a.i])
		}
	}
	// The top list: its prints and the person links; the overview: its prints, settled,
	// the links and touch_rows' two parts of all seven days. 7, where two reads of
	// touch_rows made 10.
	if n := queriesSince(t, conn, before, offset); n != 7 {
		t.Errorf("the two asked at once ran %d queries, want 7 (one read of touch_rows, not two)", n)
	}
}
