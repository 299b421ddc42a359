package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/sql/store/chtest"
)

// TestSoak is `make soak` (issue 16), not part of `make test`: it runs only when
// JOURNEYD_SOAK is a duration (make soak sets 10m). Mixed load goes to one journeyd process
// — pixels (/p.gif), snippet beacons (/e) and server API batches (/v1/batch), every event with
// an id of its own — while ClickHouse is stopped twice and journeyd is killed with SIGKILL
// twice and started again on the same address. At the end journeyd drains, and the test
// prints, per endpoint, the distinct event ids accepted (answered 200 or, a beacon, 204; a
// pixel without a rejection) and how many of them landed in ClickHouse. It fails when an accepted server
// API event is lost, which the spool promises never happens; the pixels and beacons a
// kill -9 may lose are what the README states.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("JOURNEYD_SOAK"))
	if err != nil {
		t.Skip("set JOURNEYD_SOAK to a duration (make soak) to run the soak")
	}
	srv := chtest.Start(t)
	conn := srv.Open(t, "default")
	db := "soak"
	dir := t.TempDir()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	cfg := writeConfig(t, "sites:\n  - id: shop\n    origins: [\"http://shop.example\"]\n    write_keys: [shop-key]\n")
	args := []string{"serve", "--listen", addr, "--log-level", "warn", "--config", cfg, "--clickhouse", srv.DSN(db),
		"--spool-dir", filepath.Join(dir, "spool"), "--dead-letter", filepath.Join(dir, "dead.jsonl"), "--flush-interval", "500ms"}
	proc := startSoakProcess(t, args, base)

	load := newSoakLoad(base)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	load.run(ctx, &wg)
	begin := time.Now()
	at := func(frac float64) { time.Sleep(time.Until(begin.Add(time.Duration(frac * float64(d))))) }
	step := func(what string, f func()) {
		t.Logf("%6.1fs %s", time.Since(begin).Seconds(), what)
		f()
	}
	at(0.10)
	step("ClickHouse down (outage 1)", func() { must(t, srv.Stop()) })
	at(0.20)
	step("ClickHouse up", func() { must(t, srv.Restart()) })
	at(0.35)
	step("journeyd kill -9 (1), restart", func() { proc = killAndRestart(t, proc, args, base) })
	at(0.50)
	step("ClickHouse down (outage 2)", func() { must(t, srv.Stop()) })
	at(0.60)
	step("ClickHouse up", func() { must(t, srv.Restart()) })
	at(0.75)
	step("journeyd kill -9 (2), restart", func() { proc = killAndRestart(t, proc, args, base) })
	at(1)
	stop()
	wg.Wait()
	step("load stopped; waiting for ClickHouse to have every accepted event", func() {
		waitLanded(t, conn, db, load)
	})
	proc.Process.Signal(syscall.SIGTERM)
	if err := proc.Wait(); err != nil {
		t.Errorf("journeyd did not stop cleanly: %v", err)
	}
	t.Logf("soak of %s: 2 ClickHouse outages of %s, 2 kill -9 restarts", d, time.Duration(0.1*float64(d)).Round(time.Second))
	lostAPI := 0
	for _, ep := range load.endpoints {
		acc, landed, unacked := ep.tally(t, conn, db)
		fmt.Printf("soak %-9s accepted %7d  landed %7d  lost %5d  (landed without an answer: %d; refused: %d, failed: %d)\n",
			ep.name, acc, landed, acc-landed, unacked, ep.refused.Load(), ep.failed.Load())
		if ep.name == "v1/batch" {
			lostAPI = acc - landed
		}
	}
	if lostAPI != 0 {
		t.Errorf("%d accepted server API events were lost", lostAPI)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// startSoakProcess runs journeyd with args (this test binary, see TestMain) and waits until
// it answers /healthz at base.
func startSoakProcess(t *testing.T, args []string, base string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "JOURNEYD_TEST_MAIN=1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(time.Minute); status(base, "/healthz") != http.StatusOK; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("journeyd did not answer /healthz within a minute")
		}
	}
	return cmd
}

func killAndRestart(t *testing.T, proc *exec.Cmd, args []string, base string) *exec.Cmd {
	t.Helper()
	must(t, proc.Process.Signal(syscall.SIGKILL))
	proc.Wait()
	return startSoakProcess(t, args, base)
}

// soakEndpoint is the load on one endpoint and the ids it had accepted.
type soakEndpoint struct {
	name, prefix string
	every        time.Duration
	send         func(c *http.Client, n int64) (ids []string, accepted bool, err error)

	mu       sync.Mutex
	accepted map[string]bool
	sent     map[string]bool // every id sent, answered or not
	refused  atomic.Int64    // answered, not accepted (503, a pixel rejection)
	failed   atomic.Int64    // no answer (journeyd down)
}

type soakLoad struct{ endpoints []*soakEndpoint }

// newSoakLoad makes the mixed load: 100 pixels/s, 20 beacons/s of 5 events, 10 API
// batches/s of 10 events: 300 events/s.
func newSoakLoad(base string) *soakLoad {
	pixel := func(c *http.Client, n int64) ([]string, bool, error) {
		id := fmt.Sprintf("px-%d", n)
		resp, err := c.Get(fmt.Sprintf("%s/p.gif?s=shop&a=pv-%d&id=%s&u=https%%3A%%2F%%2Fshop.example%%2Fp%%2F%d", base, n%5000, id, n%50))
		if err != nil {
			return []string{id}, false, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return []string{id}, resp.StatusCode == 200 && resp.Header.Get(collector.RejectHeader) == "", nil
	}
	beacon := func(c *http.Client, n int64) ([]string, bool, error) {
		var ids, evs []string
		now := time.Now().UnixMilli()
		for i := 0; i < 5; i++ {
			id := fmt.Sprintf("bc-%d-%d", n, i)
			ids = append(ids, id)
			evs = append(evs, fmt.Sprintf(`{"id":%q,"type":"pageview","ts":%d,"url":"https://shop.example/b/%d"}`, id, now, i))
		}
		body := fmt.Sprintf(`{"site":"shop","aid":"bv-%d","sid":"%d","sent":%d,"events":[%s]}`, n%3000, 1000+n%3000, now, strings.Join(evs, ","))
		req, _ := http.NewRequest("POST", base+"/e", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", "http://shop.example")
		ok, err := do(c, req)
		return ids, ok, err
	}
	api := func(c *http.Client, n int64) ([]string, bool, error) {
		var ids, msgs []string
		for i := 0; i < 10; i++ {
			id := fmt.Sprintf("api-%d-%d", n, i)
			ids = append(ids, id)
			msgs = append(msgs, fmt.Sprintf(`{"type":"track","event":"order_paid","messageId":%q,"userId":"u-%d","properties":{"revenue":9.5}}`, id, (n*10+int64(i))%2000))
		}
		req, _ := http.NewRequest("POST", base+"/v1/batch", strings.NewReader(`{"writeKey":"shop-key","batch":[`+strings.Join(msgs, ",")+`]}`))
		req.Header.Set("Content-Type", "application/json")
		ok, err := do(c, req)
		return ids, ok, err
	}
	mk := func(name, prefix string, every time.Duration, send func(*http.Client, int64) ([]string, bool, error)) *soakEndpoint {
		return &soakEndpoint{name: name, prefix: prefix, every: every, send: send, accepted: map[string]bool{}, sent: map[string]bool{}}
	}
	return &soakLoad{endpoints: []*soakEndpoint{
		mk("p.gif", "px-", 10*time.Millisecond, pixel),
		mk("e", "bc-", 50*time.Millisecond, beacon),
		mk("v1/batch", "api-", 100*time.Millisecond, api),
	}}
}

// do sends req and reports whether journeyd accepted it (200, or the beacon's 204); an
// error is no answer at all.
func do(c *http.Client, req *http.Request) (bool, error) {
	resp, err := c.Do(req)
	if err != nil {
		return false, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent, nil
}

// run starts one sender per endpoint until ctx ends.
func (l *soakLoad) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, ep := range l.endpoints {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 10 * time.Second}
			tick := time.NewTicker(ep.every)
			defer tick.Stop()
			for n := int64(0); ; n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				ids, ok, err := ep.send(c, n)
				ep.mu.Lock()
				for _, id := range ids {
					ep.sent[id] = true
					if ok {
						ep.accepted[id] = true
					}
				}
				ep.mu.Unlock()
				switch {
				case err != nil:
					ep.failed.Add(1)
				case !ok:
					ep.refused.Add(1)
				}
			}
		}()
	}
}

// landedIDs returns the distinct event ids of prefix in db.events.
func landedIDs(t *testing.T, conn driver.Conn, db, prefix string) map[string]bool {
	t.Helper()
	ids := chtest.Strings(t, context.Background(), conn, "SELECT DISTINCT event_id FROM "+db+".events WHERE startsWith(event_id, '"+prefix+"')")
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out
}

// tally returns the ids accepted, those of them landed, and the ids landed that were sent
// but never answered (a request in flight at a kill).
func (ep *soakEndpoint) tally(t *testing.T, conn driver.Conn, db string) (accepted, landed, unacked int) {
	t.Helper()
	got := landedIDs(t, conn, db, ep.prefix)
	ep.mu.Lock()
	defer ep.mu.Unlock()
	for id := range ep.accepted {
		if got[id] {
			landed++
		}
	}
	for id := range got {
		if !ep.accepted[id] && ep.sent[id] {
			unacked++
		}
	}
	return len(ep.accepted), landed, unacked
}

// waitLanded waits until every accepted id has landed, or the landed counts have not moved
// for 20 seconds (what is missing then is lost), or 5 minutes pass.
func waitLanded(t *testing.T, conn driver.Conn, db string, l *soakLoad) {
	t.Helper()
	last, still := -1, time.Now()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		missing, total := 0, 0
		for _, ep := range l.endpoints {
			acc, landed, _ := ep.tally(t, conn, db)
			missing += acc - landed
			total += landed
		}
		if missing == 0 {
			return
		}
		if total != last {
			last, still = total, time.Now()
		} else if time.Since(still) > 20*time.Second {
			return
		}
	}
}
