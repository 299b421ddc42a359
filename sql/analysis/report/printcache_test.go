package report

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// TestPrintsReuse: paths over the week of storeTraffic, run again and again through a
// Runner with a store that keeps the days' prints (PrintsReuse, a minute, on a clock of the
// test's), as each change to the events comes in between two runs. Each run lists the
// events' parts first (day_parts.sql); the prints of the days no changed part holds come
// from the run before, the others are read, alone; and every change is seen: the answers
// are those TestDayStore works out by hand, and those of a Runner without a store
// (storeRig.run checks both).
func TestPrintsReuse(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	// No merge but the test's own: a merge in the background would replace the parts
	// between two runs, and more days than the change's would be read again.
	if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+db+".events"); err != nil {
		t.Fatal(err)
	}
	s := newStoreRig(t, conn, db, 1<<20)
	now := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	s.r.PrintsReuse, s.r.Now = time.Minute, func() time.Time { return now }
	march := func(d int) uint16 { return epochDay(time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC)) }
	// lastRead checks the days of the last read of prints kept: first to end (excluded).
	lastRead := func(step string, first, end uint16) {
		t.Helper()
		s.r.printCache.mu.Lock()
		defer s.r.printCache.mu.Unlock()
		for _, reads := range s.r.printCache.reads {
			if k := reads[0]; k.first != first || k.end != end {
				t.Errorf("%s: the last read of prints took days %s to %s, want %s to %s", step,
					dayTime(k.first).Format(time.DateOnly), dayTime(k.end).Format(time.DateOnly),
					dayTime(first).Format(time.DateOnly), dayTime(end).Format(time.DateOnly))
			}
		}
	}

	// Cold: the parts, then every day is read: the prints, settled, the person links and
	// touch_rows' two parts, six queries.
	const cold = "[[Email 1 0 1 0.01] [Paid Search > Email 1 0 1 1]]"
	if got := s.run(); got != cold {
		t.Fatalf("paths, cold: %s, want %s", got, cold)
	}
	s.expect("cold", 0, 7, 6)
	lastRead("cold", march(1), march(8))

	// Again, ten seconds later, nothing changed: the parts listed are those listed before
	// the prints were read, so every print comes from that read; the parts and the person
	// links, two queries (without PrintsReuse: the prints and the links).
	now = now.Add(10 * time.Second)
	if got := s.run(); got != cold {
		t.Fatalf("paths again: %s, want %s", got, cold)
	}
	s.expect("again", 7, 0, 2)

	// A late purchase of a2 on the 3rd (09:20, received on the 9th) is inserted between two
	// runs: its part, new, holds events of the 3rd only, so the prints of the 3rd alone are
	// read again, and the day's rows: the parts, the prints of the 3rd, settled, the links
	// and touch_rows' two parts, six queries. Paid Search now converts once (a2, 20 minutes) beside
	// a5's journey that does not (rate 0.5).
	late := storeEvent("a2-2", 3, 9, 20, "track", "purchase", "a2", "", "s3", "", 5)
	late.ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	now = now.Add(10 * time.Second)
	const withLate = "[[Email 1 0 1 0.01] [Paid Search 1 1 0.5 0.01] [Paid Search > Email 1 0 1 1]]"
	if got := s.run(); got != withLate {
		t.Fatalf("paths after a late purchase on the 3rd: %s, want %s", got, withLate)
	}
	s.expect("late purchase", 6, 1, 6)
	lastRead("late purchase", march(3), march(4))

	// A replayed copy of a1's purchase on the 2nd: the 2nd's print (one more event) and
	// rows are read again, the answer unchanged.
	journeytest.Insert(t, conn, storeTraffic()[3:4])
	now = now.Add(10 * time.Second)
	if got := s.run(); got != withLate {
		t.Fatalf("paths after a replay: %s, want %s", got, withLate)
	}
	s.expect("replay", 6, 1, 6)
	lastRead("replay", march(2), march(3))

	// The merge that drops the copy replaces every part of March by one, whose events span
	// the 1st to the 5th: those days' prints are read again (the 6th and 7th still come
	// from the cold read), and the 2nd's print is the one before the replay again, which the
	// store does not hold (it holds the day with the copy): its rows are read again.
	if err := conn.Exec(context.Background(), "SYSTEM START MERGES "+db+".events"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Exec(context.Background(), "OPTIMIZE TABLE "+db+".events FINAL"); err != nil {
		t.Fatal(err)
	}
	var copies uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".events WHERE event_id = 'a1-3'").Scan(&copies); err != nil || copies != 1 {
		t.Fatalf("after OPTIMIZE FINAL the purchase is stored %d times (%v), want once", copies, err)
	}
	now = now.Add(10 * time.Second)
	if got := s.run(); got != withLate {
		t.Fatalf("paths after the merge: %s, want %s", got, withLate)
	}
	s.expect("merge", 6, 1, 6)
	lastRead("merge", march(1), march(6))

	// Two minutes on, past PrintsReuse, with nothing changed: every print is read again,
	// every day then comes from the store: the parts, the prints and the links.
	now = now.Add(2 * time.Minute)
	if got := s.run(); got != withLate {
		t.Fatalf("paths two minutes later: %s, want %s", got, withLate)
	}
	s.expect("past PrintsReuse", 7, 0, 3)
	lastRead("past PrintsReuse", march(1), march(8))
}

// TestPrintsFill: which days a kept read of prints answers, by the parts listed before it
// and at the ask, worked out by hand. Part a holds events of days 10 to 12, b of 13.
func TestPrintsFill(t *testing.T) {
	t0 := time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)
	read := []dayPrint{{1, 1}, {2, 2}, {3, 3}, {4, 4}} // days 10 to 13
	before := partsList{"a": {active: true, first: 10, last: 12}, "b": {active: true, first: 13, last: 13}}
	f := func(name string, now partsList, at time.Duration, first, end uint16, want []uint16, wantPrints []dayPrint) {
		t.Helper()
		var c printCache
		c.keep("q", partsAt{before, t0}, time.Minute, 10, 14, read)
		prints := make([]dayPrint, end-first)
		if rest := c.fill("q", partsAt{now, t0.Add(at)}, time.Minute, first, end, prints); !slices.Equal(rest, want) {
			t.Errorf("%s: days %v left to read, want %v", name, rest, want)
		}
		if !slices.Equal(prints, wantPrints) {
			t.Errorf("%s: prints %v, want %v", name, prints, wantPrints)
		}
	}
	// The same parts: every day of the read answers; day 14, beyond it, is left.
	f("unchanged", before, time.Second, 11, 15, []uint16{14}, []dayPrint{{2, 2}, {3, 3}, {4, 4}, {}})
	// A new part c of day 12 (an insert): 12 is left, the others answer.
	f("insert", partsList{"a": before["a"], "b": before["b"], "c": {active: true, first: 12, last: 12}}, time.Second,
		10, 14, []uint16{12}, []dayPrint{{1, 1}, {2, 2}, {}, {4, 4}})
	// a and b merged into d (days 10 to 13), a and b inactive: every day is left.
	f("merge", partsList{"a": {first: 10, last: 12}, "b": {first: 13, last: 13}, "d": {active: true, first: 10, last: 13}}, time.Second,
		10, 14, []uint16{10, 11, 12, 13}, make([]dayPrint, 4))
	// b's partition dropped: b listed inactive, day 13 is left.
	f("drop", partsList{"a": before["a"], "b": {first: 13, last: 13}}, time.Second, 10, 14, []uint16{13}, []dayPrint{{1, 1}, {2, 2}, {3, 3}, {}})
	// b gone from the list (cleaned up): day 13 is left.
	f("gone", partsList{"a": before["a"]}, time.Second, 10, 14, []uint16{13}, []dayPrint{{1, 1}, {2, 2}, {3, 3}, {}})
	// A new part whose times are unknown (0 to maxDay): every day is left.
	f("unknown times", partsList{"a": before["a"], "b": before["b"], "e": {active: true, first: 0, last: maxDay}}, time.Second,
		10, 14, []uint16{10, 11, 12, 13}, make([]dayPrint, 4))
	// Past the minute: nothing answers.
	f("old", before, time.Minute+time.Second, 10, 14, []uint16{10, 11, 12, 13}, make([]dayPrint, 4))
}

// TestPrintsInFlightAfterInsert: a read of the week's prints is in flight, begun with the
// parts listed before a late purchase on the 3rd was inserted; a report that asks once the
// insert has ended joins it for every day but the 3rd, whose new part its own list shows,
// and reads the 3rd itself: it sees the purchase though the read in flight (given the
// prints of before the insert here) does not.
func TestPrintsInFlightAfterInsert(t *testing.T) {
	conn, db := journeytest.Database(t)
	if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+db+".events"); err != nil {
		t.Fatal(err)
	}
	journeytest.Insert(t, conn, storeTraffic())
	ctx := context.Background()
	r := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 20, PrintsReuse: time.Minute}
	march := func(d int) uint16 { return epochDay(time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC)) }
	params := map[string]Value{"site": String("store")}
	first, end := march(1), march(8)
	stale, err := r.readPrints(ctx, params, first, end)
	if err != nil {
		t.Fatal(err)
	}
	list, err := r.readParts(ctx)
	if err != nil || list == nil {
		t.Fatalf("cannot list the parts: %v (%d listed)", err, len(list))
	}
	key, err := Fill(dayPrintsSQL, map[string]Value{"db": Ident(r.DB), "site": params["site"], "from": fragment("FROM"), "until": fragment("UNTIL")})
	if err != nil {
		t.Fatal(err)
	}
	inFlight := &printsRead{first: first, end: end, joined: 1, done: make(chan struct{}), before: &partsAt{list, r.now()}}
	r.printShares.reads = map[string][]*printsRead{key: {inFlight}}

	late := storeEvent("a2-2", 3, 9, 20, "track", "purchase", "a2", "", "s3", "", 5)
	late.ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	type answer struct {
		prints []dayPrint
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		p, err := r.dayPrints(ctx, params, first, end)
		answers <- answer{p, err}
	}()
	for deadline := time.Now().Add(stuck); ; time.Sleep(5 * time.Millisecond) {
		r.printShares.mu.Lock()
		joined := inFlight.joined
		r.printShares.mu.Unlock()
		if joined == 2 {
			break
		}
		select {
		case a := <-answers:
			t.Fatalf("the report answered %v, %v without joining the read in flight", a.prints, a.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the report did not join the read in flight")
		}
	}
	inFlight.prints = stale
	close(inFlight.done)
	a := <-answers
	if a.err != nil {
		t.Fatal(a.err)
	}
	// By hand: the 3rd held a2's page view alone, now its late purchase too: 2 events;
	// every other day as before (the 1st 2, the 2nd 2, the 4th 2, the 5th 1, none after).
	for n := first; n < end; n++ {
		want := stale[n-first]
		if n == march(3) {
			if want.events != 1 {
				t.Fatalf("before the insert the 3rd held %d events, want 1", want.events)
			}
			if a.prints[n-first].events != 2 || a.prints[n-first].hash == want.hash {
				t.Errorf("the 3rd's print %+v after the insert, want 2 events and another hash than %+v", a.prints[n-first], want)
			}
			continue
		}
		if a.prints[n-first] != want {
			t.Errorf("%s: print %+v, want %+v, as before the insert", dayTime(n).Format(time.DateOnly), a.prints[n-first], want)
		}
	}
	fresh, err := r.readPrints(ctx, params, first, end)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.prints, fresh) {
		t.Errorf("prints %v, a read of them now %v", a.prints, fresh)
	}
}
