package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/valyala/fasthttp"
)

// HandlerTimeout bounds one report request.
const HandlerTimeout = 2 * time.Minute

// Handler serves GET /api/v1/reports (the list of reports) and GET /api/v1/reports/NAME?
// site=S&... (one report as JSON; the other query arguments are the options of OptionNames)
// from the events in database db. sites holds the conversions and stages of each site; a
// site missing from it is unknown (404). Handler checks no credentials: whoever serves it
// puts it behind the admin token (cmd/journeyd wraps it in collector/adminauth.Guard).
func Handler(conn driver.Conn, db string, sites map[string]goal.Definitions) fasthttp.RequestHandler {
	return RunnerHandler(&Runner{Conn: conn, DB: db}, sites)
}

// RunnerHandler is Handler with the Runner its reports run on (one that keeps days' rows,
// Runner.StoreBytes, as journeyd serve's does).
func RunnerHandler(runner *Runner, sites map[string]goal.Definitions) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsGet() {
			ctx.Response.Header.Set("Allow", "GET")
			apiError(ctx, fasthttp.StatusMethodNotAllowed, "use GET")
			return
		}
		name := strings.Trim(strings.TrimPrefix(string(ctx.Path()), "/api/v1/reports"), "/")
		if name == "" {
			writeJSON(ctx, fasthttp.StatusOK, reportList())
			return
		}
		serveReport(ctx, runner, sites, name)
	}
}

func serveReport(ctx *fasthttp.RequestCtx, runner *Runner, sites map[string]goal.Definitions, name string) {
	if _, err := Lookup(name); err != nil {
		apiError(ctx, fasthttp.StatusNotFound, err.Error())
		return
	}
	opts := map[string]string{}
	site := ""
	for k, v := range ctx.QueryArgs().All() {
		switch key := string(k); key {
		case "site":
			site = string(v)
		case "format":
		default:
			opts[key] = string(v)
		}
	}
	defs, ok := sites[site]
	if !ok {
		apiError(ctx, fasthttp.StatusNotFound, "unknown site "+quote(site)+": pass ?site=ID of a configured site")
		return
	}
	req, err := ParseRequest(site, defs, opts, time.Now())
	if err != nil {
		apiError(ctx, fasthttp.StatusBadRequest, err.Error())
		return
	}
	c, cancel := context.WithTimeout(context.Background(), HandlerTimeout)
	defer cancel()
	res, err := runner.Run(c, name, req)
	if err != nil {
		status := fasthttp.StatusInternalServerError
		var usage *UsageError
		switch {
		case errors.As(err, &usage):
			status = fasthttp.StatusBadRequest
		case errors.Is(err, context.DeadlineExceeded):
			status = fasthttp.StatusGatewayTimeout
		}
		apiError(ctx, status, err.Error())
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, res.JSON())
}

func reportList() any {
	type item struct {
		Name    string `json:"name"`
		Summary string `json:"summary"`
	}
	out := struct {
		Reports []item            `json:"reports"`
		Options map[string]string `json:"options"`
	}{Options: OptionNames}
	for _, n := range Names() {
		out.Reports = append(out.Reports, item{n, registry[n].Summary})
	}
	return out
}

func apiError(ctx *fasthttp.RequestCtx, status int, msg string) {
	writeJSON(ctx, status, map[string]string{"error": msg})
}

func writeJSON(ctx *fasthttp.RequestCtx, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = fasthttp.StatusInternalServerError, []byte(`{"error":"cannot encode the report as JSON"}`)
	}
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.SetBody(body)
}
