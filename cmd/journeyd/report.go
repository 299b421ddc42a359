package main

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

func init() {
	register("report", "run an analytics report (funnel, barriers, attribution, paths, ...) on the stored events", runReport)
}

// reportFlags are the flags of journeyd report besides the config settings.
type reportFlags struct {
	site, format string
	showSQL      bool
	opts         map[string]*string
}

func bindReportFlags(f *reportFlags) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(&f.site, "site", "", "site id whose events the report reads (required)")
		fs.StringVar(&f.format, "format", "table", "output format: table, csv or json")
		fs.BoolVar(&f.showSQL, "sql", false, "print the filled SQL instead of running it")
		names := make([]string, 0, len(report.OptionNames))
		for n := range report.OptionNames {
			names = append(names, n)
		}
		sort.Strings(names)
		f.opts = map[string]*string{}
		for _, n := range names {
			f.opts[n] = fs.String(n, "", report.OptionNames[n])
		}
	}
}

func runReport(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(os.Stderr, "Usage: journeyd report NAME --site ID [flags]\n\nReports: %s\n", strings.Join(report.Names(), ", "))
		return flag.ErrHelp
	}
	name := args[0]
	if _, err := report.Lookup(name); err != nil {
		return err
	}
	f := &reportFlags{}
	c, _, err := loadConfig("report "+name, args[1:], bindReportFlags(f))
	if err != nil {
		return err
	}
	req, err := report.ParseRequest(f.site, reportDefinitions(c, f.site), f.values(), time.Now())
	if err != nil {
		return err
	}
	runner := &report.Runner{DB: reportDatabase(c.ClickHouse)}
	if f.showSQL {
		runner.ShowSQL = os.Stdout
		_, err := runner.Run(ctx, name, req)
		return err
	}
	conn, err := clickhouse.Open(ctx, c.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	runner.Conn = conn
	res, err := runner.Run(ctx, name, req)
	if err != nil {
		return err
	}
	return report.Write(os.Stdout, res, f.format)
}

// values returns the options given on the command line.
func (f *reportFlags) values() map[string]string {
	out := map[string]string{}
	for k, v := range f.opts {
		if *v != "" {
			out[k] = *v
		}
	}
	return out
}

// reportDefinitions returns the conversions and stages of the configured site id, or the
// defaults for a site that is not in the config.
func reportDefinitions(c *config, id string) goal.Definitions {
	for i := range c.Sites {
		if c.Sites[i].ID == id {
			return c.Sites[i].ReportDefinitions()
		}
	}
	return goal.Definitions{}
}

// reportDatabase returns the database of a ClickHouse DSN.
func reportDatabase(dsn string) string {
	opt, err := clickhouse.Options(dsn)
	if err != nil || opt.Auth.Database == "" {
		return "default"
	}
	return opt.Auth.Database
}
