package report

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/store/chtest"
)

// funnelSite is one site of plantFunnelDays: its traffic and the funnel asked of it.
type funnelSite struct {
	id     string
	opts   map[string]string
	events []event.Event
	late   []event.Event // events of an old day received after the first reports
}

// plantFunnelDays returns n sites of random traffic over 2026-01-01 to 01-05 (seeded), each
// with a funnel of its own: most have one person (their answer pins that person's level,
// segments and step times: entered is 1 up to the level, the medians are the chain's
// gaps), some a few, some a dozen or more (medians of several gaps). People have one or two
// anonymous ids, some of them linked to a user by an identify; their events fall on a grid
// of ten minutes so that several share a second (the breakdown values of one person's
// second are the same: funnel.sql's argMin takes any of a tie); some cross midnight. The
// funnels: four steps with windows of an hour to a week, a repeated step, a step that
// matches every event of another (event:*), an exclusion.
func plantFunnelDays(seed uint64, n int) []funnelSite {
	rng := rand.New(rand.NewPCG(seed, 7))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	funnels := []map[string]string{
		{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "window": "7d"},
		{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase", "window": "1h"},
		{"steps": "pageview:/product/*,event:add_to_cart,event:purchase", "window": "2d", "exclude": "event:refund"},
		{"steps": "event:view,event:view,event:purchase", "window": "6h"},
		{"steps": "event:view,event:*,event:purchase", "window": "1d"},
		{"steps": "event:add_to_cart,event:view,event:add_to_cart,event:purchase", "window": "12h", "exclude": "event:refund"},
	}
	kinds := []event.Event{{Type: "pageview", Path: "/product/1"}, {Type: "pageview", Path: "/"}, {Type: "event", Name: "view"},
		{Type: "event", Name: "add_to_cart"}, {Type: "event", Name: "checkout"}, {Type: "event", Name: "purchase"},
		{Type: "event", Name: "refund"}}
	const neutral = 1 // the kind that matches no step of any funnel
	values := func(site string, person, at int64) (string, string, string) {
		h := fnv.New64a()
		fmt.Fprint(h, site, person, at)
		x := h.Sum64()
		return []string{"mobile", "desktop", "tablet"}[x%3], []string{"", "Direct", "Email", "Paid Search"}[x/3%4], []string{"DE", "FR", "US", "ÅX"}[x/12%4]
	}
	sites := make([]funnelSite, n)
	for s := range sites {
		site := funnelSite{id: fmt.Sprintf("p%d", s), opts: map[string]string{"from": "2026-01-01", "to": "2026-01-06"}}
		for k, v := range funnels[s%len(funnels)] {
			site.opts[k] = v
		}
		people := 1
		switch r := rng.IntN(10); {
		case r >= 9:
			people = 12 + rng.IntN(10)
		case r >= 6:
			people = 2 + rng.IntN(3)
		}
		id := 0
		add := func(list *[]event.Event, e event.Event, person int64, received time.Time) {
			e.ID, e.SiteID, e.ReceivedAt = fmt.Sprintf("%s-%d", site.id, id), site.id, received
			e.Device, e.Channel, e.Country = values(site.id, person, e.TS.Unix())
			id++
			*list = append(*list, e)
		}
		for p := range people {
			anons := []string{fmt.Sprintf("%s-a%d", site.id, p)}
			if rng.IntN(3) == 0 {
				anons = append(anons, fmt.Sprintf("%s-b%d", site.id, p))
			}
			user := ""
			if rng.IntN(2) == 0 {
				user = fmt.Sprintf("%s-u%d", site.id, p)
			}
			var times []time.Time
			kindAt := map[int64]int{} // the kind of the person's events at each second
			kindFor := func(at time.Time) int {
				k := rng.IntN(len(kinds))
				if other, ok := kindAt[at.Unix()]; ok && k != neutral && other != neutral {
					k = other // a tie of two step events of the same kind, never of two kinds
				}
				if k != neutral {
					kindAt[at.Unix()] = k
				}
				return k
			}
			for range 1 + rng.IntN(10) {
				var at time.Time
				switch {
				case len(times) > 0 && rng.IntN(4) == 0: // the same second as another event
					at = times[rng.IntN(len(times))]
				case rng.IntN(5) == 0: // a few minutes before or after midnight
					at = start.Add(time.Duration(1+rng.IntN(4))*24*time.Hour + time.Duration(rng.IntN(600)-300)*time.Second)
				default:
					at = start.Add(time.Duration(rng.IntN(5*24*6)) * 10 * time.Minute)
				}
				times = append(times, at)
				e := kinds[kindFor(at)]
				anon := anons[rng.IntN(len(anons))]
				e.TS, e.AnonID, e.SessionID = at, anon, fmt.Sprintf("%s-%d", anon, at.Unix()/(6*3600))
				if user != "" && rng.IntN(3) == 0 {
					e.UserID = user
				}
				add(&site.events, e, int64(p), at)
			}
			if user != "" { // an identify linking each anonymous id to the user
				for _, anon := range anons {
					at := start.Add(time.Duration(rng.IntN(5*24*6)) * 10 * time.Minute)
					add(&site.events, event.Event{Type: "identify", TS: at, AnonID: anon, UserID: user, SessionID: anon + "-id"}, int64(p), at)
				}
			}
			if rng.IntN(3) == 0 { // a late event into the first days, received after the first reports
				at := start.Add(time.Duration(rng.IntN(2*24*6)) * 10 * time.Minute)
				e := kinds[kindFor(at)]
				e.TS, e.AnonID, e.SessionID = at, anons[0], anons[0]+"-late"
				add(&site.late, e, int64(p), start.AddDate(0, 0, 10))
			}
		}
		sites[s] = site
	}
	return sites
}

// TestFunnelDaysAgree: the funnel and barriers counted from the kept days
// (funneldays.go) answer what funnel.sql answers, on random traffic of many small sites
// (plantFunnelDays: ties within a second, repeated steps, a step matching every event of
// another, exclusions, identifies linking anonymous ids, midnight crossings), a fifth of
// the events stored twice as replays: per person and per session, each breakdown, cold
// and from the store, through a Runner without a store, and again after late events into
// old days.
func TestFunnelDaysAgree(t *testing.T) {
	conn, db := journeytest.Database(t)
	sites := plantFunnelDays(funnelSeed, funnelSites)
	var all, replays, late []event.Event
	rng := rand.New(rand.NewPCG(3, 5))
	for _, s := range sites {
		all = append(all, s.events...)
		late = append(late, s.late...)
		for _, e := range s.events {
			if rng.IntN(5) == 0 {
				replays = append(replays, e)
			}
		}
	}
	journeytest.Insert(t, conn, all)
	journeytest.Insert(t, conn, replays)
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 26, Metrics: m}
	plain := &Runner{Conn: conn, DB: db, EventsOnly: true}
	unstored := &Runner{Conn: conn, DB: db} // the days read for each report alone
	ctx := context.Background()
	reached := map[int]int{} // sites by the deepest step any of their people reached
	check := func(when string, runs int) {
		t.Helper()
		for _, s := range sites {
			for _, ask := range []struct {
				report string
				opts   map[string]string
			}{{"funnel", map[string]string{"by": "device"}}, {"barriers", nil}, {"funnel", map[string]string{"per": "session", "by": "country"}}} {
				opts := map[string]string{}
				for k, v := range s.opts {
					opts[k] = v
				}
				for k, v := range ask.opts {
					opts[k] = v
				}
				req, err := ParseRequest(s.id, goal.Definitions{}, opts, time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if when == "cold" && s.id == sites[0].id { // the two routes, each what it says
					if days, sql := shownSQL(t, unstored, ask.report, req), shownSQL(t, plain, ask.report, req); !strings.Contains(days, "-- funnel_rows\n") || strings.Contains(sql, "-- funnel_rows\n") || !strings.Contains(sql, "-- funnel\n") {
						t.Fatalf("%s %v: without a store the Runner runs\n%s\nheld to funnel.sql\n%s\nwant funnel_rows.sql, then funnel.sql alone", ask.report, opts, days, sql)
					}
				}
				want := reportJSON(t, plain, ask.report, req)
				for run := range runs {
					if got := reportJSON(t, stored, ask.report, req); got != want {
						t.Fatalf("%s, site %s (%d events), %s %v, run %d from the days:\n%s\nfunnel.sql:\n%s", when, s.id, len(s.events), ask.report, opts, run, got, want)
					}
				}
				if got := reportJSON(t, unstored, ask.report, req); got != want {
					t.Fatalf("%s, site %s (%d events), %s %v, from the days without a store:\n%s\nfunnel.sql:\n%s", when, s.id, len(s.events), ask.report, opts, got, want)
				}
				if ask.report == "funnel" && ask.opts["per"] == "" {
					rows, err := plain.Funnel(ctx, req, "")
					if err != nil {
						t.Fatal(err)
					}
					deepest := 0
					for _, row := range rows {
						if row.Entered > 0 {
							deepest = max(deepest, row.Step)
						}
					}
					reached[deepest]++
				}
			}
		}
	}
	check("cold", 2)
	// the funnels whose steps no event matches twice are counted from the days on any
	// server (on one before 21.2 the others are left to funnel.sql): days were read and
	// kept, and the second runs took them from the store
	if hits, misses := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses); hits == 0 || misses == 0 {
		t.Errorf("the store counts %v hits and %v misses, want some of each", hits, misses)
	}
	// the planted traffic reaches every depth of the funnels, so the agreement covers them
	if reached[0] == 0 || reached[1] == 0 || reached[2] == 0 || reached[3] == 0 {
		t.Errorf("sites by the deepest step reached: %v, want some at 0, 1, 2 and 3 or more", reached)
	}
	journeytest.Insert(t, conn, late)
	check("after late events", 1)
}

var funnelSeed, funnelSites = uint64(17), 60

// funnelEvent returns an event of site store on March d, 2026, at hh:mm: a pageview of
// path when typ is pageview, else an event named name; received then.
func funnelEvent(id string, d, hh, mm int, typ, target, anon, user, channel string) event.Event {
	e := storeEvent(id, d, hh, mm, typ, "", anon, user, anon+"-s", channel, 0)
	if typ == "pageview" {
		e.Path = target
	} else {
		e.Name = target
	}
	return e
}

// funnelText writes the funnel's rows as "segment step entered median; ...".
func funnelText(rows [][]any) string {
	lines := make([]string, len(rows))
	for i, row := range rows {
		lines[i] = fmt.Sprint(row[0], " ", row[1], " ", row[3], " ", row[7])
	}
	return strings.Join(lines, "; ")
}

// TestFunnelDays: the funnel by channel (product page, cart, purchase within 2 days) over
// the first week of March 2026, run again and again through a Runner with a store as
// events come in: the days whose events did not change come from the store, the days that
// changed are read again, and the answer is the one worked out by hand (and funnel.sql's).
func TestFunnelDays(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, []event.Event{
		// m1 crosses midnight: product page at 23:50 on the 1st, cart at 00:10 and purchase
		// at 01:00 on the 2nd, all from Email
		funnelEvent("m1-1", 1, 23, 50, "pageview", "/product/1", "m1", "", "Email"),
		funnelEvent("m1-2", 2, 0, 10, "event", "add_to_cart", "m1", "", "Email"),
		funnelEvent("m1-3", 2, 1, 0, "event", "purchase", "m1", "", "Email"),
		// m2a sees a product at 10:00 on the 3rd (Paid Search); m2b, another device, adds to
		// the cart at 12:00 (Direct)
		funnelEvent("m2-1", 3, 10, 0, "pageview", "/product/2", "m2a", "", "Paid Search"),
		funnelEvent("m2-2", 3, 12, 0, "event", "add_to_cart", "m2b", "", "Direct"),
		// m3: product page at 09:00 on the 4th and cart at 09:30 (Direct)
		funnelEvent("m3-1", 4, 9, 0, "pageview", "/product/3", "m3", "", "Direct"),
		funnelEvent("m3-2", 4, 9, 30, "event", "add_to_cart", "m3", "", "Direct"),
	})
	s := newDayRig(t, conn, db, "funnel", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:purchase", "window": "2d", "by": "channel"})
	s.format = funnelText

	// By hand: m1 (segment Email, its first event's) reaches step 3: cart 20 min (1 200 s)
	// after the product page, purchase 50 min (3 000 s) after the cart. m2a reaches step 1
	// (Paid Search); m2b has no product page, level 0, not counted. m3 (Direct) reaches
	// step 2, 1 800 s. Segments by name: Direct 1, 1 (1 800), 0; Email 1, 1 (1 200), 1
	// (3 000); Paid Search 1, 0, 0. Cold, every day is read, by two reads of funnel_rows at
	// once (with a breakdown: the step events, which a funnel without one shares, and the
	// units' first events with the values' names), each a day of its own in the store: the
	// prints (one read, shared), settled and funnel_rows of each, and the links, six
	// queries; the store then holds the seven days of each read.
	const cold = "Direct 1 1 0; Direct 2 1 1800; Direct 3 0 0; Email 1 1 0; Email 2 1 1200; Email 3 1 3000; " +
		"Paid Search 1 1 0; Paid Search 2 0 0; Paid Search 3 0 0"
	if got := s.run(); got != cold {
		t.Fatalf("funnel, cold:\n%s\nwant\n%s", got, cold)
	}
	s.expectShared("cold", 0, 14, 6)
	// Again: the prints and the links, every day from the store.
	if got := s.run(); got != cold {
		t.Fatalf("funnel again:\n%s\nwant\n%s", got, cold)
	}
	s.expectShared("again", 14, 0, 2)

	// Identifies on the 5th link m2a and m2b to u2 (the 5th alone is read again): one
	// person whose first event is m2a's product page (Paid Search) and whose cart, m2b's,
	// comes 2 h (7 200 s) later, on a day the store holds unchanged. Paid Search 1, 1
	// (7 200), 0.
	journeytest.Insert(t, conn, []event.Event{
		funnelEvent("m2-3", 5, 8, 0, "identify", "", "m2a", "u2", ""),
		funnelEvent("m2-4", 5, 8, 5, "identify", "", "m2b", "u2", ""),
	})
	const linked = "Direct 1 1 0; Direct 2 1 1800; Direct 3 0 0; Email 1 1 0; Email 2 1 1200; Email 3 1 3000; " +
		"Paid Search 1 1 0; Paid Search 2 1 7200; Paid Search 3 0 0"
	if got := s.run(); got != linked {
		t.Fatalf("funnel after the identifies:\n%s\nwant\n%s", got, linked)
	}
	s.expectShared("identify", 12, 2, 6)

	// A replayed copy of m1's cart (the same event, stored twice) changes the print of the
	// 2nd, which is read again, and not the answer: a copy moves no step time.
	journeytest.Insert(t, conn, []event.Event{funnelEvent("m1-2", 2, 0, 10, "event", "add_to_cart", "m1", "", "Email")})
	if got := s.run(); got != linked {
		t.Fatalf("funnel after a replay:\n%s\nwant\n%s", got, linked)
	}
	s.expectShared("replay", 12, 2, 6)

	// Late events of m3 into the 4th (received on the 9th): a visit of the home page at
	// 08:00 from Referral, now m3's first event, and a purchase at 10:00, 1 800 s after the
	// cart. The 4th alone is read again; m3's segment is Referral: 1, 1 (1 800), 1 (1 800),
	// and Direct has nobody left.
	late := []event.Event{
		funnelEvent("m3-0", 4, 8, 0, "pageview", "/", "m3", "", "Referral"),
		funnelEvent("m3-3", 4, 10, 0, "event", "purchase", "m3", "", "Direct"),
	}
	for i := range late {
		late[i].ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	}
	journeytest.Insert(t, conn, late)
	const withLate = "Email 1 1 0; Email 2 1 1200; Email 3 1 3000; Paid Search 1 1 0; Paid Search 2 1 7200; Paid Search 3 0 0; " +
		"Referral 1 1 0; Referral 2 1 1800; Referral 3 1 1800"
	if got := s.run(); got != withLate {
		t.Fatalf("funnel after late events on the 4th:\n%s\nwant\n%s", got, withLate)
	}
	s.expectShared("late events", 12, 2, 6)
	optimize(t, conn, db) // the merge drops the replay's copy: the 2nd is read again, the same answer
	if got := s.run(); got != withLate {
		t.Fatalf("funnel after the merge:\n%s\nwant\n%s", got, withLate)
	}
	s.expectShared("merge", 12, 2, 6)

	// The same funnel without a breakdown, as the dashboard asks for it beside barriers:
	// its rows are the step events, which the read by channel keeps apart from the first
	// events (funnelRowsParams), so every day comes from the store, and it runs only the
	// prints and the links. By hand, everyone in one segment: step 1 m1, u2 and m3 (3);
	// step 2 all three, after 1 200, 7 200 and 1 800 s, median the middle one, 1 800;
	// step 3 m1 (3 000) and m3 (1 800), median the value at index floor(2 / 2), 3 000.
	overall := &dayRig{storeRig: s.storeRig, name: "funnel", opts: map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:purchase", "window": "2d"}}
	overall.format = funnelText
	if got, want := overall.run(), " 1 3 0;  2 3 1800;  3 2 3000"; got != want {
		t.Fatalf("funnel without a breakdown after the one by channel:\n%s\nwant\n%s", got, want)
	}
	overall.expect("without a breakdown", 7, 0, 2)

	// Counted again from the same stored days with the same links, the funnel is the count
	// kept (keepFunnel), the very rows; a day read again makes another count.
	req, err := ParseRequest("store", goal.Definitions{}, map[string]string{"from": "2026-03-01", "to": "2026-03-08",
		"steps": "pageview:/product/*,event:add_to_cart,event:purchase", "window": "2d"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.db = db
	ctx := context.Background()
	count := func() *Rows {
		rows, ok, err := s.r.funnelFromDays(ctx, req, []string{"channel"})
		if err != nil || !ok {
			t.Fatalf("the funnel from the days: %v, %v", ok, err)
		}
		return rows
	}
	first := count()
	if again := count(); again != first {
		t.Errorf("the funnel counted again from unchanged days: other rows, want the kept ones")
	}
	journeytest.Insert(t, conn, []event.Event{funnelEvent("m4-1", 6, 9, 0, "pageview", "/product/4", "m4", "", "Direct")})
	if after := count(); after == first {
		t.Errorf("the funnel after a new event on the 6th: the kept rows, want a new count")
	}
}

// TestWindowFunnel: the level, chain and median of funneldays.go on events worked by hand,
// including ties within a second, which ClickHouse since 21.2 sorts by step (a current
// release answers windowFunnel(100) of a step-2 and a step-1 event in one second, read in
// that order, with level 2; 18.16 with 1: it keeps the read order).
func TestWindowFunnel(t *testing.T) {
	at := func(t uint64, step uint64) uint64 { return t<<8 | step }
	start := make([]int64, 3)
	chain := make([]uint32, 3)
	for _, c := range []struct {
		name   string
		pairs  []uint64 // sorted
		window uint64
		level  int
		chain  []uint32
	}{
		// step 2 and step 1 in the same second: sorted (1000, 1), (1000, 2): level 2, chain
		// 1000, 1000, then no step 3
		{"a tie of steps 1 and 2", []uint64{at(1000, 1), at(1000, 2)}, 100, 2, []uint32{1000, 1000, 0}},
		// step 1 at 1000 and 1200, step 2 at 1250, step 3 at 1290, window 100: the chain
		// from the first step 1 (1000) breaks at step 2 (1250 > 1100), but windowFunnel
		// restarts at 1200 and reaches 3; the chain is 1000, 0, 0
		{"a later start", []uint64{at(1000, 1), at(1200, 1), at(1250, 2), at(1290, 3)}, 100, 3, []uint32{1000, 0, 0}},
		// step 2 before any step 1: ignored; step 1 at 50, step 3 at 60 without step 2:
		// level 1, chain 50, 0, 0
		{"out of order", []uint64{at(10, 2), at(50, 1), at(60, 3)}, 100, 1, []uint32{50, 0, 0}},
		// window 0: the chain has no bound, windowFunnel only the same second
		{"window 0", []uint64{at(5, 1), at(5, 2), at(9, 3)}, 0, 2, []uint32{5, 5, 9}},
	} {
		if got := windowFunnel(c.pairs, 3, c.window, start); got != c.level {
			t.Errorf("%s: level %d, want %d", c.name, got, c.level)
		}
		earliestChain(c.pairs, c.window, chain)
		if fmt.Sprint(chain) != fmt.Sprint(c.chain) {
			t.Errorf("%s: chain %v, want %v", c.name, chain, c.chain)
		}
	}
	// quantileExact(0.5): the element at index floor(n/2) sorted, 0 for none (both servers
	// answer 3 for 1, 2, 3, 4)
	for _, c := range []struct {
		values []int64
		want   int64
	}{{nil, 0}, {[]int64{7}, 7}, {[]int64{4, 1, 3, 2}, 3}, {[]int64{9, 1, 5}, 5}} {
		if got := quantileExactHalf(c.values); got != c.want {
			t.Errorf("median of %v: %d, want %d", c.values, got, c.want)
		}
	}
}

// TestRowChunks: values appended one by one come out of flat in order, in a slice of
// exactly their length when asked exact: none (nil), one, a first chunk full (256), one
// more (a second chunk of 256), and 200 000 over twelve chunks: 256, 256, 512, ...,
// 32 768 (65 536 values in nine), then three of 65 536, the largest, the last of them
// being filled.
func TestRowChunks(t *testing.T) {
	for _, n := range []int{0, 1, 256, 257, 200_000} {
		var c rowChunks[uint32]
		for v := range n {
			c.add(uint32(v))
		}
		want := make([]uint32, n)
		for v := range want {
			want[v] = uint32(v)
		}
		if n == 0 {
			want = nil
		}
		for _, exact := range []bool{true, false} {
			got := c.flat(exact)
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("%d values, exact %v: %d values out, want 0 to %d in order", n, exact, len(got), n-1)
			}
			if exact && cap(got) != len(got) {
				t.Errorf("%d values, exact: room for %d, want %d", n, cap(got), len(got))
			}
		}
		if n == 200_000 && (len(c.full) != 11 || cap(c.cur) != 65_536) {
			t.Errorf("200 000 values: %d chunks full and one of %d, want 11 and one of 65 536", len(c.full), cap(c.cur))
		}
	}
}

// TestReadFunnelDays: readFunnelDaysSQL gives each day its rows in the order read, in
// slices of exactly their length when kept, on rows of funnel_rows' columns that a real
// ClickHouse makes of the numbers 0 to 199 999: an even number is a row of kind 1 of day
// 20454 (2026-01-01); an odd one of day 20455, of kind 2 when it is 3 modulo 4, else of
// kind 1; day 20456 has none. So day 20454 holds 100 000 first events, unit keys 0, 2, ...,
// 199 998 (more than a chunk of the largest size), and day 20455 50 000 of each kind,
// first events 1, 5, ..., step events 3, 7, .... A row's first event is its
// number modulo 86 400 into the day, its hash of values 7 times its number; a step event's
// item is its number modulo 86 400 << 15 | 1. Two rows of kind 3 name hash 42 "mobile" and
// hash 43 "tablet" on day 20454.
func TestReadFunnelDays(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	r := &Runner{Conn: conn, DB: db}
	sql := `SELECT multiIf(number % 2 = 0, 1, number % 4 = 3, 2, 1) AS kind, toUInt16(20454 + number % 2) AS day_number,
		number AS unit_key, toUInt32(if(kind = 1, day_number * 86400 + number % 86400, bitOr(bitShiftLeft(number % 86400, 15), 1))) AS t,
		if(kind = 1, number * 7, 0) AS combo, '' AS names
		FROM system.numbers LIMIT 200000
		UNION ALL SELECT toUInt8(3), toUInt16(20454), toUInt64(0), toUInt32(0), toUInt64(42 + number), concat('6:', ['mobile', 'tablet'][number + 1])
		FROM system.numbers LIMIT 2`
	for _, keep := range []bool{true, false} {
		days, err := r.readFunnelDaysSQL(context.Background(), sql, 20454, 20457, []int{0}, keep)
		if err != nil {
			t.Fatal(err)
		}
		d0, d1, d2 := days[0].(*funnelDay), days[1].(*funnelDay), days[2].(*funnelDay)
		var keys0, keys1, ev1, combos0, combos1 []uint64
		var first0, first1, items1 []uint32
		for v := range uint64(200_000) {
			switch {
			case v%2 == 0:
				keys0, first0, combos0 = append(keys0, v), append(first0, uint32(v%86400)), append(combos0, 7*v)
			case v%4 == 3:
				ev1, items1 = append(ev1, v), append(items1, uint32(v%86400)<<15|1)
			default:
				keys1, first1, combos1 = append(keys1, v), append(first1, uint32(v%86400)), append(combos1, 7*v)
			}
		}
		if !slices.Equal(d0.keys, keys0) || !slices.Equal(d0.first, first0) || !slices.Equal(d0.combos, combos0) || d0.evKeys != nil || d0.items != nil {
			t.Errorf("keep %v: day 20454 has %d first events and %d step events, want 100 000 (0, 2, ...) and none", keep, len(d0.keys), len(d0.evKeys))
		}
		if !slices.Equal(d0.hashes, []uint64{42, 43}) || !slices.Equal(d0.names, []string{"mobile", "tablet"}) {
			t.Errorf("keep %v: day 20454 names %v %q, want [42 43] [mobile tablet]", keep, d0.hashes, d0.names)
		}
		if !slices.Equal(d1.keys, keys1) || !slices.Equal(d1.first, first1) || !slices.Equal(d1.combos, combos1) ||
			!slices.Equal(d1.evKeys, ev1) || !slices.Equal(d1.items, items1) {
			t.Errorf("keep %v: day 20455 has %d first events and %d step events, want 50 000 (1, 5, ...) and 50 000 (3, 7, ...)", keep, len(d1.keys), len(d1.evKeys))
		}
		if d2.keys != nil || d2.first != nil || d2.combos != nil || d2.evKeys != nil || d2.items != nil || d2.hashes != nil || d2.names != nil {
			t.Errorf("keep %v: day 20456 has rows, want none", keep)
		}
		if !keep {
			continue
		}
		for i, d := range []*funnelDay{d0, d1, d2} {
			if cap(d.keys) != len(d.keys) || cap(d.first) != len(d.first) || cap(d.combos) != len(d.combos) ||
				cap(d.evKeys) != len(d.evKeys) || cap(d.items) != len(d.items) || cap(d.hashes) != len(d.hashes) || cap(d.names) != len(d.names) {
				t.Errorf("day %d kept with room beyond its rows", 20454+i)
			}
		}
	}
}
