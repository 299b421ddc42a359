package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/chtest"
)

// TestMain runs the tests, or, when JOURNEYD_TEST_MAIN is 1, journeyd itself: a test can
// start journeyd as a process of its own (startProcess) to kill it as a crash would.
func TestMain(m *testing.M) {
	if os.Getenv("JOURNEYD_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	chtest.Main(m)
}

// testApp is a journeyd started in-process against a throwaway ClickHouse database.
type testApp struct {
	URL  string      // http://127.0.0.1:PORT
	DB   string      // the database journeyd writes to
	Conn driver.Conn // a connection to that database, for assertions
	stop func()
}

// startApp runs journeyd's serve wiring with the sites and settings of configYAML, on a free
// port, until the test ends. Settings not in configYAML are serve's defaults, with a short
// flush interval. "{url}" in configYAML stands for the app's own URL (for a site's origins).
func startApp(t *testing.T, configYAML string, args ...string) *testApp {
	t.Helper()
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, strings.ReplaceAll(configYAML, "{url}", "http://"+ln.Addr().String()))
	cfg, _, err := loadConfig("serve", append([]string{"--config", path, "--clickhouse", srv.DSN(db), "--flush-interval", "100ms", "--listen", "127.0.0.1:0",
		"--spool-dir", filepath.Join(t.TempDir(), "spool"), "--dead-letter", filepath.Join(t.TempDir(), "dead.jsonl")}, args...), nil)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln) }()
	ta := &testApp{URL: "http://" + ln.Addr().String(), DB: db, Conn: conn}
	ta.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("journeyd did not stop cleanly: %v", err)
		}
	}
	t.Cleanup(func() {
		if ta.stop != nil {
			ta.stop()
		}
	})
	waitReady(t, ta.URL)
	return ta
}

// waitReady polls /readyz of the journeyd at url until it answers 200: serve migrates and
// opens the way to ClickHouse in the background (start.go).
func waitReady(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("journeyd at %s was not ready within 60s", url)
		}
	}
}

// Stop shuts journeyd down as SIGTERM does, draining everything it accepted.
func (a *testApp) Stop() {
	a.stop()
	a.stop = nil
}

// waitCount polls query (a SELECT count()) until it returns want, or fails after 20s.
func (a *testApp) waitCount(t *testing.T, query string, want uint64) {
	t.Helper()
	var n uint64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := a.Conn.QueryRow(context.Background(), query).Scan(&n); err != nil {
			t.Fatalf("cannot run %q: %v", query, err)
		}
		if n == want {
			a.waitViews(t)
			return
		}
	}
	t.Fatalf("%q = %d after 20s, want %d", query, n, want)
}

// viewsCaughtUp is 1 when the tables the materialized views fill hold every event of the
// events table: on ClickHouse 18.16 an insert's rows are visible in events a moment before
// the views' rows, so a test that saw its events land may not find their sessions yet.
const viewsCaughtUp = `SELECT
    (SELECT sum(n) FROM (SELECT length(groupUniqArrayMerge(events_state)) AS n FROM session_aggregates GROUP BY site_id, session_id))
        = (SELECT uniqExact(site_id, session_id, event_id) FROM events WHERE session_id != '')
    AND (SELECT sum(n) FROM (SELECT uniqExactMerge(links_state) AS n FROM identities GROUP BY site_id, anon_id, user_id))
        = (SELECT uniqExact(site_id, anon_id, user_id, event_id) FROM events WHERE anon_id != '' AND user_id != '' AND anon_id != user_id)`

// waitViews waits until the views' tables have caught up with the events (viewsCaughtUp),
// or fails after 20s.
func (a *testApp) waitViews(t *testing.T) {
	t.Helper()
	var ok uint8
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := a.Conn.QueryRow(context.Background(), viewsCaughtUp).Scan(&ok); err != nil {
			t.Fatalf("cannot check the views: %v", err)
		}
		if ok == 1 {
			return
		}
	}
	t.Fatal("the views' tables did not catch up with the events within 20s")
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// freeAddr returns a local address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("cannot find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
