// Package dedup remembers the ids of recently accepted events, so that an event sent twice
// (a Segment SDK retrying a batch whose answer it lost, a beacon sent again) is dropped the
// second time. It owns only that memory: which ids count as the same event is the caller's
// choice (the collector keys them by site and messageId).
//
// The set is time-windowed and memory-bounded. Ids live in two generations: new ids go into
// the current one; when the current generation is older than the window, or holds half the
// maximum number of ids, it becomes the previous generation and the old previous one is
// forgotten. An id is therefore remembered for at least Window and at most twice Window, or
// for less under a flood of more than Max/2 ids per window (counted in
// journeyd_dedup_early_rotations_total). Ids are stored as 64-bit hashes (8 bytes of key plus
// map overhead, about 40 bytes an id): two different ids collide with a probability of
// about n²/2⁶⁵, one in 10⁷ at a million ids, and a collision drops an event as a duplicate.
package dedup

import (
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/event"
)

// Defaults of Config.
const (
	DefaultWindow = 24 * time.Hour
	DefaultMax    = 1 << 20
)

// Config configures a Set.
type Config struct {
	// Window is how long an id is remembered, at least; DefaultWindow when zero.
	Window time.Duration
	// Max is the number of ids remembered, at most; DefaultMax when zero.
	Max int
	// Clock ages the ids out; event.SystemClock when nil.
	Clock event.Clock
	// Registerer receives the set's metrics; none are registered when nil.
	Registerer prometheus.Registerer
}

// Set is a bounded, time-windowed set of event ids. It is safe for concurrent use.
type Set struct {
	window time.Duration
	maxGen int
	now    func() time.Time

	mu        sync.Mutex
	cur, prev map[uint64]struct{}
	curStart  time.Time

	early prometheus.Counter
	size  prometheus.GaugeFunc
}

// New returns an empty Set.
func New(cfg Config) *Set {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	if cfg.Clock == nil {
		cfg.Clock = event.SystemClock
	}
	s := &Set{
		window: cfg.Window, maxGen: max(cfg.Max/2, 1), now: cfg.Clock.Now,
		cur: make(map[uint64]struct{}), prev: make(map[uint64]struct{}),
		curStart: cfg.Clock.Now(),
		early: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "journeyd_dedup_early_rotations_total",
			Help: "Times the deduplication set forgot ids before their window ended because it was full.",
		}),
	}
	s.size = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "journeyd_dedup_ids",
		Help: "Event ids the deduplication set remembers now.",
	}, func() float64 { return float64(s.Len()) })
	if cfg.Registerer != nil {
		cfg.Registerer.MustRegister(s.early, s.size)
	}
	return s
}

// Key is the key of event id within scope (a site id): a 64-bit hash. It does not allocate.
func Key(scope, id string) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(scope)
	_, _ = d.Write([]byte{0})
	_, _ = d.WriteString(id)
	return d.Sum64()
}

// Add records key and reports whether it was new. False means key was seen within the
// window: the event is a duplicate.
func (s *Set) Add(key uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotate()
	if _, ok := s.cur[key]; ok {
		return false
	}
	if _, ok := s.prev[key]; ok {
		return false
	}
	s.cur[key] = struct{}{}
	return true
}

// Remove forgets key, so that a later Add of it succeeds. The collector calls it when the
// next stage refused events it had already recorded, so that the client's retry goes through.
func (s *Set) Remove(key uint64) {
	s.mu.Lock()
	delete(s.cur, key)
	delete(s.prev, key)
	s.mu.Unlock()
}

// Len returns the number of ids remembered.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cur) + len(s.prev)
}

// rotate starts a new generation when the current one is old or full. s.mu is held.
func (s *Set) rotate() {
	now := s.now()
	age := now.Sub(s.curStart)
	full := len(s.cur) >= s.maxGen
	if age < s.window && !full {
		return
	}
	if full && age < s.window {
		s.early.Inc()
	}
	if age >= 2*s.window { // idle for two windows: both generations have expired
		clear(s.cur)
	}
	s.prev, s.cur = s.cur, s.prev
	clear(s.cur)
	s.curStart = now
}
