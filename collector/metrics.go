package collector

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// metrics are the collector's counters, by endpoint.
type metrics struct {
	requests, received, accepted, rejected *prometheus.CounterVec

	mu        sync.Mutex
	endpoints map[string]*Endpoint
	other     *Endpoint // requests no route serves
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_collector_requests_total",
			Help: "HTTP requests answered, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_collector_received_total",
			Help: "Events received, by endpoint: accepted plus rejected.",
		}, []string{"endpoint"}),
		accepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_collector_accepted_total",
			Help: "Events handed to the pipeline, by endpoint.",
		}, []string{"endpoint"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "journeyd_collector_rejected_total",
			Help: "Events or requests refused, by endpoint and reason.",
		}, []string{"endpoint", "reason"}),
		endpoints: make(map[string]*Endpoint),
	}
	for _, c := range []prometheus.Collector{m.requests, m.received, m.accepted, m.rejected} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("cannot register collector metrics: %w", err)
		}
	}
	m.other = m.endpoint("other")
	return m, nil
}

// endpoint returns the counters of endpoint name, creating them once.
func (m *metrics) endpoint(name string) *Endpoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ep, ok := m.endpoints[name]; ok {
		return ep
	}
	ep := &Endpoint{
		name: name, m: m,
		received: m.received.WithLabelValues(name),
		accepted: m.accepted.WithLabelValues(name),
	}
	// The series a dashboard draws start at 0 rather than appear at their first request:
	// answers 200, and "full", the refusal every endpoint that takes events can give.
	m.requests.WithLabelValues(name, "200")
	m.rejected.WithLabelValues(name, "full")
	m.endpoints[name] = ep
	return ep
}

// Endpoint holds the counters of one endpoint (a route, or "other"), resolved once so that
// counting does not look labels up on the hot path. Handle returns the Endpoint of a route:
// its handler passes it to Ingest and counts its own refusals with Reject.
type Endpoint struct {
	name               string
	m                  *metrics
	received, accepted prometheus.Counter
	codes              [600]atomic.Pointer[prometheus.Counter]
}

// countCode counts an answer with status code.
func (ep *Endpoint) countCode(code int) {
	if code < 100 || code >= len(ep.codes) {
		ep.m.requests.WithLabelValues(ep.name, strconv.Itoa(code)).Inc()
		return
	}
	c := ep.codes[code].Load()
	if c == nil {
		counter := ep.m.requests.WithLabelValues(ep.name, strconv.Itoa(code))
		c = &counter
		ep.codes[code].Store(c)
	}
	(*c).Inc()
}

// accept counts n events handed to the pipeline.
func (ep *Endpoint) accept(n int) {
	ep.received.Add(float64(n))
	ep.accepted.Add(float64(n))
}

// Reject counts n events (or, for a request refused as a whole, 1) of the endpoint as
// refused for reason, in journeyd_collector_rejected_total{endpoint,reason}.
func (ep *Endpoint) Reject(reason string, n int) {
	if n <= 0 {
		return
	}
	ep.received.Add(float64(n))
	ep.m.rejected.WithLabelValues(ep.name, reason).Add(float64(n))
}

// isBodyTooLarge, isSmallBuffer and isTimeout classify the errors fasthttp reports while
// reading a request.
func isBodyTooLarge(err error) bool { return errors.Is(err, fasthttp.ErrBodyTooLarge) }

func isSmallBuffer(err error) bool {
	var small *fasthttp.ErrSmallBuffer
	return errors.As(err, &small) || errors.Is(err, fasthttp.ErrSmallReadBuffer)
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
