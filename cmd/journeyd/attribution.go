package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/journeyd/journeyd/sql/analysis/attribution"
)

func init() {
	register("attribution", "credit conversions to channels from a paths file (ChannelAttribution format)", runAttribution)
}

// attributionFlags are the flags of journeyd attribution.
type attributionFlags struct {
	paths, model, format, by, check, direct string
	halfLife, first, last                   float64
	ordered                                 bool
}

func parseAttributionFlags(args []string) (*attributionFlags, error) {
	f := &attributionFlags{}
	fs := flag.NewFlagSet("attribution", flag.ContinueOnError)
	fs.StringVar(&f.paths, "paths", "", "paths file in ChannelAttribution's format (TSV or CSV with columns path, total_conversions, total_conversion_value, total_null; channels joined by \" > \"); - reads standard input")
	fs.StringVar(&f.model, "model", "all", "comma-separated models: "+strings.Join(attribution.Models, ",")+", or all")
	fs.StringVar(&f.format, "format", attribution.FormatTable, "output format: table, csv or json")
	fs.StringVar(&f.by, "by", "", "touchpoint key (channel, source, campaign) when reading from ClickHouse; ignored for files, whose paths already hold their keys")
	fs.StringVar(&f.check, "check", "", "reference README with published figures; compare every figure, print each comparison instead of the results and fail on any mismatch")
	fs.StringVar(&f.direct, "direct", "Direct", "key that last non-direct skips")
	fs.Float64Var(&f.halfLife, "half-life", 7, "time decay half-life in days")
	fs.Float64Var(&f.first, "first-share", 0.4, "position based: share of the first touch")
	fs.Float64Var(&f.last, "last-share", 0.4, "position based: share of the last touch")
	fs.BoolVar(&f.ordered, "ordered-shapley", false, "shapley: the ordered variant, credited to channel@position")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.paths == "" {
		fs.Usage()
		return nil, errors.New("cannot run attribution without -paths FILE")
	}
	return f, nil
}

func runAttribution(_ context.Context, args []string) error {
	f, err := parseAttributionFlags(args)
	if err != nil {
		return err
	}
	paths, err := readPathsFile(f.paths)
	if err != nil {
		return err
	}
	opt := attribution.Options{HalfLifeDays: f.halfLife, FirstShare: f.first, LastShare: f.last,
		Direct: f.direct, OrderedShapley: f.ordered}
	results, err := attribution.Compute(paths, strings.Split(f.model, ","), opt)
	if err != nil {
		return err
	}
	if f.check == "" {
		return attribution.Write(os.Stdout, results, f.format)
	}
	return checkReference(os.Stdout, f.check, paths, results)
}

// readPathsFile reads paths from a file, or standard input for "-".
func readPathsFile(name string) ([]attribution.Path, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot open paths file: %w", err)
		}
		defer file.Close()
		r = file
	}
	paths, err := attribution.ReadPaths(r)
	if err != nil {
		return nil, fmt.Errorf("cannot read paths from %s: %w", name, err)
	}
	return paths, nil
}

// checkReference compares results with the figures of a reference README, printing each.
func checkReference(w io.Writer, readme string, paths []attribution.Path, results []attribution.Result) error {
	file, err := os.Open(readme)
	if err != nil {
		return fmt.Errorf("cannot open reference figures: %w", err)
	}
	defer file.Close()
	exps, err := attribution.ParseReference(file)
	if err != nil {
		return fmt.Errorf("cannot parse reference figures in %s: %w", readme, err)
	}
	cmps, err := attribution.Check(paths, results, exps)
	if err != nil {
		return err
	}
	failed := 0
	for _, c := range cmps {
		fmt.Fprintln(w, c)
		if !c.OK {
			failed++
		}
	}
	fmt.Fprintf(w, "%d of %d reference figures match\n", len(cmps)-failed, len(cmps))
	if failed > 0 {
		return fmt.Errorf("cannot confirm the reference figures of %s: %d of %d differ", readme, failed, len(cmps))
	}
	return nil
}
