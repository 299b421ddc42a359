package attribution

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twoChannelPaths are the paths of TestMarkovTwoChannels; figures below are worked out by
// hand: first A 1 (value 5) B 1 (3); last B 2 (8); linear and Shapley A 0.5 (2.5) B 1.5 (5.5).
func twoChannelPaths() []Path {
	return []Path{
		{Channels: []string{"A", "B"}, Conversions: 1, Nulls: 1, Value: 5},
		{Channels: []string{"A"}, Nulls: 2},
		{Channels: []string{"B"}, Conversions: 1, Value: 3},
	}
}

const handReadme = `# Reference figures

Hand-made paths: 2 conversions, 3 non-converting journeys and a total conversion value of 8.0.

## Heuristic models

| channel | first touch | last touch | linear |
|---|---|---|---|
| A | 1 | 0 | 0.5000 |
| B | 1 | 2 | 1.5000 |

Values (first / last / linear) for B: 3.000 / 8.000 / 5.500.

## First-order Markov chain

Probability of conversion from start: 0.4000.

| channel | removal effect | conversions |
|---|---|---|
| A | 0.66667 | 0.80 |
| B | 1.00000 | 1.20 |

A simulation lands near (A 0.7, B 1.3) and is not checked.

## Shapley value

A 0.500,
B 1.500
(sum 2; by hand).
`

func checkReadme(t *testing.T, readme string) []Comparison {
	t.Helper()
	exps, err := ParseReference(strings.NewReader(readme))
	if err != nil {
		t.Fatalf("ParseReference: %v", err)
	}
	paths := twoChannelPaths()
	results, err := Compute(paths, []string{ModelAll}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmps, err := Check(paths, results, exps)
	if err != nil {
		t.Fatal(err)
	}
	return cmps
}

func TestCheckHandReadme(t *testing.T) {
	cmps := checkReadme(t, handReadme)
	if len(cmps) != 20 {
		t.Errorf("%d comparisons, want 20 (3 totals, 6 table and 3 value heuristics, P, 4 Markov, 2 Shapley and its sum)", len(cmps))
	}
	for _, c := range cmps {
		if !c.OK {
			t.Errorf("%s", c)
		}
	}
	for _, c := range cmps {
		if c.Field == FieldProbability && (c.Decimals != 4 || !strings.HasPrefix(c.String(), "ok   markov probability")) {
			t.Errorf("probability comparison %+v (%s), want 4 decimals and ok", c, c)
		}
	}
}

func TestCheckFindsMismatches(t *testing.T) {
	f := func(from, to, wantFail string) {
		t.Helper()
		cmps := checkReadme(t, strings.Replace(handReadme, from, to, 1))
		var failed []string
		for _, c := range cmps {
			if !c.OK {
				failed = append(failed, c.String())
			}
		}
		if len(failed) != 1 || !strings.Contains(failed[0], wantFail) {
			t.Errorf("replacing %q by %q: failures %q, want one containing %q", from, to, failed, wantFail)
		}
	}
	f("| B | 1 | 2 | 1.5000 |", "| B | 1 | 2 | 1.5001 |", "FAIL linear B conversions")
	f("| A | 0.66667 | 0.80 |", "| A | 0.66666 | 0.80 |", "FAIL markov A removal_effect")
	f("B 1.500\n", "B 1.501\n", "FAIL shapley B conversions")
	f("A 0.500,", "Z 0.500,", "FAIL shapley Z conversions")
	f("8.000 / 5.500", "8.000 / 5.400", "FAIL linear B value")
	f("of 8.0.", "of 8.1.", "FAIL total_value")
}

func TestParseReferenceRejects(t *testing.T) {
	f := func(readme, wantErr string) {
		t.Helper()
		_, err := ParseReference(strings.NewReader(readme))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("error %v, want one containing %q", err, wantErr)
		}
	}
	cut := handReadme[:strings.Index(handReadme, "## Shapley")]
	f(cut, "cannot find the shapley figures")
	f(strings.Replace(handReadme, "| linear |", "| u-shaped |", 1), `column "u-shaped": unknown model`)
	f(strings.Replace(handReadme, "| 0.80 |", "| n/a |", 1), `"n/a" is not a number`)
	f(strings.Replace(handReadme, "| A | 1 | 0 |", "| A | 1 |", 1), "3 cells under 4 columns")
}

// TestReferenceFigures runs `make reference-check` in Go: every published figure of the
// ChannelAttribution reference must match. The reference lives outside the repository.
func TestReferenceFigures(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "reference")
	pathsFile, err := os.Open(filepath.Join(dir, "pathdata.tsv"))
	if err != nil {
		t.Skipf("no reference data outside the repository: %v", err)
	}
	defer pathsFile.Close()
	readme, err := os.Open(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer readme.Close()
	paths, err := ReadPaths(pathsFile)
	if err != nil {
		t.Fatal(err)
	}
	exps, err := ParseReference(readme)
	if err != nil {
		t.Fatal(err)
	}
	results, err := Compute(paths, []string{ModelAll}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmps, err := Check(paths, results, exps)
	if err != nil {
		t.Fatal(err)
	}
	models := map[string]int{}
	for _, c := range cmps {
		models[c.Model]++
		if !c.OK {
			t.Errorf("%s", c)
		}
	}
	for _, m := range []string{ModelFirst, ModelLast, ModelLinear, ModelMarkov, ModelShapley} {
		if models[m] == 0 {
			t.Errorf("the reference check compared no %s figure", m)
		}
	}
}
