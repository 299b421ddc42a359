package attribution

import (
	"math"
	"math/rand/v2"
	"testing"
)

// markovWant is a channel's expected removal effect, conversions and value.
type markovWant struct{ effect, conv, value float64 }

func checkMarkov(t *testing.T, paths []Path, wantP float64, want map[string]markovWant) {
	t.Helper()
	p, err := ConversionProbability(paths)
	if err != nil {
		t.Fatal(err)
	}
	if !near(p, wantP) {
		t.Errorf("P(conversion) = %v, want %v", p, wantP)
	}
	res, err := Compute(paths, []string{ModelMarkov}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Rows) != len(want) {
		t.Errorf("%d rows, want %d", len(res[0].Rows), len(want))
	}
	for _, row := range res[0].Rows {
		w, ok := want[row.Key]
		if !ok || !near(row.RemovalEffect, w.effect) || !near(row.Conversions, w.conv) || !near(row.Value, w.value) {
			t.Errorf("%s: got effect %v conversions %v value %v, want %+v", row.Key, row.RemovalEffect, row.Conversions, row.Value, w)
		}
	}
}

// Two channels. start → A 4/5, → B 1/5; A → B 1/2, → null 1/2; B → conversion 2/3, → null 1/3.
// x_B = 2/3, x_A = 1/3, P = 4/5·1/3 + 1/5·2/3 = 2/5 (the empirical rate 2 of 5).
// Without A: P = 1/5·2/3 = 2/15, effect 2/3. Without B nothing converts: effect 1.
// Credit: 2/3 and 1 of 5/3, times 2 conversions and 8 of value.
func TestMarkovTwoChannels(t *testing.T) {
	paths := []Path{
		{Channels: []string{"A", "B"}, Conversions: 1, Nulls: 1, Value: 5},
		{Channels: []string{"A"}, Nulls: 2},
		{Channels: []string{"B"}, Conversions: 1, Value: 3},
	}
	checkMarkov(t, paths, 0.4, map[string]markovWant{
		"A": {2.0 / 3, 0.8, 3.2},
		"B": {1, 1.2, 4.8},
	})
}

// Three channels with self-loops (A → A, C → C).
//
//	start → A 3/6, B 1/6, C 2/6
//	A → A 1/4, B 1/4, C 1/2
//	B → conversion 1/2, C 1/2
//	C → C 2/7, conversion 2/7, null 3/7
//
// x_C = 2/5, x_B = 7/10, x_A = 1/2, P = 1/2. Removing A: P = 1/4, effect 1/2. Removing B:
// x_A = 4/15, P = 4/15, effect 7/15. Removing C: x_A = 1/6, x_B = 1/2, P = 1/6, effect 2/3.
// The effects sum to 49/30; 3 conversions give A 45/49, B 42/49, C 60/49.
func TestMarkovSelfLoops(t *testing.T) {
	paths := []Path{
		{Channels: []string{"A", "A", "B"}, Conversions: 1, Value: 7},
		{Channels: []string{"B", "C"}, Nulls: 1},
		{Channels: []string{"C"}, Conversions: 1, Nulls: 1, Value: 0},
		{Channels: []string{"A", "C", "C"}, Conversions: 1, Nulls: 1, Value: 0},
	}
	checkMarkov(t, paths, 0.5, map[string]markovWant{
		"A": {0.5, 45.0 / 49, 7 * 15.0 / 49},
		"B": {7.0 / 15, 42.0 / 49, 7 * 14.0 / 49},
		"C": {2.0 / 3, 60.0 / 49, 7 * 20.0 / 49},
	})
}

// Nothing converts: every effect and credit is zero, not NaN.
func TestMarkovNoConversions(t *testing.T) {
	paths := []Path{
		{Channels: []string{"A", "B"}, Nulls: 3},
		{Channels: []string{"B"}, Nulls: 1},
		{Channels: []string{"Z"}}, // weight 0: no transitions at all
	}
	checkMarkov(t, paths, 0, map[string]markovWant{"A": {}, "B": {}, "Z": {}})
}

// TestMarkovAgainstDirectSolves checks the fundamental-matrix removal effects against one
// Gaussian elimination a removed channel, and P against the empirical conversion rate, on
// random paths.
func TestMarkovAgainstDirectSolves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		paths := randomPaths(rng, 200, 2+rng.IntN(10), 8)
		c, err := newCorpus(paths)
		if err != nil {
			t.Fatal(err)
		}
		ch := newChain(c)
		p, effects, err := ch.removal()
		if err != nil {
			t.Fatal(err)
		}
		conv, all := 0.0, 0.0
		for _, path := range paths {
			conv += path.Conversions
			all += path.Conversions + path.Nulls
		}
		if math.Abs(p-conv/all) > 1e-12 {
			t.Errorf("round %d: P = %v, empirical rate %v", round, p, conv/all)
		}
		for k, e := range effects {
			if d := directRemoval(t, ch, k); math.Abs(e-d) > 1e-12 {
				t.Errorf("round %d: removal effect of %s = %v, direct solve %v", round, c.keys[k], e, d)
			}
		}
	}
}

// directRemoval solves the chain with channel k sending everything to null and returns
// 1 − P₋ₖ / P.
func directRemoval(t *testing.T, ch *chain, k int) float64 {
	t.Helper()
	n := ch.n
	solve := func(a, b []float64) float64 {
		lu := append([]float64(nil), a...)
		perm, err := factor(lu, n)
		if err != nil {
			t.Fatal(err)
		}
		x := append([]float64(nil), b...)
		solveLU(lu, perm, n, x, make([]float64, n))
		return x[n-1]
	}
	p := solve(ch.a, ch.b)
	a, b := append([]float64(nil), ch.a...), append([]float64(nil), ch.b...)
	for j := 0; j < n; j++ {
		a[k*n+j] = 0
	}
	a[k*n+k], b[k] = 1, 0
	return 1 - solve(a, b)/p
}

func TestFactorSingular(t *testing.T) {
	if _, err := invert([]float64{1, 2, 2, 4}, 2); err == nil {
		t.Fatal("invert of a singular matrix: no error")
	}
	inv, err := invert([]float64{0, 1, 2, 0}, 2) // needs a row swap
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.5, 1, 0}
	for i := range want {
		if !near(inv[i], want[i]) {
			t.Fatalf("inverse %v, want %v", inv, want)
		}
	}
}

// randomPaths makes n paths over k channels named "c0"…, up to maxLen touches each.
func randomPaths(rng *rand.Rand, n, k, maxLen int) []Path {
	names := make([]string, k)
	for i := range names {
		names[i] = string(rune('a'+i%26)) + string(rune('0'+i/26))
	}
	paths := make([]Path, n)
	for i := range paths {
		ch := make([]string, 1+rng.IntN(maxLen))
		for j := range ch {
			ch[j] = names[rng.IntN(k)]
		}
		conv := float64(rng.IntN(4))
		paths[i] = Path{Channels: ch, Conversions: conv, Value: conv * 10 * rng.Float64(), Nulls: float64(rng.IntN(6))}
	}
	return paths
}
