package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/journeyd/journeyd/cmd/journeyd/gen"
)

func init() {
	register("gen", "generate synthetic customer journeys with a known truth and send them to a collector or ClickHouse", runGen)
}

// genFlags are the flags of journeyd gen.
type genFlags struct {
	scenario, target, direct, site, writeKey string
	seed                                     uint64
	people                                   int
	quiet                                    bool
}

func parseGenFlags(args []string) (*genFlags, error) {
	f := &genFlags{}
	fs := flag.NewFlagSet("journeyd gen", flag.ContinueOnError)
	fs.StringVar(&f.scenario, "scenario", "", "scenario: "+strings.Join(gen.Scenarios(), ", "))
	fs.Uint64Var(&f.seed, "seed", 1, "random seed; the same seed and scenario give the same journeys")
	fs.StringVar(&f.target, "target", "", "base URL of a running collector, e.g. http://127.0.0.1:8080 (events go to POST /v1/batch)")
	fs.StringVar(&f.direct, "direct", "", "ClickHouse DSN to write the events to directly instead, e.g. clickhouse://127.0.0.1:9000/journeyd")
	fs.IntVar(&f.people, "people", 0, "people to simulate (default: the scenario's)")
	fs.StringVar(&f.site, "site", "demo", "site id of the events")
	fs.BoolVar(&f.quiet, "quiet", false, "print only the truth JSON: no progress and no summary on standard error")
	fs.StringVar(&f.writeKey, "write-key", os.Getenv("JOURNEYD_WRITE_KEY"), "write key of the site for --target (or env JOURNEYD_WRITE_KEY)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: journeyd gen --scenario NAME [--seed N] [--people N] [--site S] (--target URL --write-key K | --direct DSN)\n\nPrints the truth the scenario planted as JSON on standard output, and the progress and a\nsummary of what it sent (events per type and name, sessions, people) on standard error.\n\nScenarios:\n")
		for _, n := range gen.Scenarios() {
			s, _ := gen.Lookup(n)
			fmt.Fprintf(fs.Output(), "  %-12s %s\n", n, s.Summary)
		}
		fmt.Fprintln(fs.Output())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case f.scenario == "":
		fs.Usage()
		return nil, errors.New("cannot generate without --scenario NAME")
	case (f.target == "") == (f.direct == ""):
		return nil, errors.New("cannot generate: give exactly one of --target URL and --direct DSN")
	case f.target != "" && f.writeKey == "":
		return nil, errors.New("cannot send to --target without --write-key (or JOURNEYD_WRITE_KEY)")
	}
	return f, nil
}

func runGen(ctx context.Context, args []string) error {
	f, err := parseGenFlags(args)
	if err != nil {
		return err
	}
	out, err := gen.Generate(f.scenario, gen.Options{Seed: f.seed, People: f.people, Site: f.site, Now: time.Now()})
	if err != nil {
		return err
	}
	say := func(format string, a ...any) {
		if !f.quiet {
			fmt.Fprintf(os.Stderr, "gen: "+format, a...)
		}
	}
	total := len(out.Events)
	start := time.Now()
	if f.target != "" {
		say("sending %d events of scenario %s (seed %d) to %s for site %s\n", total, f.scenario, f.seed, f.target, f.site)
		step := max(total/10, 1)
		next := step // the next tenth to report
		s := &gen.Sender{Target: f.target, WriteKey: f.writeKey, Client: &http.Client{Timeout: time.Minute},
			Progress: func(sent int) {
				if sent >= next && sent < total {
					say("%d of %d events sent (%d%%)\n", sent, total, sent*100/total)
					next = (sent/step + 1) * step
				}
			}}
		err = s.Send(ctx, out.Events)
	} else {
		say("writing %d events of scenario %s (seed %d) to ClickHouse directly for site %s\n", total, f.scenario, f.seed, f.site)
		err = genDirect(ctx, f.direct, out)
	}
	if err != nil {
		return err
	}
	verb := "sent"
	if f.direct != "" {
		verb = "written"
	}
	say("%s in %s: %v people, ", verb, time.Since(start).Round(100*time.Millisecond), out.Truth["people"])
	if !f.quiet {
		if err := gen.Summarize(out.Events).Write(os.Stderr); err != nil {
			return err
		}
	}
	say("the truth the scenario planted is on standard output, as JSON\n")
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out.Truth)
}
