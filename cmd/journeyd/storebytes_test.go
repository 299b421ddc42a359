package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestDefaultStoreBytes: --report-store-bytes' default from the memory files of a machine
// laid out under a temporary root, each figure worked out by hand (GiB = 1 << 30).
func TestDefaultStoreBytes(t *testing.T) {
	const gib = int64(1) << 30
	for _, c := range []struct {
		name    string
		files   map[string]string
		goLimit int64
		want    int64
	}{
		// 24 GiB (25165824 kB), no cgroup limit: 24/8 = 3 GiB.
		{"24 GiB machine", map[string]string{"proc/meminfo": "MemTotal:       25165824 kB\nMemFree: 1 kB\n"}, math.MaxInt64, 3 * gib},
		// cgroup v1's "no limit" (2^63 rounded to pages) is above MemTotal: 16/8 = 2 GiB.
		{"cgroup v1 unlimited", map[string]string{"proc/meminfo": "MemTotal: 16777216 kB\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, math.MaxInt64, 2 * gib},
		// A container of 4 GiB on the 24 GiB machine (cgroup v2 at the namespace's root):
		// 4/8 = 0.5 GiB, raised to the 1 GiB floor, which a quarter of 4 GiB allows.
		{"4 GiB container", map[string]string{"proc/meminfo": "MemTotal: 25165824 kB\n",
			"sys/fs/cgroup/memory.max": "4294967296\n"}, math.MaxInt64, gib},
		// A 2 GiB container: the floor would be half its memory; a quarter, 0.5 GiB.
		{"2 GiB container", map[string]string{"proc/meminfo": "MemTotal: 25165824 kB\n",
			"sys/fs/cgroup/memory.max": "2147483648\n"}, math.MaxInt64, gib / 2},
		// cgroup v2 "max" (no limit) on 128 GiB: 16 GiB, capped at 8.
		{"128 GiB machine", map[string]string{"proc/meminfo": "MemTotal: 134217728 kB\n",
			"sys/fs/cgroup/memory.max": "max\n"}, math.MaxInt64, 8 * gib},
		// The process's own cgroup v2 (a systemd slice) limits it to 40 GiB of 64: 5 GiB.
		{"cgroup v2 slice", map[string]string{"proc/meminfo": "MemTotal: 67108864 kB\n",
			"proc/self/cgroup": "0::/journeyd.slice/journeyd.service\n",
			"sys/fs/cgroup/journeyd.slice/journeyd.service/memory.max": "42949672960\n"}, math.MaxInt64, 5 * gib},
		// cgroup v1's memory controller names the process's cgroup: 24 GiB of 64, 3 GiB.
		{"cgroup v1 nested", map[string]string{"proc/meminfo": "MemTotal: 67108864 kB\n",
			"proc/self/cgroup": "5:devices:/\n4:memory:/docker/abc\n0::/\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "25769803776\n"}, math.MaxInt64, 3 * gib},
		// GOMEMLIMIT of 12 GiB on the 24 GiB machine: 1.5 GiB.
		{"GOMEMLIMIT", map[string]string{"proc/meminfo": "MemTotal: 25165824 kB\n"}, 12 * gib, 3 * gib / 2},
		// Nothing readable: the fixed 1 GiB.
		{"unknown memory", nil, math.MaxInt64, gib},
	} {
		root := t.TempDir()
		for name, body := range c.files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got := defaultStoreBytes(root, c.goLimit); got != c.want {
			t.Errorf("%s: %d bytes, want %d", c.name, got, c.want)
		}
	}
}

// TestReportStoreBytesFlag: --report-store-bytes, and the config file's report_store_bytes,
// override the default the memory gives.
func TestReportStoreBytesFlag(t *testing.T) {
	c, _, err := loadConfig("serve", []string{"--report-store-bytes", "12345"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ReportStoreBytes != 12345 {
		t.Errorf("--report-store-bytes 12345 gave %d", c.ReportStoreBytes)
	}
	p := writeConfig(t, "report_store_bytes: 67890\n")
	if c, _, err = loadConfig("serve", []string{"--config", p}, nil); err != nil {
		t.Fatal(err)
	}
	if c.ReportStoreBytes != 67890 {
		t.Errorf("report_store_bytes: 67890 gave %d", c.ReportStoreBytes)
	}
	if c, _, err = loadConfig("serve", nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := defaultStoreBytes("/", goMemoryLimit()); c.ReportStoreBytes != want {
		t.Errorf("no setting gave %d, want the memory's default %d", c.ReportStoreBytes, want)
	}
}
