package emaillink

import (
	"errors"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/collector/adminauth"
	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/pixel"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// Server is what the handlers need of the collector server (*collector.Server).
type Server interface {
	Handle(path string, h fasthttp.RequestHandler) *collector.Endpoint
	Ingest(ep *collector.Endpoint, events []event.Event, req *enrich.Request) error
	EnrichRequest(ctx *fasthttp.RequestCtx, st *site.Site) enrich.Request
}

// Config is what Register needs.
type Config struct {
	Signer *Signer
	Sites  *site.Registry
	// AdminToken guards POST /api/v1/links (adminauth.Guard); empty refuses every request
	// to it.
	AdminToken string
	// BaseURL is the public URL of journeyd the API's links point to; empty means the
	// scheme and host of the API request.
	BaseURL string
	// Clock tells when a link has expired (default event.SystemClock).
	Clock event.Clock
}

// The event names of the touchpoints, as in Segment's email spec.
const (
	OpenName  = "Email Opened"
	ClickName = "Email Link Clicked"
)

// RejectHeader names the reason an open was not recorded (the pixel's header).
const RejectHeader = pixel.RejectHeader

// Register adds GET /o/<token>.gif, GET /r/<token> and POST /api/v1/links to srv.
// Rejections are counted by srv under the endpoints "o", "r" and "api/v1/links".
func Register(srv Server, cfg Config) {
	if cfg.Clock == nil {
		cfg.Clock = event.SystemClock
	}
	h := &handlers{srv: srv, cfg: cfg}
	h.open = srv.Handle(OpenPrefix, h.serveOpen)
	h.click = srv.Handle(ClickPrefix, h.serveClick)
	srv.Handle("/api/v1/links", adminauth.Guard(cfg.AdminToken, h.serveAPI))
}

type handlers struct {
	srv         Server
	cfg         Config
	open, click *collector.Endpoint // where opens and clicks are counted; set by Register
}

// serveOpen records an email_open and always answers with the GIF; a rejection is named in
// the X-Journeyd-Reject header.
func (h *handlers) serveOpen(ctx *fasthttp.RequestCtx) {
	token, _ := strings.CutSuffix(strings.TrimPrefix(string(ctx.Path()), OpenPrefix), OpenSuffix)
	pixel.Answer(ctx, h.record(ctx, h.open, token, event.TypeEmailOpen))
}

// serveClick records an email_click and redirects to the signed target. A token that does
// not verify never redirects: 400.
func (h *handlers) serveClick(ctx *fasthttp.RequestCtx) {
	token := strings.TrimPrefix(string(ctx.Path()), ClickPrefix)
	l, err := h.cfg.Signer.Verify(token)
	if err != nil {
		h.click.Reject(rejectReason(err), 1)
		ctx.Response.Header.Set(RejectHeader, rejectReason(err))
		ctx.Error("this link is not valid: it was changed or not signed by this server", fasthttp.StatusBadRequest)
		return
	}
	if l.Expired(h.cfg.Clock.Now()) {
		h.click.Reject(rejectReason(ErrExpired), 1)
		ctx.Response.Header.Set(RejectHeader, rejectReason(ErrExpired))
		ctx.Error("this link has expired", fasthttp.StatusGone)
		return
	}
	if reason := h.ingest(ctx, h.click, l, event.TypeEmailClick); reason != "" {
		ctx.Response.Header.Set(RejectHeader, reason)
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.Set("Referrer-Policy", "no-referrer-when-downgrade")
	ctx.Redirect(l.URL, fasthttp.StatusFound)
}

// record verifies token and ingests the touchpoint under ep; it returns the rejection
// reason or "".
func (h *handlers) record(ctx *fasthttp.RequestCtx, ep *collector.Endpoint, token string, typ event.Type) string {
	l, err := h.cfg.Signer.Verify(token)
	if err == nil && l.Expired(h.cfg.Clock.Now()) {
		err = ErrExpired
	}
	if err != nil {
		ep.Reject(rejectReason(err), 1)
		return rejectReason(err)
	}
	return h.ingest(ctx, ep, l, typ)
}

// ingest records the touchpoint of a verified link under ep; it returns the rejection
// reason or "".
func (h *handlers) ingest(ctx *fasthttp.RequestCtx, ep *collector.Endpoint, l Link, typ event.Type) string {
	st := h.cfg.Sites.ByID(l.SiteID)
	if st == nil {
		ep.Reject("unknown_site", 1)
		return "unknown_site"
	}
	req := h.srv.EnrichRequest(ctx, st)
	events := []event.Event{touchpoint(l, typ, string(ctx.Request.Header.Referer()))}
	if err := h.srv.Ingest(ep, events, &req); err != nil {
		if errors.Is(err, event.ErrFull) {
			return "full"
		}
		return "sink_error"
	}
	return ""
}

// touchpoint is the event of an open or a click on l. A click's URL is the target; an
// open has no page, and keeps the target in the property link_url.
func touchpoint(l Link, typ event.Type, referrer string) event.Event {
	e := event.Event{SiteID: l.SiteID, Type: typ, AnonID: l.AnonID, UserID: l.UserID,
		Source: l.Source, Medium: l.Medium, Campaign: l.Campaign, Content: l.Content, Term: l.Term}
	switch typ {
	case event.TypeEmailClick:
		e.Name, e.URL, e.Referrer = ClickName, l.URL, referrer
	default:
		e.Name = OpenName
		e.SetProp("link_url", l.URL)
	}
	return e
}

// rejectReason is the metric reason of a Verify error.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, ErrUnknownKey):
		return "unknown_key"
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrBadTarget):
		return "bad_target"
	case errors.Is(err, ErrExpired):
		return "expired"
	}
	return "bad_token"
}
