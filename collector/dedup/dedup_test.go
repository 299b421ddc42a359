package dedup

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestSetWindow(t *testing.T) {
	c := &clock{t: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Config{Window: time.Hour, Clock: event.ClockFunc(c.now)})
	k := Key("shop", "m1")
	f := func(advance time.Duration, key uint64, want bool) {
		t.Helper()
		c.t = c.t.Add(advance)
		if got := s.Add(key); got != want {
			t.Fatalf("after %v: Add = %v, want %v", advance, got, want)
		}
	}
	f(0, k, true)
	f(time.Minute, k, false)
	f(59*time.Minute, k, false) // a new generation starts: k moves to the previous one
	f(30*time.Minute, k, false)
	f(31*time.Minute, k, true)    // two generations later k is forgotten, and added again
	f(0, Key("blog", "m1"), true) // same id, other site
	f(5*time.Hour, k, true)       // idle for longer than two windows
}

func TestSetRemove(t *testing.T) {
	s := New(Config{})
	k := Key("shop", "m1")
	if !s.Add(k) {
		t.Fatal("first Add refused")
	}
	s.Remove(k)
	if !s.Add(k) {
		t.Fatal("Add after Remove refused")
	}
}

func TestSetMemoryBound(t *testing.T) {
	c := &clock{t: time.Unix(1e9, 0)}
	reg := prometheus.NewRegistry()
	s := New(Config{Window: time.Hour, Max: 1000, Clock: event.ClockFunc(c.now), Registerer: reg})
	for i := range 10000 {
		s.Add(uint64(i))
		if n := s.Len(); n > 1000 {
			t.Fatalf("after %d ids the set holds %d, more than Max 1000", i+1, n)
		}
	}
	if got := testutil.ToFloat64(s.early); got < 10 {
		t.Fatalf("early rotations = %v, want at least 10", got)
	}
	if s.Add(9999) {
		t.Fatal("the newest id was forgotten")
	}
}

func BenchmarkAdd(b *testing.B) {
	s := New(Config{})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Add(Key("shop", "message"))
		s.Add(uint64(i))
	}
}
