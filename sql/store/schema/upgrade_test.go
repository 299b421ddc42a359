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

// TestSessionStatesUpgrade: a database migrated before 0018 keeps every session through
// the switch from sessions to session_states: sessions_v answers the same rows after the
// upgrade, and events inserted after it reach the new table. 0019 recreates the identity
// views with named joins.
func TestSessionStatesUpgrade(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ms := migrateBefore(t, ctx, conn, db, 18)
	// identities_v as 0016 made it before its joins were named
	for _, m := range ms {
		if m.Version == 16 {
			old := strings.NewReplacer(" AS lhs", "", " AS rhs", "").Replace(m.Statements[0])
			if err := exec(ctx, conn, db, "old 0016", "DROP TABLE {db}.identities_v"); err != nil {
				t.Fatal(err)
			}
			if err := exec(ctx, conn, db, "old 0016", old); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	insertSessionEvents(t, ctx, conn, db, start, 0)
	before := readSessions(t, ctx, conn, db)
	if len(before) != 3 {
		t.Fatalf("before the upgrade: %d sessions, want 3", len(before))
	}

	if err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	if after := readSessions(t, ctx, conn, db); !reflect.DeepEqual(after, before) {
		t.Fatalf("sessions_v changed in the upgrade:\nbefore %v\nafter  %v", before, after)
	}
	var old uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('sessions', 'sessions_mv')", db).Scan(&old); err != nil || old != 0 {
		t.Fatalf("sessions and sessions_mv left after the upgrade: %d (%v)", old, err)
	}
	for _, v := range []string{"identities_v", "events_person_v"} { // recreated by 0019
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+"."+v).Scan(&n); err != nil {
			t.Fatalf("%s after the upgrade: %v", v, err)
		}
	}
	var def string
	if err := conn.QueryRow(ctx, "SELECT create_table_query FROM system.tables WHERE database = ? AND name = 'identities_v'", db).Scan(&def); err != nil || !strings.Contains(def, "rhs") {
		t.Fatalf("identities_v was not recreated with named joins by 0019: %q (%v)", def, err)
	}
	insertSessionEvents(t, ctx, conn, db, start.Add(24*time.Hour), 3)
	if after := readSessions(t, ctx, conn, db); len(after) != 6 {
		t.Fatalf("after the upgrade, new events: %d sessions, want 6", len(after))
	}
}

// migrateBefore brings db to the schema of the migrations before version, as a journeyd
// of that time left it, and returns every migration.
func migrateBefore(t *testing.T, ctx context.Context, conn driver.Conn, db string, version uint32) []Migration {
	t.Helper()
	server, err := clickhouse.ServerVersion(conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range SplitStatements(bootstrapSQL) {
		if err := exec(ctx, conn, db, "bootstrap.sql", stmt); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version < version && m.Requires.Admits(server) {
			if err := apply(ctx, conn, db, m, server); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ms
}

// insertSessionEvents inserts three sessions of three events each, numbered from first:
// a landing pageview from a campaign, a second pageview, a purchase.
func insertSessionEvents(t *testing.T, ctx context.Context, conn driver.Conn, db string, start time.Time, first int) {
	t.Helper()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".events (event_id, site_id, ts, ts_ms, received_at, type, name, anon_id, session_id, path, source, channel, revenue)")
	if err != nil {
		t.Fatal(err)
	}
	for s := first; s < first+3; s++ {
		at := start.Add(time.Duration(s) * time.Hour)
		sid, anon := fmt.Sprintf("s%d", s), fmt.Sprintf("a%d", s)
		rows := [][]any{
			{"pageview", "", "/landing", "newsletter", "Email", 0.0},
			{"pageview", "", "/product", "", "", 0.0},
			{"event", "purchase", "/thanks", "", "", 10.0 * float64(s+1)},
		}
		for i, r := range rows {
			ts := at.Add(time.Duration(i) * time.Minute)
			if err := b.Append(fmt.Sprintf("%s-e%d", sid, i), "shop", ts, uint16(i*10), ts, r[0], r[1], anon, sid, r[2], r[3], r[4], r[5]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

// readSessions returns sessions_v's rows as strings, ordered by session.
func readSessions(t *testing.T, ctx context.Context, conn driver.Conn, db string) []string {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT session_id, anon_id, toString(session_start), duration, entry_page, exit_page, source, channel, pageviews, events, bounce, conversions, revenue FROM "+db+".sessions_v ORDER BY session_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, anon, start, entry, exit, source, channel string
		var duration uint32
		var pageviews, events, conversions uint64
		var bounce uint8
		var revenue float64
		if err := rows.Scan(&id, &anon, &start, &duration, &entry, &exit, &source, &channel, &pageviews, &events, &bounce, &conversions, &revenue); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(id, anon, start, duration, entry, exit, source, channel, pageviews, events, bounce, conversions, revenue))
	}
	return out
}

// TestSessionAggregatesUpgrade: 0020 moves the sessions from session_states to
// session_aggregates without changing a value of sessions_v, for sessions of every kind
// (email opens and impressions before the landing, no pageview, a bot, a conversion stored
// twice); afterwards new events reach the new table and a repeated one is not counted
// twice.
func TestSessionAggregatesUpgrade(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	migrateBefore(t, ctx, conn, db, 20)
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	// id, session, minute, type, name, user, path, referrer, source, medium, campaign, channel, device, country, revenue, currency, bot
	rows := [][]any{
		{"a1", "s1", 0, "email_open", "", "", "", "", "newsletter", "email", "may", "Email", "", "", 0.0, "", 0},
		{"a2", "s1", 1, "pageview", "", "", "/landing", "https://mail.example/", "newsletter", "email", "may", "Email", "desktop", "FR", 0.0, "", 0},
		{"a3", "s1", 2, "pageview", "", "", "/product", "", "", "", "", "Direct", "desktop", "FR", 0.0, "", 0},
		{"a4", "s1", 3, "event", "purchase", "user-1", "/thanks", "", "", "", "", "Direct", "desktop", "FR", 10.0, "EUR", 0},
		{"a4", "s1", 3, "event", "purchase", "user-1", "/thanks", "", "", "", "", "Direct", "desktop", "FR", 10.0, "EUR", 0},
		{"b1", "s2", 0, "impression", "", "", "", "", "ads", "display", "spring", "Display", "", "", 0.0, "", 0},
		{"b2", "s2", 5, "event", "signup", "", "", "https://www.google.com/", "google", "organic", "", "Organic Search", "mobile", "DE", 0.0, "", 0},
		{"c1", "s3", 0, "pageview", "", "", "/", "", "", "", "", "Direct", "bot", "US", 0.0, "", 1},
		{"c2", "s3", 1, "leave", "", "", "/", "", "", "", "", "Direct", "bot", "US", 0.0, "", 1},
		{"c3", "s3", 2, "track", "order_paid", "user-3", "", "", "", "", "", "", "bot", "US", 42.5, "USD", 1},
	}
	insert := func(rows [][]any) {
		t.Helper()
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".events (event_id, session_id, ts, ts_ms, received_at, site_id, anon_id, type, name, user_id, path, referrer, source, medium, campaign, channel, device, country, revenue, currency, is_bot)")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			ts := at.Add(time.Duration(r[2].(int)) * time.Minute)
			if err := b.Append(r[0], r[1], ts, uint16(0), ts, "shop", "anon-"+r[1].(string), r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15], uint8(r[16].(int))); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert(rows)
	before := readAllSessions(t, ctx, conn, db)
	if len(before) != 3 {
		t.Fatalf("before the upgrade: %d sessions, want 3", len(before))
	}
	if err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	if after := readAllSessions(t, ctx, conn, db); !reflect.DeepEqual(after, before) {
		t.Fatalf("sessions_v changed in the upgrade:\nbefore %q\nafter  %q", before, after)
	}
	var old uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name IN ('session_states', 'session_states_mv')", db).Scan(&old); err != nil || old != 0 {
		t.Fatalf("session_states and its view left after the upgrade: %d (%v)", old, err)
	}
	want := []string{
		"shop|s1|anon-s1|user-1|2026-05-04 10:00:00|2026-05-04 10:03:00|180|/landing|/product|https://mail.example/|newsletter|email|may|Email|desktop|FR|2|4|0|1|10|EUR|0",
		"shop|s2|anon-s2||2026-05-04 10:00:00|2026-05-04 10:05:00|300|||https://www.google.com/|google|organic||Organic Search|mobile|DE|0|2|1|0|0||0",
		"shop|s3|anon-s3|user-3|2026-05-04 10:00:00|2026-05-04 10:02:00|120|/|/|||||Direct|bot|US|1|3|1|1|42.5|USD|1",
	}
	if !reflect.DeepEqual(before, want) {
		t.Fatalf("sessions_v:\n%q\nwant\n%q", before, want)
	}
	// After the upgrade: b2 again (not counted twice) and a pageview in s2.
	insert([][]any{rows[6], {"b3", "s2", 6, "pageview", "", "", "/pricing", "", "", "", "", "Direct", "mobile", "DE", 0.0, "", 0}})
	after := readAllSessions(t, ctx, conn, db)
	if want := "shop|s2|anon-s2||2026-05-04 10:00:00|2026-05-04 10:06:00|360|/pricing|/pricing|https://www.google.com/|google|organic||Organic Search|mobile|DE|1|3|0|0|0||0"; after[1] != want {
		t.Fatalf("s2 after new events:\n%q\nwant\n%q", after[1], want)
	}
}

// readAllSessions returns every column of sessions_v, '|'-separated, ordered by session.
func readAllSessions(t *testing.T, ctx context.Context, conn driver.Conn, db string) []string {
	t.Helper()
	return chtest.Strings(t, ctx, conn, `SELECT arrayStringConcat([site_id, session_id, anon_id, user_id, toString(session_start),
		toString(session_end), toString(duration), entry_page, exit_page, referrer, source, medium, campaign, channel,
		device, country, toString(pageviews), toString(events), toString(bounce), toString(conversions),
		toString(revenue), currency, toString(is_bot)], '|') FROM `+db+`.sessions_v ORDER BY session_id`)
}
