package writer

import (
	"context"
	"testing"
	"time"
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
