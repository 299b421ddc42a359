// Package report runs journeyd's analytics reports: it turns a report request (overview,
// top, funnel, barriers, attribution, paths, next, time-to-convert, retention, stages,
// channels, dropped) into the library queries of sql/analysis/queries with their
// placeholders safely filled, the request's filter included, runs them, derives the rates,
// and formats the result as a table, CSV or JSON, for `journeyd report` and for GET
// /api/v1/reports/NAME. GET /api/v1/person serves one person's journey (sql/analysis/journey)
// to the dashboard. It also defines the per-site conversions and journey stages. The
// attribution models themselves are computed by sql/analysis/attribution.
package report

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Report is one named report.
type Report struct {
	Name    string
	Summary string
	Run     func(ctx context.Context, r *Runner, req *Request) (*Result, error)
}

var registry = map[string]Report{}

func register(name, summary string, run func(ctx context.Context, r *Runner, req *Request) (*Result, error)) {
	registry[name] = Report{Name: name, Summary: summary, Run: run}
}

// Lookup returns the report called name.
func Lookup(name string) (Report, error) {
	rep, ok := registry[name]
	if !ok {
		return rep, fmt.Errorf("unknown report %q: use one of %s", name, strings.Join(Names(), ", "))
	}
	return rep, nil
}

// Names lists the reports, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Run runs report name for req.
func (r *Runner) Run(ctx context.Context, name string, req *Request) (*Result, error) {
	rep, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	req.db = r.DB
	res, err := rep.Run(ctx, r, req)
	if err != nil {
		return nil, fmt.Errorf("cannot run report %s for site %q: %w", name, req.Site, err)
	}
	return res, nil
}

// base returns the placeholders every query takes: $site, $from, $until and $filter.
func (req *Request) base() map[string]Value {
	site, from, until := String(req.Site), Time(req.From), Time(req.To)
	current := from
	if !req.current.IsZero() {
		current = Time(req.current)
	}
	filter := fragment(req.Filter.SQL(Ident(req.db).SQL(), site.SQL(), from.SQL(), until.SQL(), current.SQL()))
	return map[string]Value{"site": site, "from": from, "until": until, "filter": filter}
}

// UsageError is an error in a report's options: the API answers it with 400 and the CLI
// prints it. Its message names options by their bare names ("steps: ..."), which read
// right both as the flag --steps and as the query argument ?steps=.
type UsageError struct {
	Msg string
	err error // the cause, when the message wraps one
}

// Error returns the message, which says what option to change.
func (e *UsageError) Error() string { return e.Msg }

// Unwrap returns the cause of the error, or nil.
func (e *UsageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// optionError is the usage error of a bad value of option: "option: err".
func optionError(option string, err error) error {
	return &UsageError{Msg: option + ": " + err.Error(), err: err}
}
