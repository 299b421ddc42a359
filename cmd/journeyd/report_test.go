package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runReportOut runs journeyd report with stdout redirected and returns what it printed.
func runReportOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stdout")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = out
	err = runReport(context.Background(), args)
	os.Stdout = stdout
	out.Close()
	data, _ := os.ReadFile(path)
	return string(data), err
}

func TestReportPrintsFilledSQL(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "journeyd.yaml")
	conf := "sites:\n  - id: shop\n    conversions:\n      - {name: lead, event: 'server:lead_created', value: amount}\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runReportOut(t, "channels", "--config", cfg, "--clickhouse", "clickhouse://127.0.0.1:1/analytics",
		"--site", "shop", "--conversion", "lead", "--sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FROM `analytics`.events", "site_id = 'shop'", "name = 'lead_created'", "indexOf(`props.key`, 'amount')"} {
		if !strings.Contains(out, want) {
			t.Fatalf("--sql output lacks %q:\n%s", want, out)
		}
	}
	if _, err := runReportOut(t, "funnel", "--site", "shop", "--by", "planet", "--sql"); err == nil || !strings.Contains(err.Error(), "unknown breakdown") {
		t.Fatalf("--by planet: error %v, want unknown breakdown", err)
	}
	if _, err := runReportOut(t, "nope", "--site", "shop"); err == nil || !strings.Contains(err.Error(), "unknown report") {
		t.Fatalf("report nope: error %v, want unknown report", err)
	}
}
