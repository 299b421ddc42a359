package main

import (
	"context"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/adminauth"
	"github.com/journeyd/journeyd/sql/store/erase"
	"github.com/journeyd/journeyd/sql/store/schema"
)

// Starting without ClickHouse (DESIGN §10). serve listens and accepts at once: events go
// into the spool, and /readyz answers 503 with the stage below. startup, in the background,
// waits for ClickHouse, migrates (with --migrate), loads the erasure tombstones, which opens
// the guard in front of the writer (so nothing is inserted before the schema is there and
// nothing erased is inserted again), waits for the spool's replay, and reloads the open
// sessions within --session-memory. Only then is journeyd ready. /healthz answers all along.

// startRetryMax is the longest wait between two attempts to reach ClickHouse at start.
const startRetryMax = 5 * time.Second

// migrateTimeout bounds the migrations, at start and in journeyd migrate. A backfill reads
// every event (0026's: 54 s of ClickHouse CPU and 4 GB for the 41 million events of the
// bench server, 285 s on the shared machine): under the minute a ping gets, or the
// connection's read timeout (5 min, which a context's deadline replaces), it would be cut
// off at every start, and journeyd would never be ready.
const migrateTimeout = 6 * time.Hour

// startup brings the app to ready, then polls the erasures every --erasure-poll until ctx
// ends.
func (a *app) startup(ctx context.Context) {
	a.setStage("waiting for ClickHouse")
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := a.prepare(ctx)
		if err == nil {
			break
		}
		a.setStage(fmt.Sprintf("waiting for ClickHouse: %v", err))
		if attempt == 1 || attempt%20 == 0 {
			a.log.Warn("ClickHouse is not ready; accepting into the spool meanwhile, retrying", "attempt", attempt, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(wait):
		}
		wait = min(2*wait, startRetryMax)
	}
	if a.spool != nil {
		a.setStage("replaying the spool")
		// Events a crash left in the spool carry their sessions already; once they are in
		// ClickHouse, the reload below sees those sessions too.
		wait, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := a.spool.WaitReplayed(wait)
		cancel()
		if err != nil {
			a.log.Warn("events left in the spool are not all in ClickHouse yet; their open sessions may be split", "err", err)
		}
	}
	a.setStage("reloading open sessions")
	if err := a.sessions.Reload(ctx, a.conn, a.db); err != nil {
		a.log.Warn("cannot reload open sessions; sessions open before the restart will be split", "err", err)
	}
	a.setStage("")
	a.log.Info("journeyd ready", "visitors", a.sessions.Visitors())
	if a.cfg.ReportWarm && a.runner != nil {
		a.started.Add(1)
		go func() { defer a.started.Done(); a.warmReports(ctx) }()
	}
	a.pollErasures(ctx)
}

// warmReports reads the days of every panel the dashboard opens with into the report store
// (--report-warm, report.Runner.Warm, report.DashboardPanels) and logs how long it took, or what it could not warm; then again every
// --report-warm-every until ctx ends. Each warm-up after the first reads from ClickHouse only
// the days whose events changed since (today's, mostly), so the store stays as new as that
// interval whether or not anyone opens the dashboard.
func (a *app) warmReports(ctx context.Context) {
	for first := true; ; first = false {
		start := a.clock.Now()
		switch err := a.runner.Warm(ctx, a.defs, start); {
		case ctx.Err() != nil:
			return
		case err != nil:
			a.log.Warn("cannot warm every report; the next dashboard opened reads those days from ClickHouse", "err", err)
		case first:
			a.log.Info("reports warmed: the days the dashboard opens on are kept", "sites", len(a.defs), "took", a.clock.Now().Sub(start).Round(time.Millisecond))
		default:
			a.log.Debug("reports warmed again", "sites", len(a.defs), "took", a.clock.Now().Sub(start).Round(time.Millisecond))
		}
		if a.cfg.ReportWarmEvery <= 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(a.cfg.ReportWarmEvery):
		}
	}
}

// prepare pings ClickHouse, migrates when asked to, and loads the erasures, which opens the
// guard. The ping and the erasures get a minute each; the migrations get migrateTimeout.
func (a *app) prepare(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := a.conn.Ping(pctx); err != nil {
		return fmt.Errorf("cannot ping ClickHouse: %w", err)
	}
	if a.cfg.Migrate {
		mctx, cancel := context.WithTimeout(ctx, migrateTimeout)
		defer cancel()
		if err := schema.Migrate(mctx, a.conn, a.db); err != nil {
			return err
		}
	}
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := a.syncErasures(ectx); err != nil {
		if !a.cfg.Migrate {
			return fmt.Errorf("%w (with --migrate=false, journeyd migrate makes the schema)", err)
		}
		return err
	}
	return nil
}

// setStage records what startup is doing; "" means done, and /readyz checks the rest.
func (a *app) setStage(stage string) {
	a.stage.Store(&stage)
}

// starting returns an error while startup is not done.
func (a *app) starting() error {
	if s := a.stage.Load(); s != nil && *s != "" {
		return fmt.Errorf("starting: %s", *s)
	}
	return nil
}

// pollErasures reads the erasures every --erasure-poll, so that an erasure made without
// --collectors reaches this node too.
func (a *app) pollErasures(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(a.cfg.ErasurePoll):
		}
		if _, err := a.syncErasures(ctx); err != nil {
			a.log.Warn("cannot read the erasures; retrying", "err", err)
		}
	}
}

// erasureSync is what POST /api/v1/erasures/sync answers.
type erasureSync struct {
	Erasures  int `json:"erasures"`  // ids erased, in total
	New       int `json:"new"`       // of those, new to this node
	Forgotten int `json:"forgotten"` // visitors the sessionizer dropped for the new ones
}

// syncErasures loads the tombstones into the guard and makes the sessionizer forget the new
// ones.
func (a *app) syncErasures(ctx context.Context) (erasureSync, error) {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	ts, err := erase.Load(ctx, a.conn, a.db)
	if err != nil {
		return erasureSync{}, err
	}
	fresh := a.guard.Set(ts)
	res := erasureSync{Erasures: len(ts), New: len(fresh)}
	type ids struct{ users, anons []string }
	bySite := map[string]*ids{}
	for _, t := range fresh {
		s := bySite[t.Site]
		if s == nil {
			s = &ids{}
			bySite[t.Site] = s
		}
		if t.Kind == erase.KindUser {
			s.users = append(s.users, t.ID)
		} else {
			s.anons = append(s.anons, t.ID)
		}
	}
	for site, s := range bySite {
		res.Forgotten += a.sessions.Forget(site, s.users, s.anons)
	}
	if len(fresh) > 0 {
		a.log.Info("erasures applied", "new_ids", len(fresh), "visitors_forgotten", res.Forgotten)
	}
	return res, nil
}

// serveErasureSync answers POST /api/v1/erasures/sync (journeyd erase --collectors), behind
// the admin token: it reads the erasures at once, and answers once the sessionizer has
// forgotten the erased links, the guard drops the erased events, and (with a spool) the
// writer has stored the events it held before, so that the deletion that follows finds
// them in ClickHouse.
func (a *app) serveErasureSync(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Response.Header.Set("Allow", "POST")
		adminauth.Error(ctx, fasthttp.StatusMethodNotAllowed, "use POST")
		return
	}
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := a.syncErasures(rctx)
	if err == nil && a.spool != nil { // without a spool the writer does not report what it stored
		err = a.guard.Flushed(rctx)
	}
	if err != nil {
		adminauth.Error(ctx, fasthttp.StatusServiceUnavailable, "cannot apply the erasures: "+err.Error())
		return
	}
	adminauth.WriteJSON(ctx, fasthttp.StatusOK, res)
}
