package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/store/chtest"
)

// TestReadmeTour runs the README's commands — the five-minute tour, the commands after it
// and the views' queries — verbatim against a setup made the way `make run` makes it:
// deploy/run.sh starts journeyd (this test binary acting as bin/journeyd) in a temporary
// directory, on a free port, against a test ClickHouse, with the example config. The only
// edits to the commands are the two addresses: 127.0.0.1:8080 and ClickHouse's port 19000
// become the free ones. The commands run in a shell without any JOURNEYD_* variable, as a
// new user's would: the CLI must find the setup through the var/journeyd.env run.sh wrote.
// The hints run.sh prints must be commands of the tour, so the two cannot disagree.
func TestReadmeTour(t *testing.T) {
	for _, tool := range []string{"clickhouse-client", "curl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (make deps)", tool)
			}
			t.Skipf("%s is not installed (make deps)", tool)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmds := readmeCommands(t, string(readme))
	if len(cmds) < 12 || !strings.HasPrefix(cmds[0], "make run") {
		t.Fatalf("the README tour has %d commands, the first %q; want make run first and a dozen in all", len(cmds), cmds[0])
	}
	cmds = cmds[1:] // make run: the setup below

	srv := chtest.Shared(t)
	ctx := context.Background()
	if err := srv.Exec(ctx, "DROP DATABASE IF EXISTS journeyd"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Exec(context.Background(), "DROP DATABASE IF EXISTS journeyd") })
	listen, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, chPort, _ := net.SplitHostPort(srv.Addr())
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "bin", "journeyd")); err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	// A new user's shell: nothing of journeyd's set; JOURNEYD_TEST_MAIN makes bin/journeyd
	// (this test binary) run journeyd's main.
	var shellEnv []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JOURNEYD_") {
			shellEnv = append(shellEnv, kv)
		}
	}
	shellEnv = append(shellEnv, "JOURNEYD_TEST_MAIN=1")

	run := exec.Command("bash", filepath.Join(root, "deploy/run.sh"), "bin/journeyd", filepath.Join(root, "deploy/journeyd.example.yaml"))
	run.Dir = dir
	run.Env = append(append([]string{}, shellEnv...), "JOURNEYD_LISTEN="+listen, "JOURNEYD_CLICKHOUSE="+srv.DSN("journeyd"))
	var runOut syncBuffer
	run.Stdout, run.Stderr = &runOut, &runOut
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { run.Wait(); close(exited) }()
	t.Cleanup(func() {
		run.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(40 * time.Second):
			run.Process.Kill()
			<-exited
		}
		if t.Failed() || testing.Verbose() {
			t.Logf("deploy/run.sh and journeyd printed:\n%s", runOut.String())
		}
	})
	base := "http://" + listen
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("journeyd exited before it was ready:\n%s", runOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("journeyd was not ready within 90 s:\n%s", runOut.String())
		}
	}

	// What run.sh printed: the dashboard, the token serve runs with, and hints that are
	// commands of the README tour.
	token, err := os.ReadFile(filepath.Join(dir, "var/admin-token"))
	if err != nil || len(bytes.TrimSpace(token)) < 16 {
		t.Fatalf("var/admin-token: %q, %v; want a token of 16 or more characters", token, err)
	}
	printed := runOut.String()
	for _, want := range []string{base + "/dashboard/", string(bytes.TrimSpace(token))} {
		if !strings.Contains(printed, want) {
			t.Errorf("make run does not print %q:\n%s", want, printed)
		}
	}
	local := strings.NewReplacer(listen, "127.0.0.1:8080", "--port "+chPort, "--port 19000")
	hints := hintCommands(printed)
	if len(hints) < 5 {
		t.Errorf("make run prints %d commands to try, want the tour's:\n%s", len(hints), printed)
	}
	for _, h := range hints {
		if !slicesContains(cmds, local.Replace(h)) {
			t.Errorf("make run suggests a command the README tour lacks:\n%s", local.Replace(h))
		}
	}

	here := strings.NewReplacer("127.0.0.1:8080", listen, "--port 19000", "--port "+chPort)
	sent := 0 // distinct events sent so far: wait for them before reading
	for _, c := range cmds {
		cmd := here.Replace(c)
		switch {
		case strings.Contains(cmd, "clickhouse-client"), strings.Contains(cmd, " journey "), strings.Contains(cmd, " report "),
			strings.Contains(cmd, " erase "), strings.Contains(cmd, "/api/v1/reports"):
			waitForEvents(t, srv, sent)
		case strings.Contains(cmd, "/p.gif"), strings.Contains(cmd, "/v1/"):
			sent++
		case strings.Contains(cmd, " sign "):
			sent += 2 // checkTourOutput clicks the link and loads the pixel
		}
		sh := exec.Command("bash", "-c", cmd)
		sh.Dir, sh.Env = dir, shellEnv
		out, err := sh.CombinedOutput()
		if err != nil {
			t.Fatalf("README command failed: %v\n%s\n%s", err, c, out)
		}
		t.Logf("$ %s\n%s", c, out)
		checkTourOutput(t, c, string(out), base)
		if strings.Contains(cmd, "gen --scenario") {
			var truth map[string]any
			raw, _ := os.ReadFile(filepath.Join(dir, "truth.json"))
			if err := json.Unmarshal(raw, &truth); err != nil {
				t.Fatalf("gen's truth.json: %v\n%s", err, raw)
			}
			n, _ := truth["events"].(float64)
			if n < 1000 {
				t.Fatalf("gen's truth says %v events, want thousands", truth["events"])
			}
			sent += int(n)
		}
	}
}

// checkTourOutput checks what a README command printed, with numbers worked out from what
// the tour sent: a newsletter landing of visitor-1 through the pixel (channel Email), the
// identify that makes visitor-1 user-42, and user-42's purchase of 49.9 EUR.
func checkTourOutput(t *testing.T, cmd, out, base string) {
	t.Helper()
	want := func(what string, subs ...string) {
		t.Helper()
		for _, s := range subs {
			if !strings.Contains(out, s) {
				t.Errorf("%s: the output lacks %q:\n%s\n%s", what, s, cmd, out)
			}
		}
	}
	switch {
	case strings.Contains(cmd, "/v1/identify"), strings.Contains(cmd, "/v1/track"):
		want("the Segment API", `"success":true`)
	case strings.Contains(cmd, "FROM journeyd.events "):
		// three rows: the landing, the identify, the purchase; the landing's channel Email
		rows := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "visitor-1") || strings.Contains(line, "user-42") {
				rows++
			}
		}
		if rows != 3 {
			t.Errorf("the events query shows %d rows of visitor-1 or user-42, want 3:\n%s", rows, out)
		}
		want("the events query", "pageview", "identify", "purchase", "Email")
	case strings.Contains(cmd, " journey "):
		want("journey", "user-42", "Email", "purchase", "49.9")
	case strings.Contains(cmd, " sign "):
		click := regexp.MustCompile(`click: (\S+)`).FindStringSubmatch(out)
		open := regexp.MustCompile(`open: +(\S+)`).FindStringSubmatch(out)
		if click == nil || open == nil || !strings.HasPrefix(click[1], base+"/r/") {
			t.Fatalf("sign printed no click link of %s:\n%s", base, out)
		}
		// the server make run started knows the key: the click redirects, the pixel answers
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(click[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://shop.example/winter" {
			t.Errorf("the signed click link answers %d to %q, want 302 to https://shop.example/winter", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, err = http.Get(open[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" {
			t.Errorf("the signed open pixel answers %d %s, want 200 image/gif", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	case strings.Contains(cmd, "gen --scenario"):
		want("gen's summary on stderr", "people", "sessions", "pageview", "add_to_cart")
	case strings.Contains(cmd, "report funnel"):
		want("the funnel", "desktop", "mobile", "add_to_cart", "checkout", "conversion")
	case strings.Contains(cmd, "report attribution"):
		want("attribution", "markov", "shapley", "Email")
	case strings.Contains(cmd, "report retention"):
		want("retention", "cohort")
	case strings.Contains(cmd, "/api/v1/reports/channels"):
		want("the reports API", `"channel"`, "Email")
	case strings.Contains(cmd, " erase "):
		// visitor-1's landing, the identify, the purchase; their one session; the one link
		// of visitor-1 to user-42
		want("erase", "would erase user-42 on demo: 3 events, 1 session, 1 identity link", "nothing was deleted")
	case strings.Contains(cmd, "sessions_v"):
		want("sessions_v", "bounce_rate", "Email")
	case strings.Contains(cmd, "events_person_v"):
		// visitor-1's landing, the identify and the purchase: 3 events of user-42
		if !regexp.MustCompile(`user-42 +│ +3 +│`).MatchString(out) {
			t.Errorf("events_person_v: want user-42 with 3 events:\n%s", out)
		}
	}
}

// waitForEvents waits until journeyd.events holds n distinct events (journeyd inserts in
// batches, at least every second with the example config).
func waitForEvents(t *testing.T, srv *chtest.Server, n int) {
	t.Helper()
	conn := srv.Open(t, "journeyd")
	var got uint64
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if err := conn.QueryRow(context.Background(), "SELECT uniqExact(event_id) FROM journeyd.events").Scan(&got); err == nil && int(got) >= n {
			return
		}
	}
	t.Fatalf("journeyd.events holds %d distinct events after 60 s, want the %d sent", got, n)
}

// readmeCommands returns the commands of the README's shell blocks from the five-minute tour
// to the configuration: comment and blank lines dropped, continued lines joined.
func readmeCommands(t *testing.T, readme string) []string {
	start, end := strings.Index(readme, "## A five-minute tour"), strings.Index(readme, "## Configuration")
	if start < 0 || end < start {
		t.Fatal("the README has no five-minute tour before its configuration")
	}
	var cmds []string
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme[start:end], -1) {
		cmds = append(cmds, joinLines(strings.Split(block[1], "\n"))...)
	}
	return cmds
}

// hintCommands returns the commands deploy/run.sh prints under "Try it", indented by two.
func hintCommands(printed string) []string {
	start, end := strings.Index(printed, "Try it"), strings.Index(printed, "Stop with")
	if start < 0 || end < start {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(printed[start:end], "\n")[1:] {
		lines = append(lines, strings.TrimPrefix(l, "  "))
	}
	return joinLines(lines)
}

// joinLines joins lines continued with a trailing backslash and drops comments and blanks.
func joinLines(lines []string) []string {
	var cmds []string
	cur := ""
	for _, l := range lines {
		trimmed := strings.TrimSpace(l)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\")
			continue
		}
		cmds = append(cmds, cur+trimmed)
		cur = ""
	}
	return cmds
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test reading it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
