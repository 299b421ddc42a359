package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"encoding/json"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// serve runs h on a GET of uri with the given headers and returns status and body.
func serve(h fasthttp.RequestHandler, method, uri string, headers ...string) (int, map[string]any) {
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(uri)
	for i := 0; i+1 < len(headers); i += 2 {
		ctx.Request.Header.Set(headers[i], headers[i+1])
	}
	h(&ctx)
	var body map[string]any
	json.Unmarshal(ctx.Response.Body(), &body)
	return ctx.Response.StatusCode(), body
}

func TestHandlerRefusals(t *testing.T) {
	h := Handler(nil, "journeyd", map[string]goal.Definitions{"demo": {}}, "s3cret-token")
	f := func(method, uri string, wantStatus int, wantErr string, headers ...string) {
		t.Helper()
		status, body := serve(h, method, uri, headers...)
		msg, _ := body["error"].(string)
		if status != wantStatus || !strings.Contains(msg, wantErr) {
			t.Fatalf("%s %s = %d %q, want %d with %q", method, uri, status, msg, wantStatus, wantErr)
		}
	}
	auth := []string{"Authorization", "Bearer s3cret-token"}
	f("GET", "/api/v1/reports/funnel?site=demo", 401, "admin token")
	f("GET", "/api/v1/reports/funnel?site=demo", 401, "admin token", "Authorization", "Bearer wrong")
	f("GET", "/api/v1/reports/funnel?site=demo", 401, "admin token", "X-Admin-Token", "s3cret-toke")
	f("POST", "/api/v1/reports/funnel?site=demo", 405, "use GET", auth...)
	f("GET", "/api/v1/reports/nope?site=demo", 404, "unknown report", auth...)
	f("GET", "/api/v1/reports/funnel?site=other", 404, "unknown site", auth...)
	f("GET", "/api/v1/reports/funnel?site=demo&by=ip", 400, "unknown breakdown", auth...)
	f("GET", "/api/v1/reports/funnel?site=demo&steps=event:a", 400, "at least two steps", "X-Admin-Token", "s3cret-token")

	status, body := serve(h, "GET", "/api/v1/reports", auth...)
	if reports, _ := body["reports"].([]any); status != 200 || len(reports) != len(Names()) {
		t.Fatalf("GET /api/v1/reports = %d %v, want the %d reports", status, body, len(Names()))
	}
	if status, _ := serve(Handler(nil, "journeyd", nil, ""), "GET", "/api/v1/reports", "Authorization", "Bearer "); status != 401 {
		t.Fatalf("with no admin token configured, status = %d, want 401", status)
	}
}
