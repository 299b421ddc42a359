package gen

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/journeyd/journeyd/sql/analysis/report"
)

var update = flag.Bool("update", false, "rewrite the golden report outputs in testdata/golden")

// goldenReports are the reports pinned by golden files, with their options: every report
// the CLI and the API offer, on options that every scenario can answer.
var goldenReports = []struct {
	file, name string
	opts       map[string]string
}{
	{"funnel", "funnel", map[string]string{"steps": ShopSteps, "window": "7d"}},
	{"funnel-by-device", "funnel", map[string]string{"steps": ShopSteps, "window": "7d", "by": "device"}},
	{"funnel-per-session", "funnel", map[string]string{"steps": ShopSteps, "window": "7d", "per": "session"}},
	{"barriers", "barriers", map[string]string{"steps": ShopSteps, "by": "device"}},
	{"attribution", "attribution", map[string]string{"model": "all"}},
	{"attribution-by-source", "attribution", map[string]string{"model": "all", "by": "source"}},
	{"paths", "paths", map[string]string{}},
	{"time-to-convert", "time-to-convert", map[string]string{}},
	{"channels", "channels", map[string]string{}},
	{"retention", "retention", map[string]string{}},
	{"stages", "stages", map[string]string{}},
	{"next", "next", map[string]string{"after": "event:add_to_cart"}},
	{"dropped", "dropped", map[string]string{"did": "event:add_to_cart", "not": "purchase|order_paid", "within": "1d"}},
	{"overview", "overview", map[string]string{}},
	{"overview-previous", "overview", map[string]string{"from": "2026-10-17T05:30:00Z", "interval": "day"}},
	{"overview-mobile", "overview", map[string]string{"from": "2026-10-17T05:30:00Z", "interval": "week", "filter": "device=mobile"}},
	{"top", "top", map[string]string{"dimension": "channel,source,campaign,entry_page,country,device,browser,page"}},
	{"top-mobile", "top", map[string]string{"dimension": "channel,source,campaign,entry_page,country,device,browser,page", "filter": "device=mobile"}},
}

// TestGoldenReports pins every report's output over every scenario (seed 1, 300 people,
// each event stored twice as a replay would) byte for byte, so that a change that moves
// code without meaning to change an answer is proven to change none. Run with -update to
// rewrite the files after a change of the contract, and read the diff.
func TestGoldenReports(t *testing.T) {
	for _, scenario := range Scenarios() {
		r, _ := stored(t, scenario, 300, true)
		for _, g := range goldenReports {
			var got bytes.Buffer
			res := run(t, r, g.name, g.opts)
			if err := report.Write(&got, res, "json"); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", scenario, g.file+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("cannot read the golden output (run with -update to write it): %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("%s %s: output differs from %s\ngot:\n%s\nwant:\n%s", scenario, g.file, path, got.Bytes(), want)
			}
		}
	}
}
