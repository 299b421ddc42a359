package report

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/analysis/queries"
	chstore "github.com/journeyd/journeyd/sql/store/clickhouse"
	"golang.org/x/sync/errgroup"
)

// Runner runs library queries against one ClickHouse database. Journey reports of one
// Runner that need the same touchpoint rows at the same time share one read of them
// (share.go).
type Runner struct {
	Conn driver.Conn
	DB   string // database holding the events table
	// ShowSQL, when set, receives each filled query instead of ClickHouse; the queries then
	// return no rows. `journeyd report --sql` uses it to print what it would run; with
	// StoreBytes, `--kept-sql`, what a cold read of the kept days runs (daystore.go).
	ShowSQL io.Writer
	// MaxMemory bounds the memory of each query, in bytes (ClickHouse's max_memory_usage);
	// grouping and sorting spill to disk past a third of it, so that a long period slows
	// a report down instead of failing it. 0 means DefaultMaxMemory.
	MaxMemory int64
	// MaxConcurrent bounds how many of the Runner's queries run at once; the others wait
	// for a turn as long as their context allows. 0 means DefaultMaxConcurrent.
	MaxConcurrent int
	// EventsOnly makes every report answer from its own query over the events, never from
	// the sessions ClickHouse keeps at insert time (touch_rows.sql, sessiontouches.go), the
	// copy of the events that are no views (touch_events, touchevents.go), nor the days'
	// rows journeyd counts the funnel, barriers, retention and top pages from
	// (funneldays.go, retentiondays.go, pagedays.go), which they otherwise are over whole
	// days without a filter, with a store or without: each way gives the same answers,
	// which tests that compare them need both ways to show.
	EventsOnly bool
	// StoreBytes, when above 0, makes the Runner keep the rows of the journey reports'
	// days it has read, within that many bytes, the least recently used days evicted, and
	// read again from ClickHouse only the days whose events have changed (daystore.go).
	// 0 keeps none: every report reads its whole period.
	StoreBytes int64
	// StoreDir, when set with StoreBytes, keeps the store's days on disk in that directory
	// too, so that a Runner made after a restart starts with them (daydisk.go); Close
	// writes those not written yet. Empty: the store is in memory only.
	StoreDir string
	// PrintsReuse, when above 0 with StoreBytes, keeps the prints of the days a report read
	// (day_prints.sql) up to that long (at most 5 minutes), and answers a later report's
	// days from them where the list of the events' data parts shows that nothing can have
	// changed them since (printcache.go): the dashboard's second wave of panels and the
	// warm-up's panels then list the parts (a few milliseconds) instead of reading every
	// day's print again. Each report then lists the parts before it reads prints: one query
	// more when nothing is kept. 0 keeps none.
	PrintsReuse time.Duration
	// Now is the Runner's clock, for PrintsReuse; nil is time.Now.
	Now func() time.Time
	// Log receives what the store on disk could not do and what it loaded; nil logs nothing.
	Log *slog.Logger
	// Metrics counts the store's hits, misses, evictions and bytes; nil counts nothing.
	Metrics *Metrics

	once  sync.Once
	turns chan struct{}

	pathNames                          // the paths of the top pages' hashes met so far (pagedays.go)
	kept           recent[*keptRead]   // the batches of the last reads of touch_rows (keptreads.go)
	keeping        keeping             // the reads of touch_rows whose batches are being kept
	countedFunnels recent[*keptFunnel] // the counts of the last funnels counted from kept days (funneldays.go)
	printShares                        // the reads of the days' prints in flight (printshare.go)
	printCache                         // the reads of the days' prints kept (printcache.go)

	sharesMu    sync.Mutex
	shares      map[string]*sharedRead // reads of touchpoints open to joiners, by their SQL (share.go)
	funnelReads map[string]*funnelRead // funnel reads open to other breakdowns, by their key (funnelshare.go)

	storeOnce sync.Once
	store     *dayStore // the days' rows kept, when StoreBytes > 0 (daystore.go)
}

// DefaultMaxConcurrent is how many report queries run at once unless
// Runner.MaxConcurrent says otherwise. The dashboard asks for a dozen panels at once; run
// together they only share the server's cores and memory, and beyond the driver's pool of
// ten connections the rest would fail after its 5 s acquire timeout (and starve the
// writer, which shares the pool) instead of waiting their turn.
const DefaultMaxConcurrent = 4

// turn waits until fewer than MaxConcurrent queries run and returns the function that
// ends this one's turn, or ctx's error.
func (r *Runner) turn(ctx context.Context) (func(), error) {
	r.once.Do(func() {
		n := r.MaxConcurrent
		if n <= 0 {
			n = DefaultMaxConcurrent
		}
		r.turns = make(chan struct{}, n)
	})
	select {
	case r.turns <- struct{}{}:
		return func() { <-r.turns }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("cannot wait for a turn to query ClickHouse: %w", ctx.Err())
	}
}

// DefaultMaxMemory is each report query's memory bound unless Runner.MaxMemory says
// otherwise: 6 GiB, spilling past 2 GiB. Attribution peaks at about 0.5 GB on 3 million
// events, so 10 million stay in memory and 30 million spill instead of failing, and the
// dashboard's panels, run together, stay within a 24 GiB machine (docs/BENCHMARKS.md).
const DefaultMaxMemory = 6 << 30

// settings returns the per-query settings of every report query: plain ints, the only
// integer type the driver sends to ClickHouse 18.16.
func (r *Runner) settings() clickhouse.Settings {
	limit := r.MaxMemory
	if limit <= 0 {
		limit = DefaultMaxMemory
	}
	return clickhouse.Settings{
		"max_memory_usage":                   int(limit),
		"max_bytes_before_external_group_by": int(limit / 3),
		"max_bytes_before_external_sort":     int(limit / 3),
	}
}

// Rows is a query's result as plain Go values (strings, integers, floats, times, slices).
type Rows struct {
	Columns []string
	Data    [][]any
}

// Query fills the library query name with params ($db is added) and returns its rows.
func (r *Runner) Query(ctx context.Context, name string, params map[string]Value) (*Rows, error) {
	out := &Rows{}
	err := r.stream(ctx, name, params, func(rows driver.Rows) error {
		out.Columns = rows.Columns()
		types := rows.ColumnTypes()
		for rows.Next() {
			ptrs := make([]any, len(types))
			for i, t := range types {
				ptrs[i] = reflect.New(t.ScanType()).Interface()
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			row := make([]any, len(ptrs))
			for i, p := range ptrs {
				row[i] = reflect.ValueOf(p).Elem().Interface()
			}
			out.Data = append(out.Data, row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stream fills the library query name with params ($db is added), runs it and hands its
// rows to read, which reads them with Next and Scan: for results too large to hold.
func (r *Runner) stream(ctx context.Context, name string, params map[string]Value, read func(driver.Rows) error) error {
	sql, err := r.SQL(name, params)
	if err != nil {
		return err
	}
	return r.streamSQL(ctx, name, sql, read)
}

// atOnce runs the reads at the same time (ClickHouse 18.16 runs each query on one thread
// here, so two queries use two cores) and returns the first error, which ends the others'
// context; with ShowSQL set it runs them one after the other, so that their queries are
// shown in order.
func (r *Runner) atOnce(ctx context.Context, reads ...func(context.Context) error) error {
	if r.ShowSQL != nil {
		for _, read := range reads {
			if err := read(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, read := range reads {
		g.Go(func() error { return read(gctx) })
	}
	return g.Wait()
}

// begin starts query name (sql, filled) for streamSQL and selectSQL: with ShowSQL set it
// writes sql there instead and returns a nil done (and the write's error); otherwise it
// waits for the Runner's turn and returns the done that ends it, nil with the error when
// the wait could not be had.
func (r *Runner) begin(ctx context.Context, name, sql string) (done func(), err error) {
	if r.ShowSQL != nil {
		_, err := fmt.Fprintf(r.ShowSQL, "-- %s\n%s;\n\n", name, sql)
		return nil, err
	}
	done, err = r.turn(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot run query %s: %w", name, err)
	}
	return done, nil
}

// streamSQL runs sql, the library query name filled, and hands its rows to read as stream does.
func (r *Runner) streamSQL(ctx context.Context, name, sql string, read func(driver.Rows) error) error {
	done, err := r.begin(ctx, name, sql)
	if done == nil {
		return err
	}
	defer done()
	rows, err := r.Conn.Query(clickhouse.Context(ctx, clickhouse.WithSettings(r.settings())), sql)
	if err != nil {
		return fmt.Errorf("cannot run query %s: %w", name, err)
	}
	defer rows.Close()
	if err := read(rows); err != nil {
		return fmt.Errorf("cannot read the rows of query %s: %w", name, err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read the rows of query %s: %w", name, err)
	}
	return nil
}

// selectSQL runs sql, the library query name filled, and calls each with the rows of each
// block of its result once decoded into cols (clickhouse.Select): for the widest reads, of
// millions of rows, whose blocks are decoded into the same columns block after block
// rather than scanned a row at a time.
func (r *Runner) selectSQL(ctx context.Context, name, sql string, cols []chstore.Column, each func(rows int) error) error {
	done, err := r.begin(ctx, name, sql)
	if done == nil {
		return err
	}
	defer done()
	if err := chstore.Select(ctx, r.Conn, sql, r.settings(), cols, each); err != nil {
		return fmt.Errorf("cannot run query %s: %w", name, err)
	}
	return nil
}

// SQL returns the library query name with its placeholders filled ($db is added). When
// params fill $visit_key (touchesFromSessions), its touches are read from the sessions:
// include/session_touches.sql stands where the query includes touches.sql.
func (r *Runner) SQL(name string, params map[string]Value) (string, error) {
	return r.sqlWith(name, params, nil)
}

// sqlWith is SQL with the fragments named by the keys of instead replaced by those their
// values name (queries.TextWith), besides touches.sql's.
func (r *Runner) sqlWith(name string, params map[string]Value, instead map[string]string) (string, error) {
	return r.sqlFilled(name, params, instead, true)
}

// sqlPart is sqlWith of a part of query name (instead leaves the rest out), which may have
// no placeholder for some of params: those of the other parts. The whole query, filled
// with the same params, holds them all (Fill).
func (r *Runner) sqlPart(name string, params map[string]Value, instead map[string]string) (string, error) {
	return r.sqlFilled(name, params, instead, false)
}

// sqlFilled is sqlWith, strict or not as fill is.
func (r *Runner) sqlFilled(name string, params map[string]Value, instead map[string]string, strict bool) (string, error) {
	if _, ok := params[visitKeyParam]; ok {
		all := map[string]string{"touches.sql": "session_touches.sql"}
		for k, v := range instead {
			all[k] = v
		}
		instead = all
	}
	text, err := queries.TextWith(name, instead)
	if err != nil {
		return "", err
	}
	all := make(map[string]Value, len(params)+1)
	for k, v := range params {
		all[k] = v
	}
	all["db"] = Ident(r.DB)
	if _, ok := params[visitKeyParam]; ok {
		// session_touches.sql takes the key out of touch_key ($visit_key), the same for
		// every key (include/session_touch_rows.sql): no column of the events is $key there
		delete(all, "key")
	}
	return fill(text, all, strict)
}

// toFloat converts a numeric cell to float64.
func toFloat(v any) float64 {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	}
	if t, ok := v.(time.Time); ok {
		return float64(t.Unix())
	}
	return 0
}

// toString converts a cell to a string.
func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
