package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// devEnvFile is where `make run` (deploy/run.sh) records the setup it started: the
// ClickHouse DSN, the config, the base URL and the files of the development admin token and
// link keys. Every command but serve run from the same directory reads it, so `journeyd report`,
// `journey`, `erase` and `sign` find that setup without flags.
const devEnvFile = "var/journeyd.env"

// envFilePath returns the settings file to read: JOURNEYD_ENV_FILE when it is set (empty:
// none), else devEnvFile.
func envFilePath() string {
	if p, ok := os.LookupEnv("JOURNEYD_ENV_FILE"); ok {
		return p
	}
	return devEnvFile
}

// loadEnvFile sets, from the JOURNEYD_NAME=value lines of path, every variable the
// environment does not set already: the environment wins, then the file, then flags'
// defaults (flags still win over both). A missing file is not an error; blank lines and
// lines starting with # are skipped.
func loadEnvFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read settings file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(key, "JOURNEYD_") || strings.ContainsAny(key, " \t") {
			return fmt.Errorf("cannot read settings file %s: line %d: want JOURNEYD_NAME=value", path, n)
		}
		if _, set := os.LookupEnv(key); !set {
			os.Setenv(key, value)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("cannot read settings file %s: %w", path, err)
	}
	return nil
}
