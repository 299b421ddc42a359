package main

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
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
	keptSQL      bool
	opts         map[string]*string
}

// errUsage is returned after a command printed its usage because it was called wrongly;
// main exits 2 on it without printing more.
var errUsage = errors.New("usage printed")

// bindReportFlags binds the flags of report name: the common ones and its own options.
func bindReportFlags(f *reportFlags, name string) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(&f.site, "site", "", "site id whose events the report reads (required)")
		fs.StringVar(&f.format, "format", "table", "output format: table, csv or json")
		fs.BoolVar(&f.showSQL, "sql", false, "print the filled SQL instead of running it")
		fs.BoolVar(&f.keptSQL, "kept-sql", false, "print the filled SQL journeyd serve runs for the dashboard on a cold read of the days it keeps\n(the days' prints, settled, each day's rows) instead of running it")
		f.opts = map[string]*string{}
		for _, n := range report.Options(name) {
			f.opts[n] = fs.String(n, "", report.OptionNames[n])
		}
	}
}

// reportUsage prints the help of `journeyd report`: every report with its own flags, then
// the flags they share.
func reportUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: journeyd report NAME --site ID [flags]\n\nRuns a report on the stored events and prints it as a table, CSV or JSON.\n\nReports and their own flags ('journeyd report NAME -h' explains them):\n")
	common := map[string]bool{}
	for _, o := range report.CommonOptions() {
		common[o] = true
	}
	for _, name := range report.Names() {
		rep, _ := report.Lookup(name)
		var own []string
		for _, o := range report.Options(name) {
			if !common[o] {
				own = append(own, "--"+o)
			}
		}
		fmt.Fprintf(w, "  %-16s %s\n", name, rep.Summary)
		if len(own) > 0 {
			fmt.Fprintf(w, "  %-16s %s\n", "", strings.Join(own, " "))
		}
	}
	fmt.Fprintf(w, "\nFlags of every report:\n")
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.String("config", "", "YAML config file: the sites' conversions and journey stages (env JOURNEYD_CONFIG)")
	fs.String("clickhouse", defaultConfig().ClickHouse, "ClickHouse DSN (env JOURNEYD_CLICKHOUSE; make run sets it in "+devEnvFile+")")
	var f reportFlags
	bindReportFlags(&f, "")(fs)
	fs.PrintDefaults()
}

func runReport(ctx context.Context, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		reportUsage(os.Stderr)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	name := args[0]
	rep, err := report.Lookup(name)
	if err != nil {
		return err
	}
	f := &reportFlags{}
	c, _, err := loadCommandConfig("report "+name, args[1:], []string{"clickhouse"}, bindReportFlags(f, name), func(w io.Writer) {
		fmt.Fprintf(w, "Usage: journeyd report %s --site ID [flags]\n\n%s.\n", name, rep.Summary)
	})
	if err != nil {
		return err
	}
	req, err := report.ParseRequest(f.site, reportDefinitions(c, f.site), f.values(), time.Now())
	if err != nil {
		return err
	}
	runner := &report.Runner{DB: reportDatabase(c.ClickHouse)}
	if f.showSQL || f.keptSQL {
		runner.ShowSQL = os.Stdout
		if f.keptSQL {
			runner.StoreBytes = report.DefaultStoreBytes
		}
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
