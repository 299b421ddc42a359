package writer

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// TestClassifyRealErrors classifies errors that a real server and a real dial produce.
func TestClassifyRealErrors(t *testing.T) {
	f := func(what string, err error, wantReason string, wantPermanent bool) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", what)
		}
		reason, permanent := classify(fmt.Errorf("wrapped: %w", err))
		if reason != wantReason || permanent != wantPermanent {
			t.Fatalf("%s: classify(%v) = %s, %v; want %s, %v", what, err, reason, permanent, wantReason, wantPermanent)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := clickhouse.Open(ctx, "clickhouse://127.0.0.1:1/x?dial_timeout=1s")
	f("refused dial", err, reasonNetwork, false)

	db, conn := chtest.Shared(t).NewDatabase(t)
	f("missing table", conn.Exec(ctx, "SELECT * FROM "+db+".nope"), reasonServer, false)
	if err := conn.Exec(ctx, "CREATE TABLE "+db+".n (x UInt8, p Nested(k String, v String)) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".n (x, p.k, p.v)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint8(1), []string{"a", "b"}, []string{"c"}); err != nil {
		t.Fatal(err)
	}
	f("nested sizes", b.Send(), reasonRejected, true)
	f("shutdown", context.Canceled, reasonShutdown, false)
	f("append", &appendError{errors.New("bad value")}, reasonBadRow, true)
}

func BenchmarkFill(b *testing.B) {
	evs := make([]event.Event, 1000)
	for i := range evs {
		evs[i] = fullEvent()
	}
	cols := columnBlock(definitions())
	cols.fill(evs) // grow the buffers once, as a worker's first batch does
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cols.fill(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
}

func TestFillAllocatesNothingOnceGrown(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector: the plain run checks them")
	}
	evs := []event.Event{fullEvent(), fullEvent()}
	cols := columnBlock(definitions())
	cols.fill(evs)
	if n := testing.AllocsPerRun(100, func() { cols.fill(evs) }); n != 0 {
		t.Fatalf("fill allocates %v times per batch once its buffers have grown, want 0", n)
	}
}
