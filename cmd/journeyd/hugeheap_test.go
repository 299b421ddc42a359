package main

import "testing"

// TestHugeHeapBytes: --huge-heap-bytes as given, or by default (-1) twice the report
// store's bound and 2 GiB, within half the memory.
func TestHugeHeapBytes(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		flag, store, mem, want int64
	}{
		{flag: 0, store: 3 * gib, mem: 24 * gib, want: 0},             // off
		{flag: 5 * gib, store: 3 * gib, mem: 24 * gib, want: 5 * gib}, // as given
		{flag: -1, store: 3 * gib, mem: 24 * gib, want: 8 * gib},      // 2*3 + 2
		{flag: -1, store: 3 * gib, mem: 8 * gib, want: 4 * gib},       // half of 8
		{flag: -1, store: 0, mem: 24 * gib, want: 2 * gib},            // no store: the reads alone
		{flag: -1, store: 3 * gib, mem: 0, want: 4 * gib},             // memory unknown
	} {
		cfg := defaultConfig()
		cfg.HugeHeapBytes, cfg.ReportStoreBytes = c.flag, c.store
		if got := hugeHeapBytes(&cfg, c.mem); got != c.want {
			t.Errorf("flag %d, store %d, memory %d: %d bytes, want %d", c.flag, c.store, c.mem, got, c.want)
		}
	}
}
