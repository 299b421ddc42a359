// Package writer inserts events into ClickHouse in batches: it is the event.Sink at the end
// of the pipeline. It owns the bounded queue in front of ClickHouse, the batching by size
// and by time, the inserts in flight, the retries of transient failures and the dead-letter
// file for rows that ClickHouse rejects. It does not own the table (sql/store/schema) or the
// durability of accepted events across a crash (the spool before it).
//
// Write copies the events into the queue and returns at once; event.ErrFull when they do not
// fit the QueueSize events it holds (a Write larger than the whole queue is taken when the
// queue is empty, so that no Write is refused for ever). WriteAcked does the same for the
// spool, and calls the acknowledgement handed with the events once they are stored. A batch is cut when BatchSize events wait or when the oldest has
// waited FlushInterval, and one of Inserts workers sends it as one INSERT, in blocks of
// BlockSize rows, column by column (Columns and the Event-to-row mapping live in
// columns.go, nowhere else). Few large inserts are what ClickHouse wants: every insert is a
// part that the table and the sessions view write and then merge again and again, so the
// server's CPU per event falls steeply with the size of the insert (docs/BENCHMARKS.md).
//
// Failures: network errors and an overloaded server are retried with exponential backoff
// until they pass or Close gives up. A rejection of the data (ClickHouse says the rows are
// bad) is narrowed down by halving the batch, and only the rows that fail alone go to the
// dead-letter file, one JSON line each with the reason; the rest are inserted.
package writer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/event"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("writer is closed")

// Config configures a Writer; zero fields take the defaults in brackets.
type Config struct {
	Database       string                // database holding events (required)
	BatchSize      int                   // rows per insert, at most [100000]
	BlockSize      int                   // rows per block an insert is sent in [2000]
	FlushInterval  time.Duration         // longest wait of an event before its insert [1s]
	Inserts        int                   // inserts in flight at once [2]
	QueueSize      int                   // events buffered before Write returns ErrFull, but for one larger Write into an empty queue [3 × BatchSize]
	DeadLetterPath string                // JSON-lines file for rejected rows [none: they are logged]
	RetryMin       time.Duration         // first backoff after a transient failure [100ms]
	RetryMax       time.Duration         // longest backoff [30s]
	InsertTimeout  time.Duration         // bound of one insert attempt [1m]
	Registerer     prometheus.Registerer // metrics [a private registry]
	Logger         *slog.Logger          // [discard]
	Clock          event.Clock           // [event.SystemClock]
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (c *Config) setDefaults() error {
	if !identRE.MatchString(c.Database) {
		return fmt.Errorf("cannot create writer: database %q is not a plain ClickHouse name", c.Database)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.BatchSize, 100000)
	// The driver's columns are new for every INSERT and grow through its first block;
	// ClickHouse squashes the blocks of one INSERT into one part whatever their size. Small
	// blocks keep that growth, and the fresh memory it faults in, small.
	def(&c.BlockSize, min(2000, c.BatchSize))
	def(&c.Inserts, 2)
	def(&c.QueueSize, 3*c.BatchSize)
	defDur(&c.FlushInterval, time.Second)
	defDur(&c.RetryMin, 100*time.Millisecond)
	defDur(&c.RetryMax, 30*time.Second)
	defDur(&c.InsertTimeout, time.Minute)
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = event.SystemClock
	}
	return nil
}

// Writer is a batching event.Sink into database.events. It is safe for concurrent use.
type Writer struct {
	conn  driver.Conn
	cfg   Config
	query string
	m     *metrics
	dead  *deadLetters

	mu     sync.Mutex
	queue  []*batch // queued events, oldest first
	depth  int      // queued plus in the hands of workers
	closed bool

	deadRows atomic.Int64 // rows sent to the dead letter

	kick    chan struct{}
	closing chan struct{}
	batches chan *batch
	spare   chan []event.Event // blocks of inserted batches, cleared, for the queue to reuse
	stop    context.Context    // canceled when Close gives up waiting
	abandon context.CancelFunc
	done    sync.WaitGroup
}

// New starts a writer into cfg.Database.events over conn. Close it to flush.
func New(conn driver.Conn, cfg Config) (*Writer, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("cannot register writer metrics: %w", err)
	}
	w := &Writer{
		conn: conn, cfg: cfg, query: InsertQuery(cfg.Database), m: m,
		dead:    &deadLetters{path: cfg.DeadLetterPath, log: cfg.Logger},
		kick:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		batches: make(chan *batch),
		spare:   make(chan []event.Event, cfg.QueueSize/cfg.BlockSize+cfg.Inserts+1),
	}
	w.stop, w.abandon = context.WithCancel(context.Background())
	w.done.Add(1 + cfg.Inserts)
	go w.dispatch()
	for i := 0; i < cfg.Inserts; i++ {
		go w.work()
	}
	return w, nil
}

// Write queues events for insertion, taking ownership of their strings and property
// slices. It returns event.ErrFull, taking none of them, when they do not fit the queue;
// a Write larger than the whole queue is taken when the queue is empty. Events written
// without an acknowledgement that cannot be inserted before Close gives up go to the dead
// letter.
func (w *Writer) Write(ctx context.Context, events []event.Event) error {
	return w.WriteAcked(ctx, events, nil)
}

// WriteAcked is Write for events that the stage before still holds (the spool): once they
// are stored (inserted, or in the dead letter because ClickHouse rejects them) the writer
// calls ack.Stored with their number, from one of its workers, in one or several calls.
// Events abandoned at shutdown are neither acknowledged nor dead-lettered: the stage
// before keeps them.
func (w *Writer) WriteAcked(_ context.Context, events []event.Event, ack event.Ack) error {
	if len(events) == 0 {
		return nil
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	// A Write larger than the whole queue would never fit: it is taken when the queue is
	// empty instead, so the queue holds at most max(QueueSize, the largest Write) events.
	if w.depth > 0 && w.depth+len(events) > w.cfg.QueueSize {
		w.mu.Unlock()
		return event.ErrFull
	}
	wasEmpty := len(w.queue) == 0
	w.enqueue(events, ack)
	w.depth += len(events)
	full := len(w.queue) > 1 || w.queue[0].n == w.cfg.BatchSize
	w.m.depth.Set(float64(w.depth))
	w.mu.Unlock()
	if wasEmpty || full {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Backlog returns the events queued and not yet inserted, and the queue's limit.
func (w *Writer) Backlog() (queued, limit int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.depth, w.cfg.QueueSize
}

// Close stops taking events and inserts everything queued. When ctx ends first, the
// retries stop and the events not inserted go to the dead-letter file; Close then returns
// an error that says how many.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()
	close(w.closing)
	finished := make(chan struct{})
	go func() { w.done.Wait(); close(finished) }()
	var err error
	select {
	case <-finished:
	case <-ctx.Done():
		w.abandon()
		<-finished
		err = fmt.Errorf("cannot insert every queued event into %s.events before the shutdown deadline: "+
			"those written with an acknowledgement stay in the spool for the next start, the others went to the dead letter: %w", w.cfg.Database, ctx.Err())
	}
	w.abandon()
	return errors.Join(err, w.dead.close())
}

// WriteAll inserts events through a writer of its own, configured by cfg with a queue that
// holds them all, and returns once every one is inserted or dead-lettered, or ctx ends. It
// returns how many went to the dead letter: for one-off loads (journeyd gen --direct,
// journeyd replay), not for the pipeline. It takes ownership of the events.
func WriteAll(ctx context.Context, conn driver.Conn, cfg Config, events []event.Event) (deadLettered int, err error) {
	cfg.QueueSize = max(cfg.QueueSize, len(events))
	w, err := New(conn, cfg)
	if err != nil {
		return 0, err
	}
	werr := w.Write(ctx, events)
	cerr := w.Close(ctx)
	return int(w.deadRows.Load()), errors.Join(werr, cerr)
}
