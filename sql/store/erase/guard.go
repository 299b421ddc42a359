package erase

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/event"
)

// Target is where a Guard hands events on: the writer. WriteAcked queues the events, or
// returns event.ErrFull when it has no room, and acknowledges them once stored.
type Target = event.AckSink

// GuardConfig configures a Guard.
type GuardConfig struct {
	// Registerer receives journeyd_erase_dropped_events_total; nil registers none.
	Registerer prometheus.Registerer
}

// Guard stands in front of the writer and keeps erased events out of ClickHouse: an event
// of an erased id (by the same rule as the deletion: its user id, or its anonymous id when
// it has no user id) received before the erasure is dropped, wherever it comes from: the
// spool's replay after a crash, or an event that was on its way while the erasure ran.
// Events received after the erasure are new data and pass.
//
// Until the tombstones are loaded once (Set) the guard is closed: it refuses every event
// with event.ErrFull, so the spool keeps them on disk until the guard knows what was erased.
// journeyd opens it once ClickHouse answers and the schema is migrated: nothing reaches the
// writer before the tables are there. Without a spool, the server API answers 503 until then.
//
// The events it drops are acknowledged as stored, as the writer acknowledges those it
// stores, so that the spool frees them: on a goroutine of its own, since the spool hands
// events on while holding the lock its acknowledgement takes.
//
// A Guard is an event.Sink (for a pipeline without a spool) and an event.AckSink (the
// spool's target). It is safe for concurrent use.
type Guard struct {
	next    Target
	dropped prometheus.Counter

	// handed and stored count the events handed to the target with an acknowledgement and
	// those it acknowledged (Stored), for Flushed.
	handed  atomic.Uint64
	stored  atomic.Uint64
	storeMu sync.Mutex
	moved   chan struct{} // closed, and replaced, when stored moves

	mu   sync.RWMutex
	open bool
	ids  map[idKey]uint64 // erased id -> latest erasure, unix ms
}

type idKey struct{ site, kind, id string }

// NewGuard returns a closed Guard in front of next.
func NewGuard(next Target, cfg GuardConfig) (*Guard, error) {
	g := &Guard{next: next, ids: map[idKey]uint64{}, moved: make(chan struct{}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_erase_dropped_events_total",
			Help: "Events of an erased person, received before the erasure, dropped on their way to ClickHouse (a spool replay, or events in flight during the erasure).",
		}),
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(g.dropped); err != nil {
			return nil, fmt.Errorf("cannot register the erasure guard's metrics: %w", err)
		}
	}
	return g, nil
}

// Set adds tombstones (a later erasure of an id replaces an earlier one), opens the guard,
// and returns the tombstones it did not hold yet: the ids whose links the sessionizer must
// forget.
func (g *Guard) Set(ts []Tombstone) (fresh []Tombstone) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range ts {
		k := idKey{t.Site, t.Kind, t.ID}
		if at, ok := g.ids[k]; !ok || at < t.ErasedMS {
			g.ids[k] = t.ErasedMS
			fresh = append(fresh, t)
		}
	}
	g.open = true
	return fresh
}

// Opened reports whether the tombstones were loaded.
func (g *Guard) Opened() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.open
}

// Write is WriteAcked without an acknowledgement, for a pipeline without a spool.
func (g *Guard) Write(ctx context.Context, events []event.Event) error {
	return g.WriteAcked(ctx, events, nil)
}

// WriteAcked hands the events that are not erased on to the target with ack, and
// acknowledges the dropped ones itself. It returns event.ErrFull, taking none, while the
// guard is closed or the target is full.
func (g *Guard) WriteAcked(ctx context.Context, events []event.Event, ack event.Ack) error {
	g.mu.RLock()
	if !g.open {
		g.mu.RUnlock()
		return event.ErrFull
	}
	first := -1
	if len(g.ids) > 0 {
		for i := range events {
			if g.erased(&events[i]) {
				first = i
				break
			}
		}
	}
	if first < 0 {
		g.mu.RUnlock()
		return g.hand(ctx, events, ack)
	}
	kept := make([]event.Event, first, len(events))
	copy(kept, events[:first])
	for i := first + 1; i < len(events); i++ {
		if !g.erased(&events[i]) {
			kept = append(kept, events[i])
		}
	}
	g.mu.RUnlock()
	if len(kept) > 0 {
		if err := g.hand(ctx, kept, ack); err != nil {
			return err
		}
	}
	n := len(events) - len(kept)
	g.dropped.Add(float64(n))
	if ack != nil {
		go ack.Stored(n)
	}
	return nil
}

// hand gives events to the target, counting those that come with an acknowledgement and
// their acknowledgement.
func (g *Guard) hand(ctx context.Context, events []event.Event, ack event.Ack) error {
	if ack == nil {
		return g.next.WriteAcked(ctx, events, nil)
	}
	if err := g.next.WriteAcked(ctx, events, countedAck{g, ack}); err != nil {
		return err
	}
	g.handed.Add(uint64(len(events)))
	return nil
}

// countedAck passes the target's acknowledgement on and counts it in the guard.
type countedAck struct {
	g   *Guard
	ack event.Ack
}

func (c countedAck) Stored(n int) {
	c.ack.Stored(n)
	c.g.Stored(n)
}

// Stored counts n events acknowledged as stored; the guard calls it for the events it
// hands on with an acknowledgement.
func (g *Guard) Stored(n int) {
	g.stored.Add(uint64(n))
	g.storeMu.Lock()
	close(g.moved)
	g.moved = make(chan struct{})
	g.storeMu.Unlock()
}

// Flushed returns once the target has acknowledged as many events as the guard had handed
// it with an acknowledgement (from the spool) when Flushed was called, or ctx ends. After
// Set, it waits out the events that passed before the tombstones did (they were in the
// writer's queue), so that a deletion run afterwards finds them in ClickHouse. The writer
// stores in about the order it gets events; two inserts that finish out of order can end
// the wait early by one batch. Events handed without an acknowledgement are not waited for.
func (g *Guard) Flushed(ctx context.Context) error {
	want := g.handed.Load()
	for {
		g.storeMu.Lock()
		moved := g.moved
		g.storeMu.Unlock()
		if g.stored.Load() >= want {
			return nil
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return fmt.Errorf("cannot wait for the writer to store the %d events it held: %w", want-g.stored.Load(), ctx.Err())
		}
	}
}

// Erased reports whether e is an event of an erased id received before its erasure: what
// the guard drops. For tools that put stored events back (journeyd replay).
func (g *Guard) Erased(e *event.Event) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.erased(e)
}

// erased is Erased with g.mu held.
func (g *Guard) erased(e *event.Event) bool {
	k := idKey{e.SiteID, KindAnon, e.AnonID}
	if e.UserID != "" {
		k = idKey{e.SiteID, KindUser, e.UserID}
	} else if e.AnonID == "" {
		return false
	}
	at, ok := g.ids[k]
	return ok && e.ReceivedAt.UnixMilli() <= int64(at)
}
