package schema

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/chtest"
	"github.com/journeyd/journeyd/sql/clickhouse"
)

// TestSessionStatesUpgrade: a database migrated before 0018 keeps every session through
// the switch from sessions to session_states: sessions_v answers the same rows after the
// upgrade, and events inserted after it reach the new table. 0019 recreates the identity
// views with named joins.
func TestSessionStatesUpgrade(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	version, err := clickhouse.ServerVersion(conn)
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
		if m.Version < 18 && m.Requires.Admits(version) {
			if err := apply(ctx, conn, db, m, version); err != nil {
				t.Fatal(err)
			}
		}
	}
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
