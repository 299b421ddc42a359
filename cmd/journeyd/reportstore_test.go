package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/store/chtest"
)

// storeVisit returns a pageview (revenue 0) or, with revenue, a purchase of site shop by
// anon at hh:mm of the UTC day days before today, received then.
func storeVisit(id string, days, hh, mm int, anon, channel string, revenue float64) event.Event {
	ts := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -days).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	e := event.Event{ID: id, SiteID: "shop", TS: ts, ReceivedAt: ts, Type: "pageview", AnonID: anon, SessionID: anon + "-s",
		Path: "/", Channel: channel}
	if revenue > 0 {
		e.Type, e.Name, e.Revenue, e.Channel = "track", "purchase", revenue, ""
	}
	return e
}

// channelsOver30 returns the rows of the channels report of site shop over the 30 days to
// today, from the journeyd at base.
func channelsOver30(t *testing.T, base string) string {
	t.Helper()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	q := url.Values{"site": {"shop"}, "from": {today.AddDate(0, 0, -29).Format(time.DateOnly)}, "to": {today.AddDate(0, 0, 1).Format(time.DateOnly)}}
	req, _ := http.NewRequest("GET", base+"/api/v1/reports/channels?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("channels answered %d: %s", resp.StatusCode, body)
	}
	var res struct {
		Channels []struct {
			Channel                       string
			Sessions, People, Conversions int
			Revenue                       float64
		}
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("channels: %v in %s", err, body)
	}
	var rows [][]any
	for _, c := range res.Channels {
		rows = append(rows, []any{c.Channel, c.Sessions, c.People, c.Conversions, c.Revenue})
	}
	return fmt.Sprint(rows)
}

// waitWarm waits until the journeyd at base has taken want days from the store or
// ClickHouse (the warm-up's), and returns how many came from each.
func waitWarm(t *testing.T, base string, want float64) (hits, misses float64) {
	t.Helper()
	waitFor(t, func() (bool, string) {
		hits, misses = metricValue(t, base, "journeyd_report_store_hits_total"), metricValue(t, base, "journeyd_report_store_misses_total")
		return hits+misses >= want, fmt.Sprintf("the warm-up took %v days from the store and %v from ClickHouse, want %v in all", hits, misses, want)
	})
	return hits, misses
}

// TestReportStoreSurvivesKill: journeyd serve with --report-store-dir warms its store at
// start (the overview of site shop over the 30 days to today and the 30 before, its top
// lists, top pages, journey map, barriers, funnel and retention over the 30: 270 days, 210
// read from ClickHouse, the top lists' 30 the overview's, TestReportsWarmAtStart) and
// writes each of the 210 to the directory; it is killed with SIGKILL. While it is down a
// Paid Search visit lands 2 days ago. The restarted journeyd loads the 210 days and its
// warm-up reads from ClickHouse only the six it changed (that day of touch_rows, which the
// overview and the top lists share, of the top pages, of stage_rows, of funnel_rows' step
// events, which barriers and the funnel share, and its first events with barriers'
// breakdowns, and of retention_rows), the other 264 from the store;
// the channels over the 30 days come from the store, every
// day, with the new visit. By hand (channel, sessions, people, conversions, revenue; most
// sessions first, then by name): before, Email 1 session (v1, 3 days ago) of 1 person
// buying for 20 in it, Paid Search 1 (v2, 4 days ago), no purchase; after, Paid Search 2
// sessions (v2, and v3 2 days ago) of 2 people, then Email.
func TestReportStoreSurvivesKill(t *testing.T) {
	srv := chtest.Shared(t)
	conn, db := journeytest.Database(t)
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	journeytest.Insert(t, conn, []event.Event{
		storeVisit("v1-1", 3, 10, 0, "v1", "Email", 0),
		storeVisit("v1-2", 3, 10, 5, "v1", "", 20),
		storeVisit("v2-1", 4, 9, 0, "v2", "Paid Search", 0),
	})
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	args := append(faultArgs(t, srv.DSN(db), dir), "--report-store-dir", store)
	today := time.Now().UTC().Truncate(24 * time.Hour)

	first, base := startProcess(t, args...)
	waitReady(t, base)
	if hits, misses := waitWarm(t, base, 270); hits != 60 || misses != 210 {
		t.Fatalf("the first start warmed %v days from the store and %v from ClickHouse, want 60 and 210", hits, misses)
	}
	const before = "[[Email 1 1 1 20] [Paid Search 1 1 0 0]]"
	if got := channelsOver30(t, base); got != before {
		t.Fatalf("channels before the restart: %s, want %s", got, before)
	}
	waitFor(t, func() (bool, string) {
		files, _ := filepath.Glob(filepath.Join(store, "*.day"))
		return len(files) == 210, fmt.Sprintf("%d day files in %s, want 210", len(files), store)
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	journeytest.Insert(t, conn, []event.Event{storeVisit("v3-1", 2, 15, 0, "v3", "Paid Search", 0)})
	if _, err := os.Stat(filepath.Join(store, "LOCK")); err != nil {
		t.Fatal(err)
	}
	_, base = startProcess(t, args...)
	waitReady(t, base)
	hits, misses := waitWarm(t, base, 270)
	if time.Now().UTC().Truncate(24*time.Hour) != today {
		t.Skip("the UTC day changed during the test: the warm-ups' periods differ")
	}
	if loaded := metricValue(t, base, "journeyd_report_store_loaded_total"); loaded != 210 {
		t.Errorf("the restart loaded %v days, want 210", loaded)
	}
	if hits != 264 || misses != 6 {
		t.Errorf("the restart warmed %v days from the store and %v from ClickHouse, want 264 and 6", hits, misses)
	}
	const after = "[[Paid Search 2 2 0 0] [Email 1 1 1 20]]"
	if got := channelsOver30(t, base); got != after {
		t.Errorf("channels after the restart: %s, want %s", got, after)
	}
	if h, m := metricValue(t, base, "journeyd_report_store_hits_total"), metricValue(t, base, "journeyd_report_store_misses_total"); h != hits+30 || m != misses {
		t.Errorf("channels over the 30 days took %v days from the store and %v from ClickHouse, want 30 and 0", h-hits, m-misses)
	}
}

// TestReportsWarmAgain: with --report-warm-every, journeyd serve warms its store again and
// again, so that a day whose events changed is read into it without anyone asking a
// report. The first warm-up reads 210 days: the overview's 60 (both periods), and 30 each
// of the top pages, the journey map, barriers, the funnel and retention, the top lists'
// the overview's (TestReportsWarmAtStart). Then a Paid Search visit lands 2 days ago, and
// the next warm-up reads that day again for each of its six kinds of day (touch_rows,
// whatever the key, the page views, stage_rows, funnel_rows with barriers' breakdowns and
// without, retention_rows): 216 days read from ClickHouse in all, and no more once nothing
// changes. The channels over the 30 days then come from the store, every
// day, none read from ClickHouse: by hand, Paid Search 1 session (v3) of 1 person, no
// purchase.
func TestReportsWarmAgain(t *testing.T) {
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	a := startApp(t, e2eConfig, "--report-warm-every", "1s")
	today := time.Now().UTC().Truncate(24 * time.Hour)
	const misses = "journeyd_report_store_misses_total"
	waitFor(t, func() (bool, string) {
		m := metricValue(t, a.URL, misses)
		return m >= 210, fmt.Sprintf("%s is %v, want the first warm-up's 210", misses, m)
	})
	journeytest.Insert(t, a.Conn, []event.Event{storeVisit("v3-1", 2, 15, 0, "v3", "Paid Search", 0)})
	waitFor(t, func() (bool, string) {
		m := metricValue(t, a.URL, misses)
		return m >= 216, fmt.Sprintf("%s is %v, want 216: the warm-ups after the visit did not read its day", misses, m)
	})
	// A warm-up that read the day while the insert was being written keeps nothing and reads
	// it again at the next one: wait until two warm-ups in a row read nothing.
	m := metricValue(t, a.URL, misses)
	for stable := 0; stable < 2; {
		time.Sleep(1500 * time.Millisecond)
		if now := metricValue(t, a.URL, misses); now != m {
			m, stable = now, 0
		} else {
			stable++
		}
	}
	if time.Now().UTC().Truncate(24*time.Hour) != today {
		t.Skip("the UTC day changed during the test: the warm-ups' periods differ")
	}
	const want = "[[Paid Search 1 1 0 0]]"
	if got := channelsOver30(t, a.URL); got != want {
		t.Errorf("channels: %s, want %s", got, want)
	}
	if now := metricValue(t, a.URL, misses); now != m {
		t.Errorf("channels over the 30 days read %v days from ClickHouse, want none: the warm-ups kept them", now-m)
	}
}
