package report

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// The dashboard asks for the funnel and for barriers at once, with the same steps, window
// and filter: barriers reads every event for its breakdowns, and the funnel's rows are the
// same people's without one (windowFunnel and the step times ignore the events that match
// no step, so reading them all changes no answer). A funnel read waiting for its turn takes
// the breakdowns of the funnels asked meanwhile with the same steps (a funnel without
// breakdown joining barriers' read, or barriers joining the funnel's, which then reads
// every event), and answers them all with one query when its turn comes. A read that has
// started takes no more breakdowns; a funnel that needs only breakdowns it reads joins it
// still, and barriers reads the overall funnel besides its breakdowns so that the funnel
// the dashboard asks right after it does. Funnels asked one after the other, as
// bench-reports times them, never share.

// funnelRead is one run of funnel.sql that others may join.
type funnelRead struct {
	by      []string      // the breakdowns read ("" for none), in the query's order
	started bool          // the query is built: by is final
	joined  int           // the reports answered by it besides its owner's
	done    chan struct{} // closed when rows and err are set
	rows    *Rows
	err     error
}

// sharedFunnel returns the rows of funnel.sql for req with (at least) the breakdowns by,
// and the breakdowns of those rows in their order: breakdown i of the rows is read[i-1].
func (r *Runner) sharedFunnel(ctx context.Context, req *Request, by []string) (rows *Rows, read []string, err error) {
	if r.ShowSQL != nil || r.Conn == nil {
		if r.ShowSQL != nil && r.funnelDaysRoute(req) { // the kept days' queries (funneldays.go) first
			if _, _, err := r.funnelFromDays(ctx, req, by); err != nil {
				return nil, nil, err
			}
		}
		p, err := funnelParams(req, by)
		if err != nil {
			return nil, nil, err
		}
		rows, err := r.Query(ctx, "funnel", p)
		return rows, by, err
	}
	key, err := funnelKey(req)
	if err != nil {
		return nil, nil, err
	}
	r.sharesMu.Lock()
	if r.funnelReads == nil {
		r.funnelReads = map[string]*funnelRead{}
	}
	f, owner := r.funnelReads[key], false
	switch {
	case f != nil && !f.started:
		for _, b := range by {
			if !slices.Contains(f.by, b) {
				f.by = append(f.by, b)
			}
		}
		f.joined++
	case f != nil && !slices.ContainsFunc(by, func(b string) bool { return !slices.Contains(f.by, b) }):
		f.joined++ // started, with every breakdown asked: join it
	default:
		f, owner = &funnelRead{by: slices.Clone(by), done: make(chan struct{})}, true
		r.funnelReads[key] = f
	}
	r.sharesMu.Unlock()
	if owner {
		r.runFunnelRead(ctx, req, key, f)
	} else {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		if f.err != nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
			// the reader whose turn it was gave up: read on this request's own account
			p, err := funnelParams(req, by)
			if err != nil {
				return nil, nil, err
			}
			rows, err := r.Query(ctx, "funnel", p)
			return rows, by, err
		}
	}
	return f.rows, f.by, f.err
}

// runFunnelRead waits for a turn, then runs f with the breakdowns joined meanwhile (or,
// where the Runner keeps days, counts it from them: funnelFromDays) and hands its rows to
// every member.
func (r *Runner) runFunnelRead(ctx context.Context, req *Request, key string, f *funnelRead) {
	defer close(f.done)
	defer func() {
		r.sharesMu.Lock()
		f.started = true
		if r.funnelReads[key] == f {
			delete(r.funnelReads, key)
		}
		r.sharesMu.Unlock()
	}()
	done, err := r.turn(ctx)
	if err != nil {
		f.err = fmt.Errorf("cannot run query funnel: %w", err)
		return
	}
	r.sharesMu.Lock()
	f.started = true
	by := f.by
	r.sharesMu.Unlock()
	if r.funnelDaysRoute(req) {
		// counted from the kept days (funneldays.go), whose queries wait for turns of
		// their own: the wait for this one was the time others could join
		done()
		var ok bool
		if f.rows, ok, f.err = r.funnelFromDays(ctx, req, by); f.err != nil || ok {
			return
		}
		p, err := funnelParams(req, by)
		if err != nil {
			f.err = err
			return
		}
		f.rows, f.err = r.Query(ctx, "funnel", p)
		return
	}
	defer done()
	p, err := funnelParams(req, by)
	if err != nil {
		f.err = err
		return
	}
	sql, err := r.SQL("funnel", p)
	if err != nil {
		f.err = err
		return
	}
	f.rows, f.err = r.queryInTurn(ctx, "funnel", sql)
}

// queryInTurn runs sql, the library query name filled, in a turn its caller holds, and
// returns its rows as Query does.
func (r *Runner) queryInTurn(ctx context.Context, name, sql string) (*Rows, error) {
	rows, err := r.Conn.Query(clickhouse.Context(ctx, clickhouse.WithSettings(r.settings())), sql)
	if err != nil {
		return nil, fmt.Errorf("cannot run query %s: %w", name, err)
	}
	defer rows.Close()
	out := &Rows{Columns: rows.Columns()}
	types := rows.ColumnTypes()
	for rows.Next() {
		ptrs := make([]any, len(types))
		for i, t := range types {
			ptrs[i] = reflect.New(t.ScanType()).Interface()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("cannot read the rows of query %s: %w", name, err)
		}
		row := make([]any, len(ptrs))
		for i, p := range ptrs {
			row[i] = reflect.ValueOf(p).Elem().Interface()
		}
		out.Data = append(out.Data, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the rows of query %s: %w", name, err)
	}
	return out, nil
}

// funnelKey returns what funnels must have in common to share a read: every parameter of
// funnel.sql but the breakdowns and which events are read.
func funnelKey(req *Request) (string, error) {
	p, err := funnelParams(req, []string{""})
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(p))
	for k := range p {
		if k != "breakdowns" && k != "breakdown_refs" && k != "segments" && k != "keep" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "%s=%s\n", k, p[k].SQL())
	}
	return b.String(), nil
}
