package attribution

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkCompute runs every model over 10 000 paths of up to 12 touches on 12 channels.
func BenchmarkCompute(b *testing.B) {
	paths := randomPaths(rand.New(rand.NewPCG(7, 8)), 10000, 12, 12)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(paths, []string{ModelAll}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
