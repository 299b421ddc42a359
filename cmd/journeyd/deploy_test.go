package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// grafanaDashboard is the part of deploy/grafana/journeyd.json the test reads.
type grafanaDashboard struct {
	UID    string `json:"uid"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// TestGrafanaDashboardMetrics: every metric the dashboard queries is one journeyd exports.
// The names come from a running journeyd's /metrics after a pixel and a refused pixel; the
// labelled error counters that stay empty until an error happens (insert errors, dead
// letters) are taken from the metric names declared in the code.
func TestGrafanaDashboardMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/journeyd.json")
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("deploy/grafana/journeyd.json is not valid JSON: %v", err)
	}
	a := startApp(t, e2eConfig)
	for _, site := range []string{"shop", "nosuchsite"} {
		get(t, a.URL+"/p.gif?s="+site+"&a=visitor-1&u=https%3A%2F%2Fshop.example%2F")
	}
	exported := map[string]bool{}
	for _, line := range strings.Split(get(t, a.URL+"/metrics"), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			exported[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
		}
	}
	declared := declaredMetrics(t)
	metric := regexp.MustCompile(`\b(journeyd|process|go)_[a-z_]+\b`)
	queried := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Title == "" || len(p.Targets) == 0 {
			t.Errorf("panel %q has no title or no query", p.Title)
		}
		for _, target := range p.Targets {
			for _, name := range metric.FindAllString(target.Expr, -1) {
				queried++
				if exported[name] || declared[name] || declared[strings.TrimSuffix(name, "_bucket")] {
					continue
				}
				t.Errorf("panel %q queries %s, which journeyd does not export", p.Title, name)
			}
		}
	}
	if d.UID != "journeyd" || queried < 15 {
		t.Errorf("dashboard uid %q with %d metric references: not the journeyd dashboard", d.UID, queried)
	}
	for _, name := range []string{"journeyd_collector_requests_total", "journeyd_collector_rejected_total", "journeyd_writer_queue_depth"} {
		if !exported[name] {
			t.Errorf("%s is not in /metrics after a pixel and a refused one", name)
		}
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// declaredMetrics returns the metric names declared (Name: "journeyd_...") in the code.
func declaredMetrics(t *testing.T) map[string]bool {
	t.Helper()
	decl := regexp.MustCompile(`Name:\s*"(journeyd_[a-z_]+)"`)
	names := map[string]bool{}
	for _, dir := range []string{"../../collector", "../../sessionizer", "../../sql"} {
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
				names[m[1]] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// TestSystemdUnitFlags: the unit's ExecStart runs serve with flags serve has.
func TestSystemdUnitFlags(t *testing.T) {
	f, err := os.Open("../../deploy/systemd/journeyd.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var exec []string
	for s := bufio.NewScanner(f); s.Scan(); {
		if line, ok := strings.CutPrefix(s.Text(), "ExecStart="); ok {
			exec = strings.Fields(line)
		}
	}
	if len(exec) < 2 || filepath.Base(exec[0]) != "journeyd" || exec[1] != "serve" {
		t.Fatalf("ExecStart %q: want journeyd serve ...", exec)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c := defaultConfig()
	configFlags(fs, &c)
	fs.String("config", "", "")
	checked := 0
	for _, arg := range exec[2:] {
		if name, ok := strings.CutPrefix(arg, "--"); ok {
			checked++
			if fs.Lookup(strings.SplitN(name, "=", 2)[0]) == nil {
				t.Errorf("ExecStart passes %s, which journeyd serve does not have", arg)
			}
		}
	}
	if checked == 0 {
		t.Error("ExecStart passes no flag: where does the config come from?")
	}
}
