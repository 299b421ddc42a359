package report

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// pageView returns a pageview of site pages of path on March d, 2026, at hh:00.
func pageView(id string, d, hh int, path, anon, user string) event.Event {
	ts := time.Date(2026, 3, d, hh, 0, 0, 0, time.UTC)
	return event.Event{ID: id, SiteID: "pages", TS: ts, ReceivedAt: ts, Type: "pageview", AnonID: anon,
		UserID: user, SessionID: "s-" + anon, Path: path, Channel: "Direct"}
}

// TestPagesFromDays: the top pages of the 1st to the 3rd of March 2026 counted by a Runner
// that keeps days, from page_rows.sql and the store, and by one without a store, from
// page_rows.sql alone, are pages.sql's, worked out by hand:
// replays, a copy of an event on another day, an identify, a bot, a tie cut by the limit,
// and a late view on a day the store holds.
func TestPagesFromDays(t *testing.T) {
	conn, db := journeytest.Database(t)
	bot := pageView("p8", 3, 9, "/c", "a5", "")
	bot.IsBot = true
	moved := pageView("p5", 3, 12, "/c", "a2", "") // p5 again, another day: a client's retry with another time
	journeytest.Insert(t, conn, []event.Event{
		pageView("p1", 1, 10, "/a", "a1", ""),
		pageView("p2", 1, 11, "/b", "a1", ""),
		pageView("p3", 2, 10, "/a", "a1", ""),
		pageView("p4", 1, 12, "/a", "a2", ""),
		pageView("p4", 1, 12, "/a", "a2", ""), // a replay, stored twice
		pageView("p5", 2, 12, "/c", "a2", ""),
		moved,
		pageView("p6", 2, 13, "/b", "a3", "u3"),
		pageView("p7", 3, 10, "/b", "a4", ""),
		{ID: "i1", SiteID: "pages", TS: time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC), ReceivedAt: time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC),
			Type: "identify", AnonID: "a4", UserID: "u3"},
		bot,
	})
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 20, Metrics: m}
	plain := &Runner{Conn: conn, DB: db, EventsOnly: true} // pages.sql
	unstored := &Runner{Conn: conn, DB: db}
	top := func(r *Runner, limit int) string {
		t.Helper()
		req, err := ParseRequest("pages", goal.Definitions{}, map[string]string{"from": "2026-03-01", "to": "2026-03-04",
			"dimension": "page", "top": fmt.Sprint(limit)}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(context.Background(), "top", req)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(res.Tables[0].Rows)
	}
	// By hand: /a is viewed by a1 (p1, p3) and a2 (p4, once though stored twice): 2 people,
	// 3 views. /b by a1 (p2), u3 on a3 (p6) and a4 (p7), whom the identify links to u3: 2
	// people, 3 views. /c by a2 (p5, once though its copy falls on the 3rd; the bot's p8
	// left out): 1 person, 1 view. /a and /b tie and go by path. With a limit of 1 the tie
	// is cut after /a.
	const all = "[[page /a 2 3] [page /b 2 3] [page /c 1 1]]"
	for run, want := range []string{all, all} {
		hits := testutil.ToFloat64(m.hits)
		if got := top(stored, 10); got != want {
			t.Errorf("top pages through the store, run %d: %s, want %s", run+1, got, want)
		}
		if h := testutil.ToFloat64(m.hits) - hits; run == 1 && h != 3 {
			t.Errorf("run 2 took %v days from the store, want all 3", h)
		}
	}
	if got := top(plain, 10); got != all {
		t.Errorf("top pages by pages.sql: %s, want %s", got, all)
	}
	if got := top(unstored, 10); got != all {
		t.Errorf("top pages from the days without a store: %s, want %s", got, all)
	}
	if got, want := top(stored, 1), "[[page /a 2 3]]"; got != want {
		t.Errorf("top page through the store: %s, want %s", got, want)
	}

	// A late view of /c by a6 on the 2nd, a day the store holds: /c now has 2 people and 2
	// views, below /a and /b still.
	journeytest.Insert(t, conn, []event.Event{pageView("p9", 2, 15, "/c", "a6", "")})
	const late = "[[page /a 2 3] [page /b 2 3] [page /c 2 2]]"
	misses := testutil.ToFloat64(m.misses)
	if got := top(stored, 10); got != late {
		t.Errorf("top pages after a late view, through the store: %s, want %s", got, late)
	}
	if n := testutil.ToFloat64(m.misses) - misses; n != 1 {
		t.Errorf("after a late view on the 2nd, %v days were read again, want 1", n)
	}
	if got := top(plain, 10); got != late {
		t.Errorf("top pages after a late view, by pages.sql: %s, want %s", got, late)
	}
	if got := top(unstored, 10); got != late {
		t.Errorf("top pages after a late view, from the days without a store: %s, want %s", got, late)
	}
	// each Runner took the way it says
	req, err := ParseRequest("pages", goal.Definitions{}, map[string]string{"from": "2026-03-01", "to": "2026-03-04", "dimension": "page"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if days, sql := shownSQL(t, unstored, "top", req), shownSQL(t, plain, "top", req); !strings.Contains(days, "-- page_rows\n") || strings.Contains(days, "-- pages\n") || !strings.Contains(sql, "-- pages\n") {
		t.Errorf("without a store the Runner runs\n%s\nfrom the events alone\n%s\nwant page_rows.sql, then pages.sql", days, sql)
	}
}

// TestDistinctCount: the radix count of distinct values agrees with a map's on a million
// values drawn from 300,000 (so most repeat), and on fewer values than the radix sort
// takes.
func TestDistinctCount(t *testing.T) {
	for _, n := range []int{0, 1, 100, 1 << 20} {
		xs := make([]uint64, n)
		seen := map[uint64]bool{}
		x := uint64(88172645463325252)
		for i := range xs {
			x ^= x << 13 // xorshift: spread over all 64 bits
			x ^= x >> 7
			x ^= x << 17
			xs[i] = (x % 300000) * 0x9E3779B97F4A7C15
			seen[xs[i]] = true
		}
		if got := distinctCount(xs); got != uint64(len(seen)) {
			t.Errorf("%d values: %d distinct, want %d", n, got, len(seen))
		}
	}
}

// TestPageRowsDay: a day's views, read in no order, put in path order in place
// (pageRows.day): each path's ids as read (a replay's copy twice) and its distinct people,
// sorted, whichever order the views came in, with room to spare (as the day's event count
// gives it) or none.
func TestPageRowsDay(t *testing.T) {
	f := func(room int, views [][3]uint64, want map[uint64]pageViews) {
		t.Helper()
		d := pageRows{slot: make([]uint32, 0, room), people: make([]uint64, 0, room), ids: make([]uint64, 0, room), slotOf: map[uint64]uint32{}}
		for _, v := range views { // path, person, id
			s, ok := d.slotOf[v[0]]
			if !ok {
				s = uint32(len(d.paths))
				d.paths = append(d.paths, v[0])
				d.slotOf[v[0]] = s
			}
			d.slot, d.people, d.ids = append(d.slot, s), append(d.people, v[1]), append(d.ids, v[2])
		}
		got := d.day()
		if len(got.paths) != len(want) {
			t.Fatalf("%d paths, want %d", len(got.paths), len(want))
		}
		for path, w := range want {
			g := got.paths[path]
			if g == nil {
				t.Fatalf("path %d: none, want %+v", path, w)
			}
			ids := slices.Sorted(slices.Values(g.ids)) // the ids' order is the read's: only their count counts
			if !slices.Equal(ids, w.ids) || !slices.Equal(g.people, w.people) || cap(g.ids) != len(g.ids) || cap(g.people) != len(g.people) {
				t.Errorf("path %d: %+v, want %+v", path, g, w)
			}
		}
	}
	// path 7: views 1, 3, 3 (a replay), 6 by people 20, 10, 10, 20: people 10 and 20.
	// path 8: views 2, 5 by person 30 twice: person 30. path 9: view 4 by person 10.
	views := [][3]uint64{{7, 20, 1}, {8, 30, 2}, {7, 10, 3}, {9, 10, 4}, {8, 30, 5}, {7, 10, 3}, {7, 20, 6}}
	want := map[uint64]pageViews{7: {ids: []uint64{1, 3, 3, 6}, people: []uint64{10, 20}}, 8: {ids: []uint64{2, 5}, people: []uint64{30}}, 9: {ids: []uint64{4}, people: []uint64{10}}}
	f(0, views, want)
	f(7, views, want)
	f(100, views, want) // room far beyond the views: the ids are copied out of it
	slices.Reverse(views)
	f(7, views, want)
	f(0, nil, map[uint64]pageViews{})
}

// TestIDSorterSort: idSorter sorts as slices.Sort does, on values spread over all 64 bits,
// values below 2^32 (one run of the top byte, whose top three of the seven byte passes
// move nothing), a few values repeated (runs of one value), values that differ in their
// top byte only, and counts around radixMin, reusing its room from one sort to the next.
func TestIDSorterSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	draws := map[string]func() uint64{
		"any":   rng.Uint64,
		"small": func() uint64 { return uint64(rng.Uint32()) },
		"few":   func() uint64 { return []uint64{0, 7, 1 << 63, 1<<64 - 1}[rng.IntN(4)] },
		"top":   func() uint64 { return uint64(rng.IntN(256))<<56 | 0x1234 },
	}
	var s idSorter
	for name, draw := range draws {
		for _, n := range []int{radixMin - 1, radixMin, 100_000} {
			xs := make([]uint64, n)
			for i := range xs {
				xs[i] = draw()
			}
			want := slices.Sorted(slices.Values(xs))
			s.sort(xs)
			if !slices.Equal(xs, want) {
				t.Errorf("%s, %d values: not sorted as slices.Sort sorts them", name, n)
			}
		}
	}
}

// TestIDSorterCountParts: the distinct values of parts counted together agree with a
// map's: no part, empty parts, fewer values than the radix sort takes, and 100 000 values
// in 30 parts drawn from 40 000 (most repeat, within a part and across parts), once more
// with the buffer the first count left.
func TestIDSorterCountParts(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var s idSorter
	buf := make([]uint64, 100_000)
	f := func(sizes ...int) {
		t.Helper()
		var parts [][]uint64
		seen := map[uint64]bool{}
		for _, n := range sizes {
			part := make([]uint64, n)
			for i := range part {
				part[i] = uint64(rng.IntN(40_000)) * 0x9E3779B97F4A7C15
				seen[part[i]] = true
			}
			parts = append(parts, part)
		}
		if got := s.countParts(parts, buf); got != uint64(len(seen)) {
			t.Errorf("parts of %v values: %d distinct, want %d", sizes, got, len(seen))
		}
	}
	f()
	f(0, 0)
	f(3, 0, 100)
	f(slices.Repeat([]int{100_000 / 30}, 30)...)
	f(slices.Repeat([]int{100_000 / 30}, 30)...)
}
