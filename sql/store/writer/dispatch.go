package writer

import (
	"time"

	"github.com/journeyd/journeyd/event"
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
		if len(w.queue) == 0 || (w.queue[0].n < w.cfg.BatchSize && !all) {
			left = len(w.queue) > 0
			w.mu.Unlock()
			return left
		}
		b := w.queue[0]
		n := copy(w.queue, w.queue[1:])
		w.queue[n] = nil
		w.queue = w.queue[:n]
		w.mu.Unlock()
		w.batches <- b
	}
}

// batch is the events of one INSERT, in blocks of at most BlockSize, with the
// acknowledgements they were written with, in runs. A batch holds either only events
// written with an acknowledgement (held: the spool keeps them if the shutdown abandons
// them) or only events without. A block is allocated at its full size once and reused, so
// queueing an event copies it once and never again.
type batch struct {
	blocks [][]event.Event
	n      int
	acks   []ackRun
	held   bool
}

// ackRun is n consecutive events written with one acknowledgement.
type ackRun struct {
	ack event.Ack
	n   int
}

// enqueue appends events written with ack (nil: none) to the queue: to its last batch
// while that has room and holds the same kind of events, then to new ones. w.mu is held.
func (w *Writer) enqueue(events []event.Event, ack event.Ack) {
	held := ack != nil
	for len(events) > 0 {
		last := len(w.queue) - 1
		if last < 0 || w.queue[last].n == w.cfg.BatchSize || w.queue[last].held != held {
			w.queue = append(w.queue, &batch{held: held})
			last++
		}
		b := w.queue[last]
		k := len(b.blocks) - 1
		if k < 0 || len(b.blocks[k]) == cap(b.blocks[k]) {
			b.blocks = append(b.blocks, w.block())
			k++
		}
		n := min(len(events), w.cfg.BatchSize-b.n, cap(b.blocks[k])-len(b.blocks[k]))
		b.blocks[k] = append(b.blocks[k], events[:n]...)
		b.n += n
		if r := len(b.acks) - 1; r >= 0 && b.acks[r].ack == ack {
			b.acks[r].n += n
		} else if held {
			b.acks = append(b.acks, ackRun{ack, n})
		}
		events = events[n:]
	}
}

// block returns an empty block of capacity BlockSize: one an insert has finished with, or
// a new one.
func (w *Writer) block() []event.Event {
	select {
	case b := <-w.spare:
		return b
	default:
		return make([]event.Event, 0, w.cfg.BlockSize)
	}
}

// recycle clears the blocks of an inserted batch, dropping their strings, and keeps them
// for block.
func (w *Writer) recycle(b *batch) {
	for _, blk := range b.blocks {
		clear(blk)
		select {
		case w.spare <- blk[:0]:
		default:
		}
	}
}

// work inserts batches until the dispatcher closes the channel, and acknowledges the events
// of each unless some were abandoned at shutdown.
func (w *Writer) work() {
	defer w.done.Done()
	cols := columnBlock(definitions())
	for b := range w.batches {
		abandoned := w.insert(cols, b.blocks, b.held)
		w.mu.Lock()
		w.depth -= b.n
		w.m.depth.Set(float64(w.depth))
		w.mu.Unlock()
		if !abandoned {
			for _, r := range b.acks {
				r.ack.Stored(r.n)
			}
		}
		clear(b.acks) // the acknowledgements hold the stage before's segments
		w.recycle(b)
	}
}
