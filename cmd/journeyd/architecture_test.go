package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// layers are the import rule of docs/ARCHITECTURE.md: a package under each prefix may import
// only the project's packages under the prefixes listed for it (and the standard library and
// third-party modules, but for the driver rule below). cmd/ wires everything and is free.
var layers = []struct {
	prefix string
	may    []string
}{
	{"event/goal", nil},
	{"event", nil},
	{"collector", []string{"event", "collector"}},
	{"sessionizer", []string{"event", "sql/store/visitors", "sql/store/clickhouse"}},
	{"spool", []string{"event"}},
	{"sql/store", []string{"event", "sql/store"}},
	{"sql/analysis/journey/journeytest", []string{"event", "sql/store", "sql/analysis"}}, // a test helper
	{"sql/analysis", []string{"event/goal", "sql/store/clickhouse", "sql/analysis"}},
	{"snippet", []string{"snippet"}},
	{"cmd/journeyd/gen", []string{"event"}},
	{"cmd/journeyd/bench", []string{"event/goal", "collector/pixel", "sql/store/clickhouse", "sql/analysis/report"}},
	{"cmd/journeyd/hugeheap", nil},
	{"cmd", []string{""}},
}

// noDriver are the packages whose whole dependency tree must not reach the ClickHouse driver
// nor any sql/ package: the event model, the site definitions, everything that parses and
// enriches requests, and the spool.
var noDriver = []string{"event", "collector", "spool"}

const module = "github.com/journeyd/journeyd/"

// TestArchitecture fails when an import breaks the rule written in docs/ARCHITECTURE.md.
func TestArchitecture(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("cannot list the packages: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		pkg := strings.TrimPrefix(parts[0], module)
		n++
		checkImports(t, pkg, strings.Fields(parts[1]))
		checkNoDriver(t, pkg, strings.Fields(parts[2]))
	}
	if n < 30 {
		t.Fatalf("go list gave %d packages; want the whole module", n)
	}
}

func checkImports(t *testing.T, pkg string, imports []string) {
	t.Helper()
	layer := -1
	for i, l := range layers {
		if under(pkg, l.prefix) {
			layer = i
			break
		}
	}
	if layer < 0 {
		t.Errorf("%s is in no layer of docs/ARCHITECTURE.md: add it there and to this test", pkg)
		return
	}
	for _, imp := range imports {
		if !strings.HasPrefix(imp, module) {
			continue
		}
		imp = strings.TrimPrefix(imp, module)
		ok := under(imp, layers[layer].prefix) && !strings.HasPrefix(layers[layer].prefix, "event")
		for _, may := range layers[layer].may {
			ok = ok || may == "" || under(imp, may)
		}
		if !ok {
			t.Errorf("%s imports %s: docs/ARCHITECTURE.md allows %s only %v", pkg, imp, layers[layer].prefix, layers[layer].may)
		}
	}
}

func checkNoDriver(t *testing.T, pkg string, deps []string) {
	t.Helper()
	for _, root := range noDriver {
		if !under(pkg, root) {
			continue
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "github.com/ClickHouse/") || strings.HasPrefix(d, module+"sql/") {
				t.Errorf("%s depends on %s: the event model, the collector and the spool must not reach the ClickHouse driver or sql/", pkg, d)
			}
		}
	}
}

// under reports whether pkg is prefix or inside it.
func under(pkg, prefix string) bool {
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// TestArchitectureRuleCatches checks the checker: imports that the rule forbids are reported.
func TestArchitectureRuleCatches(t *testing.T) {
	for _, c := range []struct{ pkg, imp string }{
		{"collector/site", "sql/analysis/report"},
		{"collector/enrich/ua", "sql/store/clickhouse"},
		{"sessionizer", "sql/analysis/journey"},
		{"event", "collector/site"},
		{"event/goal", "event"},
		{"sql/store/writer", "sql/analysis/report"},
		{"spool", "sql/store/writer"},
		{"sql/analysis/report", "cmd/journeyd/bench"},
		{"collector", "cmd/journeyd/bench"},
		{"cmd/journeyd/bench", "spool"},
	} {
		ft := &testing.T{}
		checkImports(ft, c.pkg, []string{module + c.imp})
		if !ft.Failed() {
			t.Errorf("%s importing %s passed the rule", c.pkg, c.imp)
		}
	}
}
