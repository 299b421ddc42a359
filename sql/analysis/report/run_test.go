package report

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestQueriesWaitTheirTurn: with MaxConcurrent 2, two queries hold both turns; a third
// waits, gives up with its context's error when that ends first, and gets a turn as soon
// as one of the two ends.
func TestQueriesWaitTheirTurn(t *testing.T) {
	r := &Runner{MaxConcurrent: 2}
	ctx := context.Background()
	end1, err := r.turn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.turn(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := r.turn(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a third query while two run: %v, want it to wait and then fail with the context's deadline", err)
	}
	got := make(chan error, 1)
	go func() { _, err := r.turn(ctx); got <- err }()
	select {
	case err := <-got:
		t.Fatalf("a third query got a turn while two run (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	end1()
	if err := <-got; err != nil {
		t.Fatalf("the waiting query after one ended: %v", err)
	}
}
