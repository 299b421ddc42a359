package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/journeyd/journeyd/event/goal"
)

// WarmDays is the period the dashboard opens on: the WarmDays days to today, today
// included (sql/analysis/dashboard/static/app.js, setPeriod(30)).
const WarmDays = 30

// Panel is one report the dashboard asks for: its name and its options besides the site
// and the period.
type Panel struct {
	Name string
	Opts map[string]string
}

// Request returns p's request for site, with its conversion defs, over [from, to), as asked
// at now.
func (p Panel) Request(site string, defs goal.Definitions, from, to, now time.Time) (*Request, error) {
	opts := map[string]string{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
	for k, v := range p.Opts {
		opts[k] = v
	}
	return ParseRequest(site, defs, opts, now)
}

// DashboardPanels are the reports the dashboard (sql/analysis/dashboard/static/app.js) asks
// for when it opens with its default options, as it asks for them: first the overview and
// the top lists, together, then every other panel at once. The journey map draws its
// channels from the first top list's rows (sharedTop), so it asks for no top list of its
// own. Warm and `journeyd bench-reports` run these, and the dashboard's tests
// (TestDashboardPanels) hold them to app.js's defaults, so that what is warmed and timed is
// what the page opens with.
var DashboardPanels = [][]Panel{
	{
		{"overview", nil},
		{"top", map[string]string{"dimension": "channel,source,campaign,entry_page,country,device,browser", "top": "10"}},
		{"top", map[string]string{"dimension": "page", "top": "10"}},
	},
	{
		{"stages", nil},
		{"channels", nil},
		{"time-to-convert", nil},
		{"barriers", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,conversion", "window": "7d", "per": "person"}},
		{"funnel", map[string]string{"steps": "pageview:/product/*,event:add_to_cart,event:checkout,conversion", "window": "7d", "per": "person"}},
		{"attribution", map[string]string{"model": "all", "by": "channel", "lookback": "30d"}},
		{"paths", map[string]string{"top": "20"}},
		{"retention", map[string]string{"cohort": "first_purchase", "within": "7d,14d,30d,60d,90d"}}, // the grid's five windows, one query
	},
}

// warmSkip are the panels Warm does not run: their days are those of touch_rows, one kind
// of day whatever the report and key (touchKey), which the overview has read already over
// the opening period and the 30 days before it (their lookback); running them would only
// spend journeyd's CPU on answers nobody asked for. TestWarm holds that the dashboard then
// reads none of their days from ClickHouse.
var warmSkip = map[string]bool{"channels": true, "time-to-convert": true, "attribution": true, "paths": true}

// Warm reads into the store (Runner.StoreBytes) the days the dashboard opens on for each
// site of defs: it runs the DashboardPanels (but warmSkip's, whose days the overview reads)
// over the WarmDays to the UTC day of now, with the site's conversion, so that the first
// analyst to open the dashboard after a start finds the days before today kept for every
// panel (touch_rows, the page views, stage_rows, funnel_rows and retention_rows) and
// ClickHouse reads only the days that changed. The sites are warmed one after the other,
// one report at a time, in the order of their ids and of the panels, so that a start does
// not take ClickHouse's cores from the collector's inserts all at once (the dashboard runs
// its second group of panels at once). A site that cannot be warmed is noted in the error,
// and the others are warmed still; ctx's end stops it. With no store, Warm does nothing.
// After a restart with StoreDir the store starts with the days kept on disk (daydisk.go;
// Warm waits for their load), so Warm reads from ClickHouse only the days whose events
// changed meanwhile (on a live site, today).
func (r *Runner) Warm(ctx context.Context, defs map[string]goal.Definitions, now time.Time) error {
	if r.StoreBytes <= 0 {
		return nil
	}
	to := now.UTC().Truncate(day).Add(day)
	from := to.Add(-WarmDays * day)
	sites := make([]string, 0, len(defs))
	for site := range defs {
		sites = append(sites, site)
	}
	slices.Sort(sites)
	var errs []error
	for _, site := range sites {
		for _, rep := range warmPanels() {
			if err := ctx.Err(); err != nil {
				return errors.Join(append(errs, fmt.Errorf("cannot warm the reports: %w", err))...)
			}
			req, err := rep.Request(site, defs[site], from, to, now)
			if err == nil {
				_, err = r.Run(ctx, rep.Name, req)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot warm report %s of site %s: %w", rep.Name, site, err))
			}
		}
	}
	return errors.Join(errs...)
}

// warmPanels returns the panels Warm runs, in the dashboard's order: DashboardPanels but
// warmSkip's.
func warmPanels() []Panel {
	var out []Panel
	for _, group := range DashboardPanels {
		for _, p := range group {
			if !warmSkip[p.Name] {
				out = append(out, p)
			}
		}
	}
	return out
}
