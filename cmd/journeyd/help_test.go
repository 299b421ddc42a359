package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/analysis/report"
)

// journeydCLI runs this test binary as journeyd (see TestMain) in an empty directory and
// returns its combined output and exit code.
func journeydCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "JOURNEYD_TEST_MAIN=1", "JOURNEYD_ENV_FILE=")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("journeyd %s: %v", strings.Join(args, " "), err)
	}
	return string(out), 0
}

// TestHelpPerCommand: -h exits 0 everywhere and shows the command's own flags only; serve's
// settings (-spool-dir) appear under serve alone; report -h lists every report, report
// funnel -h the funnel's flags and not retention's.
func TestHelpPerCommand(t *testing.T) {
	out, code := journeydCLI(t, "-h")
	if code != 0 || !strings.Contains(out, "report") || !strings.Contains(out, devEnvFile) {
		t.Fatalf("journeyd -h: exit %d, output:\n%s", code, out)
	}
	for name := range commands {
		out, code := journeydCLI(t, name, "-h")
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("journeyd %s -h: exit %d, want 0 and a usage:\n%s", name, code, out)
		}
		if name != "serve" && strings.Contains(out, "-spool-dir") {
			t.Errorf("journeyd %s -h lists serve's settings:\n%s", name, out)
		}
	}
	out, code = journeydCLI(t, "report", "-h")
	for _, name := range report.Names() {
		if code != 0 || !strings.Contains(out, "\n  "+name+" ") {
			t.Errorf("journeyd report -h: exit %d, lacks report %s:\n%s", code, name, out)
		}
	}
	out, code = journeydCLI(t, "report", "funnel", "-h")
	if code != 0 || !strings.Contains(out, "-steps") || strings.Contains(out, "-within") || strings.Contains(out, "-batch-size") {
		t.Errorf("journeyd report funnel -h: exit %d, want -steps without -within or -batch-size:\n%s", code, out)
	}
	if _, code := journeydCLI(t, "report"); code != 2 {
		t.Errorf("journeyd report without a name: exit %d, want 2", code)
	}
	// 8 days and 12 hours is 734400 seconds, the window the retention query is filled with.
	out, code = journeydCLI(t, "report", "retention", "--site", "demo", "--within", "8d12h", "--sql")
	if code != 0 || !strings.Contains(out, "734400") {
		t.Errorf("journeyd report retention --within 8d12h --sql: exit %d, want 734400 in the SQL:\n%s", code, out)
	}
}
