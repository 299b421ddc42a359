package report

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/journeyd/journeyd/sql/analysis/attribution"
)

func init() {
	register("attribution", "conversions and value credited to channels, sources or campaigns by attribution model", runAttribution)
}

// ParseModels parses a comma-separated list of attribution models ("all" for every one).
func ParseModels(s string) ([]string, error) {
	var out []string
	for _, m := range strings.Split(s, ",") {
		m = strings.TrimSpace(m)
		if m == attribution.ModelAll {
			return attribution.Models, nil
		}
		known := false
		for _, k := range attribution.Models {
			known = known || k == m
		}
		if !known {
			return nil, fmt.Errorf("unknown model %q: use one of %s or all", m, strings.Join(attribution.Models, ", "))
		}
		out = append(out, m)
	}
	return out, nil
}

// keyColumn returns the touchpoint key column for attribution and paths (--by).
func keyColumn(req *Request) (col, empty string, err error) {
	by := "channel"
	if len(req.By) > 0 {
		by = req.By[0]
	}
	switch by {
	case "channel":
		return "channel", "Direct", nil
	case "source", "campaign", "medium":
		return by, "(none)", nil
	}
	return "", "", usageErrorf("by %q: attribution keys touchpoints by channel, source, medium or campaign only", by)
}

// journeyParams returns the placeholders of the journey queries (attribution, paths,
// time-to-convert).
func journeyParams(req *Request) (map[string]Value, error) {
	col, empty, err := keyColumn(req)
	if err != nil {
		return nil, err
	}
	st, err := req.Conversion.Step()
	if err != nil {
		return nil, err
	}
	p := req.base()
	p["key"] = fragment(col)
	p["empty_key"] = String(empty)
	p["conversion"] = fragment(cond(st))
	p["lookback"] = Int(int64(req.Lookback / time.Second))
	return p, nil
}

// Paths returns req's journeys grouped into attribution paths (journeypaths.go): the rows
// attribution.sql returns, in one order.
func (r *Runner) Paths(ctx context.Context, req *Request) ([]attribution.Path, error) {
	return r.journeyPaths(ctx, req)
}

// sortPaths puts paths in one order whatever order the server grouped them in (by their
// keys, then their ages), so that the models' floating-point sums, and so their last
// digits, do not depend on the query plan or the server version.
func sortPaths(paths []attribution.Path) {
	sort.Slice(paths, func(i, j int) bool {
		a, b := paths[i], paths[j]
		if c := slices.Compare(a.Channels, b.Channels); c != 0 {
			return c < 0
		}
		return slices.Compare(a.AgeDays, b.AgeDays) < 0
	})
}

// attributionBody is the documented JSON of the attribution report.
type attributionBody struct {
	Models []attribution.Result `json:"models"`
}

func runAttribution(ctx context.Context, r *Runner, req *Request) (*Result, error) {
	paths, err := r.Paths(ctx, req)
	if err != nil {
		return nil, err
	}
	results, err := attribution.Compute(paths, req.Models, attribution.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("cannot compute attribution over %d paths: %w", len(paths), err)
	}
	t := Table{Name: "attribution", Columns: []string{"model", "key", "conversions", "value", "removal_effect"}}
	for _, res := range results {
		for _, c := range res.Rows {
			t.Rows = append(t.Rows, []any{res.Model, c.Key, round(c.Conversions, 3), round(c.Value, 2), round(c.RemovalEffect, 4)})
		}
	}
	return &Result{Tables: []Table{t}, Body: attributionBody{Models: results}}, nil
}
