package collector

import (
	"context"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/segment"
)

// route is a path (or path prefix) and the endpoint that serves it.
type route struct {
	prefix string
	ep     *endpoint
	h      fasthttp.RequestHandler
}

// router finds the route of a path: an exact path first, then the longest prefix.
type router struct {
	exact    map[string]*route
	prefixes []*route // longest first
}

// routeKey is the user value under which a request's route is kept for Ingest.
const routeKey = "journeyd.route"

// routes registers the endpoints of this package.
func (s *Server) routes(gath prometheus.Gatherer) {
	s.handle("/p.gif", "pixel", s.servePixel)
	s.handle("/p", "pixel", s.servePixel)
	s.handle("/e", "beacon", s.serveBeacon)
	for _, name := range []string{"track", "identify", "page", "screen", "group", "alias", "batch", "import"} {
		k, _ := segment.KindOf(name)
		s.handle("/v1/"+name, "segment_"+name, s.segmentHandler(k))
	}
	s.handle("/healthz", "healthz", serveHealthz)
	s.handle("/readyz", "readyz", s.serveReadyz)
	s.handle("/metrics", "metrics", metricsHandler(gath))
}

// Handle serves the requests whose path is path, or, when path ends with "/", whose path
// starts with it (the longest matching prefix wins). Requests are counted in
// journeyd_collector_requests_total under the endpoint named after path ("/o/" → "o"), and
// Ingest called from h counts its events under that endpoint too. Handle must be called
// before serving starts; a path registered twice replaces the first handler.
func (s *Server) Handle(path string, h fasthttp.RequestHandler) {
	name := strings.Trim(path, "/")
	if name == "" {
		name = "root"
	}
	s.handle(path, name, h)
}

func (s *Server) handle(path, name string, h fasthttp.RequestHandler) {
	r := &route{prefix: path, ep: s.metrics.endpoint(name), h: h}
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
	ctx.SetUserValue(routeKey, r)
	r.h(ctx)
	r.ep.countCode(ctx.Response.StatusCode())
}

// endpointOf returns the endpoint that serves ctx, when ctx is a request being served.
func (s *Server) endpointOf(ctx context.Context) *endpoint {
	if rc, ok := ctx.(*fasthttp.RequestCtx); ok {
		if r, ok := rc.UserValue(routeKey).(*route); ok {
			return r.ep
		}
	}
	return s.metrics.other
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
	ep.reject(reason, 1)
	ep.countCode(code)
	ctx.Error(fasthttp.StatusMessage(code), code)
}
