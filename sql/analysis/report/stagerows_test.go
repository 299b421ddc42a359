package report

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// plantStages returns the traffic of n people over January 2026 that exercises every rule
// of the journey map: every default stage (product views, carts, checkouts, purchases,
// repeat purchases, shares after and before a purchase), sessions of several channels and
// of none (server events), a channel named Direct beside sessions without a channel, two
// sessions' events in one second, people signing in on a second device (their anonymous
// ids linked to the user id by identify), and channels given in the order names sort and
// the reverse.
func plantStages(n int) []event.Event {
	rng := rand.New(rand.NewPCG(3, 17))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	channels := []string{"", "Direct", "Organic Search", "Paid Search", "Email", "Referral"}
	kinds := []struct{ typ, name, path string }{
		{"pageview", "", "/"}, {"pageview", "", "/product/1"}, {"event", "view_item", ""},
		{"event", "add_to_cart", ""}, {"event", "checkout", ""}, {"event", "purchase", ""},
		{"event", "share", ""}, {"event", "review", ""}, {"server", "lead_qualified", ""},
	}
	var out []event.Event
	add := func(e event.Event) {
		e.ID = fmt.Sprintf("e%d", len(out))
		e.SiteID = "shop"
		e.ReceivedAt = e.TS
		out = append(out, e)
	}
	for p := range n {
		anons := []string{fmt.Sprintf("a%d", p), fmt.Sprintf("b%d", p)}
		user := fmt.Sprintf("u%d", p)
		at := start.Add(time.Duration(rng.IntN(20*24*3600)) * time.Second)
		for s := range 1 + rng.IntN(4) {
			anon := anons[rng.IntN(2)]
			session := fmt.Sprintf("s%d-%d", p, s)
			ch := channels[rng.IntN(len(channels))]
			for range 1 + rng.IntN(5) {
				k := kinds[rng.IntN(len(kinds))]
				if rng.IntN(3) == 0 {
					k = kinds[rng.IntN(2)] // mostly page views
				}
				add(event.Event{TS: at, Type: k.typ, Name: k.name, Path: k.path, AnonID: anon, SessionID: session, Channel: ch})
				if rng.IntN(5) == 0 { // another session's event in the same second
					add(event.Event{TS: at, Type: "pageview", Path: "/", AnonID: anon, SessionID: session + "x", Channel: channels[rng.IntN(len(channels))]})
				}
				at = at.Add(time.Duration(rng.IntN(600)) * time.Second)
			}
			switch rng.IntN(6) {
			case 0: // a backend order outside any session, by the user id
				add(event.Event{TS: at, Type: "server", Name: "purchase", UserID: user})
			case 1: // sign-in: the anonymous id is the user's from now on
				add(event.Event{TS: at, Type: "identify", AnonID: anon, UserID: user})
			}
			at = at.Add(time.Duration(rng.IntN(5*24*3600)) * time.Second)
		}
	}
	return out
}

// TestStagesAgreeWithLibrary holds the journey map drawn in journeyd (stagerows.go) to the
// SQL library's stages.sql: on the same planted traffic, stored twice as a replay would,
// both give the same rows, with and without a filter, for the default stages (purchase the
// fourth of six, retention a repeat stage after it) and for stages whose purchase is the
// last.
func TestStagesAgreeWithLibrary(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := plantStages(400)
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	r := &Runner{Conn: conn, DB: db}
	short := goal.Definitions{Stages: []goal.Stage{
		{Name: "aware", Match: "*"}, {Name: "cart", Match: "event:add_to_cart"}, {Name: "bought", Match: "conversion"},
	}}
	for _, c := range []struct {
		defs goal.Definitions
		opts map[string]string
	}{
		{goal.Definitions{}, map[string]string{}},
		{goal.Definitions{}, map[string]string{"filter": "channel=Paid Search"}},
		{short, map[string]string{}},
	} {
		c.opts["from"], c.opts["to"] = "2026-01-01", "2026-03-01"
		got, want := stagesBothWays(t, r, c.defs, c.opts)
		if len(want.Data) < 3 {
			t.Fatalf("%v: the library gives %d stages, want at least 3 from the planted traffic", c.opts, len(want.Data))
		}
		if fmt.Sprint(got.Data) != fmt.Sprint(want.Data) {
			t.Errorf("%v: journeyd gives\n%v\nthe library\n%v", c.opts, got.Data, want.Data)
		}
	}
}

// stagesBothWays returns the rows of the stages report with opts both from stage_rows
// (stagesFromRows) and from the library's stages.sql.
func stagesBothWays(t *testing.T, r *Runner, defs goal.Definitions, opts map[string]string) (got, want *Rows) {
	t.Helper()
	ctx := context.Background()
	req, err := ParseRequest("shop", defs, opts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.db = r.DB // as Run sets it, for the filter's subqueries
	p, n, purchase, repeat, err := stageParams(req)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := r.stagesFromRows(ctx, p, n, purchase, repeat)
	if err != nil || !ok {
		t.Fatalf("%v: stage rows: %v (answered: %v)", opts, err, ok)
	}
	want, err = r.Query(ctx, "stages", p)
	if err != nil {
		t.Fatal(err)
	}
	return got, want
}

// TestStagesByHand checks the map drawn in journeyd against figures worked out by hand,
// on the edges the random traffic may miss, stored twice:
//   - p1: a session "Paid Search" at 10:00:00 (/), then a product page and a cart in it at
//     10:00:30 and 10:01:00; another session "Email" with a page view also at 10:01:00:
//     awareness at 10:00:00 (Paid Search), consideration at 10:00:30 (Paid Search, 30 s),
//     decision at 10:01:00, where the latest session event is a tie of seconds between
//     Paid Search and Email: the greater name, Paid Search (30 s). No purchase.
//   - p2: a purchase outside any session at 12:00:00, nothing before: every stage up to
//     purchase at 12:00:00 (a buyer reaches them all), no session before any: Direct for
//     each, 0 s between them; a purchase again at 12:00:00 (the replay's copy, also the
//     same event id) is not a repeat: no retention; a share at 12:05:00 in a session
//     "Direct": advocacy at 12:05:00, 300 s after the purchase (retention not reached),
//     channel Direct (the named one, counted with the sessionless Direct).
//   - p3: a session with no channel at 09:00:00 (/product/2): awareness and consideration at
//     09:00:00, Direct (a session without a channel is no channel); a purchase at 09:10:00
//     in a session "Email": decision and purchase at 09:10:00 (600 s, then 0 s), Email; a
//     second purchase at 09:20:00 in the same session: retention at 09:20:00 (600 s), Email.
//
// Stages, people, median seconds (the element at half the count in order), top channels:
// 1 awareness 3, 0, [Direct Paid Search] (Direct: p2, p3; Paid Search: p1);
// 2 consideration 3, gaps [30 0 0] -> sorted [0 0 30], median the second: 0, [Direct Paid Search];
// 3 decision 3, gaps [30 0 600] -> [0 30 600], median 30, [Direct Email Paid Search] (one each: by name);
// 4 purchase 2 (p2, p3), gaps [0 0], median 0, [Direct Email];
// 5 retention 1 (p3), gap 600, [Email];
// 6 advocacy 1 (p2), gap 300 from the purchase, [Direct].
func TestStagesByHand(t *testing.T) {
	conn, db := journeytest.Database(t)
	day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	var events []event.Event
	add := func(e event.Event) {
		e.ID, e.SiteID, e.ReceivedAt = fmt.Sprintf("h%d", len(events)), "shop", e.TS
		events = append(events, e)
	}
	add(event.Event{TS: at(10, 0, 0), Type: "pageview", Path: "/", AnonID: "p1", SessionID: "s1", Channel: "Paid Search"})
	add(event.Event{TS: at(10, 0, 30), Type: "pageview", Path: "/product/1", AnonID: "p1", SessionID: "s1", Channel: "Paid Search"})
	add(event.Event{TS: at(10, 1, 0), Type: "event", Name: "add_to_cart", AnonID: "p1", SessionID: "s1", Channel: "Paid Search"})
	add(event.Event{TS: at(10, 1, 0), Type: "pageview", Path: "/", AnonID: "p1", SessionID: "s2", Channel: "Email"})
	add(event.Event{TS: at(12, 0, 0), Type: "server", Name: "purchase", AnonID: "p2"})
	add(event.Event{TS: at(12, 5, 0), Type: "event", Name: "share", AnonID: "p2", SessionID: "s3", Channel: "Direct"})
	add(event.Event{TS: at(9, 0, 0), Type: "pageview", Path: "/product/2", AnonID: "p3", SessionID: "s4"})
	add(event.Event{TS: at(9, 10, 0), Type: "event", Name: "purchase", AnonID: "p3", SessionID: "s5", Channel: "Email"})
	add(event.Event{TS: at(9, 20, 0), Type: "event", Name: "purchase", AnonID: "p3", SessionID: "s5", Channel: "Email"})
	journeytest.Insert(t, conn, events)
	journeytest.Insert(t, conn, events)
	got, want := stagesBothWays(t, &Runner{Conn: conn, DB: db}, goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-02-01"})
	hand := "[[1 3 0 [Direct Paid Search]] [2 3 0 [Direct Paid Search]] [3 3 30 [Direct Email Paid Search]] " +
		"[4 2 0 [Direct Email]] [5 1 600 [Email]] [6 1 300 [Direct]]]"
	if fmt.Sprint(got.Data) != hand {
		t.Errorf("journeyd gives\n%v\nworked out by hand\n%s", got.Data, hand)
	}
	if fmt.Sprint(want.Data) != hand {
		t.Errorf("the library gives\n%v\nworked out by hand\n%s", want.Data, hand)
	}
}

// TestStagesChannelsThatShareBits plants two channel names whose cityHash64 share their low
// 32 bits, which stage_rows keeps: journeyd cannot tell them apart from the rows, so it
// says so (ok false) and the report answers from stages.sql, the same as the library.
func TestStagesChannelsThatShareBits(t *testing.T) {
	conn, db := journeytest.Database(t)
	ts := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	var events []event.Event
	for i, ch := range []string{"Channel 9708", "Channel 203793", "Channel 9708"} { // the two share bits (found by a search of 300 000 names)
		events = append(events, event.Event{ID: fmt.Sprintf("c%d", i), SiteID: "shop", TS: ts, ReceivedAt: ts, Type: "pageview", Path: "/",
			AnonID: fmt.Sprintf("p%d", i), SessionID: fmt.Sprintf("s%d", i), Channel: ch})
	}
	journeytest.Insert(t, conn, events)
	r := &Runner{Conn: conn, DB: db}
	req, err := ParseRequest("shop", goal.Definitions{}, map[string]string{"from": "2026-01-01", "to": "2026-02-01"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.db = r.DB
	p, n, purchase, repeat, err := stageParams(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.stagesFromRows(context.Background(), p, n, purchase, repeat); err != nil || ok {
		t.Fatalf("stage rows with channels sharing their bits: answered %v (%v), want no answer", ok, err)
	}
	res, err := r.Run(context.Background(), "stages", req)
	if err != nil {
		t.Fatal(err)
	}
	// three people aware, two by Channel 9708, one by Channel 203793
	if got := fmt.Sprint(res.Tables[0].Rows[0]); got != "[1 awareness 3 1 1 0 Channel 9708, Channel 203793]" {
		t.Errorf("awareness: %s, want 3 people, Channel 9708 then Channel 203793", got)
	}
}

// TestSortByPerson: sortByPerson leaves rows in person order with each row kept (its time
// and kind with it): a few rows by hand, then runs of the size gather sorts, from a handful
// of people with many rows each to as many people as rows.
func TestSortByPerson(t *testing.T) {
	f := func(rows []stageRow) {
		t.Helper()
		want := slices.Clone(rows)
		byRow := func(a, b stageRow) int {
			return cmp.Or(cmp.Compare(a.person, b.person), cmp.Compare(a.t, b.t), cmp.Compare(a.kind, b.kind))
		}
		slices.SortFunc(want, byRow)
		sortByPerson(rows)
		if !slices.IsSortedFunc(rows, func(a, b stageRow) int { return cmp.Compare(a.person, b.person) }) {
			t.Fatalf("%d rows not in person order", len(rows))
		}
		slices.SortFunc(rows, byRow) // within a person any order: compare as sets
		if !slices.Equal(rows, want) {
			t.Fatalf("%d rows: the rows changed", len(rows))
		}
	}
	// persons 3, 1, 3, 2, 1 -> 1, 1, 2, 3, 3
	f([]stageRow{{3, 10, 0}, {1, 20, 1}, {3, 30, 2}, {2, 40, 3}, {1, 50, 4}})
	f(nil)
	x := uint64(88172645463325252)
	for _, size := range []int{13, 40, 150, 600, 5000} {
		for _, people := range []int{1, 3, 30, size} {
			rows := make([]stageRow, size)
			for i := range rows {
				x ^= x << 13 // xorshift
				x ^= x >> 7
				x ^= x << 17
				rows[i] = stageRow{person: x % uint64(people) * 0x9E3779B97F4A7C15, t: uint32(i), kind: uint32(x >> 60)}
			}
			f(rows)
		}
	}
}

// TestSortedMedian: the median of several lists walked as one is quantileExact(0.5)'s: the
// element at half the count, rounded down, of all of them sorted. By hand: {5, 1}, {},
// {4, 2, 9} sorted together are 1 2 4 5 9, and half of 5 is 2: the third, 4; with 3 added,
// 1 2 3 4 5 9, half of 6 is 3: the fourth, 4 again; {7} alone is 7; nothing is 0. Then
// random lists against a sort of their concatenation.
func TestSortedMedian(t *testing.T) {
	for _, c := range []struct {
		lists [][]int64
		want  int64
	}{
		{[][]int64{{5, 1}, {}, {4, 2, 9}}, 4},
		{[][]int64{{5, 1}, {3}, {4, 2, 9}}, 4},
		{[][]int64{{7}}, 7},
		{[][]int64{{}, nil}, 0},
		{nil, 0},
	} {
		if got := sortedMedian(c.lists); got != c.want {
			t.Errorf("sortedMedian(%v) = %d, want %d", c.lists, got, c.want)
		}
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for range 200 {
		lists := make([][]int64, 1+rng.IntN(5))
		var all []int64
		for i := range lists {
			for range rng.IntN(20) {
				v := int64(rng.IntN(50)) - 10
				lists[i] = append(lists[i], v)
				all = append(all, v)
			}
		}
		if len(all) == 0 {
			continue
		}
		slices.Sort(all)
		if got, want := sortedMedian(lists), all[len(all)/2]; got != want {
			t.Fatalf("sortedMedian of %v = %d, want %d", lists, got, want)
		}
	}
}
