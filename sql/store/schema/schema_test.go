package schema

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// eventColumns is the column list of DESIGN §4 and event.Event, in field order.
const eventColumns = "event_id site_id ts ts_ms received_at type name anon_id user_id session_id " +
	"url host path query title referrer referrer_host referrer_kind search_term channel source " +
	"medium campaign term content click_id_type click_id country region city browser " +
	"browser_version os device is_bot ip user_agent props.key props.value revenue currency engaged_ms lib"

func TestMigrateTwice(t *testing.T) {
	srv := chtest.Shared(t)
	_, other := srv.NewDatabase(t) // the connection's database is not the one migrated
	db := "m_" + strings.ReplaceAll(t.Name(), "/", "_")
	t.Cleanup(func() { srv.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < 2; i++ {
		if err := Migrate(ctx, other, db); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	applied, err := Applied(ctx, other, db)
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := Migrations()
	for _, m := range ms {
		if !applied[m.Version] {
			t.Fatalf("%s is not recorded as applied", m.Name)
		}
	}
	var n uint64
	if err := other.QueryRow(ctx, "SELECT count() FROM "+db+".schema_migrations FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if int(n) != len(applied) {
		t.Fatalf("schema_migrations has %d rows for %d versions: a migration ran twice", n, len(applied))
	}
	checkEventColumns(t, ctx, other, db)
}

// checkEventColumns compares the columns of db.events with eventColumns.
func checkEventColumns(t *testing.T, ctx context.Context, conn driver.Conn, db string) {
	t.Helper()
	cols := chtest.Strings(t, ctx, conn, "SELECT name FROM system.columns WHERE database = ? AND table = 'events'", db)
	sort.Strings(cols) // 18.16 has no system.columns.position
	want := strings.Fields(eventColumns)
	sort.Strings(want)
	if got := strings.Join(cols, " "); got != strings.Join(want, " ") {
		t.Fatalf("events columns\n got %s\nwant %s", got, strings.Join(want, " "))
	}
}

func TestEventsRowAndViews(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".events (event_id, site_id, ts, ts_ms, received_at, type, anon_id, session_id, path, props.key, props.value, revenue)")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := b.Append("e1", "shop", ts, uint16(250), ts, "pageview", "a1", "s1", "/", []string{"k"}, []string{"v"}, 9.5); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	var id, val string
	var got time.Time
	var rev float64
	err = conn.QueryRow(ctx, "SELECT event_id, ts, props.value[indexOf(props.key, 'k')], revenue FROM "+db+".events").Scan(&id, &got, &val, &rev)
	if err != nil {
		t.Fatal(err)
	}
	if id != "e1" || !got.Equal(ts) || val != "v" || rev != 9.5 {
		t.Fatalf("read back %q %s %q %v, want e1 %s v 9.5", id, got, val, rev, ts)
	}
	checkViewsAnswer(t, ctx, srv, db)
}

// checkViewsAnswer runs a count over every view the migrations create: a view that names a
// table without its database breaks here.
func checkViewsAnswer(t *testing.T, ctx context.Context, srv *chtest.Server, db string) {
	t.Helper()
	conn := srv.Open(t, "default")
	views := chtest.Strings(t, ctx, conn, "SELECT name FROM system.tables WHERE database = ? AND engine IN ('View', 'MaterializedView')", db)
	for _, v := range views {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+db+"."+v).Scan(&n); err != nil {
			t.Fatalf("view %s: %v", v, err)
		}
		if strings.HasPrefix(v, "sessions") && n != 1 {
			t.Fatalf("view %s has %d rows after one event, want 1", v, n)
		}
	}
}
