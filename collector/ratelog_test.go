package collector

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRateLog(t *testing.T) {
	var out bytes.Buffer
	now := testNow
	l := newRateLog(slog.New(slog.NewTextHandler(&out, nil)), func() time.Time { return now })
	for range 100 {
		l.warn("sink_full", "the pipeline is full")
	}
	l.warn("sink_error", "cannot hand events to the pipeline")
	now = now.Add(time.Minute)
	l.warn("sink_full", "the pipeline is full")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3:\n%s", len(lines), out.String())
	}
	if !strings.Contains(lines[2], "suppressed=99") {
		t.Fatalf("the third line does not count the 99 left out: %s", lines[2])
	}
}
