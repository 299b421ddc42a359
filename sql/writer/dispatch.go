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
		if len(w.queue) == 0 || (len(w.queue[0].events) < w.cfg.BatchSize && !all) {
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

// chunk is a batch: queued events and the tags they were written with, in runs.
type chunk struct {
	events []event.Event
	tags   []tagRun
}

// tagRun is n consecutive events written with one tag.
type tagRun struct {
	tag uint64
	n   int
}

// enqueue appends events written with tag to the queue: to its last chunk while that has
// room, then to new ones. A chunk is one batch, so cutting a batch moves no event, and
// chunks are reused, so the queue grows by copying only until its chunks have reached full
// size. w.mu is held.
func (w *Writer) enqueue(events []event.Event, tag uint64) {
	for len(events) > 0 {
		last := len(w.queue) - 1
		if last < 0 || len(w.queue[last].events) == w.cfg.BatchSize {
			w.queue = append(w.queue, w.chunk())
			last++
		}
		c := w.queue[last]
		n := min(len(events), w.cfg.BatchSize-len(c.events))
		c.events = append(c.events, events[:n]...)
		if r := len(c.tags) - 1; r >= 0 && c.tags[r].tag == tag {
			c.tags[r].n += n
		} else {
			c.tags = append(c.tags, tagRun{tag, n})
		}
		events = events[n:]
	}
}

// chunk returns an empty chunk for up to BatchSize events: one an insert has finished
// with, or a new one. A new one starts small and grows as it fills, so a quiet site does
// not hold a full batch of empty events.
func (w *Writer) chunk() *chunk {
	select {
	case c := <-w.spare:
		return c
	default:
		return &chunk{events: make([]event.Event, 0, min(w.cfg.BatchSize, 1024))}
	}
}

// recycle clears an inserted chunk, dropping its strings, and keeps it for chunk.
func (w *Writer) recycle(c *chunk) {
	clear(c.events)
	c.events, c.tags = c.events[:0], c.tags[:0]
	select {
	case w.spare <- c:
	default:
	}
}

// work inserts batches until the dispatcher closes the channel, and reports the events of
// each to Config.Done unless some were abandoned at shutdown.
func (w *Writer) work() {
	defer w.done.Done()
	cols := block(definitions())
	for c := range w.batches {
		abandoned := w.insert(cols, c.events)
		w.mu.Lock()
		w.depth -= len(c.events)
		w.m.depth.Set(float64(w.depth))
		w.mu.Unlock()
		if w.cfg.Done != nil && !abandoned {
			for _, r := range c.tags {
				w.cfg.Done(r.tag, r.n)
			}
		}
		w.recycle(c)
	}
}
