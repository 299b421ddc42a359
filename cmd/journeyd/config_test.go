package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "journeyd.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigPrecedence(t *testing.T) {
	p := writeConfig(t, "listen: 127.0.0.1:9999\nbatch_size: 500\nflush_interval: 3s\nsites:\n  - id: shop\n    write_keys: [shop-key-123]\n")
	t.Setenv("JOURNEYD_BATCH_SIZE", "700")
	t.Setenv("JOURNEYD_ADMIN_TOKEN", "tok")
	c, _, err := loadConfig("serve", []string{"--config", p, "--flush-interval", "5s"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" {
		t.Errorf("listen = %q, want the file's", c.Listen)
	}
	if c.BatchSize != 700 {
		t.Errorf("batch_size = %d, want the environment's 700", c.BatchSize)
	}
	if c.FlushInterval != 5*time.Second {
		t.Errorf("flush_interval = %v, want the flag's 5s", c.FlushInterval)
	}
	if c.AdminToken != "tok" || len(c.Sites) != 1 || c.Sites[0].WriteKeys[0] != "shop-key-123" {
		t.Errorf("secrets or sites not loaded: %+v", c)
	}
}

func TestConfigErrorsNameFileAndKey(t *testing.T) {
	f := func(body string, want ...string) {
		t.Helper()
		p := writeConfig(t, body)
		_, _, err := loadConfig("serve", []string{"--config", p}, nil)
		if err == nil {
			t.Fatalf("config %q: no error", body)
		}
		for _, w := range append(want, p) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("config %q: error %q does not mention %q", body, err, w)
			}
		}
	}
	f("batch_size: 0\n", "batch_size")
	f("listne: x\n", "listne")
	f("sites:\n  - id: a\n    origins: [nope]\n", "sites[0].origins[0]")
	f("sites:\n  - id: a\n  - id: a\n", "sites[1].id")
	f("clickhouse: http://x\n", "clickhouse")
	f("flush_interval: soon\n", "soon")
}

// TestConfigEverySiteKey loads a site with every key the README documents.
func TestConfigEverySiteKey(t *testing.T) {
	c, _, err := loadConfig("serve", []string{"--config", "../../testdata/config/full.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := c.Sites[0]
	if s.Channels == nil || len(s.Channels.Rules) != 1 || len(s.Conversions) != 2 || len(s.Stages) != 3 || s.Conversions[1].Where["status"] != "new" {
		t.Errorf("site not fully loaded: %+v", s)
	}
}
