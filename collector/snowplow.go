package collector

import (
	"fmt"
	"net/netip"
	"sync"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/pixel"
	"github.com/journeyd/journeyd/collector/segment"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/collector/snowplow"
)

// The Snowplow tracker protocol (collector/snowplow): POST
// /com.snowplowanalytics.snowplow/tp2 answers 200; 400 with what is wrong for a payload
// that cannot be used or an unknown application id (nothing of it is stored); 403 for a
// browser origin the site does not list; 413, 415 and 503 as POST /e does. OPTIONS answers
// the credentialed preflight. GET /i is a pixel: it always answers the GIF, and names a
// rejection in X-Journeyd-Reject like /p.gif. Both echo the origin and allow credentials,
// as Snowplow's collector does, for the origins some site lists. A request with the header
// SP-Anonymous (the tracker's server-side anonymisation) has no address stored or located.

// snowplowWork is the reusable memory of a Snowplow request beside its work.
type snowplowWork struct {
	p    snowplow.Parser
	meta []snowplow.Meta
}

var snowplowPool = sync.Pool{New: func() any { return new(snowplowWork) }}

func getSnowplowWork() *snowplowWork { return snowplowPool.Get().(*snowplowWork) }

// putSnowplowWork returns sw to the pool; its Meta points into request memory.
func putSnowplowWork(sw *snowplowWork) {
	clear(sw.meta[:cap(sw.meta)])
	sw.meta = sw.meta[:0]
	snowplowPool.Put(sw)
}

// snowplowRoutes registers the endpoints of the tracker protocol.
func (s *Server) snowplowRoutes() {
	tp2 := s.metrics.endpoint("snowplow_tp2")
	s.handle(snowplow.PostPath, tp2, s.snowplowPostHandler(tp2))
	get := s.metrics.endpoint("snowplow_i")
	s.handle(snowplow.GetPath, get, s.snowplowGetHandler(get))
}

// snowplowPostHandler accepts tp2 batches, counted under ep, and answers CORS preflights.
func (s *Server) snowplowPostHandler(ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		switch {
		case ctx.IsOptions():
			s.sdkPreflight(ctx, ep)
		case ctx.IsPost():
			s.recordSnowplowPost(ctx, ep)
		default:
			ctx.Response.Header.Set("Allow", "POST, OPTIONS")
			plainError(ctx, "method not allowed: POST a payload_data batch", fasthttp.StatusMethodNotAllowed)
		}
	}
}

// recordSnowplowPost parses, checks and ingests a tp2 batch, and answers.
func (s *Server) recordSnowplowPost(ctx *fasthttp.RequestCtx, ep *Endpoint) {
	s.sdkCORS(ctx)
	w, sw := getWork(), getSnowplowWork()
	defer putWork(w)
	defer putSnowplowWork(sw)
	body, err := s.readBody(ctx, w, s.limits.MaxBodyBytes)
	if err != nil {
		s.bodyError(ctx, ep, err, plainError)
		return
	}
	b, err := sw.p.ParsePost(w.events, sw.meta, body, s.now())
	w.events, sw.meta = b.Events, b.Meta
	if err != nil {
		ep.Reject("malformed", 1)
		plainError(ctx, err.Error(), fasthttp.StatusBadRequest)
		return
	}
	ep.Reject("malformed_event", b.Dropped)
	if len(b.Events) == 0 {
		plainError(ctx, fmt.Sprintf("none of the %d events has a known event type (e)", b.Dropped), fasthttp.StatusBadRequest)
		return
	}
	st := s.sites.ByIDBytes(b.App)
	if st == nil {
		ep.Reject("unknown_site", len(b.Events))
		plainError(ctx, fmt.Sprintf("unknown application id %q: set the tracker's appId to the id of a site in journeyd's config", b.App), fasthttp.StatusBadRequest)
		return
	}
	if fromBrowser(ctx) && !s.siteAllowsOrigin(ctx, ep, st, len(b.Events)) {
		return
	}
	if _, err := s.ingestSnowplow(ctx, ep, w, sw, st); err != nil {
		s.sinkError(ctx, err, plainError)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK) // also when Do Not Track or duplicates dropped them
}

// snowplowGetHandler records the event of GET /i, counted under ep, and always answers
// with the GIF.
func (s *Server) snowplowGetHandler(ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		s.sdkCORS(ctx)
		pixel.Answer(ctx, s.recordSnowplowGet(ctx, ep))
	}
}

// recordSnowplowGet turns GET /i into an event and ingests it. It returns the reason of a
// rejection, counted, or "".
func (s *Server) recordSnowplowGet(ctx *fasthttp.RequestCtx, ep *Endpoint) string {
	w, sw := getWork(), getSnowplowWork()
	defer putWork(w)
	defer putSnowplowWork(sw)
	b, err := sw.p.ParseGet(w.events, sw.meta, ctx.QueryArgs(), s.now())
	w.events, sw.meta = b.Events, b.Meta
	st := s.sites.ByIDBytes(b.App)
	reason := ""
	switch {
	case err != nil || len(b.Events) == 0:
		reason = "malformed"
	case st == nil:
		reason = "unknown_site"
	case fromBrowser(ctx) && !st.AllowsOrigin(string(ctx.Request.Header.Peek("Origin"))):
		reason = "origin"
	}
	if reason != "" {
		ep.Reject(reason, 1)
		return reason
	}
	reason, _ = s.ingestSnowplow(ctx, ep, w, sw, st)
	return reason
}

// ingestSnowplow drops what must not be stored, ingests the rest of w, and returns the
// reason events were refused ("" when none were) and the sink's error.
func (s *Server) ingestSnowplow(ctx *fasthttp.RequestCtx, ep *Endpoint, w *work, sw *snowplowWork, st *site.Site) (string, error) {
	if st.RespectDNT && dntRequested(&ctx.Request.Header) {
		ep.Reject("dnt", len(w.events))
		return "dnt", nil
	}
	w.meta = w.meta[:0] // the tracker's own ua and ip (mobile), kept in step by dedupe
	for i := range w.events {
		w.events[i].SiteID = st.ID
		w.meta = append(w.meta, segment.Meta{ClientIP: sw.meta[i].ClientIP, UserAgent: sw.meta[i].UserAgent})
	}
	if dropped := s.dedupe(w, st.ID); dropped > 0 {
		ep.Reject("duplicate", dropped)
		if len(w.events) == 0 {
			return "duplicate", nil
		}
	}
	base := s.EnrichRequest(ctx, st)
	anonymous := len(ctx.Request.Header.Peek("SP-Anonymous")) > 0
	if anonymous {
		// The tracker's server-side anonymisation: no address is stored or located.
		base.Peer, base.XForwardedFor, base.XRealIP = netip.Addr{}, nil, nil
	}
	for i := range w.events {
		req := base
		if anonymous {
			w.meta[i].ClientIP = nil
		}
		if m := w.meta[i]; len(m.ClientIP) > 0 || len(m.UserAgent) > 0 {
			req.ClientIP = m.ClientIP
			if len(m.UserAgent) > 0 {
				req.UserAgent = m.UserAgent
			}
		}
		s.prepare(&w.events[i], &req)
	}
	if err := s.commit(ctx, ep, w); err != nil {
		return sinkReason(err), err
	}
	return "", nil
}
