package hugeheap

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// kernelFiles writes the kernel's files ReadKernel reads under a temporary root.
func kernelFiles(t *testing.T, enabled, pmd, overcommit string) string {
	t.Helper()
	root := t.TempDir()
	for path, text := range map[string]string{
		"sys/kernel/mm/transparent_hugepage/enabled":        enabled,
		"sys/kernel/mm/transparent_hugepage/hpage_pmd_size": pmd,
		"proc/sys/vm/overcommit_memory":                     overcommit,
	} {
		if text == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestReadKernel(t *testing.T) {
	for _, c := range []struct {
		enabled, pmd, overcommit string
		want                     Kernel
	}{
		{"always [madvise] never", "2097152", "0", Kernel{Mode: Madvise, PageBytes: 2 << 20}},
		{"[always] madvise never", "", "1", Kernel{Mode: Always, PageBytes: 2 << 20}},
		{"always madvise [never]", "1048576", "2", Kernel{Mode: Never, PageBytes: 1 << 20, StrictMode: true}},
	} {
		got, err := ReadKernel(kernelFiles(t, c.enabled, c.pmd, c.overcommit))
		if err != nil || got != c.want {
			t.Errorf("ReadKernel of %q, %q, %q = %+v, %v; want %+v", c.enabled, c.pmd, c.overcommit, got, err, c.want)
		}
	}
	if _, err := ReadKernel(kernelFiles(t, "always madvise never", "", "")); err == nil || !strings.Contains(err.Error(), "no mode in brackets") {
		t.Errorf("a mode file without brackets gave %v, want an error saying so", err)
	}
	if _, err := ReadKernel(t.TempDir()); err == nil || !strings.Contains(err.Error(), "transparent huge page mode") {
		t.Errorf("no mode file gave %v, want an error naming the mode", err)
	}
}

// TestReserveNeedless: Reserve marks nothing where the kernel backs every heap with huge
// pages already, backs none, or would commit the untouched block.
func TestReserveNeedless(t *testing.T) {
	for _, k := range []Kernel{
		{Mode: Always, PageBytes: 2 << 20},
		{Mode: Never, PageBytes: 2 << 20},
		{Mode: Madvise, PageBytes: 2 << 20, StrictMode: true},
	} {
		if n, err := Reserve(k, 1<<30); n != 0 || err != nil {
			t.Errorf("Reserve(%+v) = %d, %v; want 0, nil", k, n, err)
		}
	}
}

// TestReserveBacksTheHeapWithHugePages, on this machine's kernel: after Reserve, a 256 MiB
// slice written page by page is backed by huge pages. 256 MiB in 4 KiB pages is 65 536
// page faults; in 2 MiB pages it is 128, so fewer than 4 096 (a sixteenth) says huge pages
// back most of it, and the process's AnonHugePages grows by at least half the slice.
func TestReserveBacksTheHeapWithHugePages(t *testing.T) {
	k, err := ReadKernel("/")
	if err != nil {
		t.Fatal(err)
	}
	n, err := Reserve(k, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if k.Mode != Madvise || k.StrictMode {
		// The kernel decides without us: Reserve must leave it be.
		if n != 0 {
			t.Fatalf("Reserve on a kernel in mode %s (strict commit %v) marked %d bytes, want none", k.Mode, k.StrictMode, n)
		}
		t.Logf("kernel mode %s: nothing to mark, as expected", k.Mode)
		return
	}
	if n < 1<<30-k.PageBytes {
		t.Fatalf("Reserve(1 GiB) marked %d bytes, want all but the partial huge pages at its ends", n)
	}
	const size = 256 << 20
	huge0 := anonHuge(t)
	f0 := minorFaults()
	b := make([]byte, size)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	faults := minorFaults() - f0
	grown := anonHuge(t) - huge0
	if faults >= size/4096/16 {
		t.Errorf("writing 256 MiB took %d page faults, want fewer than %d (4 KiB pages would take 65 536)", faults, size/4096/16)
	}
	if grown < size/2 {
		t.Errorf("AnonHugePages grew by %d bytes writing 256 MiB, want at least half of it", grown)
	}
	t.Logf("256 MiB written in %d page faults; AnonHugePages grew by %d MiB", faults, grown>>20)
	b[len(b)-1] = 2 // keep b alive to the measure
}

func minorFaults() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Minflt
}

// anonHuge returns the process's anonymous memory backed by huge pages (smaps_rollup).
func anonHuge(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "AnonHugePages:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no AnonHugePages in /proc/self/smaps_rollup")
	return 0
}
