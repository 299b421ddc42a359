package sessionizer

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
)

var discard = event.SinkFunc(func(context.Context, []event.Event) error { return nil })

// visitorEvents returns n events of visitors distinct visitors, a second apart, a tenth of
// them from a campaign and a tenth identified, as the collector would hand them on.
func visitorEvents(n, visitors int) []event.Event {
	anon := make([]string, visitors)
	for i := range anon {
		anon[i] = fmt.Sprintf("%016x", uint64(i)*0x9e3779b97f4a7c15)
	}
	es := make([]event.Event, n)
	for i := range es {
		e := &es[i]
		v := (i * 7919) % visitors
		*e = event.Event{ID: fmt.Sprint(i), SiteID: "shop", Type: event.TypePageview, AnonID: anon[v], TS: t0.Add(time.Duration(i) * time.Millisecond)}
		switch v % 10 {
		case 0:
			e.Source, e.Medium, e.Campaign, e.Channel = "newsletter", "email", "spring", "Email"
		case 1:
			e.UserID = "user-" + anon[v]
		}
	}
	return es
}

// BenchmarkSessionize measures the sessionizer step alone on one goroutine, in batches of
// 100 as the collector hands them on, over 100 000 active visitors.
func BenchmarkSessionize(b *testing.B) {
	es := visitorEvents(1<<20, 100_000)
	now := t0
	s, err := New(discard, Config{Clock: event.ClockFunc(func() time.Time { return now })})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 100 {
		at := i % len(es)
		batch := es[at:min(at+100, len(es))]
		for j := range batch {
			batch[j].SessionID = ""
		}
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkMemoryPerVisitor reports the heap held per active visitor.
func BenchmarkMemoryPerVisitor(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.ReportMetric(bytesPerVisitor(b, 1<<20), "bytes/visitor")
	}
}

// TestMemoryPerVisitor pins the budget of VisitorBytes.
func TestMemoryPerVisitor(t *testing.T) {
	if got := bytesPerVisitor(t, 200_000); got > VisitorBytes {
		t.Fatalf("%.0f bytes per visitor, budget %d", got, VisitorBytes)
	} else {
		t.Logf("%.0f bytes per visitor", got)
	}
}

func bytesPerVisitor(tb testing.TB, visitors int) float64 {
	tb.Helper()
	es := visitorEvents(visitors, visitors)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := New(discard, Config{Clock: event.ClockFunc(func() time.Time { return t0 }), MemoryLimit: 1 << 40})
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < len(es); i += 100 {
		if err := s.Write(context.Background(), es[i:min(i+100, len(es))]); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(es) // the events are the writer's, not the sessionizer's
	if s.Visitors() != visitors {
		tb.Fatalf("holds %d visitors, want %d", s.Visitors(), visitors)
	}
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(visitors)
}
