// Package collector is journeyd's HTTP server: the fasthttp server, its routing, and the
// ingestion endpoints of DESIGN §3 — the tracking pixel (GET /p.gif, /p), the snippet's
// batches (POST /e), the Segment HTTP Tracking API (POST /v1/...), the drop-ins for the
// browser trackers sites already run (Segment's analytics.js, RudderStack's JS SDK and the
// Snowplow tracker protocol: browsersdk.go, snowplow.go), and /healthz, /readyz, /metrics.
// It turns requests into events (with the parsers of collector/pixel, collector/beacon,
// collector/segment and collector/snowplow), checks sites, origins and write keys, drops
// duplicates (collector/dedup), runs the enrichment chain and hands the events to the next
// stage, an event.Sink. Other endpoints (/o/ and /r/ email links, /t.js, /api/v1/,
// /dashboard/) are added by their owners through Handle, and reuse Ingest.
//
// Answers, by endpoint:
//   - the pixel always answers 200 with a 43-byte transparent GIF and Cache-Control:
//     no-store; a rejection (missing or unknown site, a type a pixel may not send, Do Not
//     Track when the site respects it, a duplicate id, a full pipeline) is counted in
//     journeyd_collector_rejected_total{endpoint="pixel",reason} and named in the response
//     header X-Journeyd-Reject. A request whose headers exceed Limits.MaxHeaderBytes is
//     refused by fasthttp with 431 before any handler runs, pixel or not.
//   - POST /e answers 204; 400 for a malformed batch or an unknown site, with what is
//     wrong; 403 for an origin the site does not allow; 413 for a body over the limit; 503
//     with Retry-After when the pipeline is full. Do Not Track and duplicates are dropped
//     silently (counted). OPTIONS answers the CORS preflight.
//   - the Segment API answers 200 {"success":true}; 400 {"success":false,"message":...};
//     401 for a missing or unknown write key; 413 for a body over 500 KB (after gzip
//     decompression, which stops at the limit) or a single call over 32 KB; 503 with
//     Retry-After: 5 when the sink returns event.ErrFull. A bad, oversize or duplicate
//     message inside a batch is dropped and counted; the rest is accepted. Server events
//     are located only by their context.ip: the address of the backend that posts them is
//     not the customer's.
//
// Metrics: journeyd_collector_requests_total{endpoint,code} counts answers;
// journeyd_collector_received_total{endpoint} counts events, and is the sum of
// journeyd_collector_accepted_total{endpoint} (handed to the sink) and
// journeyd_collector_rejected_total{endpoint,reason} (refused, with the reason; requests
// refused as a whole count once). Endpoints are pixel, beacon, segment_<call>, healthz,
// readyz, metrics, the names of routes added with Handle, and other.
//
// Invalid UTF-8 in any field is replaced by U+FFFD and over-long strings are truncated
// (event.Normalize), never rejected. An event that comes with neither an anonymous nor a
// user id gets a cookieless anonymous id: a hash of a daily salt, the site, the client
// address and the user agent (see Config.CookielessSecret).
package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/dedup"
	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// Config is what a Server needs. Sites and Sink are required.
type Config struct {
	Sites    *site.Registry
	Sink     event.Sink  // the next stage; it takes ownership of the events it is given
	Enricher enrich.Step // may be nil: events are then stored as parsed
	// Registerer receives the collector's metrics and Gatherer serves /metrics. When both
	// are nil a private registry does both; when only Registerer is set and it is a
	// Gatherer too (a *prometheus.Registry), it serves /metrics.
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	Logger     *slog.Logger                // slog.Default() when nil
	Clock      event.Clock                 // the time of arrival and the dedup window; event.SystemClock when nil
	Ready      func(context.Context) error // /readyz: nil means always ready
	// Dedup remembers event ids to drop duplicates; a default set (24 h, 1M ids) when nil.
	Dedup *dedup.Set
	// ClientIP returns the client address of a request, for cookieless anonymous ids; the
	// wiring passes the enrichment chain's clientip.Resolver.Resolve. When nil: the
	// address the sender vouches for, else the socket peer.
	ClientIP func(*enrich.Request) netip.Addr
	// CookielessSecret keys the daily salt of cookieless anonymous ids, so that every node
	// derives the same id for a visitor. When empty a random secret is drawn at start, and
	// the ids of a visitor change when the process restarts.
	CookielessSecret []byte
	Limits           Limits
}

// Limits bound what one request may cost. Zero fields take the defaults.
type Limits struct {
	// MaxHeaderBytes bounds the request line and headers; default 16 KB.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a body after decompression; default 500 KB. A body over twice
	// this is cut off by fasthttp while reading, with a bare 413 and a closed connection.
	MaxBodyBytes int
	ReadTimeout  time.Duration // default 10 s
	WriteTimeout time.Duration // default 10 s
	IdleTimeout  time.Duration // keep-alive; default 60 s
	Concurrency  int           // connections served at once; default fasthttp's 256 K
}

func (l *Limits) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxHeaderBytes, 16<<10)
	def(&l.MaxBodyBytes, 500<<10)
	defDur(&l.ReadTimeout, 10*time.Second)
	defDur(&l.WriteTimeout, 10*time.Second)
	defDur(&l.IdleTimeout, 60*time.Second)
}

// Server is the collector's HTTP server. Routes are added with Handle before serving.
type Server struct {
	sites    *site.Registry
	sink     event.Sink
	enricher enrich.Step
	log      *rateLog
	now      func() time.Time
	ready    func(context.Context) error
	dedup    *dedup.Set
	clientIP func(*enrich.Request) netip.Addr
	anon     *anonIDs
	limits   Limits
	metrics  *metrics
	router   router
	srv      *fasthttp.Server
	// sinkCtx is the context of every sink Write, and durableCtx the same asking for a
	// durable Write (event.WithDurable). Both end when Shutdown gives up waiting for the
	// requests in flight.
	sinkCtx, durableCtx context.Context
	stopSink            context.CancelFunc
}

// New checks cfg and returns a Server with the ingestion, health and metrics routes.
func New(cfg Config) (*Server, error) {
	if cfg.Sites == nil || cfg.Sink == nil {
		return nil, fmt.Errorf("cannot create collector: Config.Sites and Config.Sink are required")
	}
	cfg.Limits.setDefaults()
	s := &Server{
		sites: cfg.Sites, sink: cfg.Sink, enricher: cfg.Enricher, now: cfg.clockNow(),
		ready: cfg.Ready, dedup: cfg.Dedup, clientIP: cfg.ClientIP, limits: cfg.Limits,
	}
	s.sinkCtx, s.stopSink = context.WithCancel(context.Background())
	s.durableCtx = event.WithDurable(s.sinkCtx)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	s.log = newRateLog(logger, s.now)
	reg, gath := registries(cfg.Registerer, cfg.Gatherer)
	if err := s.setup(cfg, reg, gath); err != nil {
		return nil, err
	}
	return s, nil
}

// setup builds the parts of s that can fail.
func (s *Server) setup(cfg Config, reg prometheus.Registerer, gath prometheus.Gatherer) error {
	var err error
	if s.metrics, err = newMetrics(reg); err != nil {
		return err
	}
	if s.dedup == nil {
		s.dedup = dedup.New(dedup.Config{Clock: cfg.Clock, Registerer: reg})
	}
	if s.clientIP == nil {
		s.clientIP = defaultClientIP
	}
	if s.anon, err = newAnonIDs(cfg.CookielessSecret); err != nil {
		return err
	}
	if len(cfg.CookielessSecret) == 0 {
		s.log.logger.Info("no cookieless secret configured: cookieless anonymous ids change when journeyd restarts")
	}
	s.routes(gath)
	s.srv = s.newFastHTTP()
	return nil
}

// registries resolves the Registerer and Gatherer of Config.
func registries(reg prometheus.Registerer, gath prometheus.Gatherer) (prometheus.Registerer, prometheus.Gatherer) {
	if reg == nil && gath == nil {
		r := prometheus.NewRegistry()
		return r, r
	}
	if reg == nil {
		reg = prometheus.NewRegistry() // metrics go nowhere that is served
	}
	if gath == nil {
		if g, ok := reg.(prometheus.Gatherer); ok {
			gath = g
		} else {
			gath = prometheus.NewRegistry()
		}
	}
	return reg, gath
}

// newFastHTTP returns the fasthttp server with the limits of s.
func (s *Server) newFastHTTP() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      s.serveHTTP,
		ErrorHandler:                 s.errorHandler,
		Name:                         "journeyd",
		NoDefaultServerHeader:        true,
		ReadBufferSize:               s.limits.MaxHeaderBytes,
		MaxRequestBodySize:           2 * s.limits.MaxBodyBytes, // room to answer a body a little over the limit with 413
		ReadTimeout:                  s.limits.ReadTimeout,
		WriteTimeout:                 s.limits.WriteTimeout,
		IdleTimeout:                  s.limits.IdleTimeout,
		Concurrency:                  s.limits.Concurrency,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		Logger:                       fasthttpLogger{s.log},
	}
}

// Handler returns the request handler of s, for tests and for embedding in another server.
func (s *Server) Handler() fasthttp.RequestHandler { return s.serveHTTP }

// Serve serves requests from ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.srv.Serve(ln); err != nil {
		return fmt.Errorf("cannot serve HTTP on %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on the TCP address addr and serves requests until Shutdown.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections and waits, until ctx is done, for the requests in
// flight to finish; the events they carry reach the sink before it returns. When ctx ends
// first, the sink Writes still waiting (for a durable commit) are cancelled.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.ShutdownWithContext(ctx)
	s.stopSink()
	if err != nil {
		return fmt.Errorf("cannot shut the HTTP server down cleanly: %w", err)
	}
	return nil
}

// clockNow returns the Now of the configured clock, or of the system's.
func (cfg *Config) clockNow() func() time.Time {
	if cfg.Clock == nil {
		return event.SystemClock.Now
	}
	return cfg.Clock.Now
}
