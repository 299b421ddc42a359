package collector

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// Write keys of the test sites.
const (
	shopKey = "shop-write-key-1"
	blogKey = "blog-write-key-1"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// recordingSink is the next pipeline stage as the collector sees it: it keeps what it is
// given, or refuses with err.
type recordingSink struct {
	mu     sync.Mutex
	events []event.Event
	err    error
}

func (r *recordingSink) Write(_ context.Context, evs []event.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.events = append(r.events, evs...)
	return nil
}

func (r *recordingSink) setErr(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
}

func (r *recordingSink) take() []event.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

// harness is a Server on a loopback port with a recording sink and a fixed clock.
type harness struct {
	t      *testing.T
	srv    *Server
	sink   *recordingSink
	reg    *prometheus.Registry
	client *fasthttp.HostClient
	now    time.Time
	mu     sync.Mutex
}

func testSites(t testing.TB) *site.Registry {
	t.Helper()
	reg, err := site.NewRegistry([]site.Site{
		{ID: "shop", Origins: []string{"https://shop.example"}, WriteKeys: []string{shopKey}, RespectDNT: true},
		{ID: "blog", WriteKeys: []string{blogKey}, Cookieless: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, sink: &recordingSink{}, reg: prometheus.NewRegistry(), now: testNow}
	cfg := Config{
		Sites: testSites(t), Sink: h.sink, Registerer: h.reg, Clock: event.ClockFunc(h.clock),
		CookielessSecret: []byte("test secret"),
	}
	for _, m := range mods {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	addr := strings.TrimPrefix(serveLoopback(t, srv), "http://")
	h.client = &fasthttp.HostClient{Addr: addr}
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// do sends a request; headers are name, value pairs.
func (h *harness) do(method, uri string, body []byte, headers ...string) *fasthttp.Response {
	h.t.Helper()
	req := fasthttp.AcquireRequest()
	defer fasthttp.ReleaseRequest(req)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://journeyd" + uri)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if body != nil {
		req.SetBody(body)
	}
	resp := &fasthttp.Response{}
	if err := h.client.DoTimeout(req, resp, 10*time.Second); err != nil {
		h.t.Fatalf("%s %s: %v", method, uri, err)
	}
	return resp
}

// counter returns the value of a collector counter.
func (h *harness) counter(vec func(*metrics) *prometheus.CounterVec, labels ...string) float64 {
	return testutil.ToFloat64(vec(h.srv.metrics).WithLabelValues(labels...))
}

func rejected(m *metrics) *prometheus.CounterVec { return m.rejected }
func accepted(m *metrics) *prometheus.CounterVec { return m.accepted }
func received(m *metrics) *prometheus.CounterVec { return m.received }
