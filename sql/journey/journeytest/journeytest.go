// Package journeytest gives tests a throwaway ClickHouse database with the tables of the
// journey queries: events, and the sessions and identities tables, views and materialized
// views of sql/schema/migrations 0010-0017, applied from their files with {db} replaced. It also inserts
// events the way the writer does (named columns, one batch).
//
// events.sql here stands in for the events migration of sql/schema until that package
// exists; then Database should call schema.Migrate and Insert should use sql/writer.
package journeytest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/chtest"
	"github.com/journeyd/journeyd/sql/event"
)

// Database returns a connection to a fresh database on the package's shared server, with
// the tables created, and the database's name.
func Database(tb testing.TB) (driver.Conn, string) {
	tb.Helper()
	srv := chtest.Shared(tb)
	db, conn := srv.NewDatabase(tb)
	ctx := context.Background()
	for _, f := range files(tb) {
		text, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		if err := conn.Exec(ctx, strings.ReplaceAll(string(text), "{db}", db)); err != nil {
			tb.Fatalf("cannot apply %s: %v", filepath.Base(f), err)
		}
	}
	return conn, db
}

// files lists events.sql and then the migrations 0010-0019, in order.
func files(tb testing.TB) []string {
	tb.Helper()
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Dir(here)
	ms, err := filepath.Glob(filepath.Join(dir, "..", "..", "schema", "migrations", "001?_*.sql"))
	if err != nil || len(ms) == 0 {
		tb.Fatalf("cannot find migrations 0010-0019: %v", err)
	}
	sort.Strings(ms)
	return append([]string{filepath.Join(dir, "events.sql")}, ms...)
}

// Insert writes events into db.events in one batch, naming its columns.
func Insert(tb testing.TB, conn driver.Conn, events []event.Event) {
	tb.Helper()
	ctx := context.Background()
	b, err := conn.PrepareBatch(ctx, "INSERT INTO events (event_id, site_id, ts, ts_ms, received_at, type, name, anon_id, user_id, session_id, host, path, referrer, referrer_host, referrer_kind, channel, source, medium, campaign, term, content, click_id_type, click_id, country, device, is_bot, revenue, currency)")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range events {
		err := b.Append(e.ID, e.SiteID, e.TS, uint16(e.TS.Nanosecond()/1e6), e.ReceivedAt, e.Type, e.Name,
			e.AnonID, e.UserID, e.SessionID, e.Host, e.Path, e.Referrer, e.ReferrerHost, e.ReferrerKind,
			e.Channel, e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickIDType, e.ClickID,
			e.Country, e.Device, boolByte(e.IsBot), e.Revenue, e.Currency)
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		tb.Fatal(err)
	}
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
