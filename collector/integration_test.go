package collector

import (
	"context"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/collector/enrich/standard"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/writer"
)

// row is what the integration test reads back from events.
type row struct {
	ID       string  `ch:"event_id"`
	Site     string  `ch:"site_id"`
	Type     string  `ch:"type"`
	Name     string  `ch:"name"`
	Anon     string  `ch:"anon_id"`
	User     string  `ch:"user_id"`
	Host     string  `ch:"host"`
	Source   string  `ch:"source"`
	Lib      string  `ch:"lib"`
	Currency string  `ch:"currency"`
	Revenue  float64 `ch:"revenue"`
}

// TestClickHouse sends events with the Go Segment SDK and a pixel through the collector
// and the real writer into a throwaway ClickHouse, and reads the rows back.
func TestClickHouse(t *testing.T) {
	srv := chtest.Start(t)
	db, conn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	w, err := writer.New(conn, writer.Config{Database: db, FlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	en, err := standard.New(standard.Options{})
	if err != nil {
		t.Fatal(err)
	}
	col, err := New(Config{Sites: testSites(t), Sink: w, Enricher: en, ClientIP: en.ClientIP})
	if err != nil {
		t.Fatal(err)
	}
	base := serveLoopback(t, col)
	sendWithSDK(t, base, shopKey)
	resp, err := http.Get(base + "/p.gif?s=blog&t=email_open&n=welcome&id=px-1&u=https%3A%2F%2Fblog.example%2Fhello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get(RejectHeader) != "" {
		t.Fatalf("pixel: %d, rejected %q", resp.StatusCode, resp.Header.Get(RejectHeader))
	}
	if err := w.Close(ctx); err != nil { // flushes what the writer holds
		t.Fatal(err)
	}
	checkRows(t, ctx, conn)
}

func checkRows(t *testing.T, ctx context.Context, conn driver.Conn) {
	t.Helper()
	var rows []row
	err := conn.Select(ctx, &rows, "SELECT event_id, site_id, type, name, anon_id, user_id, host, source, lib, currency, toFloat64(revenue) AS revenue FROM events ORDER BY event_id")
	if err != nil {
		t.Fatalf("cannot read events: %v", err)
	}
	want := []row{
		{ID: "px-1", Site: "blog", Type: "email_open", Name: "welcome", Host: "blog.example", Lib: "pixel"},
		{ID: "sdk-alias", Site: "shop", Type: "alias", Anon: "anon-1", User: "u1", Lib: "analytics-go"},
		{ID: "sdk-identify", Site: "shop", Type: "identify", Anon: "anon-1", User: "u1", Lib: "analytics-go"},
		{ID: "sdk-page", Site: "shop", Type: "pageview", Name: "Pricing", Anon: "anon-1", Host: "shop.example", Source: "sdk", Lib: "analytics-go"},
		{ID: "sdk-track", Site: "shop", Type: "server", Name: "Order Paid", User: "u1", Lib: "analytics-go", Currency: "EUR", Revenue: 49.5},
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ID < rows[j].ID })
	if len(rows) != len(want) {
		t.Fatalf("events holds %d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i, w := range want {
		got := rows[i]
		if got.ID == "px-1" {
			w.Anon = got.Anon // a cookieless id: checked for its form below
			if len(got.Anon) != 34 {
				t.Fatalf("pixel row: cookieless anon_id %q", got.Anon)
			}
		}
		if got != w {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
}
