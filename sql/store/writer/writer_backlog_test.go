package writer

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
)

// TestBacklog: queued events count against the queue's limit until they are inserted.
func TestBacklog(t *testing.T) {
	db, conn := migrated(t)
	clock := newFakeClock()
	w := newWriter(t, conn, Config{Database: db, BatchSize: 10, QueueSize: 20, FlushInterval: time.Second, Clock: clock})
	if q, l := w.Backlog(); q != 0 || l != 20 {
		t.Fatalf("empty writer: backlog %d of %d", q, l)
	}
	if err := w.Write(context.Background(), events(4, clock.Now())); err != nil {
		t.Fatal(err)
	}
	if q, _ := w.Backlog(); q != 4 {
		t.Errorf("4 events queued: backlog %d", q)
	}
	waitFor(t, "the flush timer", func() bool { return clock.Waiters() == 1 })
	clock.Advance(time.Second)
	waitFor(t, "an empty backlog after the insert", func() bool { q, _ := w.Backlog(); return q == 0 })
	closeWriter(t, w)
}

// A Write larger than the whole queue is taken when the queue is empty: before, a writer
// with a queue of 20 refused a Write of 50 for ever (event.ErrFull every time), which is
// how the spool's replay of 10,000 events stuck behind a --queue-size of 5,000. While
// those 50 are queued (the table does not exist yet, so every insert fails and is retried)
// a Write of 1 is refused; once the table exists and they are inserted (5 batches of 10) it
// is taken, and ClickHouse has 51 rows.
func TestWriteLargerThanTheQueue(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	w := newWriter(t, conn, Config{Database: db, BatchSize: 10, QueueSize: 20, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	all := events(51, time.Now())
	if err := w.Write(context.Background(), all[:50]); err != nil {
		t.Fatalf("a Write of 50 into an empty queue of 20: %v", err)
	}
	if err := w.Write(context.Background(), all[50:]); !errors.Is(err, event.ErrFull) {
		t.Fatalf("a Write of 1 while 50 are queued, beyond the limit of 20: %v, want event.ErrFull", err)
	}
	if err := schema.Migrate(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "an empty backlog after the inserts", func() bool { q, _ := w.Backlog(); return q == 0 })
	if err := w.Write(context.Background(), all[50:]); err != nil {
		t.Fatalf("a Write of 1 into an empty queue: %v", err)
	}
	closeWriter(t, w)
	if n := count(t, conn, db); n != 51 {
		t.Fatalf("%d rows, want 51", n)
	}
}
