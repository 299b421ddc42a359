package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// adminRoutes wires the routes of an app with admin token token (no ClickHouse: the
// reports list and the guard need none) and returns the server and what was logged.
func adminRoutes(t *testing.T, token string) (*collector.Server, *bytes.Buffer) {
	t.Helper()
	sites, err := site.NewRegistry([]site.Site{{ID: "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a := &app{cfg: &config{AdminToken: token}, log: slog.New(slog.NewTextHandler(&logs, nil))}
	sink := event.SinkFunc(func(context.Context, []event.Event) error { return nil })
	if a.server, err = collector.New(collector.Config{Sites: sites, Sink: sink, Logger: a.log}); err != nil {
		t.Fatal(err)
	}
	if err := a.routes(sites, "journeyd"); err != nil {
		t.Fatal(err)
	}
	return a.server, &logs
}

// getStatus serves GET path with the given header pairs through srv and returns the status.
func getStatus(srv *collector.Server, path string, headers ...string) int {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI(path)
	for i := 0; i+1 < len(headers); i += 2 {
		ctx.Request.Header.Set(headers[i], headers[i+1])
	}
	srv.Handler()(&ctx)
	return ctx.Response.StatusCode()
}

// TestAdminRoutes: serve puts the reports API behind the admin token, takes the Bearer
// scheme in any case, and says once at start when no token is configured that the admin
// API is closed.
func TestAdminRoutes(t *testing.T) {
	srv, logs := adminRoutes(t, "tok-1")
	f := func(want int, headers ...string) {
		t.Helper()
		if got := getStatus(srv, "/api/v1/reports", headers...); got != want {
			t.Fatalf("GET /api/v1/reports with %q: %d, want %d", headers, got, want)
		}
	}
	f(401)
	f(401, "Authorization", "Bearer tok-2")
	f(200, "Authorization", "Bearer tok-1")
	f(200, "Authorization", "bearer tok-1")
	f(200, "X-Admin-Token", "tok-1")
	if strings.Contains(logs.String(), "no admin token") {
		t.Fatalf("a token is configured, yet the log says none is: %s", logs)
	}

	srv, logs = adminRoutes(t, "")
	if got := getStatus(srv, "/api/v1/reports", "Authorization", "Bearer "); got != 401 {
		t.Fatalf("no token configured: GET /api/v1/reports = %d, want 401", got)
	}
	if n := strings.Count(logs.String(), "no admin token configured: the admin API"); n != 1 {
		t.Fatalf("the start log says %d times that the admin API is closed, want once:\n%s", n, logs)
	}
}
