package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
)

// startProcess runs `journeyd serve args...` as a process of its own (this test binary,
// see TestMain) and waits for /healthz; it returns the process and its base URL.
func startProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	return startProcessTo(t, testWriter{t}, args...)
}

// startProcessTo is startProcess with the process's output going to out.
func startProcessTo(t *testing.T, out io.Writer, args ...string) (*exec.Cmd, string) {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--listen", addr, "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), "JOURNEYD_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			return cmd, url
		}
		if time.Now().After(deadline) {
			t.Fatal("journeyd did not answer /healthz within 60s")
		}
	}
}

// A crash loses no accepted event: server API batches answered 200 and pixels older than
// the commit interval are on disk, and the next start puts them into ClickHouse. Here
// ClickHouse has no events table while journeyd runs (every insert fails and is retried),
// journeyd is killed with SIGKILL, the table is created, and journeyd starts again.
func TestCrashLosesNoAcceptedEvent(t *testing.T) {
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t) // empty: no tables yet
	dir := t.TempDir()
	cfg := writeConfig(t, "sites:\n  - id: shop\n    write_keys: [shop-key]\n")
	args := []string{"--config", cfg, "--clickhouse", srv.DSN(db), "--spool-dir", filepath.Join(dir, "spool"),
		"--dead-letter", filepath.Join(dir, "dead.jsonl"), "--flush-interval", "100ms", "--spool-commit-interval", "50ms"}

	first, url := startProcess(t, append(args, "--migrate=false")...)
	for b := 0; b < 3; b++ {
		var body bytes.Buffer
		body.WriteString(`{"writeKey":"shop-key","batch":[`)
		for i := 0; i < 50; i++ {
			if i > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"type":"track","event":"order_paid","messageId":"api-%d-%d","userId":"u%d"}`, b, i, i)
		}
		body.WriteString(`]}`)
		resp, err := http.Post(url+"/v1/batch", "application/json", &body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("batch %d: status %d", b, resp.StatusCode)
		}
	}
	for i := 0; i < 20; i++ {
		resp, err := http.Get(fmt.Sprintf("%s/p.gif?s=shop&a=visitor-%d&u=https%%3A%%2F%%2Fshop.example%%2F", url, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Two commits after the last pixel: the second began after it, so the pixels are on disk.
	for start := spoolCommits(t, url); spoolCommits(t, url) < start+2; time.Sleep(10 * time.Millisecond) {
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()

	if err := schema.Migrate(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	second, _ := startProcess(t, args...)
	count := func() (api, pixels uint64) {
		q := "SELECT countIf(name = 'order_paid'), countIf(type = 'pageview') FROM (SELECT event_id, any(type) AS type, any(name) AS name FROM " + db + ".events GROUP BY event_id)"
		if err := conn.QueryRow(context.Background(), q).Scan(&api, &pixels); err != nil {
			t.Fatal(err)
		}
		return api, pixels
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		api, pixels := count()
		if api == 150 && pixels == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart ClickHouse has %d of 150 API events and %d of 20 pixels", api, pixels)
		}
	}
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Fatalf("journeyd did not stop cleanly: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "spool", "*.seg"))
	if len(left) != 0 {
		t.Fatalf("segments %v left after every event was stored and journeyd stopped", left)
	}
}

// spoolCommits reads journeyd_spool_commits_total from the /metrics of the journeyd at url.
func spoolCommits(t *testing.T, url string) float64 {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, "journeyd_spool_commits_total "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no journeyd_spool_commits_total in /metrics")
	return 0
}
