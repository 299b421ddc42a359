package gen

import (
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/snippet/browsertest"
	"github.com/journeyd/journeyd/sql/analysis/dashboard"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

var screenshots = flag.String("screenshots", "", "write the README's dashboard screenshots (PNG) into this directory, e.g. ../../../docs")

// TestDashboardScreenshots takes the README's pictures of the dashboard over the shop
// scenario (1,500 people, seed 1): the overview and the journey map, 1,400 px wide. It runs
// only with -screenshots DIR; what the dashboard draws is tested in sql/analysis/dashboard.
func TestDashboardScreenshots(t *testing.T) {
	if *screenshots == "" {
		t.Skip("run with -screenshots DIR to write the dashboard screenshots")
	}
	r, _ := stored(t, "shop", 1500, false)
	sites := map[string]goal.Definitions{"demo": {}}
	reports, person, dash := report.Handler(r.Conn, r.DB, sites), report.PersonHandler(r.Conn, r.DB, sites), dashboard.Handler()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		switch path := string(ctx.Path()); {
		case path == report.PersonPath:
			person(ctx)
		case strings.HasPrefix(path, "/api/"):
			reports(ctx)
		default:
			dash(ctx)
		}
	}}
	go srv.Serve(l)
	defer srv.Shutdown()
	ctx := browsertest.Tab(t, browsertest.Start(t), false)
	from, to := now.AddDate(0, 0, -14).Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly)
	browsertest.Do(t, ctx, chromedp.EmulateViewport(1400, 1000),
		chromedp.Navigate("http://"+l.Addr().String()+"/dashboard/#site=demo&from="+from+"&to="+to),
		chromedp.SetValue(chromedp.CSS("#token"), "any"), chromedp.Click(chromedp.CSS("#settings button.primary")))
	tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](`[...document.querySelectorAll('.panel')].every(p => !p.classList.contains('loading')) &&
		!!document.querySelector('#overview .kpi') && !!document.querySelector('#stages svg.chart')`, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatal(err)
	}
	for _, shot := range []struct{ file, sel string }{{"dashboard-overview.png", "#overview"}, {"dashboard-journey-map.png", "#stages"}} {
		png, err := chromedp.Run(tctx, chromedp.Screenshot(chromedp.CSS(shot.sel)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(*screenshots, shot.file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
