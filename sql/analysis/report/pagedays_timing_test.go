package report

import "testing"

// BenchmarkIDSorterCount: the distinct count of a path's ids over a month (idSorter.count),
// 4 million hashes of which one in eight is a replay's copy; the sorter kept from one
// iteration to the next, as pagesFromDays keeps it from path to path.
func BenchmarkIDSorterCount(b *testing.B) {
	const n = 4 << 20
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i-i/8+1) * 0x9E3779B97F4A7C15
	}
	work := make([]uint64, n)
	var s idSorter
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		copy(work, ids)
		if got := s.count(work); got != n-(n-1)/8 { // i - i/8 + 1 for i below n: 1 to n - (n-1)/8
			b.Fatalf("%d distinct, want %d", got, n-(n-1)/8)
		}
	}
	reportRowCPU(b, cpu, n)
}

// BenchmarkIDSorterCountParts: the ids of BenchmarkIDSorterCount in 30 parts (a path's
// ids of each day of a month) counted together (idSorter.countParts), as pagesFromDays
// counts them; BenchmarkIDSorterCount's copy and count is what it did before.
func BenchmarkIDSorterCountParts(b *testing.B) {
	const n = 4 << 20
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i-i/8+1) * 0x9E3779B97F4A7C15
	}
	var parts [][]uint64
	for d := range 30 {
		parts = append(parts, ids[n*d/30:n*(d+1)/30])
	}
	buf := make([]uint64, n)
	var s idSorter
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		if got := s.countParts(parts, buf); got != n-(n-1)/8 {
			b.Fatalf("%d distinct, want %d", got, n-(n-1)/8)
		}
	}
	reportRowCPU(b, cpu, n)
}
