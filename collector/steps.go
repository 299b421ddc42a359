package collector

import (
	"context"
	"errors"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/dedup"
	"github.com/journeyd/journeyd/event"
)

// The steps every ingestion endpoint shares between parsing a request and answering it:
// dropping duplicates, handing the events to the sink, and answering a body that could not
// be read or events the sink refused. Ingest, prepare and write (ingest.go) and readBody
// (body.go) are the others.

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

// sinkReason is the rejection reason of a sink error.
func sinkReason(err error) string {
	if errors.Is(err, event.ErrFull) {
		return "full"
	}
	return "sink_error"
}

// errorStyle writes an error answer: plain text for /e, Segment's JSON for /v1.
type errorStyle func(ctx *fasthttp.RequestCtx, msg string, code int)

// bodyError answers a request whose body could not be read.
func (s *Server) bodyError(ctx *fasthttp.RequestCtx, ep *Endpoint, err error, answer errorStyle) {
	switch {
	case errors.Is(err, errTooLarge):
		ep.Reject("body_too_large", 1)
		answer(ctx, fmt.Sprintf("body larger than %d bytes", s.limits.MaxBodyBytes), fasthttp.StatusRequestEntityTooLarge)
	case errors.Is(err, errEncoding):
		ep.Reject("encoding", 1)
		answer(ctx, err.Error(), fasthttp.StatusUnsupportedMediaType)
	default:
		ep.Reject("malformed", 1)
		answer(ctx, err.Error(), fasthttp.StatusBadRequest)
	}
}

// sinkError answers a request whose events the sink refused; the events are counted.
func (s *Server) sinkError(ctx *fasthttp.RequestCtx, err error, answer errorStyle) {
	if errors.Is(err, event.ErrFull) {
		ctx.Response.Header.Set("Retry-After", "5")
		answer(ctx, "the pipeline is full: retry later", fasthttp.StatusServiceUnavailable)
		return
	}
	answer(ctx, "cannot store events: retry later", fasthttp.StatusInternalServerError)
}
