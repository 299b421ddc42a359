// Package hugeheap lets transparent huge pages back the Go heap on a kernel that gives them
// only to memory that asks for them (transparent_hugepage/enabled "madvise", Debian's
// default), where the Go runtime does not ask.
//
// Why: a report's first read grows the heap by gigabytes, and every 4 KiB page of it is
// mapped by a page fault the first time it is written. On the development machine (a VM)
// a fault costs 8-15 µs: the dashboard's first open at 10 million events took 450 000 of
// them, 3 of journeyd's 11 s of CPU. Backed by 2 MiB pages the same heap takes about 4 000
// (docs/BENCHMARKS.md, "The heap on huge pages").
//
// How: Reserve, at start, allocates one untouched block of n bytes, so that the heap's
// address space is mapped for it, marks that range MADV_HUGEPAGE, and drops it at once
// (nothing is written to it: it never occupies memory). The heap then grows into that
// range first, and the kernel backs it with huge pages as it is written. The runtime
// still returns freed memory to the kernel as it does (its scavenger keeps whole huge pages
// where it can); only the first n bytes of address space are affected.
package hugeheap

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
)

// Mode is the kernel's transparent huge page setting (sys/kernel/mm/transparent_hugepage/enabled).
type Mode string

// The kernel's settings: huge pages for all anonymous memory, for memory marked
// MADV_HUGEPAGE only, or for none.
const (
	Always  Mode = "always"
	Madvise Mode = "madvise"
	Never   Mode = "never"
)

// Kernel is what Reserve needs to know of the kernel: its huge page mode, the size of a
// huge page and whether untouched memory is committed (vm.overcommit_memory 2).
type Kernel struct {
	Mode       Mode
	PageBytes  int64 // hpage_pmd_size, 2 MiB on x86-64
	StrictMode bool  // overcommit_memory 2: an untouched block counts against the commit limit
}

// ReadKernel reads the kernel's settings from the files under root ("/" but in tests).
func ReadKernel(root string) (Kernel, error) {
	var k Kernel
	b, err := os.ReadFile(filepath.Join(root, "sys/kernel/mm/transparent_hugepage/enabled"))
	if err != nil {
		return k, fmt.Errorf("cannot read the kernel's transparent huge page mode: %w", err)
	}
	// "always [madvise] never": the mode in brackets.
	for _, f := range strings.Fields(string(b)) {
		if strings.HasPrefix(f, "[") && strings.HasSuffix(f, "]") {
			k.Mode = Mode(strings.Trim(f, "[]"))
		}
	}
	if k.Mode == "" {
		return k, fmt.Errorf("cannot read the kernel's transparent huge page mode: no mode in brackets in %q", strings.TrimSpace(string(b)))
	}
	k.PageBytes = 2 << 20
	if b, err := os.ReadFile(filepath.Join(root, "sys/kernel/mm/transparent_hugepage/hpage_pmd_size")); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			k.PageBytes = n
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "proc/sys/vm/overcommit_memory")); err == nil {
		k.StrictMode = strings.TrimSpace(string(b)) == "2"
	}
	return k, nil
}

// Reserve makes the first n bytes of address space the heap grows into eligible for huge
// pages when the kernel k only backs memory that asks (Madvise) and does not commit
// untouched memory, and returns how many bytes it marked: 0 when k backs the heap with huge
// pages already (Always), never does (Never), or would count the block against its commit
// limit. Call it once, at start, before the heap grows: the range starts where the heap
// ends then. n should stay well below the machine's memory (the kernel refuses, and the Go
// runtime then aborts, a single block larger than memory and swap together).
func Reserve(k Kernel, n int64) (int64, error) {
	if n <= 0 || k.Mode != Madvise || k.StrictMode {
		return 0, nil
	}
	block := make([]byte, n) // never written: it maps address space, not memory
	marked, err := markHuge(block, k.PageBytes)
	block = nil
	// Collect the block now, so that the next collection's goal follows the heap in use and
	// not the block. Its pages were never written, so they never took memory; the runtime's
	// scavenger gives the range back to the kernel in the background (GODEBUG=scavtrace=1
	// shows it within the first second), and the range keeps its mark.
	debug.FreeOSMemory()
	if err != nil {
		return 0, fmt.Errorf("cannot mark %d bytes of the heap for huge pages: %w", n, err)
	}
	return marked, nil
}
