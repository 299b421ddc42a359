package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// personFlags are the flags of the commands about one person (journey, erase).
type personFlags struct {
	dsn, site, person, format string
}

// add defines the flags on fs; what describes the person flag.
func (p *personFlags) add(fs *flag.FlagSet, what string) {
	p.dsn = os.Getenv("JOURNEYD_CLICKHOUSE")
	if p.dsn == "" {
		p.dsn = defaultConfig().ClickHouse // the same default as serve's
	}
	fs.StringVar(&p.dsn, "clickhouse", p.dsn, "ClickHouse DSN, native protocol; the path names the database (env JOURNEYD_CLICKHOUSE; make run sets it in "+devEnvFile+")")
	fs.StringVar(&p.site, "site", "", "site id (required)")
	fs.StringVar(&p.person, "person", "", what+" (required)")
	fs.StringVar(&p.format, "format", "text", "output format: text or json")
}

// open checks the parsed flags of command and connects to ClickHouse.
func (p *personFlags) open(ctx context.Context, fs *flag.FlagSet, command string) (driver.Conn, error) {
	if p.site == "" || p.person == "" {
		fs.Usage()
		return nil, fmt.Errorf("--site and --person are required, e.g. journeyd %s --site shop --person user-42", command)
	}
	if p.format != "text" && p.format != "json" {
		return nil, fmt.Errorf("--format %q: want text or json", p.format)
	}
	return clickhouse.Open(ctx, p.dsn)
}
