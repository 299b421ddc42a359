package collector

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// readyTimeout bounds one readiness check.
const readyTimeout = 5 * time.Second

// serveHealthz answers liveness: the process serves HTTP.
func serveHealthz(ctx *fasthttp.RequestCtx) {
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ok\n")
}

// serveReadyz answers readiness: Config.Ready (ClickHouse reachable, spool below its limit).
func (s *Server) serveReadyz(ctx *fasthttp.RequestCtx) {
	if s.ready != nil {
		rctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
		defer cancel()
		if err := s.ready(rctx); err != nil {
			s.log.warn("not_ready", "not ready", "err", err)
			ctx.Error("not ready: "+err.Error(), fasthttp.StatusServiceUnavailable)
			return
		}
	}
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString("ready\n")
}

// metricsHandler serves the metrics of g in the Prometheus exposition format.
func metricsHandler(g prometheus.Gatherer) fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
}
