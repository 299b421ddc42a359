package collector

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// Ingest prepares events and hands them to the sink: it fills what the endpoint left empty
// (site id from req.Site, received_at and ts from req.Now, a random event id, a cookieless
// anonymous id when the event has neither anonymous nor user id), runs the enrichment chain
// with req, and normalizes the strings (event.Normalize). The sink takes ownership of the
// events; the caller may reuse the slice once Ingest returns, but not the events' strings or
// property slices. The error is the sink's: errors.Is(err, event.ErrFull) means "try later".
// The events are counted under ep, the Endpoint that Handle returned for the caller's route,
// in journeyd_collector_accepted_total or _rejected_total.
//
// The sink is called with the server's own context, not the request's: nothing of a
// fasthttp request outlives its handler.
func (s *Server) Ingest(ep *Endpoint, events []event.Event, req *enrich.Request) error {
	for i := range events {
		s.prepare(&events[i], req)
	}
	return s.write(s.sinkCtx, ep, events)
}

// prepare fills, enriches and normalizes e.
func (s *Server) prepare(e *event.Event, req *enrich.Request) {
	if e.SiteID == "" && req.Site != nil {
		e.SiteID = req.Site.ID
	}
	if e.ReceivedAt.IsZero() {
		if e.ReceivedAt = req.Now; e.ReceivedAt.IsZero() {
			e.ReceivedAt = s.now()
		}
	}
	if e.TS.IsZero() {
		e.TS = e.ReceivedAt
	}
	if e.ID == "" {
		e.ID = newID()
	}
	if s.enricher != nil {
		s.enricher.Enrich(e, req)
	}
	if e.AnonID == "" && e.UserID == "" {
		e.AnonID = s.anon.derive(req.Now, e.SiteID, s.clientIP(req), req.UserAgent)
	}
	e.Normalize()
}

// write hands events to the sink and counts the outcome under ep.
func (s *Server) write(ctx context.Context, ep *Endpoint, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	err := s.sink.Write(ctx, events)
	switch {
	case err == nil:
		ep.accept(len(events))
	case errors.Is(err, event.ErrFull):
		ep.Reject("full", len(events))
		s.log.warn("sink_full", "the pipeline is full: refusing events", "err", err)
	default:
		ep.Reject("sink_error", len(events))
		s.log.warn("sink_error", "cannot hand events to the pipeline", "err", err)
	}
	return err
}

// EnrichRequest returns what enrichment needs to know about the request ctx, for events of
// site st received now. The returned Request points into ctx's buffers: it is valid only
// until the handler returns.
func (s *Server) EnrichRequest(ctx *fasthttp.RequestCtx, st *site.Site) enrich.Request {
	h := &ctx.Request.Header
	return enrich.Request{
		Site:            st,
		Now:             s.now(),
		Peer:            peerAddr(ctx),
		UserAgent:       h.UserAgent(),
		XForwardedFor:   h.Peek("X-Forwarded-For"),
		XRealIP:         h.Peek("X-Real-Ip"),
		SecCHUA:         h.Peek("Sec-Ch-Ua"),
		SecCHUAMobile:   h.Peek("Sec-Ch-Ua-Mobile"),
		SecCHUAPlatform: h.Peek("Sec-Ch-Ua-Platform"),
		Purpose:         purpose(h),
	}
}

func purpose(h *fasthttp.RequestHeader) []byte {
	if p := h.Peek("Sec-Purpose"); len(p) > 0 {
		return p
	}
	return h.Peek("Purpose")
}

// peerAddr returns the socket's remote address without allocating.
func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if tcp, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(tcp.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// defaultClientIP is Config.ClientIP when none is given.
func defaultClientIP(req *enrich.Request) netip.Addr {
	if a, err := netip.ParseAddr(string(req.ClientIP)); err == nil {
		return a.Unmap()
	}
	return req.Peer
}

// dntRequested reports whether the request asks not to be tracked (DNT: 1 or Sec-GPC: 1).
func dntRequested(h *fasthttp.RequestHeader) bool {
	return string(h.Peek("Dnt")) == "1" || string(h.Peek("Sec-Gpc")) == "1"
}

const hexDigits = "0123456789abcdef"

// newID returns a random version 4 UUID, the form of Segment's messageIds.
func newID() string {
	var b [16]byte
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(hi>>(8*i)), byte(lo>>(8*i))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	j := 0
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexDigits[c>>4], hexDigits[c&0x0f]
		j += 2
	}
	return string(out[:])
}
