// Package journeytest gives the journey and sessionizer tests a throwaway ClickHouse
// database with journeyd's schema (sql/store/schema.Migrate), and inserts events the way the
// writer does: in one batch that names its columns.
package journeytest

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
)

// Database returns a connection to a fresh, migrated database on the package's shared
// server, and the database's name.
func Database(tb testing.TB) (driver.Conn, string) {
	tb.Helper()
	db, conn := chtest.Shared(tb).NewDatabase(tb)
	if err := schema.Migrate(context.Background(), conn, db); err != nil {
		tb.Fatal(err)
	}
	return conn, db
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
