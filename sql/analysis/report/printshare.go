package report

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// The dashboard asks for the overview, the top lists and the top pages at once, for the
// same site, and each reads the prints of its period's days first (day_prints.sql, about
// 0.4 s of ClickHouse's CPU at 10 million events): the same days, or, for the overview, the
// period before them too. A read of the prints still running answers any report that asks
// for days within its period meanwhile, instead of a query of its own. Only a read in
// flight is shared, never one that has ended: a report that joins one gets prints read
// between a moment before it asked and a moment after, as a query of its own begun a little
// earlier would have given them, and the day store's rule holds for it as for the report
// that started the read (settled.sql is asked and the rows are read after the prints,
// daystore.go). A report whose shared read fails (the context of the report that started it
// ended) reads the prints itself.

// printShares are a Runner's reads of day_prints in flight.
type printShares struct {
	mu    sync.Mutex
	reads map[string][]*printsRead // by the query with its period left open (printsKey)
}

// printsRead is one read of day_prints in flight, of days first to end (excluded).
type printsRead struct {
	first, end uint16
	joined     int           // how many reports wait for it, the one that runs it included (under printShares.mu)
	done       chan struct{} // closed once prints and err are set
	prints     []dayPrint
	err        error
}

// dayPrints returns the print of each day first to end (excluded) of the site of params
// (day_prints.sql): prints[n-first] is day n's. A read of them in flight that covers these
// days answers them (printShares).
func (r *Runner) dayPrints(ctx context.Context, params map[string]Value, first, end uint16) ([]dayPrint, error) {
	if r.ShowSQL != nil { // every query shown, in order
		return r.readPrints(ctx, params, first, end)
	}
	key, err := Fill(dayPrintsSQL, map[string]Value{"db": Ident(r.DB), "site": params["site"],
		"from": fragment("FROM"), "until": fragment("UNTIL")})
	if err != nil {
		return nil, err
	}
	s := &r.printShares
	s.mu.Lock()
	for _, read := range s.reads[key] {
		if read.first <= first && end <= read.end {
			read.joined++
			s.mu.Unlock()
			select {
			case <-read.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("cannot read the prints of the days: %w", ctx.Err())
			}
			if read.err != nil {
				return r.readPrints(ctx, params, first, end)
			}
			return slices.Clone(read.prints[first-read.first : end-read.first]), nil
		}
	}
	read := &printsRead{first: first, end: end, joined: 1, done: make(chan struct{})}
	if s.reads == nil {
		s.reads = map[string][]*printsRead{}
	}
	s.reads[key] = append(s.reads[key], read)
	s.mu.Unlock()

	read.prints, read.err = r.readPrints(ctx, params, first, end)
	s.mu.Lock()
	if others := slices.DeleteFunc(s.reads[key], func(x *printsRead) bool { return x == read }); len(others) > 0 {
		s.reads[key] = others
	} else {
		delete(s.reads, key)
	}
	s.mu.Unlock()
	close(read.done)
	return read.prints, read.err
}
