package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestGrafanaMetricsFromStart: every metric the Grafana dashboard queries is in /metrics of
// a journeyd that has served nothing yet, so no panel shows "No data" before its metric
// first moves (labelled counters start at 0 for their known label values). A histogram is
// queried as NAME_bucket, which /metrics lists under that name.
func TestGrafanaMetricsFromStart(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/journeyd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, e2eConfig)
	exported := map[string]bool{}
	for _, line := range strings.Split(get(t, a.URL+"/metrics"), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
	}
	metric := regexp.MustCompile(`\b(journeyd|process|go)_[a-z_]+\b`)
	queried := 0
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				queried++
				if !exported[name] {
					t.Errorf("panel %q queries %s, which a fresh journeyd's /metrics lacks", p.Title, name)
				}
			}
		}
	}
	if queried < 15 {
		t.Fatalf("%d metric references in the dashboard: not the journeyd dashboard", queried)
	}
}
