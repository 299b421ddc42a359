package main

import (
	"context"
	"flag"
	"os"

	"github.com/journeyd/journeyd/sql/analysis/journey"
)

func init() {
	register("journey", "print a person's journey: sessions with sources, touchpoints, conversions", runJourney)
}

func runJourney(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("journeyd journey", flag.ContinueOnError)
	var pf personFlags
	pf.add(fs, "the person: a user id, or an anonymous id (a linked one gives its user's journey)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	conn, err := pf.open(ctx, fs, "journey")
	if err != nil {
		return err
	}
	defer conn.Close()
	j, err := journey.Person(ctx, conn, "", pf.site, pf.person)
	if err != nil {
		return err
	}
	return journey.Write(os.Stdout, j, pf.format)
}
