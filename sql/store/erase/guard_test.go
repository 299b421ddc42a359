package erase

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
)

// target keeps what the guard hands on.
type target struct{ got []event.Event }

func (t *target) WriteAcked(_ context.Context, es []event.Event, _ event.Ack) error {
	t.got = append(t.got, es...)
	return nil
}

// TestGuard: closed, the guard refuses everything (event.ErrFull). With u1 and a1 erased at
// t0 on shop it drops, of 6 events, the 3 received at or before t0 that are u1's, or a1's
// without a user id, and acknowledges 3 to the spool's segment 7; a1's event with another
// user id, u1's event on another site and u1's event received after t0 pass: 3 of 6.
func TestGuard(t *testing.T) {
	tg := &target{}
	var mu sync.Mutex
	done := map[uint64]int{}
	var wg sync.WaitGroup
	seg7 := ackFunc(func(n int) {
		mu.Lock()
		done[7] += n
		mu.Unlock()
		wg.Done()
	})
	g, err := NewGuard(tg, GuardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ev := func(site, anon, user string, at time.Time) event.Event {
		return event.Event{ID: site + anon + user + at.String(), SiteID: site, AnonID: anon, UserID: user, ReceivedAt: at}
	}
	batch := []event.Event{
		ev("shop", "a1", "u1", t0.Add(-time.Hour)),   // dropped: u1
		ev("shop", "a9", "u1", t0),                   // dropped: u1, at the erasure
		ev("shop", "a1", "", t0.Add(-time.Minute)),   // dropped: a1 without a user id
		ev("shop", "a1", "u2", t0.Add(-time.Minute)), // kept: another user on a1
		ev("blog", "a1", "u1", t0.Add(-time.Minute)), // kept: another site
		ev("shop", "a1", "u1", t0.Add(time.Second)),  // kept: after the erasure
	}
	if err := g.WriteAcked(context.Background(), batch, seg7); !errors.Is(err, event.ErrFull) {
		t.Fatalf("a closed guard answered %v, want event.ErrFull", err)
	}
	fresh := g.Set(erasedU1().Tombstones(t0))
	if len(fresh) != 2 || len(g.Set(erasedU1().Tombstones(t0))) != 0 {
		t.Fatalf("Set returned %d new tombstones, then more: want 2, then 0", len(fresh))
	}
	wg.Add(1)
	if err := g.WriteAcked(context.Background(), batch, seg7); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(tg.got) != 3 || tg.got[0].UserID != "u2" || tg.got[1].SiteID != "blog" || !tg.got[2].ReceivedAt.After(t0) {
		t.Errorf("handed on %d events %v, want the last 3", len(tg.got), tg.got)
	}
	if done[7] != 3 {
		t.Errorf("Done of segment 7: %d, want 3 dropped", done[7])
	}
}

// ackFunc is an event.Ack that calls itself.
type ackFunc func(n int)

func (f ackFunc) Stored(n int) { f(n) }

// erasedU1 is the plan of an erasure of u1, who used device a1, on shop.
func erasedU1() *Plan {
	return &Plan{Site: "shop", Person: "u1", UserIDs: []string{"u1"}, AnonIDs: []string{"a1"}}
}

// ackTarget keeps the acknowledgements the guard hands on, as the writer would until it
// has stored the events.
type ackTarget struct{ acks []event.Ack }

func (t *ackTarget) WriteAcked(_ context.Context, _ []event.Event, ack event.Ack) error {
	t.acks = append(t.acks, ack)
	return nil
}

// TestGuardFlushed: after 2 events are handed on from the spool (with an acknowledgement),
// Flushed waits until the writer acknowledges 2: not after 1 (a Flushed under an ended
// context fails), and events handed later do not hold it. The spool's own acknowledgement
// gets every count: 1 + 1 + 1 = 3.
func TestGuardFlushed(t *testing.T) {
	tg := &ackTarget{}
	g, err := NewGuard(tg, GuardConfig{})
	if err != nil {
		t.Fatal(err)
	}
	g.Set(nil)
	var spooled int
	var mu sync.Mutex
	seg := ackFunc(func(n int) { mu.Lock(); spooled += n; mu.Unlock() })
	ctx := context.Background()
	if err := g.WriteAcked(ctx, []event.Event{{ID: "1"}, {ID: "2"}}, seg); err != nil {
		t.Fatal(err)
	}
	flushed := make(chan error, 1)
	go func() { flushed <- g.Flushed(ctx) }()
	tg.acks[0].Stored(1)
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if err := g.Flushed(ended); err == nil {
		t.Fatal("Flushed returned with 1 of 2 events stored")
	}
	if err := g.WriteAcked(ctx, []event.Event{{ID: "3"}}, seg); err != nil {
		t.Fatal(err)
	}
	tg.acks[1].Stored(1)
	tg.acks[0].Stored(1)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if spooled != 3 {
		t.Errorf("the spool was acknowledged %d events, want 3", spooled)
	}
}
