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
// for days within its period meanwhile, instead of a query of its own, and a report that
// asks for more days (the overview, when a top list asked first) reads only those beyond
// it. Only a read in
// flight is shared, never one that has ended: a report that joins one gets prints read
// between a moment before it asked and a moment after, as a query of its own begun a little
// earlier would have given them, and the day store's rule holds for it as for the report
// that started the read (settled.sql is asked and the rows are read after the prints,
// daystore.go). A report whose shared read fails (the context of the report that started it
// ended) reads the prints itself. With PrintsReuse, where each report lists the events'
// parts before its prints, a report joins a read in flight only for the days no part has
// changed since the list taken before that read (printcache.go): an insert that ended
// after the read began and before the report asked is seen; and reads that have ended are
// kept, under the same rule.

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
	before     *partsAt // the parts listed before it began (PrintsReuse); nil: none
}

// dayPrints returns the print of each day first to end (excluded) of the site of params
// (day_prints.sql): prints[n-first] is day n's. With PrintsReuse, a kept read answers the
// days nothing can have changed since it (printcache.go); a read of them in flight answers
// those it covers (printShares); the others are read.
func (r *Runner) dayPrints(ctx context.Context, params map[string]Value, first, end uint16) ([]dayPrint, error) {
	if r.ShowSQL != nil { // every query shown, in order
		return r.readPrints(ctx, params, first, end)
	}
	key, err := Fill(dayPrintsSQL, map[string]Value{"db": Ident(r.DB), "site": params["site"],
		"from": fragment("FROM"), "until": fragment("UNTIL")})
	if err != nil {
		return nil, err
	}
	prints := make([]dayPrint, end-first)
	var before *partsAt // the parts listed before the prints are read; nil: none kept
	rest := dayRange(first, end)
	if reuse := r.printsReuse(); reuse > 0 {
		at := r.now()
		parts, err := r.readParts(ctx)
		if err != nil {
			return nil, err
		}
		if parts != nil {
			before = &partsAt{parts, at}
			rest = r.printCache.fill(key, *before, reuse, first, end, prints)
		}
	}
	for i := 0; i < len(rest); {
		j := i + 1
		for j < len(rest) && rest[j] == rest[j-1]+1 {
			j++
		}
		from, until := rest[i], rest[j-1]+1
		if err := r.sharedPrints(ctx, key, params, before, from, until, prints[from-first:until-first]); err != nil {
			return nil, err
		}
		i = j
	}
	return prints, nil
}

// dayRange returns the days first to end (excluded).
func dayRange(first, end uint16) []uint16 {
	days := make([]uint16, 0, end-first)
	for n := first; n < end; n++ {
		days = append(days, n)
	}
	return days
}

// joinedPrints is the part of a read in flight that a report takes: its days first to end.
type joinedPrints struct {
	read       *printsRead
	first, end uint16
}

// sharedPrints sets out[n-first] to the print of each day n of first to end (excluded):
// the days a read of key in flight covers from it, the others in reads of their own (one
// for each range between those in flight), open to others meanwhile and, with before (the
// parts listed before this report asked), kept (printCache). With before, a read in flight
// answers only the days no part changed since the list taken before it (changedDays): an
// insert that ended after that read began and before this report asked is not missed. A
// report whose shared read fails (the context of the report that started it ended) reads
// those days itself.
func (r *Runner) sharedPrints(ctx context.Context, key string, params map[string]Value, before *partsAt, first, end uint16, out []dayPrint) error {
	s := &r.printShares
	var joined []joinedPrints
	var own []*printsRead
	s.mu.Lock()
	src := make([]*printsRead, end-first) // the read in flight that answers each day; nil: read here
	for _, read := range s.reads[key] {
		var changed [][2]uint16
		if before != nil {
			if read.before == nil {
				continue
			}
			changed = changedDays(read.before.parts, before.parts)
		}
	days:
		for n := max(first, read.first); n < min(end, read.end); n++ {
			for _, c := range changed {
				if c[0] <= n && n <= c[1] {
					continue days
				}
			}
			if src[n-first] == nil {
				src[n-first] = read
			}
		}
	}
	for n := first; n < end; {
		in := src[n-first]
		until := n + 1
		for until < end && src[until-first] == in {
			until++
		}
		if in != nil {
			if !slices.ContainsFunc(joined, func(j joinedPrints) bool { return j.read == in }) {
				in.joined++ // once a report, for all the days it takes from the read
			}
			joined = append(joined, joinedPrints{in, n, until})
		} else {
			read := &printsRead{first: n, end: until, joined: 1, done: make(chan struct{}), before: before}
			if s.reads == nil {
				s.reads = map[string][]*printsRead{}
			}
			s.reads[key] = append(s.reads[key], read)
			own = append(own, read)
		}
		n = until
	}
	s.mu.Unlock()

	var failed error
	for _, read := range own {
		read.prints, read.err = r.readPrints(ctx, params, read.first, read.end)
		if read.err == nil && before != nil {
			r.printCache.keep(key, *before, r.printsReuse(), read.first, read.end, read.prints)
		}
		s.mu.Lock()
		if others := slices.DeleteFunc(s.reads[key], func(x *printsRead) bool { return x == read }); len(others) > 0 {
			s.reads[key] = others
		} else {
			delete(s.reads, key)
		}
		s.mu.Unlock()
		close(read.done)
		if read.err != nil && failed == nil {
			failed = read.err
		}
		copy(out[read.first-first:], read.prints)
	}
	if failed != nil {
		return failed
	}
	for _, j := range joined {
		select {
		case <-j.read.done:
		case <-ctx.Done():
			return fmt.Errorf("cannot read the prints of the days: %w", ctx.Err())
		}
		prints := j.read.prints
		from := j.first - j.read.first
		if j.read.err != nil {
			var err error
			if prints, err = r.readPrints(ctx, params, j.first, j.end); err != nil {
				return err
			}
			from = 0
		}
		copy(out[j.first-first:j.end-first], prints[from:])
	}
	return nil
}
