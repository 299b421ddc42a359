package writer

import (
	"time"

	"github.com/journeyd/journeyd/sql/event"
)

// dispatch cuts the queue into batches for the workers: full batches at once, the rest
// when the oldest queued event has waited FlushInterval, everything on Close.
func (w *Writer) dispatch() {
	defer w.done.Done()
	defer close(w.batches)
	var timer <-chan time.Time
	for {
		flushAll := false
		select {
		case <-w.kick:
		case <-timer:
			timer, flushAll = nil, true
		case <-w.closing:
			w.cut(true)
			return
		}
		if w.cut(flushAll) && timer == nil {
			timer = w.cfg.Clock.After(w.cfg.FlushInterval)
		}
	}
}

// cut hands the workers every full batch, or every queued event when all is set, and
// reports whether events are left waiting.
func (w *Writer) cut(all bool) (left bool) {
	for {
		w.mu.Lock()
		n := len(w.pending)
		if n == 0 || (n < w.cfg.BatchSize && !all) {
			w.mu.Unlock()
			return n > 0
		}
		batch := w.take(min(n, w.cfg.BatchSize))
		w.mu.Unlock()
		w.batches <- batch
	}
}

// take removes the first n queued events and returns them as a batch. When the batch is
// the whole queue, the queue's slice itself becomes the batch and a spare slice (one an
// insert has finished with) becomes the queue: no copy, no growing from zero. w.mu is held.
func (w *Writer) take(n int) []event.Event {
	if n == len(w.pending) {
		batch := w.pending
		select {
		case w.pending = <-w.spare:
		default:
			w.pending = make([]event.Event, 0, w.cfg.BatchSize)
		}
		return batch
	}
	batch := make([]event.Event, n)
	copy(batch, w.pending)
	rest := copy(w.pending, w.pending[n:])
	clear(w.pending[rest:])
	w.pending = w.pending[:rest]
	return batch
}

// recycle clears an inserted batch, dropping its strings, and keeps it for take.
func (w *Writer) recycle(batch []event.Event) {
	clear(batch)
	select {
	case w.spare <- batch[:0]:
	default:
	}
}

// work inserts batches until the dispatcher closes the channel.
func (w *Writer) work() {
	defer w.done.Done()
	cols := block(definitions())
	for batch := range w.batches {
		w.insert(cols, batch)
		w.mu.Lock()
		w.depth -= len(batch)
		w.m.depth.Set(float64(w.depth))
		w.mu.Unlock()
		w.recycle(batch)
	}
}
