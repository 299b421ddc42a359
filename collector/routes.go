package collector

import (
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/segment"
)

// route is a path (or path prefix) and the endpoint that serves it.
type route struct {
	prefix string
	ep     *Endpoint
	h      fasthttp.RequestHandler
}

// router finds the route of a path: an exact path first, then the longest prefix.
type router struct {
	exact    map[string]*route
	prefixes []*route // longest first
}

// routes registers the endpoints of this package. Each handler is given its endpoint here,
// once: what it counts does not depend on the request.
func (s *Server) routes(gath prometheus.Gatherer) {
	pixel := s.metrics.endpoint("pixel")
	s.handle("/p.gif", pixel, s.pixelHandler(pixel))
	s.handle("/p", pixel, s.pixelHandler(pixel))
	beacon := s.metrics.endpoint("beacon")
	s.handle("/e", beacon, s.beaconHandler(beacon))
	for _, name := range []string{"track", "identify", "page", "screen", "group", "alias", "batch", "import"} {
		k, _ := segment.KindOf(name)
		ep := s.metrics.endpoint("segment_" + name)
		s.handle("/v1/"+name, ep, s.segmentHandler(k, ep))
	}
	s.browserRoutes()
	s.handle("/healthz", s.metrics.endpoint("healthz"), serveHealthz)
	s.handle("/readyz", s.metrics.endpoint("readyz"), s.serveReadyz)
	s.handle("/metrics", s.metrics.endpoint("metrics"), metricsHandler(gath))
}

// Handle serves the requests whose path is path, or, when path ends with "/", whose path
// starts with it (the longest matching prefix wins). Requests are counted in
// journeyd_collector_requests_total under the endpoint named after path ("/o/" → "o"),
// which Handle returns: h passes it to Ingest and to Endpoint.Reject to count its events
// there too. Handle must be called before serving starts; a path registered twice replaces
// the first handler.
func (s *Server) Handle(path string, h fasthttp.RequestHandler) *Endpoint {
	name := strings.Trim(path, "/")
	if name == "" {
		name = "root"
	}
	ep := s.metrics.endpoint(name)
	s.handle(path, ep, h)
	return ep
}

func (s *Server) handle(path string, ep *Endpoint, h fasthttp.RequestHandler) {
	r := &route{prefix: path, ep: ep, h: h}
	if !strings.HasSuffix(path, "/") {
		if s.router.exact == nil {
			s.router.exact = make(map[string]*route)
		}
		s.router.exact[path] = r
		return
	}
	for i, old := range s.router.prefixes {
		if old.prefix == path {
			s.router.prefixes[i] = r
			return
		}
	}
	s.router.prefixes = append(s.router.prefixes, r)
	sort.SliceStable(s.router.prefixes, func(i, j int) bool {
		return len(s.router.prefixes[i].prefix) > len(s.router.prefixes[j].prefix)
	})
}

// find returns the route of path, or nil.
func (rt *router) find(path []byte) *route {
	if r, ok := rt.exact[string(path)]; ok {
		return r
	}
	for _, r := range rt.prefixes {
		if len(path) >= len(r.prefix) && string(path[:len(r.prefix)]) == r.prefix {
			return r
		}
	}
	return nil
}

// serveHTTP routes a request and counts its answer.
func (s *Server) serveHTTP(ctx *fasthttp.RequestCtx) {
	r := s.router.find(ctx.Path())
	if r == nil {
		ctx.Error("not found", fasthttp.StatusNotFound)
		s.metrics.other.countCode(fasthttp.StatusNotFound)
		return
	}
	r.h(ctx)
	r.ep.countCode(ctx.Response.StatusCode())
}

// errorHandler answers requests fasthttp could not read.
func (s *Server) errorHandler(ctx *fasthttp.RequestCtx, err error) {
	code, reason := fasthttp.StatusBadRequest, "bad_request"
	switch {
	case isBodyTooLarge(err):
		code, reason = fasthttp.StatusRequestEntityTooLarge, "body_too_large"
	case isSmallBuffer(err):
		code, reason = fasthttp.StatusRequestHeaderFieldsTooLarge, "headers_too_large"
	case isTimeout(err):
		code, reason = fasthttp.StatusRequestTimeout, "timeout"
	}
	ep := s.metrics.other
	if r := s.router.find(ctx.Path()); r != nil {
		ep = r.ep
	}
	ep.Reject(reason, 1)
	ep.countCode(code)
	ctx.Error(fasthttp.StatusMessage(code), code)
}
