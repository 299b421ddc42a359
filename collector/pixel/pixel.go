// Package pixel parses the query string of a tracking-pixel request (GET /p.gif) into an
// event. It owns the pixel's parameter names; the HTTP answer (always the GIF), the site
// lookup and enrichment belong to the collector.
//
// Parameters:
//
//	s            site id (read by the caller with Site)
//	t            type: pageview (default), event, impression, email_open, email_click, and
//	             identify and leave (the snippet's fallback when beacons and fetch fail)
//	n            event name
//	u            page URL; default: the Referer header
//	r            referrer
//	a, uid, sid  anonymous id, user id, session id
//	ti           page title
//	id           event id (a retried pixel with the same id is counted once)
//	ts           client time, milliseconds since the epoch; checked like every client time
//	             (collector/clientclock): an absurd one is clamped, the original kept in
//	             the property $ts_clamped
//	utm_source, utm_medium, utm_campaign, utm_term, utm_content
//	             campaign columns, taking precedence over those of the page URL
//	rev, cur     revenue and currency
//	en           engaged milliseconds of a leave
//	p.<key>      property <key>
//
// Unknown parameters are ignored; repeated ones: the last wins.
package pixel

import (
	"errors"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/event"
)

// Library is the lib column of pixel events.
const Library = "pixel"

// ErrBadType is returned for a t parameter that a pixel may not send.
var ErrBadType = errors.New("type not allowed for a pixel")

// Site returns the site id parameter; it points into args.
func Site(args *fasthttp.Args) []byte { return args.Peek("s") }

// Parse fills e from the pixel parameters args, received at now. referer is the Referer
// header, the page URL when u is absent. Every string stored in e is a copy: e outlives
// args. e.SiteID is left to the caller. Parse returns ErrBadType for a type a pixel may not
// send, having filled the rest of e.
func Parse(e *event.Event, args *fasthttp.Args, referer []byte, now time.Time) error {
	e.Type, e.TS, e.ReceivedAt, e.Library = event.TypePageview, now, now, Library
	var err error
	var ts []byte
	for k, v := range args.All() {
		if len(k) > 2 && k[0] == 'p' && k[1] == '.' {
			e.SetProp(string(k[2:]), string(v))
			continue
		}
		switch string(k) {
		case "t":
			if typ := parseType(v); typ != "" {
				e.Type = typ
			} else {
				err = ErrBadType
			}
		case "ts":
			ts = v
		case "rev":
			e.Revenue = parseFloat(v)
		case "en":
			if ms, perr := fasthttp.ParseUint(v); perr == nil {
				e.EngagedMS = uint32(min(ms, 1<<31))
			}
		default:
			if p := field(e, k); p != nil {
				*p = string(v)
			}
		}
	}
	if e.URL == "" && len(referer) > 0 {
		e.URL = string(referer)
	}
	setTime(e, ts, now)
	return err
}

// field returns the string field of e that parameter k fills, or nil.
func field(e *event.Event, k []byte) *string {
	switch string(k) {
	case "n":
		return &e.Name
	case "u":
		return &e.URL
	case "r":
		return &e.Referrer
	case "a":
		return &e.AnonID
	case "uid":
		return &e.UserID
	case "sid":
		return &e.SessionID
	case "ti":
		return &e.Title
	case "id":
		return &e.ID
	case "cur":
		return &e.Currency
	case "utm_source":
		return &e.Source
	case "utm_medium":
		return &e.Medium
	case "utm_campaign":
		return &e.Campaign
	case "utm_term":
		return &e.Term
	case "utm_content":
		return &e.Content
	}
	return nil
}

// parseType returns the type constant for v, or "" when a pixel may not send it.
func parseType(v []byte) event.Type {
	switch string(v) {
	case "", event.TypePageview:
		return event.TypePageview
	case event.TypeEvent:
		return event.TypeEvent
	case event.TypeImpression:
		return event.TypeImpression
	case event.TypeEmailOpen:
		return event.TypeEmailOpen
	case event.TypeEmailClick:
		return event.TypeEmailClick
	case event.TypeIdentify:
		return event.TypeIdentify
	case event.TypeLeave:
		return event.TypeLeave
	}
	return ""
}

// setTime sets e.TS from the ts parameter, clamping an absurd or unreadable one.
func setTime(e *event.Event, ts []byte, now time.Time) {
	if len(ts) == 0 {
		return
	}
	ms, err := fasthttp.ParseUint(ts)
	t, ok := time.Time{}, err == nil
	if ok {
		t, ok = clientclock.Correct(clientclock.FromMillis(int64(ms)), time.Time{}, now)
	}
	e.TS = t
	if !ok {
		e.TS = now
		e.SetProp(clientclock.ClampedProp, string(ts))
	}
}

// parseFloat parses a decimal number, 0 when v is not one.
func parseFloat(v []byte) float64 {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	f, err := fasthttp.ParseUfloat(v)
	if err != nil || f > 1e300 {
		return 0
	}
	if neg {
		return -f
	}
	return f
}
