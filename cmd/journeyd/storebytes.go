package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/journeyd/journeyd/sql/analysis/report"
)

// --report-store-bytes' default scales with the memory journeyd may use, so that a larger
// machine keeps every dashboard panel's days of a larger site without anyone tuning it
// (docs/BENCHMARKS.md, "The report store's default bound"): every default panel's days take
// about 460 MB a month of 10 million events, so the fixed 1 GiB held them up to about 20
// million events a month, and at 30 million the panels evicted each other's days. The store
// takes storeShare of the memory (its bound; the groups of the last few reads take as much
// again at most, so a quarter in all), leaving the rest to the collector, the sessions and a
// ClickHouse on the same machine; never less than the fixed default it replaces (nor more
// than a quarter of the memory, for a small container), nor more than maxStoreBytes.
const (
	storeShare    = 8       // the store's bound is 1/storeShare of the memory
	maxStoreBytes = 8 << 30 // at most, whatever the memory: about 180 million events a month of every panel's days
)

// defaultStoreBytes returns --report-store-bytes' default for the memory journeyd may use
// as machineMemory tells it from the files under root ("/" but in tests) and the Go memory
// limit goLimit (GOMEMLIMIT; math.MaxInt64 when unset): 1/storeShare of it, at least
// report.DefaultStoreBytes and at most maxStoreBytes, and never more than a quarter of it.
// When the memory cannot be told it is report.DefaultStoreBytes.
func defaultStoreBytes(root string, goLimit int64) int64 {
	mem := machineMemory(root)
	if goLimit > 0 && (mem == 0 || goLimit < mem) {
		mem = goLimit
	}
	if mem <= 0 || mem == math.MaxInt64 {
		return report.DefaultStoreBytes
	}
	return min(max(mem/storeShare, report.DefaultStoreBytes), maxStoreBytes, mem/4)
}

// machineMemory returns the bytes of memory this process may use, from the files under
// root: the machine's (MemTotal of /proc/meminfo), or its cgroup's limit when that is lower
// (memory.max in cgroup v2, memory.limit_in_bytes in v1: of its own cgroup, named in
// /proc/self/cgroup, and of the root, which is a container's own as it sees it). 0 when
// none can be read.
func machineMemory(root string) int64 {
	var mem int64
	lower := func(n int64) {
		if n > 0 && (mem == 0 || n < mem) {
			mem = n
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "proc/meminfo")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb < math.MaxInt64/1024 {
					lower(kb * 1024)
				}
			}
		}
	}
	limits := []string{"sys/fs/cgroup/memory.max", "sys/fs/cgroup/memory/memory.limit_in_bytes"}
	if b, err := os.ReadFile(filepath.Join(root, "proc/self/cgroup")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.SplitN(line, ":", 3) // hierarchy:controllers:path
			switch {
			case len(f) < 3 || f[2] == "/":
			case f[0] == "0" && f[1] == "":
				limits = append(limits, filepath.Join("sys/fs/cgroup", f[2], "memory.max"))
			case f[1] == "memory":
				limits = append(limits, filepath.Join("sys/fs/cgroup/memory", f[2], "memory.limit_in_bytes"))
			}
		}
	}
	for _, f := range limits {
		// "max" (v2) or a number near 2^63 (v1) when there is no limit: not a number, or
		// above MemTotal, which lower ignores.
		if b, err := os.ReadFile(filepath.Join(root, f)); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				lower(n)
			}
		}
	}
	return mem
}

// goMemoryLimit returns the Go runtime's memory limit (GOMEMLIMIT), math.MaxInt64 when
// none is set.
func goMemoryLimit() int64 {
	return debug.SetMemoryLimit(-1)
}
