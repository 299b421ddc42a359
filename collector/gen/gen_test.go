package gen

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/event"
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
		if ids[e.ID] || e.ID == "" || e.AnonID == "" || e.SiteID != "demo" {
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

// TestSenderPostsSegmentBatches sends through a real HTTP server and checks what arrives.
func TestSenderPostsSegmentBatches(t *testing.T) {
	out := generate(t, "email-chain", 1, 60)
	var mu sync.Mutex
	var got []message
	var sentAt []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, ok := r.BasicAuth()
		if r.URL.Path != "/v1/batch" || !ok || user != "wk-12345678" {
			http.Error(w, "bad request", http.StatusUnauthorized)
			return
		}
		var b batch
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &b); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got, sentAt = append(got, b.Batch...), append(sentAt, b.SentAt)
		mu.Unlock()
	}))
	defer srv.Close()
	s := &Sender{Target: srv.URL, WriteKey: "wk-12345678", Now: func() time.Time { return now }}
	if err := s.Send(context.Background(), out.Events); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(out.Events) || len(sentAt) != (len(out.Events)+BatchSize-1)/BatchSize {
		t.Fatalf("got %d messages in %d batches, want %d", len(got), len(sentAt), len(out.Events))
	}
	types := map[string]int{}
	for i, m := range got {
		types[m.Type+":"+m.Event]++
		if ts, _ := time.Parse(time.RFC3339Nano, m.Timestamp); !ts.Equal(out.Events[i].TS) || m.MessageID != out.Events[i].ID {
			t.Fatalf("message %d = %+v, want the event's id and time %v", i, m, out.Events[i].TS)
		}
	}
	if types["page:"] == 0 || types["identify:"] == 0 || types["track:email_open"] == 0 || types["track:add_to_cart"] == 0 {
		t.Fatalf("message kinds %v: want pages, identifies, email opens and tracks", types)
	}
	if sentAt[0] != now.Format(time.RFC3339Nano) {
		t.Fatalf("sentAt = %s, want the injected now", sentAt[0])
	}
	s.WriteKey = "wrong-key"
	if err := s.Send(context.Background(), out.Events[:1]); err == nil {
		t.Fatal("Send with a wrong key = nil error, want the collector's 401")
	}
}
