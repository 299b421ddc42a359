package dashboard

import (
	"github.com/journeyd/journeyd/event/goal"

	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/analysis/attribution"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

// TestReportNames checks that every report the page asks for is one the API serves: the
// page calls reports only as fetchReport('NAME', ...), with a literal name.
func TestReportNames(t *testing.T) {
	app := string(get(t, "GET", "/dashboard/app.js").Body())
	calls := strings.Count(app, "fetchReport(") - 1 // one is the definition
	found := regexp.MustCompile(`fetchReport\('([^']*)'`).FindAllStringSubmatch(app, -1)
	if len(found) != calls {
		t.Fatalf("app.js calls fetchReport %d times but only %d with a literal report name: keep the names literal so this test can check them", calls, len(found))
	}
	known := report.Names()
	used := map[string]bool{}
	for _, m := range found {
		used[m[1]] = true
		if _, err := report.Lookup(m[1]); err != nil {
			t.Errorf("app.js calls report %q, which the API does not serve: %v", m[1], err)
		}
	}
	for _, want := range []string{"channels", "funnel", "barriers", "attribution", "paths", "time-to-convert", "retention", "stages", "dropped"} {
		if !used[want] {
			t.Errorf("app.js never calls report %q (reports: %v)", want, known)
		}
	}
}

// TestModelNames checks the model picker offers exactly the attribution models.
func TestModelNames(t *testing.T) {
	app := string(get(t, "GET", "/dashboard/app.js").Body())
	m := regexp.MustCompile(`const MODELS = \[([^\]]*)\]`).FindStringSubmatch(app)
	if m == nil {
		t.Fatal("app.js has no `const MODELS = [...]`")
	}
	var models []string
	for _, q := range regexp.MustCompile(`'([^']+)'`).FindAllStringSubmatch(m[1], -1) {
		models = append(models, q[1])
	}
	if !slices.Equal(models, attribution.Models) {
		t.Fatalf("app.js MODELS = %v, want attribution.Models = %v", models, attribution.Models)
	}
}

// TestDefaultSteps checks the default funnel steps parse as the API will parse them.
func TestDefaultSteps(t *testing.T) {
	app := string(get(t, "GET", "/dashboard/app.js").Body())
	m := regexp.MustCompile(`const DEFAULT_STEPS = '([^']+)'`).FindStringSubmatch(app)
	if m == nil {
		t.Fatal("app.js has no `const DEFAULT_STEPS = '...'`")
	}
	steps, err := goal.ParseSteps(m[1])
	if err != nil || len(steps) != 4 {
		t.Fatalf("default steps %q: %d steps, %v; want 4 valid steps", m[1], len(steps), err)
	}
}
