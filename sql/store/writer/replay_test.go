package writer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/store/chtest"
)

// TestReplay: the events of transient dead letters land, rejected ones are skipped, a
// truncated line is named and costs only itself, and a replayed row ClickHouse refuses
// again goes to the new dead-letter file.
func TestReplay(t *testing.T) {
	db, conn := migrated(t)
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	evs := events(4, ts)
	evs[3].TS = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC) // outside DateTime: fails again
	var file bytes.Buffer
	enc := json.NewEncoder(&file)
	for i, reason := range []string{reasonShutdown, reasonNetwork, reasonRejected, reasonShutdown} {
		enc.Encode(DeadLetter{Time: ts, Reason: reason, Error: "test", Event: evs[i]})
	}
	file.WriteString(`{"time":"2026-03-01T12:00:00Z","reason":"shutdown","event":{"ID":"trunc`) // a crash mid-line

	again := filepath.Join(t.TempDir(), "again.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Replay(ctx, conn, Config{Database: db, DeadLetterPath: again, FlushInterval: 50 * time.Millisecond}, &file, TransientReasons)
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 3 || res.Skipped != 1 || res.FailedAgain != 1 || len(res.Malformed) != 1 || !strings.HasPrefix(res.Malformed[0], "line 5:") {
		t.Fatalf("result %+v: want 3 replayed, 1 skipped, 1 failed again, line 5 malformed", res)
	}
	ids := chtest.Strings(t, ctx, conn, "SELECT event_id FROM "+db+".events ORDER BY event_id")
	if strings.Join(ids, ",") != "e000,e001" {
		t.Errorf("events in ClickHouse %v, want e000 and e001", ids)
	}
	text, err := os.ReadFile(again)
	if err != nil || !strings.Contains(string(text), `"ID":"e003"`) || strings.Count(string(text), "\n") != 1 {
		t.Errorf("new dead letter %q (%v): want the one line of e003", text, err)
	}
}
