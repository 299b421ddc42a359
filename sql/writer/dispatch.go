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
		if len(w.queue) == 0 || (len(w.queue[0]) < w.cfg.BatchSize && !all) {
			w.mu.Unlock()
			return len(w.queue) > 0
		}
		batch := w.queue[0]
		n := copy(w.queue, w.queue[1:])
		w.queue[n] = nil
		w.queue = w.queue[:n]
		w.mu.Unlock()
		w.batches <- batch
	}
}

// enqueue appends events to the queue: to its last chunk while that has room, then to new
// ones. A chunk is one batch, so cutting a batch moves no event and the queue never grows
// by copying what it holds. w.mu is held.
func (w *Writer) enqueue(events []event.Event) {
	for len(events) > 0 {
		last := len(w.queue) - 1
		if last < 0 || len(w.queue[last]) == w.cfg.BatchSize {
			w.queue = append(w.queue, w.chunk())
			last++
		}
		n := min(len(events), w.cfg.BatchSize-len(w.queue[last]))
		w.queue[last] = append(w.queue[last], events[:n]...)
		events = events[n:]
	}
}

// chunk returns an empty slice of capacity BatchSize: one an insert has finished with, or
// a new one.
func (w *Writer) chunk() []event.Event {
	select {
	case c := <-w.spare:
		return c
	default:
		return make([]event.Event, 0, w.cfg.BatchSize)
	}
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
