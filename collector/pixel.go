package collector

import (
	"context"
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/dedup"
	"github.com/journeyd/journeyd/collector/pixel"
	"github.com/journeyd/journeyd/event"
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

// sinkReason is the rejection reason of a sink error.
func sinkReason(err error) string {
	if errors.Is(err, event.ErrFull) {
		return "full"
	}
	return "sink_error"
}

// dedupe drops the events of w (and their meta) whose id was accepted before, and records
// the keys of the others in w.keys. It returns the number of events dropped.
func (s *Server) dedupe(w *work, siteID string) int {
	kept := 0
	for i := range w.events {
		if id := w.events[i].ID; id != "" {
			key := dedup.Key(siteID, id)
			if !s.dedup.Add(key) {
				continue
			}
			w.keys = append(w.keys, key)
		}
		w.events[kept] = w.events[i]
		if len(w.meta) > 0 {
			w.meta[kept] = w.meta[i]
		}
		kept++
	}
	dropped := len(w.events) - kept
	clear(w.events[kept:])
	w.events = w.events[:kept]
	if len(w.meta) > 0 {
		w.meta = w.meta[:kept]
	}
	return dropped
}

// commit hands the events of w to the sink; when the sink refuses them it forgets their
// dedup keys, so that the client's retry is not taken for a duplicate.
func (s *Server) commit(ctx context.Context, ep *Endpoint, w *work) error {
	err := s.write(ctx, ep, w.events)
	if err != nil {
		for _, k := range w.keys {
			s.dedup.Remove(k)
		}
	}
	return err
}
