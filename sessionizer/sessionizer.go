// Package sessionizer assigns a session to every event and links anonymous ids to user ids.
// It sits between the collector and the writer: a Sessionizer is an event.Sink that places
// each event and hands the batch on to the next Sink.
//
// Sessions (DESIGN §6). A session ends after Config.Timeout without events (30 minutes),
// lasts at most Config.MaxLength (24 hours), and a new one starts when the visitor arrives
// from a different campaign or external source: utm values, a click id, or a referrer from
// another site. Internal navigation and returns to the tab (no source at all, or the
// "(direct)" source enrichment gives them) never start one.
//
// Only a visit (event.Visit: a pageview, screen, browser event or email click landing) starts,
// extends or re-sources a session. Everything else (server events, identify, alias, group,
// email opens, ad impressions) joins the visitor's open session when it falls inside it, or,
// for an event with a user id alone, the open session of the device last linked to that
// user; otherwise it stays outside any session, with no session id, and the reports never
// count it as a visit or a touchpoint.
//
// Browser events carry the snippet's own session id, made by the same rules; it is accepted
// as is, except that the snippet leaves the 24-hour cut to the sessionizer: a snippet session
// longer than MaxLength continues as id.1, id.2, .... Visits without one (pixels, email
// landings, Segment page and screen calls) get one here: the open session of the visitor
// when the event falls inside it, else a new one. Every decision is made by event time, not
// arrival time, so late and out-of-order events are placed where they belong.
//
// Session-scoped source (as GA4 does): an event of a session that carries no source of its
// own (an internal pageview, a server event) gets the session's channel, source, medium,
// campaign, term and content, so a query on any event sees the session's source.
//
// Session ids made here are deterministic: a hash of site, visitor and the session's first
// event time, so two nodes that see the same events agree. Decisions by event time have
// limits that are documented rather than hidden: an event older than the visitor's open
// session (by more than Timeout) gets a session of its own and leaves the state alone; an
// out-of-order event inside the open session joins it even when it carries a new source
// (what was written cannot be split afterwards); and the first link wins by arrival here but
// by event time in ClickHouse, which differ only when two links of one anonymous id arrive
// out of order.
//
// Performance (BenchmarkSessionize, BenchmarkMemoryPerVisitor; run with -cpu 1): a few
// million events a second on one core without allocating, and about 170 bytes per visitor.
//
// Identity: an event with both an anonymous id and a user id links the two. The first user
// id linked to an anonymous id wins; a later, different one is a conflict: counted in
// journeyd_sessionizer_identity_conflicts_total and not applied (the event keeps its own
// user id, the visitor keeps the first). The links are stored durably by a materialized view
// from events into identities (sql/store/schema migrations 0013-0015), which applies the same
// first-link-wins rule. Here, later events of a linked anonymous id without a user id get
// the linked one, and server events that carry only a user id join the open session of the
// device last linked to that user.
//
// State is bounded: Config.MemoryLimit caps the visitors held; the least recently seen
// visitor is evicted first, and visitors idle for longer than Timeout (by the injected
// clock) are dropped. On start, Reload restores the visitors active within Timeout from
// ClickHouse, the most recent first and no more than MemoryLimit holds, so a restart does
// not split sessions; journeyd runs it in the background while it already serves. Forget
// drops the state of erased ids (journeyd erase), so an erased link does not come back.
//
// The package does not parse requests (collector/) nor write rows (sql/store/writer).
package sessionizer

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/event"
)

// Defaults of Config.
const (
	DefaultTimeout     = 30 * time.Minute
	DefaultMaxLength   = 24 * time.Hour
	DefaultMemoryLimit = 256 << 20
	// VisitorBytes is the memory budget of one visitor, used to turn Config.MemoryLimit into
	// a number of visitors. BenchmarkMemoryPerVisitor measures the real figure (about 170).
	VisitorBytes = 256
)

// Config configures a Sessionizer. The zero value of each field means its default.
type Config struct {
	// Timeout is the idle gap that ends a session (default 30 minutes).
	Timeout time.Duration
	// MaxLength is the longest a session may last (default 24 hours).
	MaxLength time.Duration
	// MemoryLimit bounds the visitor state, in bytes (default 256 MiB); each visitor is
	// budgeted VisitorBytes.
	MemoryLimit int64
	// Clock gives the current time (default event.SystemClock). It only ages the state
	// out: sessions are decided by event time.
	Clock event.Clock
	// Registerer receives the journeyd_sessionizer_* metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Sessionizer places events into sessions and hands them on to the next Sink. It is safe
// for concurrent use.
type Sessionizer struct {
	next      event.Sink
	clock     func() time.Time
	timeoutMS int64
	maxLenMS  int64
	seed      maphash.Seed
	m         *metrics

	mu      sync.Mutex
	table   *table
	sources *interner
}

// New returns a Sessionizer that writes to next.
func New(next event.Sink, cfg Config) (*Sessionizer, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxLength == 0 {
		cfg.MaxLength = DefaultMaxLength
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.Clock == nil {
		cfg.Clock = event.SystemClock
	}
	if cfg.Timeout < time.Second || cfg.MaxLength < cfg.Timeout {
		return nil, fmt.Errorf("cannot create sessionizer: timeout %s must be at least 1s and at most the max length %s", cfg.Timeout, cfg.MaxLength)
	}
	if cfg.MemoryLimit < VisitorBytes {
		return nil, fmt.Errorf("cannot create sessionizer: memory limit %d is below one visitor (%d bytes)", cfg.MemoryLimit, VisitorBytes)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Sessionizer{
		next:      next,
		clock:     cfg.Clock.Now,
		timeoutMS: cfg.Timeout.Milliseconds(),
		maxLenMS:  cfg.MaxLength.Milliseconds(),
		seed:      maphash.MakeSeed(),
		m:         m,
		table:     newTable(int(cfg.MemoryLimit / VisitorBytes)),
		sources:   newInterner(internLimit),
	}, nil
}

// Write places every event (setting SessionID, and filling the session's source and the
// linked user id where the event has none) and then writes the batch to the next Sink.
func (s *Sessionizer) Write(ctx context.Context, events []event.Event) error {
	now := s.clock().UnixMilli()
	s.mu.Lock()
	for i := range events {
		s.place(&events[i], now)
	}
	s.expire(now)
	n := s.table.len()
	s.mu.Unlock()
	s.m.visitors.Set(float64(n))
	if err := s.next.Write(ctx, events); err != nil {
		if errors.Is(err, event.ErrFull) {
			return err // says it all, and comes often under overload: not worth formatting
		}
		return fmt.Errorf("cannot pass %d sessionized events on: %w", len(events), err)
	}
	return nil
}

// Visitors returns the number of visitors held.
func (s *Sessionizer) Visitors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.table.len()
}

// expire drops the visitors not seen for Timeout by the clock.
func (s *Sessionizer) expire(now int64) {
	for {
		v := s.table.oldest()
		if v == nil || now-v.seen <= s.timeoutMS {
			return
		}
		s.table.remove(v)
		s.m.evictions.WithLabelValues("idle").Inc()
	}
}
