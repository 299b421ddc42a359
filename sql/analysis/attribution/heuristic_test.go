package attribution

import (
	"math"
	"strings"
	"testing"
)

// handPaths are small paths whose credits the tests work out by hand.
func handPaths() []Path {
	return []Path{
		{Channels: []string{"A", "B", "C"}, Conversions: 2, Value: 10, Nulls: 1},
		{Channels: []string{"B", "Direct"}, Conversions: 1, Value: 4},
		{Channels: []string{"Direct"}, Conversions: 1, Value: 3},
		{Channels: []string{"C", "C"}, Nulls: 5},
	}
}

// cv is a credit's conversions and value.
type cv struct{ conv, value float64 }

// checkModel runs one model and compares every key's conversions and value; keys absent from
// want must be credited zero.
func checkModel(t *testing.T, paths []Path, model string, opt Options, want map[string]cv) {
	t.Helper()
	res, err := Compute(paths, []string{model}, opt)
	if err != nil {
		t.Fatalf("Compute(%s): %v", model, err)
	}
	if len(res) != 1 {
		t.Fatalf("Compute(%s) returned %d results, want 1", model, len(res))
	}
	seen := map[string]bool{}
	for _, row := range res[0].Rows {
		seen[row.Key] = true
		w := want[row.Key]
		if !near(row.Conversions, w.conv) || !near(row.Value, w.value) {
			t.Errorf("%s %s: got conversions %v value %v, want %v and %v", model, row.Key, row.Conversions, row.Value, w.conv, w.value)
		}
	}
	for k := range want {
		if !seen[k] {
			t.Errorf("%s: no row for %s", model, k)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestHeuristics(t *testing.T) {
	p := handPaths()
	def := Options{}
	checkModel(t, p, ModelFirst, def, map[string]cv{"A": {2, 10}, "B": {1, 4}, "Direct": {1, 3}})
	checkModel(t, p, ModelLast, def, map[string]cv{"C": {2, 10}, "Direct": {2, 7}})
	checkModel(t, p, ModelLastNonDirect, def, map[string]cv{"C": {2, 10}, "B": {1, 4}, "Direct": {1, 3}})
	checkModel(t, p, ModelLinear, def, map[string]cv{
		"A": {2.0 / 3, 10.0 / 3}, "B": {2.0/3 + 0.5, 10.0/3 + 2}, "C": {2.0 / 3, 10.0 / 3}, "Direct": {1.5, 5}})
	checkModel(t, p, ModelPosition, def, map[string]cv{
		"A": {0.8, 4}, "B": {0.4 + 0.5, 2 + 2}, "C": {0.8, 4}, "Direct": {1.5, 5}})
	// Shares 0.3 / 0.5: two touches split 3:5, the middle of three gets 0.2.
	checkModel(t, p, ModelPosition, Options{FirstShare: 0.3, LastShare: 0.5}, map[string]cv{
		"A": {0.6, 3}, "B": {0.4 + 3.0/8, 2 + 4*3.0/8}, "C": {1, 5}, "Direct": {5.0/8 + 1, 4*5.0/8 + 3}})
	// Another direct key: "Direct" is then an ordinary channel.
	checkModel(t, p, ModelLastNonDirect, Options{Direct: "C"}, map[string]cv{"B": {2, 10}, "Direct": {2, 7}})
}

func TestTimeDecay(t *testing.T) {
	p := handPaths()
	// Without ages time decay weighs touches equally: it equals linear.
	checkModel(t, p, ModelTimeDecay, Options{}, map[string]cv{
		"A": {2.0 / 3, 10.0 / 3}, "B": {2.0/3 + 0.5, 10.0/3 + 2}, "C": {2.0 / 3, 10.0 / 3}, "Direct": {1.5, 5}})
	// Ages 14, 7 and 0 days with a 7-day half-life weigh 1/4, 1/2 and 1: shares 1/7, 2/7, 4/7.
	p[0].AgeDays = []float64{14, 7, 0}
	p[1].AgeDays = []float64{3, 3}
	checkModel(t, p, ModelTimeDecay, Options{}, map[string]cv{
		"A": {2.0 / 7, 10.0 / 7}, "B": {4.0/7 + 0.5, 20.0/7 + 2}, "C": {8.0 / 7, 40.0 / 7}, "Direct": {1.5, 5}})
	// A 14-day half-life: weights 1/2, 1/√2, 1.
	s := 0.5 + math.Sqrt2/2 + 1
	checkModel(t, p, ModelTimeDecay, Options{HalfLifeDays: 14}, map[string]cv{
		"A": {2 * 0.5 / s, 10 * 0.5 / s}, "B": {2*math.Sqrt2/2/s + 0.5, 10*math.Sqrt2/2/s + 2},
		"C": {2 / s, 10 / s}, "Direct": {1.5, 5}})
	// Ages so old that every weight underflows fall back to equal weights.
	p[0].AgeDays = []float64{1e6, 1e6, 1e6}
	checkModel(t, p, ModelTimeDecay, Options{}, map[string]cv{
		"A": {2.0 / 3, 10.0 / 3}, "B": {2.0/3 + 0.5, 10.0/3 + 2}, "C": {2.0 / 3, 10.0 / 3}, "Direct": {1.5, 5}})
}

func TestComputeRejects(t *testing.T) {
	f := func(paths []Path, models []string, opt Options, wantErr string) {
		t.Helper()
		_, err := Compute(paths, models, opt)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("Compute(%v, %v, %+v) error %v, want one containing %q", paths, models, opt, err, wantErr)
		}
	}
	ok := handPaths()
	f(ok, nil, Options{}, "no model named")
	f(ok, []string{"lastclick"}, Options{}, `model "lastclick": unknown`)
	f(ok, []string{"all"}, Options{HalfLifeDays: -1}, "half-life")
	f(ok, []string{"all"}, Options{FirstShare: 0.7, LastShare: 0.7}, "position shares")
	f(ok, []string{"all"}, Options{FirstShare: -0.1, LastShare: 0.5}, "position shares")
	f([]Path{{Channels: []string{"a"}, Conversions: -1}}, []string{"all"}, Options{}, "conversions -1")
	f([]Path{{Channels: []string{"a"}, Nulls: math.NaN()}}, []string{"all"}, Options{}, "nulls NaN")
	f([]Path{{Channels: []string{"a"}, Value: math.Inf(1)}}, []string{"all"}, Options{}, "value +Inf")
	f([]Path{{Channels: []string{"a", "b"}, AgeDays: []float64{1}}}, []string{"all"}, Options{}, "1 ages for 2 channels")
	f([]Path{{Channels: []string{"a"}, AgeDays: []float64{-2}}}, []string{"all"}, Options{}, "age -2")
}

func TestComputeModelsAndOrder(t *testing.T) {
	paths := []Path{
		{Channels: []string{"b"}, Conversions: 1},
		{Channels: []string{"a"}, Conversions: 1},
		{Channels: []string{"c"}, Conversions: 3},
		{Channels: nil, Conversions: 7}, // no touch: credited to nobody
	}
	res, err := Compute(paths, []string{"last", "all", "first"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range res {
		names = append(names, r.Model)
	}
	want := "last,first,last_non_direct,linear,time_decay,position,markov,shapley"
	if got := strings.Join(names, ","); got != want {
		t.Fatalf("models %s, want %s", got, want)
	}
	for _, r := range res {
		var keys []string
		for _, row := range r.Rows {
			keys = append(keys, row.Key)
		}
		if got := strings.Join(keys, ","); got != "c,a,b" {
			t.Errorf("%s rows in order %s, want c,a,b (conversions desc, key asc)", r.Model, got)
		}
	}
}
