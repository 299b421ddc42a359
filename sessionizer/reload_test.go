package sessionizer_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sessionizer"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/store/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// node is one journeyd process's sessionizer writing into ClickHouse, with its own clock.
type node struct {
	s   *sessionizer.Sessionizer
	now time.Time
	reg *prometheus.Registry
}

func start(t *testing.T, conn driver.Conn, now time.Time) *node {
	t.Helper()
	n := &node{now: now, reg: prometheus.NewRegistry()}
	sink := event.SinkFunc(func(_ context.Context, es []event.Event) error {
		journeytest.Insert(t, conn, es)
		return nil
	})
	s, err := sessionizer.New(sink, sessionizer.Config{Clock: event.ClockFunc(func() time.Time { return n.now }), Registerer: n.reg})
	if err != nil {
		t.Fatal(err)
	}
	n.s = s
	return n
}

func (n *node) send(t *testing.T, e event.Event) event.Event {
	t.Helper()
	n.now = e.TS
	es := []event.Event{e}
	if err := n.s.Write(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	return es[0]
}

func pageview(id, anon string, ts time.Time) event.Event {
	return event.Event{ID: id, SiteID: "shop", Type: event.TypePageview, AnonID: anon, TS: ts, ReceivedAt: ts, ReferrerKind: "internal"}
}

func TestRestartKeepsSessions(t *testing.T) {
	conn, db := journeytest.Database(t)
	before := start(t, conn, t0)
	landing := pageview("e1", "anon-1", t0)
	landing.Source, landing.Medium, landing.Campaign, landing.Channel, landing.ReferrerKind = "newsletter", "email", "spring", "Email", ""
	first := before.send(t, landing)
	tab := before.send(t, event.Event{ID: "e2", SiteID: "shop", Type: event.TypePageview, AnonID: "anon-2", SessionID: "4711", TS: t0})
	before.send(t, event.Event{ID: "e3", SiteID: "shop", Type: event.TypeIdentify, AnonID: "anon-2", UserID: "user-7", SessionID: "4711", TS: t0.Add(time.Minute)})
	before.send(t, pageview("e4", "gone", t0.Add(-40*time.Minute)))
	// journeyd stops here; five minutes later another one starts and reloads.
	after := start(t, conn, t0.Add(5*time.Minute))
	if err := after.s.Reload(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, after.reg, "journeyd_sessionizer_visitors_reloaded_total"); n != 2 {
		t.Fatalf("reloaded %v visitors, want 2 (anon-1, anon-2; not the idle one)", n)
	}
	next := after.send(t, pageview("e5", "anon-1", t0.Add(5*time.Minute)))
	if next.SessionID != first.SessionID {
		t.Fatalf("after the restart: session %q, want %q", next.SessionID, first.SessionID)
	}
	if next.Campaign != "spring" || next.Channel != "Email" {
		t.Fatalf("after the restart the session's source was lost: %q/%q", next.Campaign, next.Channel)
	}
	paid := after.send(t, event.Event{ID: "e6", SiteID: "shop", Type: event.TypeServer, Name: "order_paid", UserID: "user-7", TS: t0.Add(6 * time.Minute)})
	if paid.SessionID != tab.SessionID {
		t.Fatalf("server event of user-7 after the restart: session %q, want the browser's %q", paid.SessionID, tab.SessionID)
	}
	if anon := after.send(t, pageview("e7", "anon-2", t0.Add(7*time.Minute))); anon.UserID != "user-7" {
		t.Fatalf("anon-2 after the restart: user %q, want the linked user-7", anon.UserID)
	}
}

func TestRestartWithoutReloadSplits(t *testing.T) {
	conn, _ := journeytest.Database(t)
	first := start(t, conn, t0).send(t, pageview("e1", "anon-1", t0))
	next := start(t, conn, t0.Add(5*time.Minute)).send(t, pageview("e2", "anon-1", t0.Add(5*time.Minute)))
	if next.SessionID == first.SessionID {
		t.Fatal("a node without reload continued the session; the restart test above proves nothing")
	}
}

// counter returns the value of the counter name in reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// TestReloadStopsAtTheMemoryBound: five visitors were active, one a minute; the restarted
// node holds three (MemoryLimit of three visitors), so the reload restores the three most
// recent (anon-2, anon-3, anon-4) and stops: 3 reloaded, 3 held. Their sessions continue;
// anon-1, not restored, starts a new one.
func TestReloadStopsAtTheMemoryBound(t *testing.T) {
	conn, db := journeytest.Database(t)
	before := start(t, conn, t0)
	first := map[string]string{}
	for i := 0; i < 5; i++ {
		anon := "anon-" + strconv.Itoa(i)
		e := before.send(t, pageview("b"+strconv.Itoa(i), anon, t0.Add(time.Duration(i)*time.Minute)))
		first[anon] = e.SessionID
	}
	now := t0.Add(10 * time.Minute)
	reg := prometheus.NewRegistry()
	s, err := sessionizer.New(event.SinkFunc(func(_ context.Context, es []event.Event) error {
		journeytest.Insert(t, conn, es)
		return nil
	}), sessionizer.Config{MemoryLimit: 3 * sessionizer.VisitorBytes, Clock: event.ClockFunc(func() time.Time { return now }), Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, reg, "journeyd_sessionizer_visitors_reloaded_total"); n != 3 {
		t.Fatalf("reloaded %v visitors, want 3 (the bound)", n)
	}
	if n := s.Visitors(); n != 3 {
		t.Fatalf("holds %d visitors after the reload, want 3", n)
	}
	after := &node{s: s, now: now, reg: reg}
	for _, anon := range []string{"anon-4", "anon-3", "anon-2"} {
		if e := after.send(t, pageview("a-"+anon, anon, now)); e.SessionID != first[anon] {
			t.Errorf("%s after the restart: session %q, want its restored %q", anon, e.SessionID, first[anon])
		}
	}
	if e := after.send(t, pageview("a-anon-1", "anon-1", now)); e.SessionID == first["anon-1"] {
		t.Errorf("anon-1, older than the bound, continued session %q: it was restored", e.SessionID)
	}
}
