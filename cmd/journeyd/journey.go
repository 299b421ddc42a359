package main

import (
	"context"
	"flag"
	"fmt"
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
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: journeyd journey --site S --person P [--format text|json]\n\n"+
			"Prints a person's journey on a site: their sessions with sources, touchpoints and conversions.\n\n")
		fs.PrintDefaults()
	}
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
