package collector

import (
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/pixel"
)

// RejectHeader names the reason a pixel hit was not recorded.
const RejectHeader = pixel.RejectHeader

// pixelHandler records pixel hits under ep and always answers with the GIF.
func (s *Server) pixelHandler(ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		pixel.Answer(ctx, s.recordPixel(ctx, ep))
	}
}

// recordPixel turns the hit into an event and ingests it. It returns the reason of a
// rejection, counted under ep, or "".
func (s *Server) recordPixel(ctx *fasthttp.RequestCtx, ep *Endpoint) string {
	args := ctx.QueryArgs()
	id := pixel.Site(args)
	st := s.sites.ByIDBytes(id)
	reason := ""
	switch {
	case len(id) == 0:
		reason = "no_site"
	case st == nil:
		reason = "unknown_site"
	case st.RespectDNT && dntRequested(&ctx.Request.Header):
		reason = "dnt"
	}
	if reason != "" {
		ep.Reject(reason, 1)
		return reason
	}
	w := getWork()
	defer putWork(w)
	w.req = s.EnrichRequest(ctx, st)
	w.events = w.events[:1]
	e := &w.events[0]
	if err := pixel.Parse(e, args, ctx.Request.Header.Referer(), w.req.Now); err != nil {
		ep.Reject("bad_type", 1)
		return "bad_type"
	}
	e.SiteID = st.ID
	if s.dedupe(w, st.ID) > 0 {
		ep.Reject("duplicate", 1)
		return "duplicate"
	}
	s.prepare(e, &w.req)
	if err := s.commit(s.sinkCtx, ep, w); err != nil {
		return sinkReason(err)
	}
	return ""
}
