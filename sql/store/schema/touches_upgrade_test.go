package schema

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// touchEvent is one planted event of the session touch tests.
type touchEvent struct {
	id, session, at, typ, name, anon, user, path                          string
	referrer, source, medium, campaign, channel, device, country, browser string
	revenue                                                               float64
	currency                                                              string
	bot                                                                   uint8
}

// insertTouchEvents inserts evs as one insert into db.events.
func insertTouchEvents(t *testing.T, ctx context.Context, conn driver.Conn, db string, evs ...touchEvent) error {
	t.Helper()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".events (event_id, session_id, ts, ts_ms, received_at, site_id, anon_id, type, name, user_id, path, referrer, source, medium, campaign, channel, device, country, browser, revenue, currency, is_bot)")
	if err != nil {
		return err
	}
	for _, e := range evs {
		ts, err := time.Parse(time.DateTime, e.at)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Append(e.id, e.session, ts, uint16(0), ts, "shop", e.anon, e.typ, e.name, e.user, e.path, e.referrer, e.source, e.medium, e.campaign, e.channel, e.device, e.country, e.browser, e.revenue, e.currency, e.bot); err != nil {
			t.Fatal(err)
		}
	}
	return b.Send()
}

// touchStates returns 0025's four states merged per session and date, and with byDate
// false per session (date "all"): "session date visit ; visit time ; user ; anon", the
// visit's fields joined by '|' instead of 0xFF, a time of 0 as "0", and the hashes named by
// the id of ids they are the cityHash64 of ("0" for 0).
func touchStates(t *testing.T, ctx context.Context, conn driver.Conn, db string, byDate bool, ids ...string) []string {
	t.Helper()
	hashes, names := []string{"toUInt64(0)"}, []string{"'0'"}
	for _, id := range ids {
		hashes, names = append(hashes, "cityHash64('"+id+"')"), append(names, "'"+id+"'")
	}
	date, group := "'all'", "session_id"
	if byDate {
		date, group = "toString(date)", "session_id, date"
	}
	name := func(h string) string {
		return fmt.Sprintf("transform(%s, [%s], [%s], 'unknown')", h, strings.Join(hashes, ", "), strings.Join(names, ", "))
	}
	return chtest.Strings(t, ctx, conn, `SELECT concat(session_id, ' ', `+date+`, ' ', replaceAll(argMinIfMerge(visit_state), '\xff', '|'),
		' ; ', if(minIfMerge(visit_t_state) = 0, '0', toString(toDateTime(minIfMerge(visit_t_state)))),
		' ; ', `+name("maxIfMerge(user_hash_state)")+`, ' ; ', `+name("maxIfMerge(anon_hash_state)")+`)
		FROM `+db+`.session_aggregates GROUP BY `+group+` ORDER BY `+group)
}

func diffRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// TestSessionTouchesUpgrade: a database at 0024 with sessions of every kind, migrated to
// the latest schema, then given more events in some of them. 0026 backfills 0025's states
// of the sessions stored before it from their events, and sessions_v then takes the
// session's referrer, source, medium, campaign, channel, device and country from its
// first visit that is not a bot's: they change for a session whose first visit event was
// an email click (the click is a touchpoint of its own) and for one whose first visit was
// a bot's; nothing else changes. Replays count once, sessions across midnight are one.
func TestSessionTouchesUpgrade(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	migrateBefore(t, ctx, conn, db, 25)
	// id, session, time, type, name, anon, user, path, referrer, source, medium, campaign, channel, device, country, browser, revenue, currency, bot
	m1 := []touchEvent{ // across midnight, from Google
		{"m1-1", "m1", "2026-05-04 23:50:00", "pageview", "", "a1", "", "/landing", "https://www.google.com/", "google", "organic", "", "Organic Search", "desktop", "FR", "Chrome", 0, "", 0},
		{"m1-2", "m1", "2026-05-04 23:58:00", "pageview", "", "a1", "", "/product", "", "", "", "", "", "desktop", "FR", "Chrome", 0, "", 0},
		{"m1-3", "m1", "2026-05-05 00:05:00", "pageview", "", "a1", "", "/cart", "", "", "", "", "", "desktop", "FR", "Chrome", 0, "", 0},
		{"m1-4", "m1", "2026-05-05 00:07:00", "event", "purchase", "a1", "", "/thanks", "", "", "", "", "", "desktop", "FR", "Chrome", 30, "EUR", 0},
	}
	b2 := []touchEvent{ // bots alone: the first bot visit stays the session's
		{"b2-1", "b2", "2026-05-04 10:00:00", "pageview", "", "a2", "", "/", "https://crawler.example/", "crawler.example", "", "", "Referral", "bot", "US", "Bot", 0, "", 1},
		{"b2-2", "b2", "2026-05-04 10:00:30", "pageview", "", "a2", "", "/about", "", "", "", "", "", "bot", "DE", "Bot", 0, "", 1},
	}
	h3 := []touchEvent{ // a bot's visit, then a person's
		{"h3-1", "h3", "2026-05-04 11:00:00", "pageview", "", "a3", "", "/", "https://crawler.example/", "crawler.example", "", "", "Referral", "bot", "US", "Bot", 0, "", 1},
		{"h3-2", "h3", "2026-05-04 11:01:00", "pageview", "", "a3", "", "/pricing", "https://www.bing.com/", "bing", "organic", "", "Organic Search", "mobile", "DE", "Safari", 0, "", 0},
	}
	e4 := []touchEvent{ // an email open and click with the user id, in an anonymous visit
		{"e4-1", "e4", "2026-05-04 09:00:00", "email_open", "", "mail-4", "user-4", "", "", "newsletter", "email", "may", "Email", "desktop", "NL", "Gmail", 0, "", 0},
		{"e4-2", "e4", "2026-05-04 09:01:00", "email_click", "", "mail-4", "user-4", "", "", "newsletter", "email", "may", "Email", "desktop", "NL", "Gmail", 0, "", 0},
		{"e4-3", "e4", "2026-05-04 09:01:05", "pageview", "", "a4", "", "/landing", "", "", "", "", "", "mobile", "FR", "Safari", 0, "", 0},
		{"e4-4", "e4", "2026-05-04 09:03:00", "pageview", "", "a4", "", "/shop", "", "", "", "", "", "mobile", "FR", "Safari", 0, "", 0},
	}
	r5 := []touchEvent{ // inserted twice
		{"r5-1", "r5", "2026-05-04 12:00:00", "pageview", "", "a5", "", "/", "https://news.example/", "news.example", "", "", "Referral", "tablet", "IT", "Firefox", 0, "", 0},
		{"r5-2", "r5", "2026-05-04 12:02:00", "event", "purchase", "a5", "", "/thanks", "", "", "", "", "", "tablet", "IT", "Firefox", 12.5, "EUR", 0},
	}
	i6 := []touchEvent{ // identified after midnight
		{"i6-1", "i6", "2026-05-04 23:55:00", "pageview", "", "a6", "", "/blog", "", "", "", "", "", "desktop", "ES", "Edge", 0, "", 0},
		{"i6-2", "i6", "2026-05-05 00:03:00", "identify", "", "a6", "user-6", "", "", "", "", "", "", "desktop", "ES", "Edge", 0, "", 0},
	}
	for _, evs := range [][]touchEvent{m1, b2, h3, e4, r5, i6, r5} {
		if err := insertTouchEvents(t, ctx, conn, db, evs...); err != nil {
			t.Fatal(err)
		}
	}
	ids := []string{"a1", "a2", "a3", "a4", "a5", "a6", "mail-4", "user-4", "user-6"}

	// Before (0022's view): the source of the first visit event, an email click included,
	// and the device and country of the first event that has one, a bot's or an email
	// open's included. site|session|anon|user|start|end|duration|entry|exit|referrer|source|
	// medium|campaign|channel|device|country|pageviews|events|bounce|conversions|revenue|
	// currency|is_bot.
	// - b2: 10:00:00 to 10:00:30; the first bot visit's crawler referrer and US.
	// - e4: the open's anonymous id (the first), user-4 (the last); 09:00 to 09:03; the
	//   click's newsletter source; the open's desktop and NL; 2 pageviews of 4 events.
	// - h3: the bot's crawler source, bot device, US; is_bot 1 (one event of a bot).
	// - i6: 23:55 to 00:03 (480 s); the identify's user-6; one pageview and the identify:
	//   one event of bit 2 (pageview, screen or event), a bounce.
	// - m1: 23:50 to 00:07 (1020 s), over two dates; exit /cart (a purchase event is no
	//   page); 3 pageviews, 4 events, the purchase's 30 EUR.
	// - r5: each event once though inserted twice: 2 events, one conversion, 12.5 EUR.
	before := []string{
		"shop|b2|a2||2026-05-04 10:00:00|2026-05-04 10:00:30|30|/|/about|https://crawler.example/|crawler.example|||Referral|bot|US|2|2|0|0|0||1",
		"shop|e4|mail-4|user-4|2026-05-04 09:00:00|2026-05-04 09:03:00|180|/landing|/shop||newsletter|email|may|Email|desktop|NL|2|4|0|0|0||0",
		"shop|h3|a3||2026-05-04 11:00:00|2026-05-04 11:01:00|60|/|/pricing|https://crawler.example/|crawler.example|||Referral|bot|US|2|2|0|0|0||1",
		"shop|i6|a6|user-6|2026-05-04 23:55:00|2026-05-05 00:03:00|480|/blog|/blog|||||Direct|desktop|ES|1|2|1|0|0||0",
		"shop|m1|a1||2026-05-04 23:50:00|2026-05-05 00:07:00|1020|/landing|/cart|https://www.google.com/|google|organic||Organic Search|desktop|FR|3|4|0|1|30|EUR|0",
		"shop|r5|a5||2026-05-04 12:00:00|2026-05-04 12:02:00|120|/|/|https://news.example/|news.example|||Referral|tablet|IT|1|2|0|1|12.5|EUR|0",
	}
	diffRows(t, "sessions_v at 0024", readAllSessions(t, ctx, conn, db), before)

	if err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	// After: the first visit that is not a bot's gives referrer to country. By design only
	// e4 (its pageview e4-3 came in with no source: Direct; mobile, FR, not the click's
	// newsletter nor the open's desktop and NL) and h3 (the person's visit from Bing,
	// mobile, DE) change. b2, bots alone, keeps its first bot visit's values; m1, i6 and
	// r5 had a person's visit first and keep theirs. The identity, times, pages, counts,
	// revenue and bot flag of every session stay.
	after := []string{
		before[0],
		"shop|e4|mail-4|user-4|2026-05-04 09:00:00|2026-05-04 09:03:00|180|/landing|/shop|||||Direct|mobile|FR|2|4|0|0|0||0",
		"shop|h3|a3||2026-05-04 11:00:00|2026-05-04 11:01:00|60|/|/pricing|https://www.bing.com/|bing|organic||Organic Search|mobile|DE|2|2|0|0|0||1",
		before[3], before[4], before[5],
	}
	diffRows(t, "sessions_v after the upgrade", readAllSessions(t, ctx, conn, db), after)
	// The backfilled states per session and date: the first visit (visit_state, its fields
	// channel|source|medium|campaign|referrer|path|country|device|browser), the time of the
	// first visit that is not a bot's, the greatest hash of the user ids and of the
	// anonymous ids of the events that are neither a bot's nor an email's.
	// - b2: bots alone: their first visit b2-1 (US, not b2-2's DE); no time, no person (0).
	// - e4: the pageview e4-3 at 09:01:05; no user id on the visit's own events (the
	//   open's and click's user-4 are theirs, not the session's), anonymous id a4, not
	//   mail-4.
	// - h3: h3-2, the bot's h3-1 ordered last; 11:01:00.
	// - i6: 05-04 holds the pageview; 05-05 only the identify, which is no visit (empty,
	//   time 0) but carries user-6; per session the pageview, 23:55, user-6.
	// - m1: each date its own first visit (05-05: m1-3, /cart at 00:05); per session
	//   05-04's, from Google at 23:50.
	// - r5: r5-1, though inserted twice.
	states := []string{
		"b2 2026-05-04 Referral|crawler.example|||https://crawler.example/|/|US|bot|Bot ; 0 ; 0 ; 0",
		"e4 2026-05-04 |||||/landing|FR|mobile|Safari ; 2026-05-04 09:01:05 ; 0 ; a4",
		"h3 2026-05-04 Organic Search|bing|organic||https://www.bing.com/|/pricing|DE|mobile|Safari ; 2026-05-04 11:01:00 ; 0 ; a3",
		"i6 2026-05-04 |||||/blog|ES|desktop|Edge ; 2026-05-04 23:55:00 ; 0 ; a6",
		"i6 2026-05-05  ; 0 ; user-6 ; a6",
		"m1 2026-05-04 Organic Search|google|organic||https://www.google.com/|/landing|FR|desktop|Chrome ; 2026-05-04 23:50:00 ; 0 ; a1",
		"m1 2026-05-05 |||||/cart|FR|desktop|Chrome ; 2026-05-05 00:05:00 ; 0 ; a1",
		"r5 2026-05-04 Referral|news.example|||https://news.example/|/|IT|tablet|Firefox ; 2026-05-04 12:00:00 ; 0 ; a5",
	}
	diffRows(t, "states per session and date after the upgrade", touchStates(t, ctx, conn, db, true, ids...), states)
	merged := []string{
		"b2 all Referral|crawler.example|||https://crawler.example/|/|US|bot|Bot ; 0 ; 0 ; 0",
		"e4 all |||||/landing|FR|mobile|Safari ; 2026-05-04 09:01:05 ; 0 ; a4",
		"h3 all Organic Search|bing|organic||https://www.bing.com/|/pricing|DE|mobile|Safari ; 2026-05-04 11:01:00 ; 0 ; a3",
		"i6 all |||||/blog|ES|desktop|Edge ; 2026-05-04 23:55:00 ; user-6 ; a6",
		"m1 all Organic Search|google|organic||https://www.google.com/|/landing|FR|desktop|Chrome ; 2026-05-04 23:50:00 ; 0 ; a1",
		"r5 all Referral|news.example|||https://news.example/|/|IT|tablet|Firefox ; 2026-05-04 12:00:00 ; 0 ; a5",
	}
	diffRows(t, "states per session after the upgrade", touchStates(t, ctx, conn, db, false, ids...), merged)
	var left uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('session_visits_mv', 'session_touches_gap', 'session_touches_gap_mv')", db).Scan(&left); err != nil || left != 0 {
		t.Fatalf("the old view or the gap table left after the upgrade: %d (%v)", left, err)
	}

	// More events into the same sessions, through the new view.
	more := []touchEvent{
		// m1: a page after midnight and the purchase again
		{"m1-5", "m1", "2026-05-05 00:20:00", "pageview", "", "a1", "", "/account", "", "", "", "", "", "desktop", "FR", "Chrome", 0, "", 0},
		m1[3],
		// h3: a late visit before the first (from DuckDuckGo), and one after it from Google
		{"h3-0", "h3", "2026-05-04 10:59:30", "pageview", "", "a3", "", "/", "https://duckduckgo.com/", "duckduckgo", "organic", "", "Organic Search", "mobile", "DE", "Safari", 0, "", 0},
		{"h3-3", "h3", "2026-05-04 11:05:00", "pageview", "", "a3", "", "/signup", "https://www.google.com/", "google", "organic", "", "Organic Search", "mobile", "DE", "Safari", 0, "", 0},
		// e4: the visitor logs in
		{"e4-5", "e4", "2026-05-04 09:10:00", "pageview", "", "a4", "user-4", "/account", "", "", "", "", "", "mobile", "FR", "Safari", 0, "", 0},
		// r5: replayed once more
		r5[0], r5[1],
		// i6: a page on the second date, as the known user
		{"i6-3", "i6", "2026-05-05 00:10:00", "pageview", "", "a6", "user-6", "/pricing", "", "", "", "", "", "desktop", "ES", "Edge", 0, "", 0},
	}
	if err := insertTouchEvents(t, ctx, conn, db, more...); err != nil {
		t.Fatal(err)
	}
	// - e4: ends 09:10 (600 s), exits /account, 3 pageviews of 5 events; still Direct.
	// - h3: starts 10:59:30 (the late visit), ends 11:05 (330 s), exits /signup, 4 pages;
	//   its first visit is now h3-0, from DuckDuckGo (not h3-3's Google, which is later).
	// - i6: ends 00:10 (900 s), exits /pricing, 2 pageviews: no bounce.
	// - m1: ends 00:20 (1800 s), exits /account, 4 pageviews of 5 events, still one
	//   conversion of 30 EUR.
	// - r5 and b2 unchanged.
	final := []string{
		before[0],
		"shop|e4|mail-4|user-4|2026-05-04 09:00:00|2026-05-04 09:10:00|600|/landing|/account|||||Direct|mobile|FR|3|5|0|0|0||0",
		"shop|h3|a3||2026-05-04 10:59:30|2026-05-04 11:05:00|330|/|/signup|https://duckduckgo.com/|duckduckgo|organic||Organic Search|mobile|DE|4|4|0|0|0||1",
		"shop|i6|a6|user-6|2026-05-04 23:55:00|2026-05-05 00:10:00|900|/blog|/pricing|||||Direct|desktop|ES|2|3|0|0|0||0",
		"shop|m1|a1||2026-05-04 23:50:00|2026-05-05 00:20:00|1800|/landing|/account|https://www.google.com/|google|organic||Organic Search|desktop|FR|4|5|0|1|30|EUR|0",
		before[5],
	}
	diffRows(t, "sessions_v after more events", readAllSessions(t, ctx, conn, db), final)
	// - e4: e4-5 is the session's own event with user-4: its hash is now the greatest
	//   (no other has a user id, 0); the first visit stays e4-3.
	// - h3: h3-0 at 10:59:30.
	// - i6 05-05: i6-3 is its first visit, at 00:10; per session 05-04's stays.
	// - m1 05-05: m1-3 (00:05) stays first.
	states = []string{
		states[0],
		"e4 2026-05-04 |||||/landing|FR|mobile|Safari ; 2026-05-04 09:01:05 ; user-4 ; a4",
		"h3 2026-05-04 Organic Search|duckduckgo|organic||https://duckduckgo.com/|/|DE|mobile|Safari ; 2026-05-04 10:59:30 ; 0 ; a3",
		states[3],
		"i6 2026-05-05 |||||/pricing|ES|desktop|Edge ; 2026-05-05 00:10:00 ; user-6 ; a6",
		states[5], states[6], states[7],
	}
	diffRows(t, "states per session and date after more events", touchStates(t, ctx, conn, db, true, ids...), states)
	merged = []string{
		merged[0],
		"e4 all |||||/landing|FR|mobile|Safari ; 2026-05-04 09:01:05 ; user-4 ; a4",
		"h3 all Organic Search|duckduckgo|organic||https://duckduckgo.com/|/|DE|mobile|Safari ; 2026-05-04 10:59:30 ; 0 ; a3",
		merged[3], merged[4], merged[5],
	}
	diffRows(t, "states per session after more events", touchStates(t, ctx, conn, db, false, ids...), merged)
}

// windowEvents are the events of TestSessionTouchesWindow and TestSessionTouchesRerun:
// w1 starts before the upgrade and goes on while it runs; w2 starts while it runs.
var windowEvents = []touchEvent{
	{"w1-1", "w1", "2026-06-01 10:00:00", "pageview", "", "a1", "", "/", "https://www.google.com/", "google", "organic", "", "Organic Search", "desktop", "FR", "Chrome", 0, "", 0},
	{"w1-2", "w1", "2026-06-01 10:05:00", "event", "purchase", "a1", "user-1", "/thanks", "", "", "", "", "", "desktop", "FR", "Chrome", 20, "EUR", 0},
	{"w2-1", "w2", "2026-06-01 10:06:00", "pageview", "", "a2", "", "/sale", "", "ads", "cpc", "june", "Paid Search", "mobile", "DE", "Safari", 0, "", 0},
	{"w2-2", "w2", "2026-06-01 10:08:00", "pageview", "", "a2", "", "/cart", "", "", "", "", "", "mobile", "DE", "Safari", 0, "", 0},
}

// The sessions of windowEvents once all are stored: w1 from 10:00 to 10:05 (300 s), one
// page and a purchase by user-1 of 20 EUR (two events of bit 2: no bounce); w2 from the
// ad at 10:06 to 10:08 (120 s), two pages.
var windowSessions = []string{
	"shop|w1|a1|user-1|2026-06-01 10:00:00|2026-06-01 10:05:00|300|/|/|https://www.google.com/|google|organic||Organic Search|desktop|FR|1|2|0|1|20|EUR|0",
	"shop|w2|a2||2026-06-01 10:06:00|2026-06-01 10:08:00|120|/sale|/cart||ads|cpc|june|Paid Search|mobile|DE|2|2|0|0|0||0",
}

// ... and their states: w1's first visit w1-1, its user user-1 (w1-2's); w2's the ad.
var windowStates = []string{
	"w1 all Organic Search|google|organic||https://www.google.com/|/|FR|desktop|Chrome ; 2026-06-01 10:00:00 ; user-1 ; a1",
	"w2 all Paid Search|ads|cpc|june||/sale|DE|mobile|Safari ; 2026-06-01 10:06:00 ; 0 ; a2",
}

// migration returns the migration of version v.
func migration(t *testing.T, v uint32) Migration {
	t.Helper()
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version == v {
			return m
		}
	}
	t.Fatalf("no migration %d", v)
	return Migration{}
}

// TestSessionTouchesWindow: events inserted between 0025 and 0026 are taken (on 18.16 an
// insert fails while the session view and session_aggregates disagree on a column, so
// 0025 detaches the session view before its ALTER and notes the sessions inserted
// meanwhile), and 0026 aggregates them whole: no session loses an event.
func TestSessionTouchesWindow(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	migrateBefore(t, ctx, conn, db, 25)
	server, err := clickhouse.ServerVersion(conn)
	if err != nil {
		t.Fatal(err)
	}
	if err := insertTouchEvents(t, ctx, conn, db, windowEvents[0]); err != nil {
		t.Fatal(err)
	}
	if err := apply(ctx, conn, db, migration(t, 25), server); err != nil {
		t.Fatal(err)
	}
	if err := insertTouchEvents(t, ctx, conn, db, windowEvents[1:3]...); err != nil {
		t.Fatalf("an insert between 0025 and 0026 failed: %v", err)
	}
	// Meanwhile sessions_v (0022's) has w1 as stored before 0025: its first page alone,
	// 0 s, a bounce; w2 is not there yet.
	diffRows(t, "sessions_v between 0025 and 0026", readAllSessions(t, ctx, conn, db), []string{
		"shop|w1|a1||2026-06-01 10:00:00|2026-06-01 10:00:00|0|/|/|https://www.google.com/|google|organic||Organic Search|desktop|FR|1|1|1|0|0||0",
	})
	if err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	if err := insertTouchEvents(t, ctx, conn, db, windowEvents[3]); err != nil {
		t.Fatal(err)
	}
	diffRows(t, "sessions_v after 0026", readAllSessions(t, ctx, conn, db), windowSessions)
	diffRows(t, "states after 0026", touchStates(t, ctx, conn, db, false, "a1", "a2", "user-1"), windowStates)
}

// TestSessionTouchesRerun: 0025 and 0026 run again after failing at any statement (a
// migration is recorded only once all of it ran), and the result is that of a whole run:
// 0025's ALTER is run again with its columns there already (the runner leaves them out),
// and 0026 again after its first k statements, for every k, with an insert in between.
func TestSessionTouchesRerun(t *testing.T) {
	server := chtest.Shared(t)
	m25, m26 := migration(t, 25), migration(t, 26)
	for k := 0; k <= len(m26.Statements); k++ {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			db, conn := server.NewDatabase(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			migrateBefore(t, ctx, conn, db, 25)
			version, err := clickhouse.ServerVersion(conn)
			if err != nil {
				t.Fatal(err)
			}
			if err := insertTouchEvents(t, ctx, conn, db, windowEvents[0]); err != nil {
				t.Fatal(err)
			}
			for _, s := range m25.Statements { // all of 0025, not recorded
				if err := exec(ctx, conn, db, m25.Name, s); err != nil {
					t.Fatal(err)
				}
			}
			if err := insertTouchEvents(t, ctx, conn, db, windowEvents[1]); err != nil {
				t.Fatalf("an insert after 0025 failed: %v", err)
			}
			if err := apply(ctx, conn, db, m25, version); err != nil {
				t.Fatalf("0025 again: %v", err)
			}
			for _, s := range m26.Statements[:k] { // 0026 up to statement k, not recorded
				if err := exec(ctx, conn, db, m26.Name, s); err != nil {
					t.Fatal(err)
				}
			}
			if err := insertTouchEvents(t, ctx, conn, db, windowEvents[2]); err != nil {
				t.Fatalf("an insert after %d statements of 0026 failed: %v", k, err)
			}
			if err := Migrate(ctx, conn, db); err != nil {
				t.Fatalf("0026 again after %d statements: %v", k, err)
			}
			if err := insertTouchEvents(t, ctx, conn, db, windowEvents[3]); err != nil {
				t.Fatal(err)
			}
			diffRows(t, "sessions_v", readAllSessions(t, ctx, conn, db), windowSessions)
			diffRows(t, "states", touchStates(t, ctx, conn, db, false, "a1", "a2", "user-1"), windowStates)
			var left uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('session_visits_mv', 'session_touches_gap', 'session_touches_gap_mv')", db).Scan(&left); err != nil || left != 0 {
				t.Fatalf("the old view or the gap table left: %d (%v)", left, err)
			}
		})
	}
}
