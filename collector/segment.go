package collector

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/segment"
	"github.com/journeyd/journeyd/collector/site"
)

// segmentHandler returns the handler of a Segment API call of kind k, counted under ep.
func (s *Server) segmentHandler(k segment.Kind, ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if ctx.IsOptions() {
			s.sdkPreflight(ctx, ep)
			return
		}
		if !ctx.IsPost() {
			ctx.Response.Header.Set("Allow", "POST, OPTIONS")
			jsonError(ctx, "method not allowed: POST the message as JSON", fasthttp.StatusMethodNotAllowed)
			return
		}
		s.recordSegment(ctx, k, ep)
	}
}

// recordSegment authenticates, parses and ingests a Segment API call, and answers.
func (s *Server) recordSegment(ctx *fasthttp.RequestCtx, k segment.Kind, ep *Endpoint) {
	browser := fromBrowser(ctx)
	if browser {
		s.sdkCORS(ctx)
	}
	headerKey := writeKeyHeader(&ctx.Request.Header)
	var st *site.Site
	if len(headerKey) > 0 {
		if st = s.sites.ByWriteKey(headerKey); st == nil {
			s.unauthorized(ctx, ep)
			return
		}
	}
	w := getWork()
	defer putWork(w)
	body, err := s.readBody(ctx, w, min(s.limits.MaxBodyBytes, segment.MaxBatchBytes))
	if err != nil {
		s.bodyError(ctx, ep, err, jsonError)
		return
	}
	c, err := w.segment.Parse(k, body, s.now(), w.events, w.meta)
	w.events, w.meta = c.Events, c.Meta
	if st == nil {
		if st = s.sites.ByWriteKey(c.WriteKey); st == nil {
			s.unauthorized(ctx, ep)
			return
		}
	}
	if err != nil {
		s.parseError(ctx, ep, err)
		return
	}
	ep.Reject("malformed_event", c.Invalid)
	ep.Reject("event_too_large", c.Oversize)
	if browser {
		if !s.siteAllowsOrigin(ctx, ep, st, len(w.events)) {
			return
		}
		browserSegment(w.events)
	}
	s.ingestSegment(ctx, ep, w, st, browser)
}

// ingestSegment drops duplicates, ingests the rest of w, and answers.
// A browser's call (browser) is located and described by the request like the snippet's.
func (s *Server) ingestSegment(ctx *fasthttp.RequestCtx, ep *Endpoint, w *work, st *site.Site, browser bool) {
	ep.Reject("duplicate", s.dedupe(w, st.ID))
	base := s.EnrichRequest(ctx, st)
	if !browser {
		// A backend's own address and headers are not its customer's: server events are
		// located by context.ip and described by context.userAgent only.
		base.Peer, base.XForwardedFor, base.XRealIP = netip.Addr{}, nil, nil
		base.SecCHUA, base.SecCHUAMobile, base.SecCHUAPlatform, base.Purpose = nil, nil, nil, nil
	}
	for i := range w.events {
		req := base
		req.ClientIP = w.meta[i].ClientIP
		if ua := w.meta[i].UserAgent; len(ua) > 0 || !browser {
			req.UserAgent = ua
		}
		s.prepare(&w.events[i], &req)
	}
	// A backend retries what is not acknowledged: answer 200 only once the batch is on disk.
	if err := s.commit(s.durableCtx, ep, w); err != nil {
		s.sinkError(ctx, err, jsonError)
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/json")
	ctx.SetBodyString(`{"success":true}`)
}

// parseError answers a body the parser refused.
func (s *Server) parseError(ctx *fasthttp.RequestCtx, ep *Endpoint, err error) {
	if errors.Is(err, segment.ErrTooLarge) {
		ep.Reject("event_too_large", 1)
		jsonError(ctx, err.Error(), fasthttp.StatusRequestEntityTooLarge)
		return
	}
	ep.Reject("malformed", 1)
	jsonError(ctx, err.Error(), fasthttp.StatusBadRequest)
}

func (s *Server) unauthorized(ctx *fasthttp.RequestCtx, ep *Endpoint) {
	ep.Reject("write_key", 1)
	ctx.Response.Header.Set("WWW-Authenticate", `Basic realm="journeyd"`)
	jsonError(ctx, "missing or unknown write key: send it as the Basic auth user name, "+
		"the X-Write-Key header or writeKey in the body", fasthttp.StatusUnauthorized)
}

// writeKeyHeader returns the write key of the Authorization (Basic, the key as user name)
// or X-Write-Key header, or nil.
func writeKeyHeader(h *fasthttp.RequestHeader) []byte {
	if k := h.Peek("X-Write-Key"); len(k) > 0 {
		return k
	}
	auth := h.Peek("Authorization")
	const basic = "basic "
	if len(auth) <= len(basic) || !bytes.EqualFold(auth[:len(basic)], []byte(basic)) {
		return nil
	}
	enc := bytes.TrimSpace(auth[len(basic):])
	dec := make([]byte, base64.StdEncoding.DecodedLen(len(enc)))
	n, err := base64.StdEncoding.Decode(dec, enc)
	if err != nil {
		return nil
	}
	user, _, _ := bytes.Cut(dec[:n], []byte(":"))
	return user
}

// jsonError writes Segment's error answer.
func jsonError(ctx *fasthttp.RequestCtx, msg string, code int) {
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	quoted, _ := json.Marshal(msg) // a string always marshals
	b := append([]byte(`{"success":false,"message":`), quoted...)
	ctx.SetBody(append(b, '}'))
}
