package main

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on --debug-listen
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/journeyd/journeyd/collector"
	"github.com/journeyd/journeyd/collector/adminauth"
	"github.com/journeyd/journeyd/collector/dedup"
	"github.com/journeyd/journeyd/collector/emaillink"
	"github.com/journeyd/journeyd/collector/enrich/standard"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sessionizer"
	"github.com/journeyd/journeyd/snippet"
	"github.com/journeyd/journeyd/spool"
	"github.com/journeyd/journeyd/sql/analysis/dashboard"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
	"github.com/journeyd/journeyd/sql/store/erase"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/writer"
)

func init() {
	register("serve", "run the collector: pixel, snippet, server API, email links, reports", runServe)
	register("migrate", "create or upgrade the ClickHouse schema and exit", runMigrate)
}

func runServe(ctx context.Context, args []string) error {
	cfg, _, err := loadConfig("serve", args, nil)
	if err != nil {
		return err
	}
	log := newLogger(cfg)
	reserveHugeHeap(cfg, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Listen, err)
	}
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	go a.reloadOnSIGHUP(ctx)
	if cfg.DebugListen != "" {
		go func() {
			// net/http/pprof registers on http.DefaultServeMux.
			log.Error("debug server stopped", "err", http.ListenAndServe(cfg.DebugListen, nil))
		}()
	}
	log.Info("journeyd serving", "listen", ln.Addr().String(), "clickhouse", cfg.ClickHouse, "sites", len(cfg.Sites))
	return a.serve(ctx, ln)
}

func runMigrate(ctx context.Context, args []string) error {
	var script string
	var cluster schema.Cluster
	cfg, _, err := loadCommandConfig("migrate", args, []string{"clickhouse"}, func(fs *flag.FlagSet) {
		fs.StringVar(&script, "sql", "", "print the schema statements for a ClickHouse server of this `version` (e.g. 24.8) instead of applying them; the database is the DSN's")
		fs.StringVar(&cluster.Name, "cluster", "", "with --sql: the schema of one node of this `cluster` (remote_servers name): local tables plus Distributed ones (deploy/cluster)")
		fs.BoolVar(&cluster.Replicated, "replicated", false, "with --cluster: local tables on Replicated engines, at ZooKeeper paths made of the {shard} and {replica} macros (deploy/cluster)")
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Usage: journeyd migrate [--clickhouse DSN] [--sql VERSION [--cluster NAME [--replicated]]]\n\nCreates or upgrades the schema of the DSN's database (serve does it at start too), or prints it.\n")
	})
	if err != nil {
		return err
	}
	if cluster.Replicated && cluster.Name == "" {
		return fmt.Errorf("--replicated needs --cluster NAME and --sql VERSION")
	}
	if script != "" {
		return printSchema(cfg.ClickHouse, script, cluster)
	}
	if cluster.Name != "" {
		return fmt.Errorf("--cluster needs --sql VERSION: a cluster's schema is applied on every node (deploy/cluster/README.md)")
	}
	conn, db, err := openClickHouse(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	if err := schema.Migrate(ctx, conn, db); err != nil {
		return err
	}
	fmt.Printf("schema of database %s is up to date\n", db)
	return nil
}

// printSchema prints the statements of a new database of dsn on a server of version, or on
// one node of cluster when it is named.
func printSchema(dsn, version string, cluster schema.Cluster) error {
	v, err := clickhouse.ParseVersion(version)
	if err != nil {
		return err
	}
	opt, err := clickhouse.Options(dsn)
	if err != nil {
		return err
	}
	stmts, err := schema.Script(opt.Auth.Database, v)
	if cluster.Name != "" {
		stmts, err = schema.ClusterScript(opt.Auth.Database, cluster, v)
	}
	if err != nil {
		return err
	}
	for _, s := range stmts {
		fmt.Printf("%s;\n\n", s)
	}
	return nil
}

func newLogger(cfg *config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// openClickHouse connects to the server of dsn and returns the database the DSN names.
func openClickHouse(ctx context.Context, dsn string) (driver.Conn, string, error) {
	return connectClickHouse(dsn, func(dsn string) (driver.Conn, error) { return clickhouse.Open(ctx, dsn) })
}

// dialClickHouse is openClickHouse without waiting for the server (serve starts while
// ClickHouse is down).
func dialClickHouse(dsn string) (driver.Conn, string, error) {
	return connectClickHouse(dsn, clickhouse.Dial)
}

func connectClickHouse(dsn string, open func(string) (driver.Conn, error)) (driver.Conn, string, error) {
	opt, err := clickhouse.Options(dsn)
	if err != nil {
		return nil, "", err
	}
	db := opt.Auth.Database
	if db == "" || db == "default" {
		return nil, "", fmt.Errorf("cannot use ClickHouse DSN %q: name journeyd's database in its path, e.g. clickhouse://127.0.0.1:9000/journeyd", dsn)
	}
	// Connect to the server's default database: journeyd's may not exist yet.
	onDefault, err := clickhouse.OnDatabase(dsn, "default")
	if err != nil {
		return nil, "", err
	}
	conn, err := open(onDefault)
	if err != nil {
		return nil, "", err
	}
	return conn, db, nil
}

// app is one running journeyd: the pipeline from the HTTP server to ClickHouse.
type app struct {
	cfg      *config
	log      *slog.Logger
	reg      *prometheus.Registry
	conn     driver.Conn
	db       string
	writer   *writer.Writer
	guard    *erase.Guard // between the spool and the writer
	spool    *spool.Spool // nil without a spool directory
	sessions *sessionizer.Sessionizer
	enricher *standard.Enricher
	server   *collector.Server

	clock   event.Clock            // startup's and the erasure poll's waits
	stage   atomic.Pointer[string] // what startup is doing; "" when done (start.go)
	syncMu  sync.Mutex             // one erasure sync at a time
	started sync.WaitGroup         // startup
	runner  *report.Runner         // the reports'; startup warms its store (--report-warm)
	defs    map[string]goal.Definitions
}

func newApp(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	conn, db, err := dialClickHouse(cfg.ClickHouse)
	if err != nil {
		return nil, err
	}
	a.conn, a.db, a.clock = conn, db, event.SystemClock
	a.setStage("not started")
	if err := a.pipeline(ctx, db); err != nil {
		conn.Close()
		return nil, err
	}
	return a, nil
}

// pipeline builds writer ← sessionizer ← collector and the routes around them.
func (a *app) pipeline(ctx context.Context, db string) error {
	cfg := a.cfg
	sites, err := site.NewRegistry(cfg.Sites)
	if err != nil {
		return err
	}
	wcfg := writer.Config{
		Database: db, BatchSize: cfg.BatchSize, FlushInterval: cfg.FlushInterval,
		Inserts: cfg.Inserts, QueueSize: cfg.QueueSize, DeadLetterPath: cfg.DeadLetter,
		Registerer: a.reg, Logger: a.log,
	}
	if a.writer, err = writer.New(a.conn, wcfg); err != nil {
		return err
	}
	if a.guard, err = erase.NewGuard(a.writer, erase.GuardConfig{Registerer: a.reg}); err != nil {
		return err
	}
	var sink event.Sink = a.guard
	if cfg.SpoolDir != "" {
		// The spool hands every batch to the writer with its acknowledgement
		// (event.AckSink): that is how it learns what ClickHouse has.
		sp, err := spool.Open(spool.Config{
			Dir: cfg.SpoolDir, MaxBytes: cfg.SpoolMaxBytes, CommitInterval: cfg.SpoolCommitInterval,
			Registerer: a.reg, Logger: a.log,
		}, a.guard)
		if err != nil {
			return err
		}
		a.spool, sink = sp, sp
	}
	a.sessions, err = sessionizer.New(sink, sessionizer.Config{
		Timeout: cfg.SessionTimeout, MaxLength: cfg.SessionMaxLength,
		MemoryLimit: cfg.SessionMemory, Registerer: a.reg,
	})
	if err != nil {
		return err
	}
	a.enricher, err = standard.New(standard.Options{
		TrustedProxies: cfg.TrustedProxies, GeoDB: cfg.GeoIP, KeepIP: cfg.KeepIP, Logger: a.log,
	})
	if err != nil {
		return err
	}
	a.server, err = collector.New(collector.Config{
		Sites: sites, Sink: a.sessions, Enricher: a.enricher, Registerer: a.reg, Gatherer: a.reg,
		Logger: a.log, ClientIP: a.enricher.ClientIP, Ready: a.ready,
		Dedup:            dedup.New(dedup.Config{Window: cfg.DedupWindow, Registerer: a.reg}),
		CookielessSecret: []byte(cfg.CookielessSecret),
	})
	if err != nil {
		return err
	}
	return a.routes(sites, db)
}

func (a *app) routes(sites *site.Registry, db string) error {
	a.server.Handle("/t.js", snippet.Handler)
	a.server.Handle(snippet.Path(), snippet.Handler)
	a.server.Handle(snippet.FullPath(), snippet.Handler)
	a.server.Handle("/t.full.js", snippet.Handler)
	if a.cfg.Demo {
		a.server.Handle("/demo/", snippet.Demo())
	}
	defs := make(map[string]goal.Definitions)
	for _, s := range sites.Sites() {
		defs[s.ID] = s.ReportDefinitions()
	}
	if a.cfg.AdminToken == "" {
		a.log.Warn("no admin token configured: the admin API (/api/v1/reports, /api/v1/links), and with it the dashboard, is closed: set JOURNEYD_ADMIN_TOKEN or --admin-token-file to open it")
	}
	var reg prometheus.Registerer // a nil *Registry (tests that build the routes alone) registers nothing
	if a.reg != nil {
		reg = a.reg
	}
	metrics, err := report.NewMetrics(reg)
	if err != nil {
		return err
	}
	a.runner, a.defs = &report.Runner{Conn: a.conn, DB: db, StoreBytes: a.cfg.ReportStoreBytes, StoreDir: a.cfg.ReportStoreDir,
		PrintsReuse: report.DefaultPrintsReuse, Log: a.log, Metrics: metrics}, defs
	reports := adminauth.Guard(a.cfg.AdminToken, report.RunnerHandler(a.runner, defs))
	a.server.Handle("/api/v1/reports", reports)
	a.server.Handle("/api/v1/reports/", reports)
	a.server.Handle(report.PersonPath, adminauth.Guard(a.cfg.AdminToken, report.PersonHandler(a.conn, db, defs)))
	a.server.Handle("/api/v1/erasures/sync", adminauth.Guard(a.cfg.AdminToken, a.serveErasureSync))
	a.server.Handle("/dashboard", dashboard.Handler())
	a.server.Handle(dashboard.Path, dashboard.Handler())
	if a.cfg.LinkKeys == "" {
		a.log.Info("email links are off: set JOURNEYD_LINK_KEYS or --link-keys-file to sign and serve /o/ and /r/")
		return nil
	}
	keys, err := emaillink.ParseKeys(a.cfg.LinkKeys)
	if err != nil {
		return fmt.Errorf("cannot use the email link keys: %w", err)
	}
	signer, err := emaillink.NewSigner(keys)
	if err != nil {
		return err
	}
	emaillink.Register(a.server, emaillink.Config{Signer: signer, Sites: sites, AdminToken: a.cfg.AdminToken})
	return nil
}

// ready reports whether ClickHouse answers and the spool (or, without one, the writer's
// queue) is below 90 % of its limit: beyond it the server API is about to answer 503.
// /readyz serves it. The spool counts only the events ClickHouse does not have yet, so a
// spool near its limit with ClickHouse answering means the inserts do not keep up.
func (a *app) ready(ctx context.Context) error {
	if err := a.starting(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ClickHouse is not reachable: %w", err)
	}
	if a.spool != nil {
		if held, limit := a.spool.Backlog(); held*10 >= limit*9 {
			return fmt.Errorf("the spool holds %d bytes of events ClickHouse does not have yet, of at most %d: the inserts are not keeping up (journeyd_writer_insert_errors_total)", held, limit)
		}
	} else if queued, limit := a.writer.Backlog(); queued*10 >= limit*9 {
		return fmt.Errorf("the write queue holds %d of at most %d events: the inserts are not keeping up (journeyd_writer_insert_errors_total)", queued, limit)
	}
	return nil
}

// serve answers requests on ln until ctx ends, then drains: the HTTP server stops taking
// requests, and the events accepted so far are written before serve returns, but for those
// the spool still holds (ClickHouse was down or slow): the next start replays them, and
// the last log line says which it was.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(ln) }()
	startCtx, stopStartup := context.WithCancel(ctx)
	defer stopStartup()
	a.started.Add(1)
	go func() { defer a.started.Done(); a.startup(startCtx) }()
	if a.runner != nil {
		a.started.Add(1)
		go func() { defer a.started.Done(); a.runner.LoadStore() }() // the days of --report-store-dir, while ClickHouse is awaited
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	drain, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := errors.Join(serveErr, a.server.Shutdown(drain))
	stopStartup()
	a.started.Wait()
	if a.runner != nil {
		err = errors.Join(err, a.runner.Close(drain))
	}
	if a.spool != nil {
		err = errors.Join(err, a.spool.Close())
	}
	err = errors.Join(err, a.writer.Close(drain))
	a.conn.Close()
	if err != nil {
		return fmt.Errorf("cannot shut down cleanly: %w", err)
	}
	if a.spool != nil {
		if segs, bytes := a.spool.Held(); segs > 0 {
			a.log.Warn("journeyd stopped; accepted events that ClickHouse does not have yet stay in the spool, and the next start writes them",
				"dir", a.cfg.SpoolDir, "segments", segs, "bytes", bytes)
			return nil
		}
	}
	a.log.Info("journeyd stopped; every accepted event was written")
	return nil
}

func (a *app) reloadOnSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := a.enricher.Reload(); err != nil {
				a.log.Error("cannot reload the GeoIP database", "err", err)
				continue
			}
			a.log.Info("GeoIP database reloaded")
		}
	}
}
