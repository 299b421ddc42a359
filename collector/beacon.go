package collector

import (
	"bytes"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/site"
)

// beaconHandler accepts batches of the snippet's events (POST /e), counted under ep, and
// answers CORS preflights.
func (s *Server) beaconHandler(ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		switch {
		case ctx.IsOptions():
			s.preflight(ctx)
		case ctx.IsPost():
			s.recordBeacon(ctx, ep)
		default:
			ctx.Response.Header.Set("Allow", "POST, OPTIONS")
			plainError(ctx, "method not allowed: POST a batch of events", fasthttp.StatusMethodNotAllowed)
		}
	}
}

// preflight answers a CORS preflight. Which origins may post is decided per site once the
// body is read; the preflight lets every origin ask.
func (s *Server) preflight(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	if origin := ctx.Request.Header.Peek("Origin"); len(origin) > 0 {
		h.SetBytesV("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
	}
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
	h.Set("Access-Control-Max-Age", "86400")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// recordBeacon parses, checks and ingests a batch, and answers.
func (s *Server) recordBeacon(ctx *fasthttp.RequestCtx, ep *Endpoint) {
	w := getWork()
	defer putWork(w)
	body, err := s.readBody(ctx, w, s.limits.MaxBodyBytes)
	if err != nil {
		s.bodyError(ctx, ep, err, plainError)
		return
	}
	now := s.now()
	b, err := w.beacon.Parse(w.events, body, now)
	w.events = b.Events
	if err != nil {
		ep.Reject("malformed", 1)
		plainError(ctx, err.Error(), fasthttp.StatusBadRequest)
		return
	}
	ep.Reject("malformed_event", b.Dropped)
	st := s.sites.ByIDBytes(b.Site)
	if st == nil {
		ep.Reject("unknown_site", len(b.Events))
		plainError(ctx, fmt.Sprintf("unknown site %q: use the id of a site in journeyd's config", b.Site), fasthttp.StatusBadRequest)
		return
	}
	if !s.checkOrigin(ctx, ep, st, len(b.Events)) {
		return
	}
	s.ingestBeacon(ctx, ep, w, st)
}

// ingestBeacon drops what must not be stored, ingests the rest of w, and answers.
func (s *Server) ingestBeacon(ctx *fasthttp.RequestCtx, ep *Endpoint, w *work, st *site.Site) {
	if st.RespectDNT && dntRequested(&ctx.Request.Header) {
		ep.Reject("dnt", len(w.events))
		ctx.SetStatusCode(fasthttp.StatusNoContent)
		return
	}
	for i := range w.events {
		w.events[i].SiteID = st.ID
	}
	ep.Reject("duplicate", s.dedupe(w, st.ID))
	w.req = s.EnrichRequest(ctx, st)
	for i := range w.events {
		s.prepare(&w.events[i], &w.req)
	}
	if err := s.commit(s.sinkCtx, ep, w); err != nil {
		s.sinkError(ctx, err, plainError)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// checkOrigin answers 403 and returns false when the request's origin (the Origin header,
// else the scheme and host of the Referer) may not post events for st; otherwise it sets
// the CORS headers and returns true.
func (s *Server) checkOrigin(ctx *fasthttp.RequestCtx, ep *Endpoint, st *site.Site, n int) bool {
	origin := ctx.Request.Header.Peek("Origin")
	if len(origin) == 0 {
		origin = originOf(ctx.Request.Header.Referer())
	}
	if !st.AllowsOrigin(string(origin)) {
		ep.Reject("origin", n)
		msg := fmt.Sprintf("origin %q may not send events for site %q: add it to the site's origins", origin, st.ID)
		if len(origin) == 0 {
			msg = fmt.Sprintf("no Origin or Referer header: site %q accepts events only from its origins", st.ID)
		}
		plainError(ctx, msg, fasthttp.StatusForbidden)
		return false
	}
	if len(origin) > 0 && len(ctx.Request.Header.Peek("Origin")) > 0 {
		ctx.Response.Header.SetBytesV("Access-Control-Allow-Origin", origin)
		ctx.Response.Header.Set("Vary", "Origin")
	}
	return true
}

// originOf returns the scheme://host[:port] of a URL, or nil.
func originOf(u []byte) []byte {
	i := bytes.Index(u, []byte("://"))
	if i <= 0 {
		return nil
	}
	if j := bytes.IndexAny(u[i+3:], "/?#"); j >= 0 {
		return u[:i+3+j]
	}
	return u
}

// plainError writes a text answer, keeping the headers already set (ctx.Error drops them).
func plainError(ctx *fasthttp.RequestCtx, msg string, code int) {
	ctx.SetStatusCode(code)
	ctx.SetContentType("text/plain; charset=utf-8")
	ctx.SetBodyString(msg)
}
