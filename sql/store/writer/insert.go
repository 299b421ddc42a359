package writer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/journeyd/journeyd/event"
)

// Error reasons, the values of the reason label.
const (
	reasonNetwork    = "network"
	reasonOverloaded = "server_overloaded"
	reasonServer     = "server_error"
	reasonRejected   = "rejected"
	reasonBadRow     = "bad_row"
	reasonShutdown   = "shutdown"
	reasonOther      = "other"
)

// reasons are all the error reasons, for the metrics to start at 0 under each.
var reasons = []string{reasonNetwork, reasonOverloaded, reasonServer, reasonRejected, reasonBadRow, reasonShutdown, reasonOther}

// DateTime holds seconds from 1970 to 2106 as UInt32; other times would wrap silently.
var (
	minDateTime = time.Unix(0, 0)
	maxDateTime = time.Unix(1<<32-1, 0)
)

// insert stores the blocks of a batch: valid rows go to ClickHouse, invalid ones to the
// dead letter. The writer checks only what ClickHouse cannot (a DateTime out of range
// wraps silently); the rest, such as property keys and values of different lengths, the
// server rejects. It reports whether rows were abandoned because Close gave up waiting;
// held rows (written with an acknowledgement) are then left to the stage before, the others
// go to the dead letter.
func (w *Writer) insert(cols columnBlock, blocks [][]event.Event, held bool) (abandoned bool) {
	now := w.cfg.Clock.Now()
	rows := 0
	for k, blk := range blocks {
		good := blk[:0] // compacted in place: good never overtakes i
		for i := range blk {
			e := &blk[i]
			if e.ReceivedAt.IsZero() {
				e.ReceivedAt = now
			}
			if err := checkRow(e); err != nil {
				w.deadLetter(reasonBadRow, err, blk[i:i+1])
				continue
			}
			good = append(good, *e) // no copy when nothing was dropped before i
		}
		blocks[k] = good
		rows += len(good)
	}
	if rows > 0 {
		abandoned = w.insertRetrying(cols, blocks, held)
	}
	return abandoned
}

func checkRow(e *event.Event) error {
	if e.TS.Before(minDateTime) || e.TS.After(maxDateTime) {
		return fmt.Errorf("ts %s is outside the DateTime range 1970-2106", e.TS.UTC().Format(time.RFC3339))
	}
	if e.ReceivedAt.Before(minDateTime) || e.ReceivedAt.After(maxDateTime) {
		return fmt.Errorf("received_at %s is outside the DateTime range 1970-2106", e.ReceivedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// insertRetrying retries transient failures with backoff; when ClickHouse rejects the
// data it halves the batch until the rows it rejects are alone, and dead-letters those.
// When Close gives up, the rows go to the dead letter, or stay with the spool when they are
// held there, and it reports them abandoned.
func (w *Writer) insertRetrying(cols columnBlock, blocks [][]event.Event, held bool) (abandoned bool) {
	backoff := w.cfg.RetryMin
	for {
		if w.stop.Err() != nil {
			if !held {
				for _, blk := range blocks {
					w.deadLetter(reasonShutdown, w.stop.Err(), blk)
				}
			}
			return true
		}
		err := w.send(cols, blocks)
		if err == nil {
			return false
		}
		reason, permanent := classify(err)
		w.m.errors.WithLabelValues(reason).Inc()
		if permanent {
			return w.narrow(cols, slices.Concat(blocks...), held, reason, err)
		}
		w.cfg.Logger.Warn("cannot insert batch, retrying", "rows", rowsOf(blocks), "reason", reason, "backoff", backoff, "err", err)
		select {
		case <-w.cfg.Clock.After(backoff):
		case <-w.stop.Done():
		}
		backoff = min(2*backoff, w.cfg.RetryMax)
	}
}

// narrow inserts the two halves of rows ClickHouse rejected together, down to single
// rows, which go to the dead letter. Rare: it works on one flat copy of the batch.
func (w *Writer) narrow(cols columnBlock, rows []event.Event, held bool, reason string, err error) (abandoned bool) {
	if len(rows) == 1 {
		w.deadLetter(reason, err, rows)
		return false
	}
	half := len(rows) / 2
	a := w.insertRetrying(cols, w.split(rows[:half]), held)
	return w.insertRetrying(cols, w.split(rows[half:]), held) || a
}

// split cuts rows into blocks of BlockSize.
func (w *Writer) split(rows []event.Event) [][]event.Event {
	var blocks [][]event.Event
	for len(rows) > 0 {
		n := min(len(rows), w.cfg.BlockSize)
		blocks, rows = append(blocks, rows[:n]), rows[n:]
	}
	return blocks
}

func rowsOf(blocks [][]event.Event) int {
	n := 0
	for _, b := range blocks {
		n += len(b)
	}
	return n
}

// send makes one insert attempt of blocks: one INSERT whose blocks go out one by one. The
// driver keeps its column buffers from block to block, so only the first block of an
// insert grows them; ClickHouse squashes the blocks of one INSERT into one part (up to
// min_insert_block_size_rows, about a million rows), so the table and its views see one
// large block, and nothing of the batch is stored unless all of it is.
func (w *Writer) send(cols columnBlock, blocks [][]event.Event) (err error) {
	rows := rowsOf(blocks)
	ctx, cancel := context.WithTimeout(w.stop, w.cfg.InsertTimeout)
	defer cancel()
	start := time.Now()
	defer func() { w.m.seconds.Observe(time.Since(start).Seconds()) }()
	b, err := w.conn.PrepareBatch(ctx, w.query)
	if err != nil {
		return fmt.Errorf("cannot prepare insert of %d events into %s.events: %w", rows, w.cfg.Database, err)
	}
	defer b.Abort()
	for _, blk := range blocks {
		if len(blk) == 0 {
			continue
		}
		cols.fill(blk)
		for i, c := range cols {
			if err := c.appendTo(b.Column(i)); err != nil {
				return &appendError{err}
			}
		}
		if err := b.Flush(); err != nil {
			return fmt.Errorf("cannot send %d events to %s.events: %w", len(blk), w.cfg.Database, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot insert %d events into %s.events: %w", rows, w.cfg.Database, err)
	}
	w.m.batches.Inc()
	w.m.rows.Add(float64(rows))
	return nil
}

// appendError is a value the driver refused before anything was sent: the data is bad.
type appendError struct{ err error }

func (e *appendError) Error() string { return e.err.Error() }
func (e *appendError) Unwrap() error { return e.err }

// ClickHouse error codes, by what the writer does about them.
var (
	// The rows are bad: retrying cannot help.
	rejectedCodes = map[int32]bool{
		6: true, 26: true, 27: true, 32: true, 38: true, 41: true, 53: true, 69: true,
		70: true, 72: true, 117: true, 131: true, 190: true, 469: true,
	}
	// The server is busy: wait and retry.
	overloadedCodes = map[int32]bool{
		159: true, 202: true, 203: true, 241: true, 242: true, 252: true, 285: true,
	}
)

// classify tells the reason label of an insert error and whether retrying is useless.
func classify(err error) (reason string, permanent bool) {
	var ae *appendError
	var ex *ch.Exception
	var ne net.Error
	switch {
	case errors.As(err, &ae):
		return reasonBadRow, true
	case errors.As(err, &ex) && rejectedCodes[ex.Code]:
		return reasonRejected, true
	case errors.As(err, &ex) && overloadedCodes[ex.Code]:
		return reasonOverloaded, false
	case errors.As(err, &ex):
		return reasonServer, false
	case errors.Is(err, context.Canceled):
		return reasonShutdown, false
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, context.DeadlineExceeded):
		return reasonNetwork, false
	}
	return reasonOther, false
}

func (w *Writer) deadLetter(reason string, cause error, events []event.Event) {
	now := w.cfg.Clock.Now().UTC()
	lines := make([]DeadLetter, len(events))
	for i := range events {
		lines[i] = DeadLetter{Time: now, Reason: reason, Error: cause.Error(), Event: events[i]}
	}
	w.m.deadLetter.WithLabelValues(reason).Add(float64(len(events)))
	w.deadRows.Add(int64(len(events)))
	if err := w.dead.write(lines); err != nil {
		w.cfg.Logger.Error("events lost: cannot write them to the dead letter", "events", len(events), "reason", reason, "cause", cause, "err", err)
	}
}
