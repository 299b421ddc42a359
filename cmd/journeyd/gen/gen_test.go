package gen

import (
	"context"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func generate(t *testing.T, name string, seed uint64, people int) *Output {
	t.Helper()
	out, err := Generate(name, Options{Seed: seed, People: people, Site: "demo", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeterministicPerSeed(t *testing.T) {
	for _, name := range Scenarios() {
		a, b, c := generate(t, name, 7, 200), generate(t, name, 7, 200), generate(t, name, 8, 200)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: two runs with seed 7 differ", name)
		}
		if reflect.DeepEqual(a.Events, c.Events) {
			t.Fatalf("%s: seeds 7 and 8 gave the same events", name)
		}
		checkEvents(t, name, a.Events)
	}
}

func checkEvents(t *testing.T, name string, events []event.Event) {
	t.Helper()
	ids := map[string]bool{}
	first, last := events[0].TS, events[len(events)-1].TS
	if last.Sub(first) < 5*24*time.Hour || !last.Before(now.Add(time.Hour)) {
		t.Fatalf("%s: events span %v..%v; want several days in the past", name, first, last)
	}
	for i, e := range events {
		if ids[e.ID] || e.ID == "" || e.AnonID == "" && e.UserID == "" || e.SiteID != "demo" {
			t.Fatalf("%s: event %d has a duplicate or empty id: %+v", name, i, e)
		}
		ids[e.ID] = true
		if i > 0 && e.TS.Before(events[i-1].TS) {
			t.Fatalf("%s: events out of time order at %d", name, i)
		}
	}
}

// TestShopTruth recounts the shop's funnel from its events and compares with the truth,
// and the truth's rates with the planted ones.
func TestShopTruth(t *testing.T) {
	out := generate(t, "shop", 3, 4000)
	reached := map[string]map[string]int{} // person -> step -> 1
	device := map[string]string{}
	for _, e := range out.Events {
		step := ""
		switch {
		case e.Type == event.TypePageview && len(e.Path) > 9 && e.Path[:9] == "/product/":
			step = "1"
		case e.Name == "add_to_cart", e.Name == "checkout", e.Name == "purchase":
			step = e.Name
		}
		if reached[e.AnonID] == nil {
			reached[e.AnonID] = map[string]int{}
		}
		reached[e.AnonID][step] = 1
		device[e.AnonID] = e.Device
	}
	entered := out.Truth["entered"].(map[string][]int)
	for _, dev := range []string{"desktop", "mobile"} {
		counts := make([]int, 4)
		for p, r := range reached {
			if device[p] == dev {
				for k, s := range []string{"1", "add_to_cart", "checkout", "purchase"} {
					counts[k] += r[s]
				}
			}
		}
		if !reflect.DeepEqual(counts, entered[dev]) {
			t.Fatalf("%s: events give %v, truth says %v", dev, counts, entered[dev])
		}
	}
	m := entered["mobile"]
	if rate := float64(m[3]) / float64(m[2]); rate < 0.18 || rate > 0.32 {
		t.Fatalf("mobile checkout-to-purchase rate %.2f is far from the planted 0.25", rate)
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := Generate("mall", Options{}); err == nil {
		t.Fatal("Generate(mall) = nil error")
	}
}

// TestSenderThroughCollector sends a scenario through the real collector (snippet
// batches, pixels, the server API) and checks that every event arrives with its id, type,
// name, visitor and past time.
func TestSenderThroughCollector(t *testing.T) {
	out := generate(t, "b2b", 1, 40)
	web := generate(t, "webinar", 1, 60)
	out.Events = append(out.Events, web.Events...)
	sink := &recordingSink{}
	sites, err := site.NewRegistry([]site.Site{{ID: "demo", Origins: []string{"https://demo.example"}, WriteKeys: []string{"demo-write-key"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := collector.New(collector.Config{Sites: sites, Sink: sink, Registerer: prometheus.NewRegistry(),
		Clock: event.ClockFunc(func() time.Time { return now }), CookielessSecret: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // returns at Shutdown
	defer srv.Shutdown(context.Background())
	s := &Sender{Target: "http://" + ln.Addr().String(), WriteKey: "demo-write-key", Now: func() time.Time { return now }}
	if err := s.Send(context.Background(), out.Events); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range out.Events {
		kinds[e.Type] = true
	}
	if !kinds[event.TypeServer] || !kinds[event.TypeEmailOpen] || !kinds[event.TypeIdentify] || !kinds[event.TypePageview] {
		t.Fatalf("the scenarios sent only %v; want server events, email opens, identifies and page views", kinds)
	}
	got := map[string]event.Event{}
	for _, e := range sink.all() {
		got[e.ID] = e
	}
	for _, want := range out.Events {
		e, ok := got[want.ID]
		if !ok {
			t.Fatalf("event %s (%s %s) did not arrive; %d of %d did", want.ID, want.Type, want.Name, len(got), len(out.Events))
		}
		if e.Type != want.Type || e.Name != want.Name && want.Type != event.TypePageview || e.AnonID != want.AnonID ||
			!e.TS.Equal(want.TS) || e.UserID != want.UserID && want.UserID != "" {
			t.Fatalf("event %s arrived as\n%+v\nwant\n%+v", want.ID, e, want)
		}
	}
	s.WriteKey = "wrong-key-1"
	var server []event.Event
	for _, e := range out.Events {
		if e.Type == event.TypeServer {
			server = append(server, e)
		}
	}
	if err := s.Send(context.Background(), server[:1]); err == nil {
		t.Fatal("Send with a wrong write key = nil error, want the collector's 401")
	}
}

type recordingSink struct {
	mu     sync.Mutex
	events []event.Event
}

func (r *recordingSink) Write(_ context.Context, evs []event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, evs...)
	return nil
}

func (r *recordingSink) all() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event.Event(nil), r.events...)
}
