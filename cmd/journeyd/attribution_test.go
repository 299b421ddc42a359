package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// attributionFiles writes a paths file and a reference README into a temp directory.
func attributionFiles(t *testing.T, readme string) (paths, ref string) {
	t.Helper()
	dir := t.TempDir()
	paths, ref = filepath.Join(dir, "paths.tsv"), filepath.Join(dir, "README.md")
	data := "path\ttotal_conversions\ttotal_conversion_value\ttotal_null\n" +
		"A > B\t1\t5\t1\nA\t0\t0\t2\nB\t1\t3\t0\n"
	if err := os.WriteFile(paths, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ref, []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	return paths, ref
}

// Figures of the paths above, worked out by hand (see sql/analysis/attribution/markov_test.go).
const attributionReadme = "## Heuristic models\n\n| channel | first touch | last touch |\n|---|---|---|\n" +
	"| A | 1 | 0 |\n| B | 1 | 2 |\n\n## Markov\n\n| channel | removal effect | conversions |\n|---|---|---|\n" +
	"| A | 0.66667 | 0.80 |\n| B | 1.00000 | 1.20 |\n\n## Shapley value\n\nA 0.500, B 1.500\n"

// runAttributionOut runs the subcommand with stdout redirected to a file and returns both.
func runAttributionOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = out
	runErr := runAttribution(context.Background(), args)
	os.Stdout = stdout
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b), runErr
}

func TestAttributionJSON(t *testing.T) {
	paths, _ := attributionFiles(t, attributionReadme)
	out, err := runAttributionOut(t, "--paths", paths, "--model", "markov,first", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Models []struct {
			Model string `json:"model"`
			Rows  []struct {
				Key           string  `json:"key"`
				Conversions   float64 `json:"conversions"`
				RemovalEffect float64 `json:"removal_effect"`
			} `json:"rows"`
		} `json:"models"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if len(doc.Models) != 2 || doc.Models[0].Model != "markov" || doc.Models[0].Rows[0].Key != "B" ||
		doc.Models[0].Rows[0].RemovalEffect != 1 {
		t.Errorf("output %s: want markov first, B on top with removal effect 1", out)
	}
}

func TestAttributionCheck(t *testing.T) {
	paths, ref := attributionFiles(t, attributionReadme)
	out, err := runAttributionOut(t, "--paths", paths, "--check", ref)
	if err != nil || !strings.Contains(out, "10 of 10 reference figures match") {
		t.Errorf("check: error %v, output\n%s", err, out)
	}
	paths, ref = attributionFiles(t, strings.Replace(attributionReadme, "| B | 1 | 2 |", "| B | 2 | 2 |", 1))
	out, err = runAttributionOut(t, "--paths", paths, "--check", ref)
	if err == nil || !strings.Contains(out, "FAIL first B conversions") {
		t.Errorf("check of a wrong figure: error %v, output\n%s", err, out)
	}
}

// TestReferenceCheckCommand runs what `make reference-check` runs, when the reference
// (outside the repository) is there.
func TestReferenceCheckCommand(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference")
	if _, err := os.Stat(filepath.Join(dir, "pathdata.tsv")); err != nil {
		t.Skipf("no reference data outside the repository: %v", err)
	}
	out, err := runAttributionOut(t, "--paths", filepath.Join(dir, "pathdata.tsv"), "--model", "all",
		"--check", filepath.Join(dir, "README.md"))
	if err != nil || strings.Contains(out, "FAIL") {
		t.Errorf("reference check: %v\n%s", err, out)
	}
}
