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
	h := Handler(nil, "journeyd", map[string]goal.Definitions{"demo": {}})
	f := func(method, uri string, wantStatus int, wantErr string, headers ...string) {
		t.Helper()
		status, body := serve(h, method, uri, headers...)
		msg, _ := body["error"].(string)
		if status != wantStatus || !strings.Contains(msg, wantErr) {
			t.Fatalf("%s %s = %d %q, want %d with %q", method, uri, status, msg, wantStatus, wantErr)
		}
	}
	// The admin token is checked before the handler, by collector/adminauth.Guard (its own
	// test holds the 401 cases); the headers below are what a client sends and are ignored.
	auth := []string{"Authorization", "Bearer s3cret-token"}
	f("POST", "/api/v1/reports/funnel?site=demo", 405, "use GET", auth...)
	f("GET", "/api/v1/reports/nope?site=demo", 404, "unknown report", auth...)
	f("GET", "/api/v1/reports/funnel?site=other", 404, "unknown site", auth...)
	f("GET", "/api/v1/reports/funnel?site=demo&by=ip", 400, "unknown breakdown", auth...)
	f("GET", "/api/v1/reports/funnel?site=demo&steps=event:a", 400, "at least two steps", "X-Admin-Token", "s3cret-token")
	// User errors answer 400, not 500, and name the option as the API spells it (issue 16
	// item 8): a cohort that is no step, more steps than MaxSteps, a report's missing option.
	f("GET", "/api/v1/reports/retention?site=demo&cohort=event:signup[plan", 400, "cohort: ", auth...)
	f("GET", "/api/v1/reports/retention?site=demo&return=event:x[a", 400, "return: ", auth...)
	f("GET", "/api/v1/reports/funnel?site=demo&steps="+strings.Repeat("event:a,", 499)+"event:a", 400, "steps: 500 steps given, at most 20", auth...)
	f("GET", "/api/v1/reports/next?site=demo", 400, "set after to a step", auth...)
	f("GET", "/api/v1/reports/funnel?site=demo&window=soon", 400, "window: ", auth...)

	status, body := serve(h, "GET", "/api/v1/reports", auth...)
	if reports, _ := body["reports"].([]any); status != 200 || len(reports) != len(Names()) {
		t.Fatalf("GET /api/v1/reports = %d %v, want the %d reports", status, body, len(Names()))
	}
}
