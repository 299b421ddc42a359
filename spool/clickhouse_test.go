package spool

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/writer"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// With the real writer and ClickHouse: while ClickHouse cannot take the events (here its
// table does not exist yet), the writer's small queue fills, the spool takes the rest on
// disk, and once ClickHouse can take them every event lands exactly once and the spool is
// left empty.
func TestOutageWithTheRealWriter(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	w, err := writer.New(conn, writer.Config{
		Database: db, BatchSize: 20, QueueSize: 40, FlushInterval: 20 * time.Millisecond,
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sp, err := Open(Config{Dir: dir, SegmentBytes: 8000, ReplayBatch: 15}, w)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	all := evs(0, n)
	for i := 0; i < n; i += 3 {
		write(t, sp, context.Background(), all[i:i+3])
	}
	if testutil.ToFloat64(sp.m.replaying) != 1 {
		t.Fatal("the spool is not holding events for the writer, whose queue must be full")
	}
	if err := schema.Migrate(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	var rows, ids uint64
	for deadline := time.Now().Add(30 * time.Second); ids < n; time.Sleep(50 * time.Millisecond) {
		if err := conn.QueryRow(context.Background(), "SELECT count(), uniqExact(event_id) FROM "+db+".events").Scan(&rows, &ids); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events in ClickHouse after the outage", ids, n)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows != n {
		t.Errorf("%d rows for %d events: some were inserted twice", rows, n)
	}
	if left := segments(t, dir); len(left) != 0 {
		t.Errorf("segments %v left with every event stored", left)
	}
}
