package collector

import (
	"sync"

	"github.com/journeyd/journeyd/collector/beacon"
	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/segment"
	"github.com/journeyd/journeyd/event"
)

// work is the reusable memory of one request: parsers, the event slice handed to the sink,
// the decompressed body. It is taken with getWork and returned with putWork, which clears
// what the sink now owns.
type work struct {
	events  []event.Event
	meta    []segment.Meta
	keys    []uint64 // dedup keys recorded for the events, to forget on failure
	body    []byte
	req     enrich.Request // points into the request: cleared by putWork
	beacon  beacon.Parser
	segment segment.Parser
}

var workPool = sync.Pool{New: func() any { return &work{events: make([]event.Event, 0, 1)} }}

// maxPooledBody is the largest body buffer kept for reuse.
const maxPooledBody = 1 << 20

func getWork() *work { return workPool.Get().(*work) }

// putWork returns w to the pool. The events' strings and property slices belong to the
// sink: the slice is cleared so that the pool does not keep them alive.
func putWork(w *work) {
	clear(w.events[:cap(w.events)])
	w.events = w.events[:0]
	clear(w.meta[:cap(w.meta)])
	w.meta, w.keys = w.meta[:0], w.keys[:0]
	if cap(w.body) > maxPooledBody {
		w.body = nil
	}
	w.body = w.body[:0]
	w.req = enrich.Request{}
	workPool.Put(w)
}
