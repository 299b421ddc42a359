// Package enrich turns what a request says about its sender (user agent, client hints,
// address, referrer, landing URL) into the enriched columns of an event. Enrichment is a
// chain of small steps, each in its own subpackage and each testable alone; this package
// holds the interface they share and the chain that runs them in order.
package enrich

import (
	"net/netip"
	"time"

	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// Request is what enrichment needs to know about the HTTP request an event came with.
// Byte slices may point into the request's buffers: they are valid only during Enrich, and a
// step that keeps anything copies it into the event as a string.
type Request struct {
	Site      *site.Site
	Now       time.Time  // the collector's clock when the request arrived
	Peer      netip.Addr // the socket's remote address
	UserAgent []byte     // User-Agent, or the event's context.userAgent for server events
	ClientIP  []byte     // a client IP the sender vouches for (Segment context.ip), if any
	// XForwardedFor and XRealIP are honoured only when Peer is a trusted proxy.
	XForwardedFor []byte
	XRealIP       []byte
	// Client hints.
	SecCHUA         []byte
	SecCHUAMobile   []byte
	SecCHUAPlatform []byte
	// Purpose is the Purpose or Sec-Purpose header ("prefetch" marks a prefetch).
	Purpose []byte
}

// Step is one enrichment step. It reads the event's raw fields (URL, Referrer, ...) and the
// request, and fills the columns it owns.
type Step interface {
	Enrich(e *event.Event, r *Request)
}

// StepFunc adapts a function to a Step.
type StepFunc func(e *event.Event, r *Request)

// Enrich calls f.
func (f StepFunc) Enrich(e *event.Event, r *Request) { f(e, r) }

// Chain runs its steps in order.
type Chain []Step

// Enrich runs every step of c on e.
func (c Chain) Enrich(e *event.Event, r *Request) {
	for _, s := range c {
		s.Enrich(e, r)
	}
}
