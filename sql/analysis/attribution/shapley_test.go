package attribution

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// Three channels. Converting paths: {A,B,C} 3 conversions, {A,B} 2, {C} 1, {B} 1; {A,C}
// does not convert. A gets 3/3 + 2/2 = 2, B 1 + 1 + 1 = 3, C 1 + 1 = 2 (sum 7, all of them).
func TestShapleyThreeChannels(t *testing.T) {
	paths := []Path{
		{Channels: []string{"A", "B", "C"}, Conversions: 3, Value: 6},
		{Channels: []string{"B", "A", "B"}, Conversions: 2, Value: 2},
		{Channels: []string{"C"}, Conversions: 1, Value: 1},
		{Channels: []string{"B", "B"}, Conversions: 1, Value: 4},
		{Channels: []string{"A", "C"}, Nulls: 5},
	}
	checkModel(t, paths, ModelShapley, Options{}, map[string]cv{"A": {2, 3}, "B": {3, 7}, "C": {2, 3}})
	checkModel(t, paths, ModelShapley, Options{}, bruteForceShapley(paths))
}

// bruteForceShapley sums marginal contributions over every coalition, with the worth of a
// coalition being the conversions (and value) of the paths whose channel set lies inside it.
func bruteForceShapley(paths []Path) map[string]cv {
	idx := map[string]int{}
	var names []string
	masks := make([]int, len(paths))
	for i, p := range paths {
		for _, ch := range p.Channels {
			if _, ok := idx[ch]; !ok {
				idx[ch] = len(names)
				names = append(names, ch)
			}
			masks[i] |= 1 << idx[ch]
		}
	}
	n := len(names)
	worth := func(s int) cv {
		var w cv
		for i, m := range masks {
			if m&^s == 0 {
				w.conv += paths[i].Conversions
				w.value += paths[i].Value
			}
		}
		return w
	}
	out := map[string]cv{}
	for i, name := range names {
		var phi cv
		for s := 0; s < 1<<n; s++ {
			if s&(1<<i) != 0 {
				continue
			}
			size := popcount(s)
			weight := fact(size) * fact(n-size-1) / fact(n)
			with, without := worth(s|1<<i), worth(s)
			phi.conv += weight * (with.conv - without.conv)
			phi.value += weight * (with.value - without.value)
		}
		out[name] = phi
	}
	return out
}

func popcount(s int) int {
	c := 0
	for ; s != 0; s &= s - 1 {
		c++
	}
	return c
}

func fact(n int) float64 { return math.Gamma(float64(n) + 1) }

func TestShapleyMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 10; round++ {
		paths := randomPaths(rng, 50, 2+rng.IntN(6), 6)
		checkModel(t, paths, ModelShapley, Options{}, bruteForceShapley(paths))
	}
}

// The ordered variant splits a channel's share of a path over its positions.
// [A B A] with 2 conversions: A's share 1 goes half to A@1 and half to A@3; B@2 gets 1.
// [B] with 1 conversion: B@1 gets 1.
func TestOrderedShapley(t *testing.T) {
	paths := []Path{
		{Channels: []string{"A", "B", "A"}, Conversions: 2, Value: 4},
		{Channels: []string{"B"}, Conversions: 1, Value: 1},
		{Channels: []string{"C", "C"}, Nulls: 3},
	}
	res, err := Compute(paths, []string{ModelShapley}, Options{OrderedShapley: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Model != "shapley_ordered" {
		t.Errorf("model %q, want shapley_ordered", res[0].Model)
	}
	want := map[string]cv{"A@1": {0.5, 1}, "A@3": {0.5, 1}, "B@2": {1, 2}, "B@1": {1, 1}, "C@1": {}, "C@2": {}}
	checkModel(t, paths, ModelShapley, Options{OrderedShapley: true}, want)
	// Summed over positions, the ordered credits are the Shapley values.
	rng := rand.New(rand.NewPCG(5, 6))
	random := randomPaths(rng, 300, 7, 6)
	ordered, err := Compute(random, []string{ModelShapley}, Options{OrderedShapley: true})
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]cv{}
	for _, row := range ordered[0].Rows {
		k := row.Key[:strings.LastIndexByte(row.Key, '@')]
		s := sums[k]
		s.conv += row.Conversions
		s.value += row.Value
		sums[k] = s
	}
	checkModel(t, random, ModelShapley, Options{}, sums)
}
