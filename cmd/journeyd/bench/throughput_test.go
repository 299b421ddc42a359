package bench

import "testing"

func TestMedianRatio(t *testing.T) {
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{30, 20, 25}, []float64{40, 40, 25}, 0.75}, // 0.75, 0.5, 1: the middle one
		{[]float64{10}, []float64{20}, 0.5},
		{[]float64{10, 30}, []float64{20, 30}, 1},   // an even count takes the upper middle, as median does
		{[]float64{10, 20, 30}, []float64{20}, 0.5}, // rounds without a pair are left out
		{nil, nil, 0},
	} {
		if got := medianRatio(c.a, c.b); got != c.want {
			t.Errorf("medianRatio(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
