// Package journeytest gives the journey and sessionizer tests a throwaway ClickHouse
// database with journeyd's schema (sql/store/schema.Migrate), and inserts events the way the
// writer does: in one batch that names its columns.
package journeytest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

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
	b, err := conn.PrepareBatch(ctx, "INSERT INTO events (event_id, site_id, ts, ts_ms, received_at, type, name, anon_id, user_id, session_id, host, path, referrer, referrer_host, referrer_kind, channel, source, medium, campaign, term, content, click_id_type, click_id, country, device, browser, is_bot, revenue, currency, `props.key`, `props.value`)")
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range events {
		err := b.Append(e.ID, e.SiteID, e.TS, uint16(e.TS.Nanosecond()/1e6), e.ReceivedAt, e.Type, e.Name,
			e.AnonID, e.UserID, e.SessionID, e.Host, e.Path, e.Referrer, e.ReferrerHost, e.ReferrerKind,
			e.Channel, e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickIDType, e.ClickID,
			e.Country, e.Device, e.Browser, boolByte(e.IsBot), e.Revenue, e.Currency, orEmpty(e.PropKeys), orEmpty(e.PropValues))
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		tb.Fatal(err)
	}
}

// Planted returns the i-th event of a test's planted traffic on site shop: id e%02d, the
// time at (time.DateTime, UTC) as event and receive time, and props as k=v,k=v.
func Planted(tb testing.TB, i int, typ, name, anon, user, session, at, path, channel, device, country, browser string, revenue float64, props string) event.Event {
	tb.Helper()
	ts, err := time.Parse(time.DateTime, at)
	if err != nil {
		tb.Fatal(err)
	}
	e := event.Event{ID: fmt.Sprintf("e%02d", i), SiteID: "shop", TS: ts, ReceivedAt: ts, Type: typ, Name: name,
		AnonID: anon, UserID: user, SessionID: session, Path: path, Channel: channel, Device: device,
		Country: country, Browser: browser, Revenue: revenue}
	for _, kv := range strings.Split(props, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e.SetProp(k, v)
		}
	}
	return e
}

// orEmpty gives the driver an empty array for a nil one.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
