package adminauth

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fasthttp"
)

// serve runs h on a GET with the given header pairs and returns the status, the error of
// the JSON answer and whether h ran.
func serve(token string, headers ...string) (status int, msg string, ran bool) {
	h := Guard(token, func(ctx *fasthttp.RequestCtx) {
		ran = true
		WriteJSON(ctx, fasthttp.StatusOK, map[string]string{"ok": "yes"})
	})
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/api/v1/reports")
	for i := 0; i+1 < len(headers); i += 2 {
		ctx.Request.Header.Set(headers[i], headers[i+1])
	}
	h(&ctx)
	var body map[string]string
	json.Unmarshal(ctx.Response.Body(), &body)
	return ctx.Response.StatusCode(), body["error"], ran
}

func TestGuard(t *testing.T) {
	f := func(token string, want int, headers ...string) {
		t.Helper()
		status, msg, ran := serve(token, headers...)
		if status != want || ran != (want == 200) {
			t.Fatalf("token %q, headers %q: %d (handler ran: %v), want %d", token, headers, status, ran, want)
		}
		if want == 401 && msg != "missing or wrong admin token: send Authorization: Bearer TOKEN" {
			t.Fatalf("headers %q: error %q", headers, msg)
		}
	}
	const tok = "s3cret-token"
	f(tok, 200, "Authorization", "Bearer s3cret-token")
	// The scheme is case-insensitive (RFC 9110 §11.1): the reports API took "bearer", the
	// links API did not.
	f(tok, 200, "Authorization", "bearer s3cret-token")
	f(tok, 200, "Authorization", "BEARER s3cret-token")
	f(tok, 200, "X-Admin-Token", "s3cret-token")
	f(tok, 200, "X-Admin-Token", "s3cret-token", "Authorization", "Bearer wrong") // the header wins
	f(tok, 401)
	f(tok, 401, "Authorization", "Bearer wrong")
	f(tok, 401, "Authorization", "Bearer s3cret-toke") // a prefix is not the token
	f(tok, 401, "Authorization", "Bearer s3cret-token2")
	f(tok, 401, "X-Admin-Token", "s3cret-toke")
	f(tok, 401, "Authorization", "Basic s3cret-token")
	f(tok, 401, "Authorization", "s3cret-token")
	// With no token configured the endpoints are closed, even to an empty credential.
	f("", 401)
	f("", 401, "Authorization", "Bearer ")
	f("", 401, "X-Admin-Token", "")
}

func TestGuardAnswer(t *testing.T) {
	h := Guard("t", func(*fasthttp.RequestCtx) {})
	var ctx fasthttp.RequestCtx
	h(&ctx)
	r := &ctx.Response
	if string(r.Header.ContentType()) != "application/json" || string(r.Header.Peek("Cache-Control")) != "no-store" ||
		string(r.Header.Peek("WWW-Authenticate")) != `Bearer realm="journeyd"` {
		t.Fatalf("401 headers: %s", r.Header.String())
	}
}
