package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

func init() {
	register("bench-reports", "time every report on N synthetic events, as a ratio to one plain pass over them", runBenchReports)
}

func runBenchReports(ctx context.Context, args []string) error {
	var events int64
	var runs int
	var site string
	c, _, err := loadCommandConfig("bench-reports", args, []string{"clickhouse"}, func(fs *flag.FlagSet) {
		fs.Int64Var(&events, "events", 10_000_000, "synthetic events to time the reports on")
		fs.IntVar(&runs, "runs", 3, "runs of each query; the median is reported")
		fs.StringVar(&site, "site", "", "site id of the synthetic events (default bench-N); reused when it already holds N events")
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Usage: journeyd bench-reports [--events N] [--runs N] [--site S]\n\nTimes every report on N synthetic events (inserted first unless the site holds them), as a ratio to one plain pass over them.\n")
	})
	if err != nil {
		return err
	}
	if site == "" {
		site = fmt.Sprintf("bench-%d", events)
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	r := &report.Runner{Conn: conn, DB: reportDatabase(c.ClickHouse)}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := benchEnsureData(ctx, r, site, events, start); err != nil {
		return err
	}
	timings, err := r.Bench(ctx, site, start, start.Add(30*24*time.Hour), runs)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "report (%d events, median of %d)\tseconds\tratio to baseline\n", events, runs)
	for _, t := range timings {
		fmt.Fprintf(tw, "%s\t%.3f\t%.2f\n", t.Name, t.Time.Seconds(), t.Ratio)
	}
	return tw.Flush()
}

// benchEnsureData fills site with n events unless it already holds exactly n.
func benchEnsureData(ctx context.Context, r *report.Runner, site string, n int64, start time.Time) error {
	var have uint64
	q := fmt.Sprintf("SELECT count() FROM %s.events WHERE site_id = %s", report.Ident(r.DB).SQL(), report.String(site).SQL())
	if err := r.Conn.QueryRow(ctx, q).Scan(&have); err != nil {
		return fmt.Errorf("cannot count the events of site %q: %w", site, err)
	}
	switch {
	case int64(have) == n:
		return nil
	case have != 0:
		return fmt.Errorf("cannot benchmark on site %q: it holds %d events, not %d; pass another --site", site, have, n)
	}
	fmt.Fprintf(os.Stderr, "inserting %d synthetic events for site %q...\n", n, site)
	return r.FillBench(ctx, site, n, start)
}
