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

// warmReports are what Warm runs for each site, with their options: the reports the
// dashboard draws first that read the days the store keeps (daystore.go, pagedays.go). The
// overview reads the opening period and the one before it, the same days of touch_rows as
// channels, attribution, paths, time-to-convert and the top lists of the session
// dimensions read (one kind of day whatever their key, touchKey), so their opening days
// are then stored too; the top lists read them again (from the store: the read whose
// batches the journey panels find kept, keptreads.go), and the page views (app.js asks for
// them in these two requests).
var warmReports = []struct {
	name string
	opts map[string]string
}{
	{"overview", nil},
	{"top", map[string]string{"dimension": "channel,source,campaign,entry_page,country,device,browser", "top": "10"}},
	{"top", map[string]string{"dimension": "page", "top": "10"}},
}

// Warm reads into the store (Runner.StoreBytes) the days the dashboard opens on for each
// site of defs: it runs warmReports over the WarmDays to the UTC day of now, with the
// site's conversion, so that the first analyst to open the dashboard after a start finds
// the days before today kept and ClickHouse reads only the days that changed. The sites
// are warmed one after the other, one report at a time, in the order of their ids, so that
// a start does not take ClickHouse's cores from the collector's inserts all at once. A site
// that cannot be warmed is noted in the error, and the others are warmed still; ctx's end
// stops it. With no store, Warm does nothing. After a restart with StoreDir the store
// starts with the days kept on disk (daydisk.go; Warm waits for their load), so Warm reads
// from ClickHouse only the days whose events changed meanwhile (on a live site, today).
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
		for _, rep := range warmReports {
			if err := ctx.Err(); err != nil {
				return errors.Join(append(errs, fmt.Errorf("cannot warm the reports: %w", err))...)
			}
			opts := map[string]string{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}
			for k, v := range rep.opts {
				opts[k] = v
			}
			req, err := ParseRequest(site, defs[site], opts, now)
			if err == nil {
				_, err = r.Run(ctx, rep.name, req)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("cannot warm report %s of site %s: %w", rep.name, site, err))
			}
		}
	}
	return errors.Join(errs...)
}
