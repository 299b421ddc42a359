package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The dashboard opens its top pages with the overview. pages.sql counts them from every
// page view of the period (1.6 passes of ClickHouse's CPU at 10 million events, most of it
// the distinct event ids). A Runner that keeps days (StoreBytes) counts them here instead,
// when the period is whole UTC days and no filter narrows the views (fromSessions): each
// day's views come from the store while the day's events are unchanged (daystore.go),
// else from page_rows.sql, a row per view that ClickHouse does not group. A day keeps, for
// each path hash, its distinct event ids and people (the person keys before the person
// links, read every time, resolve them); the period's pageviews are then the distinct ids
// of all its days and its people the distinct resolved persons, as pages.sql counts them,
// so a replay counts once even when its copies fall on two days. The paths of the hashes
// that make the list come from page_names.sql, the first time a hash is met.

// pageDay is one day's page views, as the store keeps them: by path hash, the event ids
// (a replay's copies too: the period's count counts each once, sortedCount) and the
// distinct person keys, sorted.
type pageDay struct {
	paths map[uint64]*pageViews
}

// pageViews are the event ids and distinct person keys of a path's views.
type pageViews struct {
	ids, people []uint64
}

// size is about how many bytes the day holds.
func (d *pageDay) size() int64 {
	n := int64(64)
	for _, v := range d.paths {
		n += 80 + 8*int64(cap(v.ids)+cap(v.people))
	}
	return n
}

// distinct sorts xs and returns its distinct values, in xs's array.
func distinct(xs []uint64) []uint64 {
	slices.Sort(xs)
	return slices.Compact(xs)
}

// distinctCount returns how many distinct values xs holds, sorting xs by radix (millions
// of ids sort about five times faster so than by comparison).
func distinctCount(xs []uint64) uint64 {
	if len(xs) < 1<<12 {
		return uint64(len(distinct(xs)))
	}
	tmp := make([]uint64, len(xs))
	src, dst := xs, tmp
	const bits = 11 // six passes whose 2048 counters stay in cache
	for shift := 0; shift < 64; shift += bits {
		var counts [1 << bits]int
		for _, x := range src {
			counts[x>>shift&(1<<bits-1)]++
		}
		at := 0
		for i, c := range counts {
			counts[i], at = at, at+c
		}
		for _, x := range src {
			b := x >> shift & (1<<bits - 1)
			dst[counts[b]] = x
			counts[b]++
		}
		src, dst = dst, src
	}
	n := uint64(0)
	for i, x := range src {
		if i == 0 || x != src[i-1] {
			n++
		}
	}
	return n
}

// readPageDays runs sql, a page_rows query, and returns its views by day: days[n-first]
// holds day n's, every day of first to end (excluded) one, empty when it has no view.
func (r *Runner) readPageDays(ctx context.Context, sql string, first, end uint16) ([]keptDay, error) {
	days := make([]*pageDay, max(int(end)-int(first), 0))
	for i := range days {
		days[i] = &pageDay{paths: map[uint64]*pageViews{}}
	}
	err := r.streamSQL(ctx, "page_rows", sql, func(rows driver.Rows) error {
		var n uint16
		var path, person, id uint64
		dest := []any{&n, &path, &person, &id} // built once: a slice per Scan call costs an allocation per row
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if n < first || int(n-first) >= len(days) {
				return fmt.Errorf("a page view of day %d is outside the period's days %d to %d", n, first, end)
			}
			v := days[n-first].paths[path]
			if v == nil {
				v = &pageViews{}
				days[n-first].paths[path] = v
			}
			v.ids, v.people = append(v.ids, id), append(v.people, person)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	out := make([]keptDay, len(days))
	for i, d := range days {
		for _, v := range d.paths {
			v.ids = slices.Clip(v.ids) // counted once at the period's count: copies may fall on two days
			v.people = slices.Clip(distinct(v.people))
		}
		out[i] = d
	}
	return out, nil
}

// pageCount is one path's line of the top pages.
type pageCount struct {
	hash              uint64
	people, pageviews uint64
}

// pagesFromDays answers pages.sql's rows (dimension, value, people, pageviews; most people
// first, then most pageviews, then by path; limit rows) for params (whole UTC days, no
// filter) from the page views of each day of the period (page_rows.sql, through the
// store) and the person links.
func (r *Runner) pagesFromDays(ctx context.Context, params map[string]Value, first, end uint16, limit int) (Table, error) {
	p := map[string]Value{"site": params["site"], "from": params["from"], "until": params["until"], "days": fragment("1")}
	days, err := r.keptDays(ctx, "page_rows", p, first, end, func(p map[string]Value, _ bool) ([]keptDay, error) {
		sql, err := r.SQL("page_rows", p)
		if err != nil {
			return nil, err
		}
		return r.readPageDays(ctx, sql, first, end)
	})
	if err != nil {
		return Table{}, err
	}
	links, err := r.siteLinks(ctx, params["site"])
	if err != nil {
		return Table{}, err
	}
	// Each path's ids and people of all the days, in one slice each, sized first: grown
	// day by day, they would be copied over and over.
	sizes := map[uint64][2]int{}
	for _, d := range days {
		for path, v := range d.(*pageDay).paths {
			n := sizes[path]
			sizes[path] = [2]int{n[0] + len(v.ids), n[1] + len(v.people)}
		}
	}
	ids, people := make(map[uint64][]uint64, len(sizes)), make(map[uint64][]uint64, len(sizes))
	for path, n := range sizes {
		ids[path], people[path] = make([]uint64, 0, n[0]), make([]uint64, 0, n[1])
	}
	for _, d := range days {
		for path, v := range d.(*pageDay).paths {
			ids[path] = append(ids[path], v.ids...)
			for _, key := range v.people {
				if person, ok := links[key]; ok {
					key = person
				}
				people[path] = append(people[path], key)
			}
		}
	}
	counts := make([]pageCount, 0, len(ids))
	for path := range ids {
		counts = append(counts, pageCount{path, distinctCount(people[path]), distinctCount(ids[path])})
	}
	byCount := func(a, b pageCount) int {
		if c := cmp.Compare(b.people, a.people); c != 0 {
			return c
		}
		return cmp.Compare(b.pageviews, a.pageviews)
	}
	// Only the paths of the list and those that tie with its last need their names: the
	// ties are ordered by path.
	slices.SortFunc(counts, byCount)
	shown := counts[:0]
	if limit > 0 && len(counts) > 0 {
		n := min(limit, len(counts))
		for n < len(counts) && byCount(counts[n], counts[n-1]) == 0 {
			n++
		}
		shown = counts[:n]
	}
	names, err := r.pageNames(ctx, params, shown)
	if err != nil {
		return Table{}, err
	}
	slices.SortFunc(shown, func(a, b pageCount) int {
		if c := byCount(a, b); c != 0 {
			return c
		}
		return strings.Compare(names[a.hash], names[b.hash])
	})
	t := Table{Name: "pages", Columns: []string{"dimension", "value", "people", "pageviews"}}
	for _, c := range shown[:min(limit, len(shown))] {
		t.Rows = append(t.Rows, []any{"page", names[c.hash], c.people, c.pageviews})
	}
	return t, nil
}

// pageNames returns the path of every hash of counts. Paths met before come from the Runner's
// memory (a hash's path does not change); the others from page_names.sql.
func (r *Runner) pageNames(ctx context.Context, params map[string]Value, counts []pageCount) (map[uint64]string, error) {
	r.pathsMu.Lock()
	if r.paths == nil {
		r.paths = map[uint64]string{}
	}
	names := make(map[uint64]string, len(counts))
	var unknown []string
	for _, c := range counts {
		if name, ok := r.paths[c.hash]; ok {
			names[c.hash] = name
		} else {
			unknown = append(unknown, strconv.FormatUint(c.hash, 10))
		}
	}
	r.pathsMu.Unlock()
	if len(unknown) == 0 {
		return names, nil
	}
	p := map[string]Value{"site": params["site"], "from": params["from"], "until": params["until"], "hashes": fragment(strings.Join(unknown, ", "))}
	sql, err := r.SQL("page_names", p)
	if err != nil {
		return nil, err
	}
	found := map[uint64]string{}
	err = r.streamSQL(ctx, "page_names", sql, func(rows driver.Rows) error {
		var hash uint64
		var path string
		for rows.Next() {
			if err := rows.Scan(&hash, &path); err != nil {
				return err
			}
			found[hash] = path
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	r.pathsMu.Lock()
	defer r.pathsMu.Unlock()
	if len(r.paths)+len(found) > maxPathNames {
		r.paths = map[uint64]string{}
	}
	for hash, path := range found {
		r.paths[hash] = path
		names[hash] = path
	}
	return names, nil
}

// maxPathNames bounds the paths a Runner remembers by hash (pageNames): past it, it
// forgets them all and meets them again.
const maxPathNames = 1 << 16

// pathNames is the Runner's memory of paths by hash (pageNames).
type pathNames struct {
	pathsMu sync.Mutex
	paths   map[uint64]string
}
