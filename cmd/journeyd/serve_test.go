package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

const e2eConfig = `
sites:
  - id: shop
    origins: ["http://shop.example"]
    write_keys: [shop-write-key]
`

// TestPixelLandsInClickHouse: the pixel request of `make run`'s tour becomes one enriched row.
func TestPixelLandsInClickHouse(t *testing.T) {
	a := startApp(t, e2eConfig)
	u := a.URL + "/p.gif?s=shop&a=visitor-1&u=" + url.QueryEscape("https://shop.example/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 43 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pixel answered %d, %d bytes, Cache-Control %q", resp.StatusCode, len(body), resp.Header.Get("Cache-Control"))
	}
	a.waitCount(t, "SELECT count() FROM events WHERE site_id = 'shop'", 1)
	var typ, anon, session, source, medium, campaign, channel, browser, path string
	err = a.Conn.QueryRow(context.Background(), `SELECT type, anon_id, session_id, source, medium, campaign, channel, browser, path FROM events`).
		Scan(&typ, &anon, &session, &source, &medium, &campaign, &channel, &browser, &path)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{typ, anon, source, medium, campaign, channel, browser, path}
	want := []string{"pageview", "visitor-1", "newsletter", "email", "spring", "Email", "Chrome", "/landing"}
	if strings.Join(got, "|") != strings.Join(want, "|") || session == "" {
		t.Errorf("row = %q (session %q), want %q and a session id", got, session, want)
	}
}

// TestSegmentSDKLandsInClickHouse: the Go Segment SDK, pointed at journeyd, sends track,
// identify, page and alias; the rows carry the right fields; a restart-free drain on stop.
func TestSegmentSDKLandsInClickHouse(t *testing.T) {
	a := startApp(t, e2eConfig)
	client, err := analytics.NewWithConfig("shop-write-key", analytics.Config{Endpoint: a.URL, BatchSize: 10, Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	msgs := []analytics.Message{
		analytics.Identify{MessageId: "m-identify", AnonymousId: "anon-1", UserId: "user-1", Traits: analytics.NewTraits().SetEmail("a@example.com"), Timestamp: ts},
		analytics.Page{MessageId: "m-page", AnonymousId: "anon-1", Name: "Pricing", Properties: analytics.NewProperties().SetURL("https://shop.example/pricing"), Timestamp: ts.Add(time.Second)},
		analytics.Track{MessageId: "m-track", UserId: "user-1", Event: "order_paid", Properties: analytics.NewProperties().SetRevenue(49.5).SetCurrency("EUR").Set("plan", "pro"), Timestamp: ts.Add(2 * time.Second)},
		analytics.Alias{MessageId: "m-alias", PreviousId: "anon-2", UserId: "user-1", Timestamp: ts.Add(3 * time.Second)},
		analytics.Track{MessageId: "m-track", UserId: "user-1", Event: "order_paid", Timestamp: ts.Add(2 * time.Second)}, // a retry: dropped
	}
	for _, m := range msgs {
		if err := client.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	a.waitCount(t, "SELECT count() FROM events", 4)
	rows, err := a.Conn.Query(context.Background(), `SELECT event_id, type, name, anon_id, user_id, revenue, currency, ts, lib FROM events ORDER BY ts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, typ, name, anon, user, cur, lib string
		var rev float64
		var at time.Time
		if err := rows.Scan(&id, &typ, &name, &anon, &user, &rev, &cur, &at, &lib); err != nil {
			t.Fatal(err)
		}
		if d := at.Sub(ts); d < 0 || d > 10*time.Second {
			t.Errorf("%s: ts %v, want about %v", id, at, ts)
		}
		if !strings.Contains(lib, "analytics-go") {
			t.Errorf("%s: lib %q", id, lib)
		}
		got = append(got, strings.Join([]string{id, typ, name, anon, user, cur}, " "))
		if id == "m-track" && rev != 49.5 {
			t.Errorf("m-track: revenue %v, want 49.5", rev)
		}
	}
	want := []string{
		"m-identify identify  anon-1 user-1 ",
		"m-page pageview Pricing anon-1 user-1 ", // the sessionizer fills the linked user id
		"m-track server order_paid  user-1 EUR",
		"m-alias alias  anon-2 user-1 ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestStopDrains: events accepted just before SIGTERM are all written before serve returns.
func TestStopDrains(t *testing.T) {
	a := startApp(t, e2eConfig, "--flush-interval", "1h", "--batch-size", "100000", "--queue-size", "100000")
	const n = 300
	for i := 0; i < n; i++ {
		body := `{"messageId":"drain-` + itoa(i) + `","userId":"u","event":"e"}`
		req, _ := http.NewRequest("POST", a.URL+"/v1/track", strings.NewReader(body))
		req.SetBasicAuth("shop-write-key", "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("track %d: status %d", i, resp.StatusCode)
		}
	}
	a.Stop()
	a.waitCount(t, "SELECT count() FROM events", n)
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestReportsWarmAtStart: once ready, journeyd serve reads the days the dashboard opens on
// into its report store (--report-warm, on by default): the overview of site shop over the
// 30 days to today and the 30 before, and its top lists, top pages, journey map, barriers,
// funnel and retention over the 30 (report.DashboardPanels): 270 days, 210 read from
// ClickHouse (the top lists' 30 are days of touch_rows the overview read, one kind of day
// whatever the key, and the funnel's 30 the step events barriers read; the page views,
// stage_rows, funnel_rows' step events, its first events with barriers' breakdowns, and
// retention_rows are 30 each). The channels the dashboard then asks for over
// those 30 days come from the store, every day of them.
func TestReportsWarmAtStart(t *testing.T) {
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	a := startApp(t, e2eConfig)
	const misses, hits = "journeyd_report_store_misses_total", "journeyd_report_store_hits_total"
	for deadline := time.Now().Add(time.Minute); metricValue(t, a.URL, misses)+metricValue(t, a.URL, hits) < 270; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v a minute after ready, want 210: the start warmed no report", misses, metricValue(t, a.URL, misses))
		}
	}
	if n := metricValue(t, a.URL, misses); n != 210 {
		t.Fatalf("%s is %v after the warm-up, want 210", misses, n)
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	q := url.Values{"site": {"shop"}, "from": {today.AddDate(0, 0, -29).Format("2006-01-02")}, "to": {today.AddDate(0, 0, 1).Format("2006-01-02")}}
	req, _ := http.NewRequest("GET", a.URL+"/api/v1/reports/channels?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("channels answered %d", resp.StatusCode)
	}
	if time.Now().UTC().Truncate(24*time.Hour) != today {
		t.Skip("the UTC day changed between the warm-up and the request: their periods differ")
	}
	if h, m := metricValue(t, a.URL, hits), metricValue(t, a.URL, misses); h != 30+30+30 || m != 210 {
		t.Errorf("after channels over the 30 days: %v days from the store and %v read in all, want 90 (the top lists' 30 and the funnel's 30 at the warm-up, channels' 30) and still 210", h, m)
	}
}

// TestMigrateCreatesTheDatabaseOfADSNWithParameters: `journeyd migrate` with a DSN that
// has parameters creates its database, which does not exist yet (the connection that
// creates it goes to the server's default database, the parameters kept).
func TestMigrateCreatesTheDatabaseOfADSNWithParameters(t *testing.T) {
	srv := chtest.Shared(t)
	db := fmt.Sprintf("params_%d", time.Now().UnixNano())
	dsn := srv.DSN(db) + "?compress=lz4&read_timeout=60s"
	if err := runMigrate(context.Background(), []string{"--clickhouse", dsn}); err != nil {
		t.Fatalf("journeyd migrate --clickhouse %s: %v", dsn, err)
	}
	conn, err := clickhouse.Open(context.Background(), srv.DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	defer conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+db)
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'events'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("database %s after migrate: %d events tables (%v), want 1", db, n, err)
	}
}
