package sessionizer

import (
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
)

func TestMemoryLimitEvictsLeastRecentlySeen(t *testing.T) {
	r := newRig(t, Config{MemoryLimit: 3 * VisitorBytes})
	visit := func(at float64, anon string) event.Event {
		t.Helper()
		return r.send(t, step{at: at, e: event.Event{AnonID: anon}})
	}
	first := visit(0, "a")
	visit(1, "b")
	visit(2, "c")
	visit(3, "a") // a is now the most recent; b is the least
	visit(4, "d") // evicts b
	if n := r.s.Visitors(); n != 3 {
		t.Fatalf("visitors %d, want 3", n)
	}
	if n := testutil.ToFloat64(r.s.m.evictions.WithLabelValues("limit")); n != 1 {
		t.Fatalf("limit evictions %v, want 1", n)
	}
	if got := visit(5, "a"); got.SessionID != first.SessionID {
		t.Fatalf("a lost its session: %q, want %q", got.SessionID, first.SessionID)
	}
	if got := visit(6, "c"); got.SessionID != r.got[2].SessionID {
		t.Fatalf("c lost its session: %q, want %q", got.SessionID, r.got[2].SessionID)
	}
}

func TestIdleVisitorsExpire(t *testing.T) {
	r := newRig(t, Config{})
	for i := 0; i < 10; i++ {
		r.send(t, step{at: float64(i), e: event.Event{AnonID: fmt.Sprint("v", i)}})
	}
	r.send(t, step{at: 35, e: event.Event{AnonID: "v9"}}) // v0..v4 idle for more than 30 min
	if n := r.s.Visitors(); n != 5 {
		t.Fatalf("visitors %d, want 5 (v5..v9)", n)
	}
	if n := testutil.ToFloat64(r.s.m.evictions.WithLabelValues("idle")); n != 5 {
		t.Fatalf("idle evictions %v, want 5", n)
	}
	if n := testutil.ToFloat64(r.s.m.visitors); n != 5 {
		t.Fatalf("visitors gauge %v, want 5", n)
	}
}

// TestTableList checks the recency list and slot reuse under churn against a plain model.
func TestTableList(t *testing.T) {
	tb := newTable(1 << 20)
	var order []uint64 // most recent first
	for i := 0; i < 3<<maxChunkBits; i++ {
		k := uint64(i*7919) % 5000
		if v := tb.get(k); v != nil {
			tb.touch(v)
			order = moveFront(order, k)
		} else {
			tb.add(k)
			order = append([]uint64{k}, order...)
		}
		if i%3 == 0 {
			old := tb.oldest()
			if old.key != order[len(order)-1] {
				t.Fatalf("oldest is %d, want %d", old.key, order[len(order)-1])
			}
			tb.remove(old)
			if tb.get(order[len(order)-1]) != nil {
				t.Fatal("removed visitor still indexed")
			}
			order = order[:len(order)-1]
		}
	}
	var walk []uint64
	for v := tb.at(tb.head); v != nil; v = tb.at(v.older) {
		walk = append(walk, v.key)
	}
	if fmt.Sprint(walk) != fmt.Sprint(order) || tb.len() != len(order) {
		t.Fatalf("list has %d visitors, index %d, model %d; lists differ", len(walk), tb.len(), len(order))
	}
}

func moveFront(s []uint64, k uint64) []uint64 {
	for i, x := range s {
		if x == k {
			copy(s[1:i+1], s[:i])
			s[0] = k
			break
		}
	}
	return s
}
