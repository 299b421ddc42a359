package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/journeyd/journeyd/sql/clickhouse"
	"github.com/journeyd/journeyd/sql/journey"
)

func init() {
	register("journey", "print a person's journey: sessions with sources, touchpoints, conversions", runJourney)
}

// defaultJourneyDSN is the ClickHouse of make run.
const defaultJourneyDSN = "clickhouse://127.0.0.1:19000/journeyd"

func runJourney(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("journeyd journey", flag.ContinueOnError)
	dsn := os.Getenv("JOURNEYD_CLICKHOUSE")
	if dsn == "" {
		dsn = defaultJourneyDSN
	}
	fs.StringVar(&dsn, "clickhouse", dsn, "ClickHouse DSN, native protocol; the path names the database (env JOURNEYD_CLICKHOUSE)")
	site := fs.String("site", "", "site id (required)")
	person := fs.String("person", "", "the person: a user id, or an anonymous id (a linked one gives its user's journey) (required)")
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *site == "" || *person == "" {
		fs.Usage()
		return fmt.Errorf("--site and --person are required, e.g. journeyd journey --site shop --person user-42")
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format %q: want text or json", *format)
	}
	conn, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	j, err := journey.Person(ctx, conn, "", *site, *person)
	if err != nil {
		return err
	}
	return journey.Write(os.Stdout, j, *format)
}
