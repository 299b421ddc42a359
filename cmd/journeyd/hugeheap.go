package main

import (
	"log/slog"

	"github.com/journeyd/journeyd/cmd/journeyd/hugeheap"
)

// hugeHeapBytes returns the bytes of heap --huge-heap-bytes asks for: the flag, or when it
// is -1 twice the report store's bound (its days, and the groups of the last reads beside
// them) and 2 GiB more for the reads in flight, at most half of mem (the memory journeyd
// may use, machineMemory; 0 when unknown, and then 4 GiB at most).
func hugeHeapBytes(c *config, mem int64) int64 {
	if c.HugeHeapBytes >= 0 {
		return c.HugeHeapBytes
	}
	n := 2*max(c.ReportStoreBytes, 0) + 2<<30
	if mem <= 0 {
		return min(n, 4<<30)
	}
	return min(n, mem/2)
}

// reserveHugeHeap marks the heap's first hugeHeapBytes for huge pages (package hugeheap),
// logging what it did; a kernel that cannot tell its mode (not Linux) is left alone.
func reserveHugeHeap(c *config, log *slog.Logger) {
	n := hugeHeapBytes(c, machineMemory("/"))
	if n == 0 {
		return
	}
	k, err := hugeheap.ReadKernel("/")
	if err != nil {
		log.Debug("heap left on the kernel's default pages", "err", err)
		return
	}
	marked, err := hugeheap.Reserve(k, n)
	switch {
	case err != nil:
		log.Warn("heap left on the kernel's default pages", "err", err)
	case marked > 0:
		log.Info("heap on huge pages", "bytes", marked, "kernel_mode", k.Mode)
	default:
		log.Debug("heap left to the kernel's huge page mode", "kernel_mode", k.Mode, "strict_commit", k.StrictMode)
	}
}
