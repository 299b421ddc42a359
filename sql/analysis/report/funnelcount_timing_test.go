package report

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user and system) the process has spent: on a machine
// whose cores others share, the CPU a benchmark's loop took says more than its wall time.
func processCPU(b *testing.B) time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		b.Fatalf("cannot read the process's CPU time: %v", err)
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// reportRowCPU reports the wall and CPU nanoseconds of each of rows an iteration, the CPU
// counted from cpu (processCPU before the loop).
func reportRowCPU(b *testing.B, cpu time.Duration, rows int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(rows), "ns/row")
	b.ReportMetric(float64((processCPU(b)-cpu).Nanoseconds())/float64(b.N)/float64(rows), "cpu-ns/row")
}

// benchFunnelDays returns a month of funnel_rows days of the bench's barriers' shape (10
// million events): a day 83 000 first events of a unit and 70 000 step events of 600 000
// people (units drawn at random: a person's rows fall on a few days), 8 combinations of
// three breakdown values, each step event of one of four steps, at random seconds.
func benchFunnelDays() []*funnelDay {
	rng := rand.New(rand.NewPCG(5, 6))
	people := make([]uint64, 600_000)
	for i := range people {
		people[i] = rng.Uint64()
	}
	days := make([]*funnelDay, benchDays)
	for i := range days {
		d := &funnelDay{start: uint32(benchFirst+uint16(i)) * 86400, cols: 3}
		for h := range 8 {
			d.hashes = append(d.hashes, uint64(h)+1)
			d.names = append(d.names, []string{"mobile", "desktop"}[h%2], []string{"Direct", "Email"}[h/2%2], []string{"DE", "US"}[h/4])
		}
		for range 83_000 {
			d.keys = append(d.keys, people[rng.IntN(len(people))])
			d.first = append(d.first, rng.Uint32N(86400))
			d.combos = append(d.combos, uint64(rng.IntN(8))+1)
		}
		for range 70_000 {
			d.evKeys = append(d.evKeys, people[rng.IntN(len(people))])
			d.items = append(d.items, rng.Uint32N(86400)<<funnelMaskBits|1<<rng.IntN(4))
		}
		days[i] = d
	}
	return days
}

// BenchmarkFunnelCount: the dashboard's barriers (four steps, a week's window, by device,
// channel and country, and by nothing) counted from a month of benchFunnelDays, per person
// without links.
func BenchmarkFunnelCount(b *testing.B) {
	days := benchFunnelDays()
	s := funnelShape{steps: 4, window: 7 * 86400, by: []string{"device", "channel", "country", ""}, cols: []int{0, 1, 2}, stepSorted: true}
	rows := 0
	for _, d := range days {
		rows += len(d.keys) + len(d.evKeys)
	}
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		if funnelCount(days, nil, s) == nil {
			b.Fatal("not counted")
		}
	}
	reportRowCPU(b, cpu, rows)
}

// BenchmarkSortEntries: the entries of a month of benchFunnelDays (4.6 million) sorted by
// unit.
func BenchmarkSortEntries(b *testing.B) {
	days := benchFunnelDays()
	entries, runs := funnelEntries(days, nil)
	work := make([]funnelEntry, len(entries))
	b.ReportAllocs()
	cpu := processCPU(b)
	for b.Loop() {
		copy(work, entries)
		sortEntries(work, runs)
	}
	reportRowCPU(b, cpu, len(entries))
}
