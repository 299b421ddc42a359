package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/journeyd/journeyd/cmd/journeyd/bench"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The benchmark harnesses live in cmd/journeyd/bench; these are only their subcommands.
func init() {
	register("bench", "measure pixel and API throughput against a bare fasthttp baseline (make bench)", bench.Run)
	register("bench-baseline", "serve the bare fasthttp GIF server that bench compares against", bench.Baseline)
	register("bench-reports", "time every report on N synthetic events, as a ratio to one plain pass over them", runBenchReports)
}

func runBenchReports(ctx context.Context, args []string) error {
	var events int64
	var runs, chPID int
	var site string
	c, _, err := loadCommandConfig("bench-reports", args, []string{"clickhouse", "report-store-bytes", "huge-heap-bytes"}, func(fs *flag.FlagSet) {
		fs.Int64Var(&events, "events", 10_000_000, "synthetic events to time the reports on")
		fs.IntVar(&runs, "runs", 3, "runs of each query; the median is reported")
		fs.StringVar(&site, "site", "", "site id of the synthetic events (default bench-N); reused when it already holds N events")
		fs.IntVar(&chPID, "clickhouse-pid", 0, "process id of a local ClickHouse server, to report the CPU time each report costs it too")
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Usage: journeyd bench-reports [--events N] [--runs N] [--site S] [--clickhouse-pid PID] [--report-store-bytes N]\n\nTimes every report on N synthetic events (inserted first unless the site holds them), as a ratio to one plain pass over them: cold, each run reading its whole period; then warm, the reports that keep days' rows (attribution, paths, time-to-convert, channels, the overview, top, stages, retention, the funnel, barriers) and the dashboard's panels run a second time, as journeyd serve runs them with --report-store-bytes (the same default as serve's).\n")
	})
	if err != nil {
		return err
	}
	reserveHugeHeap(c, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if site == "" {
		site = fmt.Sprintf("bench-%d", events)
	}
	// Every query in system.query_log, so that the server CPU of each report is read per
	// query there rather than from the whole server's /proc figures, which other work moves.
	dsn := c.ClickHouse + map[bool]string{true: "&", false: "?"}[strings.Contains(c.ClickHouse, "?")] + "log_queries=1"
	// The events are inserted in one INSERT ... SELECT, which answers nothing until it ends:
	// 30 million took over the driver's default read timeout (5 minutes) on two cores.
	if !strings.Contains(dsn, "read_timeout=") {
		dsn += "&read_timeout=3600s"
	}
	conn, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	return bench.Reports(ctx, &report.Runner{Conn: conn, DB: reportDatabase(c.ClickHouse), StoreBytes: c.ReportStoreBytes,
		PrintsReuse: report.DefaultPrintsReuse}, site, events, runs, chPID, os.Stdout)
}
