package collector

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/segment"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// The browser SDKs that sites already run, served as drop-ins (see the README):
//
//   - Segment's analytics.js (analytics-next) reads GET /v1/projects/<writeKey>/settings
//     from its cdnURL, answered with journeyd's own host as the Segment.io apiHost, and then
//     posts to the one-letter paths /v1/t, /p, /i, /g, /a, /s (and /v1/b when batching),
//     text/plain JSON with the write key in Basic auth and in the body.
//   - RudderStack's JS SDK v3 reads GET /sourceConfig/?writeKey=... from its configUrl and
//     posts to /v1/track, /page, /identify, ..., /batch on its data plane URL.
//   - Snowplow's trackers post to /com.snowplowanalytics.snowplow/tp2 and get /i (snowplow.go).
//
// CORS: a request with an Origin header comes from a browser. A preflight names no site, so
// it is answered (origin echoed, credentials allowed, the requested headers echoed) when
// some site lists the origin, and refused with 403 otherwise; the request that follows is
// checked against its own site (its write key's, or its application id's) and refused with
// 403 when that site does not list the origin. A browser's Segment or RudderStack call is a
// browser event: track is stored as type event (a backend's is server), and the request's
// address and headers are the visitor's.

// oneLetter maps analytics-next's paths to the Segment calls.
var oneLetter = map[string]segment.Kind{
	"t": segment.Track, "p": segment.Page, "i": segment.Identify, "g": segment.Group,
	"a": segment.Alias, "s": segment.Screen, "b": segment.Batch,
}

// browserRoutes registers the endpoints of the browser SDKs.
func (s *Server) browserRoutes() {
	for name, k := range oneLetter {
		ep := s.metrics.endpoint("segment_" + name)
		s.handle("/v1/"+name, ep, s.segmentHandler(k, ep))
	}
	settings := s.metrics.endpoint("segment_settings")
	s.handle("/v1/projects/", settings, s.segmentSettingsHandler(settings))
	config := s.metrics.endpoint("rudderstack_config")
	s.handle("/sourceConfig", config, s.rudderConfigHandler(config))
	s.handle("/sourceConfig/", config, s.rudderConfigHandler(config))
	s.snowplowRoutes()
}

// fromBrowser reports whether the request comes from a browser: it has an Origin header.
// Server-side SDKs send none.
func fromBrowser(ctx *fasthttp.RequestCtx) bool {
	return len(ctx.Request.Header.Peek("Origin")) > 0
}

// sdkPreflight answers a CORS preflight of a browser SDK's endpoint ep.
func (s *Server) sdkPreflight(ctx *fasthttp.RequestCtx, ep *Endpoint) {
	origin := ctx.Request.Header.Peek("Origin")
	if !s.sites.AnyAllowsOrigin(string(origin)) {
		ep.Reject("origin", 1)
		plainError(ctx, fmt.Sprintf("origin %q is not among the origins of any site: add it to the site's origins", origin), fasthttp.StatusForbidden)
		return
	}
	h := &ctx.Response.Header
	corsHeaders(ctx, origin)
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	if req := ctx.Request.Header.Peek("Access-Control-Request-Headers"); len(req) > 0 {
		h.SetBytesV("Access-Control-Allow-Headers", req)
	}
	h.Set("Access-Control-Max-Age", "86400")
	ctx.SetStatusCode(fasthttp.StatusNoContent)
}

// corsHeaders lets the page at origin read the answer, credentials included.
func corsHeaders(ctx *fasthttp.RequestCtx, origin []byte) {
	h := &ctx.Response.Header
	h.SetBytesV("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Vary", "Origin")
}

// sdkCORS sets the CORS headers of a browser request whose origin some site lists, so that
// the SDK can read the answer, a refusal included.
func (s *Server) sdkCORS(ctx *fasthttp.RequestCtx) {
	if origin := ctx.Request.Header.Peek("Origin"); len(origin) > 0 && s.sites.AnyAllowsOrigin(string(origin)) {
		corsHeaders(ctx, origin)
	}
}

// siteAllowsOrigin answers 403 and returns false when the browser request ctx comes from
// an origin st does not list; n events are counted as refused.
func (s *Server) siteAllowsOrigin(ctx *fasthttp.RequestCtx, ep *Endpoint, st *site.Site, n int) bool {
	origin := ctx.Request.Header.Peek("Origin")
	if st.AllowsOrigin(string(origin)) {
		return true
	}
	ep.Reject("origin", n)
	plainError(ctx, fmt.Sprintf("origin %q may not send events for site %q: add it to the site's origins", origin, st.ID), fasthttp.StatusForbidden)
	return false
}

// browserSegment turns the Segment messages of a browser into browser events: a track is
// an event like the snippet's, and RudderStack's "$direct" is no referrer.
func browserSegment(events []event.Event) {
	for i := range events {
		e := &events[i]
		if e.Type == event.TypeServer {
			e.Type = event.TypeEvent
		}
		if e.Referrer == "$direct" {
			e.Referrer = ""
		}
	}
}

// segmentSettingsHandler answers GET /v1/projects/<writeKey>/settings, counted under ep:
// the settings that analytics-next reads from its CDN. Segment.io is the only destination,
// and its apiHost is the host the request came to.
func (s *Server) segmentSettingsHandler(ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) { s.serveSegmentSettings(ctx, ep) }
}

func (s *Server) serveSegmentSettings(ctx *fasthttp.RequestCtx, ep *Endpoint) {
	rest := bytes.TrimPrefix(ctx.Path(), []byte("/v1/projects/"))
	key, tail, _ := bytes.Cut(rest, []byte("/"))
	switch {
	case ctx.IsOptions():
		s.sdkPreflight(ctx, ep)
		return
	case !ctx.IsGet() && !ctx.IsHead():
		ctx.Response.Header.Set("Allow", "GET, OPTIONS")
		jsonError(ctx, "method not allowed: GET the settings", fasthttp.StatusMethodNotAllowed)
		return
	case string(tail) != "settings":
		jsonError(ctx, "not found: the settings are at /v1/projects/<writeKey>/settings", fasthttp.StatusNotFound)
		return
	}
	st := s.siteOfBrowserKey(ctx, ep, key)
	if st == nil {
		return
	}
	settings := map[string]any{
		"integrations": map[string]any{"Segment.io": map[string]any{
			"apiKey": string(key), "apiHost": string(ctx.Host()) + "/v1", "protocol": scheme(ctx),
			"addBundledMetadata": false,
		}},
		"plan":                      map[string]any{},
		"metrics":                   map[string]any{"sampleRate": 0},
		"middlewareSettings":        map[string]any{},
		"enabledMiddleware":         map[string]any{},
		"remotePlugins":             []any{},
		"legacyVideoPluginsEnabled": false,
	}
	writeJSON(ctx, settings)
}

// rudderConfigHandler answers GET /sourceConfig/?writeKey=..., counted under ep: the source
// configuration that RudderStack's SDK reads from its configUrl, an enabled source without
// destinations.
func (s *Server) rudderConfigHandler(ep *Endpoint) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) { s.serveRudderConfig(ctx, ep) }
}

func (s *Server) serveRudderConfig(ctx *fasthttp.RequestCtx, ep *Endpoint) {
	switch {
	case ctx.IsOptions():
		s.sdkPreflight(ctx, ep)
		return
	case !ctx.IsGet() && !ctx.IsHead():
		ctx.Response.Header.Set("Allow", "GET, OPTIONS")
		jsonError(ctx, "method not allowed: GET the source configuration", fasthttp.StatusMethodNotAllowed)
		return
	}
	key := ctx.QueryArgs().Peek("writeKey")
	if len(key) == 0 {
		key = writeKeyHeader(&ctx.Request.Header)
	}
	st := s.siteOfBrowserKey(ctx, ep, key)
	if st == nil {
		return
	}
	writeJSON(ctx, map[string]any{
		"isHosted": false,
		"source": map[string]any{
			"id": st.ID, "name": st.ID, "writeKey": string(key), "workspaceId": "journeyd", "enabled": true,
			"config": map[string]any{"statsCollection": map[string]any{
				"errors": map[string]any{"enabled": false}, "metrics": map[string]any{"enabled": false},
			}},
			"destinations": []any{},
		},
	})
}

// siteOfBrowserKey returns the site of a browser SDK's write key, having set the CORS
// headers; it answers 404 for an unknown key and 403 for an origin the site does not list,
// and returns nil then.
func (s *Server) siteOfBrowserKey(ctx *fasthttp.RequestCtx, ep *Endpoint, key []byte) *site.Site {
	s.sdkCORS(ctx)
	st := s.sites.ByWriteKey(key)
	if st == nil {
		ep.Reject("write_key", 1)
		jsonError(ctx, "unknown write key: use a write key of a site in journeyd's config", fasthttp.StatusNotFound)
		return nil
	}
	if fromBrowser(ctx) && !s.siteAllowsOrigin(ctx, ep, st, 0) {
		return nil
	}
	return st
}

// scheme returns the scheme the client used to reach journeyd: https over TLS or when a
// proxy in front says so in X-Forwarded-Proto, else http.
func scheme(ctx *fasthttp.RequestCtx) string {
	if ctx.IsTLS() || string(ctx.Request.Header.Peek("X-Forwarded-Proto")) == "https" {
		return "https"
	}
	return "http"
}

// writeJSON answers 200 with v as JSON.
func writeJSON(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		jsonError(ctx, "cannot encode the answer", fasthttp.StatusInternalServerError)
		return
	}
	ctx.Response.Header.Set("Cache-Control", "max-age=300")
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}
