package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/erase"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/writer"
)

// Fault tests of issue 16 on real processes: journeyd started as a process of its own
// (startProcess), ClickHouse stopped and started, journeyd killed with SIGKILL; each counts
// accepted against landed distinct event ids.

const faultSites = "sites:\n  - id: shop\n    write_keys: [shop-key]\n"

// faultArgs are the serve flags of a fault test: the spool and dead letter in dir, short
// intervals.
func faultArgs(t *testing.T, dsn, dir string) []string {
	return []string{"--config", writeConfig(t, faultSites), "--clickhouse", dsn,
		"--spool-dir", filepath.Join(dir, "spool"), "--dead-letter", filepath.Join(dir, "dead.jsonl"),
		"--flush-interval", "100ms", "--spool-commit-interval", "50ms"}
}

// sendBatch sends the Segment messages (JSON objects) as one /v1/batch and fails unless
// journeyd answers 200.
func sendBatch(t *testing.T, base string, msgs ...string) {
	t.Helper()
	body := `{"writeKey":"shop-key","batch":[` + strings.Join(msgs, ",") + `]}`
	resp, err := http.Post(base+"/v1/batch", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/batch: %s %s", resp.Status, msg)
	}
}

// sendPixel requests the pixel of visitor anon and fails unless journeyd recorded it.
func sendPixel(t *testing.T, base, anon, page string) {
	t.Helper()
	resp, err := http.Get(base + "/p.gif?s=shop&a=" + url.QueryEscape(anon) + "&u=" + url.QueryEscape("https://shop.example"+page))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if r := resp.Header.Get(collector.RejectHeader); resp.StatusCode != http.StatusOK || r != "" {
		t.Fatalf("pixel of %s: %s, rejected %q", anon, resp.Status, r)
	}
}

// status returns the status code of GET base+path, 0 when journeyd does not answer.
func status(base, path string) int {
	resp, err := http.Get(base + path)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond until it holds, or fails after a minute with what it last said.
func waitFor(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	var ok bool
	var said string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, said = cond(); ok {
			return
		}
	}
	t.Fatalf("after a minute: %s", said)
}

// scalar runs a query of one UInt64.
func scalar(t *testing.T, conn driver.Conn, query string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("cannot run %q: %v", query, err)
	}
	return n
}

// metricValue reads a metric without labels from the /metrics of the journeyd at base.
func metricValue(t *testing.T, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

// TestStartsWithoutClickHouse (issue 16, item 4): journeyd starts while ClickHouse is down,
// answers /healthz, says not ready, and accepts 3 batches of 50 API events and 20 pixels
// into the spool; once ClickHouse is started it migrates (with --migrate) and all 150 + 20
// land, and /readyz says ready. With --migrate=false on a migrated database the same.
func TestStartsWithoutClickHouse(t *testing.T) {
	for _, migrate := range []bool{true, false} {
		t.Run("migrate="+strconv.FormatBool(migrate), func(t *testing.T) {
			srv := chtest.Start(t)
			db := "jd_down"
			if !migrate {
				admin := srv.Open(t, "default")
				if err := schema.Migrate(context.Background(), admin, db); err != nil {
					t.Fatal(err)
				}
			}
			if err := srv.Stop(); err != nil {
				t.Fatal(err)
			}
			_, base := startProcess(t, append(faultArgs(t, srv.DSN(db), t.TempDir()), "--migrate="+strconv.FormatBool(migrate))...)
			if code := status(base, "/readyz"); code != http.StatusServiceUnavailable {
				t.Fatalf("/readyz with ClickHouse down: %d, want 503", code)
			}
			for b := 0; b < 3; b++ {
				var msgs []string
				for i := 0; i < 50; i++ {
					msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"order_paid","messageId":"api-%d-%d","userId":"u%d"}`, b, i, i))
				}
				sendBatch(t, base, msgs...)
			}
			for i := 0; i < 20; i++ {
				sendPixel(t, base, fmt.Sprintf("visitor-%d", i), "/")
			}
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			conn := srv.Open(t, "default")
			waitFor(t, func() (bool, string) {
				var api, pixels uint64 // the query fails until journeyd has migrated
				q := "SELECT uniqExactIf(event_id, name = 'order_paid'), uniqExactIf(event_id, type = 'pageview') FROM " + db + ".events"
				if err := conn.QueryRow(context.Background(), q).Scan(&api, &pixels); err != nil {
					return false, err.Error()
				}
				ready := status(base, "/readyz")
				return api == 150 && pixels == 20 && ready == http.StatusOK,
					fmt.Sprintf("%d of 150 API events and %d of 20 pixels landed, /readyz %d", api, pixels, ready)
			})
		})
	}
}

// plantPeople puts two people of site shop into ClickHouse through the journeyd at base:
// user-1 on device dev-1 (identify, 3 orders, 2 pixels: 6 events) and user-2 on dev-2
// (identify, 2 orders, 1 pixel: 4 events), and waits until the 10 have landed.
func plantPeople(t *testing.T, base string, conn driver.Conn, db string) {
	t.Helper()
	sendBatch(t, base,
		`{"type":"identify","messageId":"id-1","anonymousId":"dev-1","userId":"user-1","traits":{"email":"one@example.com","name":"One"}}`,
		`{"type":"identify","messageId":"id-2","anonymousId":"dev-2","userId":"user-2","traits":{"email":"two@example.com"}}`,
		`{"type":"track","event":"order_paid","messageId":"o-1a","userId":"user-1"}`,
		`{"type":"track","event":"order_paid","messageId":"o-1b","userId":"user-1"}`,
		`{"type":"track","event":"order_paid","messageId":"o-1c","userId":"user-1"}`,
		`{"type":"track","event":"order_paid","messageId":"o-2a","userId":"user-2"}`,
		`{"type":"track","event":"order_paid","messageId":"o-2b","userId":"user-2"}`)
	sendPixel(t, base, "dev-1", "/a")
	sendPixel(t, base, "dev-1", "/b")
	sendPixel(t, base, "dev-2", "/a")
	waitFor(t, func() (bool, string) {
		// The identities view's rows become visible just after the events'.
		n := scalar(t, conn, "SELECT uniqExact(event_id) FROM "+db+".events")
		links := scalar(t, conn, "SELECT uniqExact(anon_id, user_id) FROM "+db+".identities")
		return n == 10 && links == 2, fmt.Sprintf("%d of 10 planted events and %d of 2 links landed", n, links)
	})
}

// erasePerson runs journeyd erase --yes of user-1, telling the journeyd at base.
func erasePerson(t *testing.T, dsn, base string) {
	t.Helper()
	err := runErase(context.Background(), []string{"--clickhouse", dsn, "--site", "shop", "--person", "user-1", "--yes", "--collectors", base})
	if err != nil {
		t.Fatal(err)
	}
}

// personRows counts the events and identity links of user-1 and dev-1, and those of user-2
// and dev-2.
func personRows(t *testing.T, conn driver.Conn, db string) (events1, links1, events2, links2 uint64) {
	t.Helper()
	ev := func(user, anon string) uint64 {
		return scalar(t, conn, "SELECT uniqExact(event_id) FROM "+db+".events WHERE user_id = '"+user+"' OR anon_id = '"+anon+"'")
	}
	ln := func(user, anon string) uint64 {
		return scalar(t, conn, "SELECT uniqExact(anon_id, user_id) FROM "+db+".identities WHERE user_id = '"+user+"' OR anon_id = '"+anon+"'")
	}
	return ev("user-1", "dev-1"), ln("user-1", "dev-1"), ev("user-2", "dev-2"), ln("user-2", "dev-2")
}

// TestErasureReachesRunningCollector (issue 16, item 3): after journeyd erase of user-1,
// the running journeyd has forgotten dev-1's link: a new pixel of dev-1 lands without a
// user id and makes no identity link. user-2's 4 events and 1 link stay.
func TestErasureReachesRunningCollector(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	_, base := startProcess(t, faultArgs(t, srv.DSN(db), t.TempDir())...)
	waitReady(t, base)
	plantPeople(t, base, conn, db)
	if e1, l1, _, _ := personRows(t, conn, db); e1 != 6 || l1 != 1 {
		t.Fatalf("before the erasure user-1 has %d events and %d links, want 6 and 1", e1, l1)
	}
	erasePerson(t, srv.DSN(db), base)

	sendPixel(t, base, "dev-1", "/after")
	waitFor(t, func() (bool, string) {
		n := scalar(t, conn, "SELECT count() FROM "+db+".events WHERE anon_id = 'dev-1'")
		return n == 1, fmt.Sprintf("%d events of dev-1, want the new pixel alone", n)
	})
	if n := scalar(t, conn, "SELECT count() FROM "+db+".events WHERE anon_id = 'dev-1' AND user_id = ''"); n != 1 {
		t.Errorf("the pixel of dev-1 after the erasure carries a user id")
	}
	e1, l1, e2, l2 := personRows(t, conn, db)
	if e1 != 1 || l1 != 0 || e2 != 4 || l2 != 1 {
		t.Errorf("after the erasure: user-1/dev-1 %d events (want 1, the new anonymous pixel) and %d links (want 0); user-2 %d events (want 4) and %d links (want 1)", e1, l1, e2, l2)
	}
}

// TestErasureSurvivesKill (issue 16, item 3): the spool still holds every event the
// journeyd accepted (its segment is not full, so not freed) when it is killed with SIGKILL
// after journeyd erase of user-1. The next start replays the spool: user-2's 4 events come
// back as duplicates (counted once), user-1's 6 are dropped (journeyd_erase_dropped_events_total
// 6) and neither they nor the link return.
func TestErasureSurvivesKill(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	args := faultArgs(t, srv.DSN(db), t.TempDir())
	first, base := startProcess(t, args...)
	waitReady(t, base)
	plantPeople(t, base, conn, db)
	for start := spoolCommits(t, base); spoolCommits(t, base) < start+2; time.Sleep(10 * time.Millisecond) {
	}
	erasePerson(t, srv.DSN(db), base)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	_, base = startProcess(t, args...)
	waitReady(t, base)
	if n := metricValue(t, base, "journeyd_erase_dropped_events_total"); n != 6 {
		t.Errorf("the restarted journeyd dropped %v erased events from the spool, want 6", n)
	}
	e1, l1, e2, l2 := personRows(t, conn, db)
	if e1 != 0 || l1 != 0 || e2 != 4 || l2 != 1 {
		t.Errorf("after the erasure and a crash: user-1/dev-1 %d events and %d links (want 0, 0); user-2 %d events and %d links (want 4, 1)", e1, l1, e2, l2)
	}
	if n := scalar(t, conn, "SELECT uniqExact(event_id) FROM "+db+".events"); n != 4 {
		t.Errorf("%d distinct events stored, want user-2's 4", n)
	}
}

// TestReplaySkipsErased: a dead-letter file of 3 events (user-1's order, an anonymous
// pageview of user-1's device dev-1, user-2's order), all received a minute before user-1
// was erased. journeyd replay puts back user-2's alone: 1 event in ClickHouse.
func TestReplaySkipsErased(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	ctx := context.Background()
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	plan := &erase.Plan{Site: "shop", Person: "user-1", UserIDs: []string{"user-1"}, AnonIDs: []string{"user-1", "dev-1"}}
	if err := erase.Mark(ctx, conn, db, plan, now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	for _, e := range []event.Event{
		{ID: "o-1", SiteID: "shop", Type: event.TypeServer, Name: "order_paid", UserID: "user-1"},
		{ID: "p-1", SiteID: "shop", Type: event.TypePageview, AnonID: "dev-1"},
		{ID: "o-2", SiteID: "shop", Type: event.TypeServer, Name: "order_paid", UserID: "user-2"},
	} {
		e.TS, e.ReceivedAt = now.Add(-time.Minute), now.Add(-time.Minute)
		if err := enc.Encode(writer.DeadLetter{Time: now, Reason: "network", Event: e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := runReplay(ctx, []string{"--clickhouse", srv.DSN(db), "--file", path}); err != nil {
		t.Fatal(err)
	}
	ids := chtest.Strings(t, ctx, conn, "SELECT event_id FROM "+db+".events")
	if len(ids) != 1 || ids[0] != "o-2" {
		t.Errorf("replayed %v, want [o-2] alone", ids)
	}
}

// TestErasureWaitsForTheWriter: with a 3-second flush interval, user-1's order o-1d is
// accepted (in the writer's queue, not yet in ClickHouse) just before journeyd erase of
// user-1. The collector's sync answers once its writer has stored o-1d, so the deletion
// takes it: when user-2's o-2z, sent after the erasure, has landed, user-1 has 0 events.
func TestErasureWaitsForTheWriter(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "admin-secret")
	_, base := startProcess(t, append(faultArgs(t, srv.DSN(db), t.TempDir()), "--flush-interval", "3s")...)
	waitReady(t, base)
	plantPeople(t, base, conn, db)
	sendBatch(t, base, `{"type":"track","event":"order_paid","messageId":"o-1d","userId":"user-1"}`)
	erasePerson(t, srv.DSN(db), base)
	sendBatch(t, base, `{"type":"track","event":"order_paid","messageId":"o-2z","userId":"user-2"}`)
	waitFor(t, func() (bool, string) {
		n := scalar(t, conn, "SELECT count() FROM "+db+".events WHERE event_id = 'o-2z'")
		return n == 1, "o-2z has not landed"
	})
	if e1, _, e2, _ := personRows(t, conn, db); e1 != 0 || e2 != 5 {
		t.Errorf("after the erasure user-1/dev-1 have %d events (want 0: o-1d was in the writer's queue), user-2 %d (want 5)", e1, e2)
	}
}
