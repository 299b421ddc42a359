package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadEnvFile: the file fills what the environment lacks and never overrides it;
// comments and blank lines are skipped; a missing file is fine; a line that is not
// JOURNEYD_NAME=value is an error naming the file and line.
func TestLoadEnvFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journeyd.env")
	text := "# written by make run\n\nJOURNEYD_TEST_DSN=clickhouse://127.0.0.1:19000/journeyd\nJOURNEYD_TEST_KEPT=from-file\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNEYD_TEST_KEPT", "from-environment")
	t.Setenv("JOURNEYD_TEST_DSN", "")
	os.Unsetenv("JOURNEYD_TEST_DSN") // restored by t.Setenv's cleanup
	if err := loadEnvFile(path); err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv("JOURNEYD_TEST_DSN"); got != "clickhouse://127.0.0.1:19000/journeyd" {
		t.Errorf("JOURNEYD_TEST_DSN = %q, want the file's", got)
	}
	if got := os.Getenv("JOURNEYD_TEST_KEPT"); got != "from-environment" {
		t.Errorf("JOURNEYD_TEST_KEPT = %q, want the environment's to win", got)
	}
	if err := loadEnvFile(filepath.Join(dir, "missing.env")); err != nil {
		t.Errorf("a missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("JOURNEYD_OK=1\nexport PATH=/tmp\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadEnvFile(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a bad line: error %v, want one naming line 2", err)
	}
	os.Unsetenv("JOURNEYD_OK")
}
