// Package adminauth guards journeyd's admin endpoints (the reports API, the email link API)
// with the admin token, and writes the JSON answers they share. It owns the one decision of
// who may use them; the handlers it wraps check nothing themselves. It does not know which
// routes are admin routes: cmd/journeyd and emaillink.Register wrap them.
package adminauth

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"

	"github.com/valyala/fasthttp"
)

// Header is the header that may carry the token instead of Authorization: Bearer.
const Header = "X-Admin-Token"

// Guard returns h behind token: a request passes when it carries the token as
// "Authorization: Bearer TOKEN" (the scheme in any case) or "X-Admin-Token: TOKEN" (which
// wins when both are sent), compared in constant time. Any other request is answered 401
// with a JSON error and never reaches h. With an empty token every request is refused:
// the admin endpoints are closed.
func Guard(token string, h fasthttp.RequestHandler) fasthttp.RequestHandler {
	want := []byte(token)
	return func(ctx *fasthttp.RequestCtx) {
		if !authorized(&ctx.Request.Header, want) {
			ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="journeyd"`)
			Error(ctx, fasthttp.StatusUnauthorized, "missing or wrong admin token: send Authorization: Bearer TOKEN")
			return
		}
		h(ctx)
	}
}

// authorized reports whether the request headers h carry token; an empty token is never
// carried.
func authorized(h *fasthttp.RequestHeader, token []byte) bool {
	if len(token) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(credential(h), token) == 1
}

// credential returns the token a request sends, or nil.
func credential(h *fasthttp.RequestHeader) []byte {
	if got := h.Peek(Header); len(got) > 0 {
		return got
	}
	const bearer = "bearer "
	auth := h.Peek("Authorization")
	if len(auth) <= len(bearer) || !bytes.EqualFold(auth[:len(bearer)], []byte(bearer)) {
		return nil
	}
	return bytes.TrimSpace(auth[len(bearer):])
}

// Error writes the admin endpoints' error answer, {"error": msg}, with status.
func Error(ctx *fasthttp.RequestCtx, status int, msg string) {
	WriteJSON(ctx, status, map[string]string{"error": msg})
}

// WriteJSON writes v as the JSON answer with status; the answer is not cached. A value that
// cannot be encoded answers 500.
func WriteJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = fasthttp.StatusInternalServerError, []byte(`{"error":"cannot encode the answer as JSON"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(body)
}
