package report

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey"
)

// PersonPath is the path of the person API that PersonHandler serves.
const PersonPath = "/api/v1/person"

// PersonHandler serves GET /api/v1/person?site=S&id=ID: the journey of the person ID (a
// user id or an anonymous id) belongs to, as sql/analysis/journey gives it in JSON (their
// sessions with sources, every touchpoint in order, the conversions), for the dashboard's
// person page. Like Handler it checks no credentials: whoever serves it puts it behind the
// admin token.
func PersonHandler(conn driver.Conn, db string, sites map[string]goal.Definitions) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		if !ctx.IsGet() {
			ctx.Response.Header.Set("Allow", "GET")
			apiError(ctx, fasthttp.StatusMethodNotAllowed, "use GET")
			return
		}
		args := ctx.QueryArgs()
		site, id := string(args.Peek("site")), string(args.Peek("id"))
		if _, ok := sites[site]; !ok {
			apiError(ctx, fasthttp.StatusNotFound, "unknown site "+quote(site)+": pass ?site=ID of a configured site")
			return
		}
		if id == "" {
			apiError(ctx, fasthttp.StatusBadRequest, "no person given: pass ?id= a user id or an anonymous id")
			return
		}
		c, cancel := context.WithTimeout(context.Background(), HandlerTimeout)
		defer cancel()
		j, err := journey.Person(c, conn, db, site, id)
		if err != nil {
			apiError(ctx, fasthttp.StatusInternalServerError, err.Error())
			return
		}
		if len(j.Touchpoints) == 0 {
			apiError(ctx, fasthttp.StatusNotFound, "no events of person "+quote(id)+" on site "+quote(site))
			return
		}
		writeJSON(ctx, fasthttp.StatusOK, j)
	}
}
