package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The dashboard opens attribution, paths and time-to-convert at once, with the same site,
// period, filter, key and conversion, and each reads every person's touchpoints with the
// touchpoints query: the same rows, about two passes over the events, three times. A read
// of touchpoints is therefore shared: a journey report that asks for the same SQL (its
// placeholders filled) as a read waiting for its turn, or running but not yet handing out
// rows, joins it instead of running its own, and every member gets every person. On the
// sessions' route the SQL (touch_rows.sql) is the same whatever the key, so readers of
// other keys (the top lists by the whole first visit, attribution by source) join it too,
// each taking its own key (member.key, touchrows.go).
//
// The rows are fanned out, not held: the read gathers whole people into small batches
// (batchRows touchpoints and conversions, and one person whatever its size) and hands each
// batch to every member, at most batchesAhead batches ahead of the slowest; each member
// cuts its journeys from the batches in its own goroutine. Memory stays that of a few
// batches however many people the period holds. A read closes to joiners when it hands out
// its first batch, so a member never sees part of the people: whoever comes later starts a
// read of its own (which the ones after it may join).
//
// A read runs on a context of its own, carrying the values of its first member's (such as
// a quota key) but not its end: a member whose context ends (the browser gave up a panel)
// leaves alone, and the read is cancelled only when its last member has left. An error of
// the read reaches every member. It takes one of the Runner's turns, like any query.

// batchRows is how many touchpoints and conversions a batch gathers before it is handed out.
const batchRows = 2048

// batchesAhead is how many batches a read may hand a member ahead of the one it is cutting.
const batchesAhead = 4

// personBatch is a run of whole people of a touchpoints read, in the read's order: each
// person's touchpoints sorted by time, then key, and conversions by time, then value
// (sortPerson). Every member of the read gets the same batch: nobody changes it once it is
// handed out. Its touchpoints and sessions hold their keys as indices into keys, so that
// they hold no pointer and a read's batches serve every key its members take: a member of
// another key gets a batch of the same rows with other keys (withKeys, touchrows.go).
type personBatch struct {
	touches []touchpoint
	convs   []conversionAt
	visits  []sessionVisit // each person's sessions, in no order: only a read of touch_rows has them (sessionreports.go)
	ends    []personEnd    // where each person ends in touches, convs and visits
	keys    []string       // the touchpoints' and sessions' keys, by index
}

// newBatch returns an empty batch with room for batchRows touchpoints and conversions
// (mostly touchpoints), so that filling it seldom grows it, and for as many people: a
// person has a touchpoint or a conversion, or only sessions, which are few. When the batch
// is full, endPerson hands out a copy of its people's ends, conversions and sessions of
// their exact length and fills the next batch's in the same room. Room for a quarter of
// batchRows people, grown as more came, cost its growth twice a batch: 1.5 s of 26 s in a
// cold dashboard's profile at 30 million events, about 0.5 s at 10 million. Handing out
// the room itself cost every kept batch that room: at 30 million events the warm
// dashboard's kept batches no longer fitted the store's bound beside its days, and it
// grouped the touch rows again (4.8 s -> 14.3 s, docs/BENCHMARKS.md); a kept batch's
// conversions filled a quarter of theirs, its sessions about 85 %.
func newBatch() *personBatch {
	return newBatchRoom(batchRoom{ends: make([]personEnd, 0, batchRows), convs: make([]conversionAt, 0, batchRows/4)})
}

// batchRoom is the room a batch fills its people's ends, conversions and sessions in,
// handed from a full batch to the next (newBatch).
type batchRoom struct {
	ends   []personEnd
	convs  []conversionAt
	visits []sessionVisit // nil but in a read of touch_rows
}

// newBatchRoom is newBatch filling its people's ends, conversions and sessions into room.
func newBatchRoom(room batchRoom) *personBatch {
	return &personBatch{touches: make([]touchpoint, 0, batchRows), convs: room.convs[:0], ends: room.ends[:0],
		visits: room.visits[:0]}
}

// withVisits gives b room for batchRows sessions: a batch of a touch_rows read's.
func (b *personBatch) withVisits() *personBatch {
	b.visits = make([]sessionVisit, 0, batchRows)
	return b
}

// fit gives b's people's ends, conversions and sessions slices of their exact length, for
// b to be handed out, and returns the room they were filled in, for the next batch
// (newBatch says why).
func (b *personBatch) fit() batchRoom {
	room := batchRoom{b.ends, b.convs, b.visits}
	b.ends, b.convs, b.visits = slices.Clone(room.ends), slices.Clone(room.convs), slices.Clone(room.visits)
	return room
}

// personEnd is where one person of a batch ends: an index into touches, convs and visits.
type personEnd struct{ touches, convs, visits uint32 }

// end returns where b's last person ends, and the next starts.
func (b *personBatch) end() personEnd {
	return personEnd{uint32(len(b.touches)), uint32(len(b.convs)), uint32(len(b.visits))}
}

// endPerson ends the person that starts at from in b: sorts its touchpoints and
// conversions (sortPerson) and marks its end; once b is full it hands b to send, its ends,
// conversions and sessions copied to their length (newBatch says why). It returns the
// batch to go on filling, with b's keys, and where the next person starts in it.
func (b *personBatch) endPerson(from personEnd, send func(*personBatch)) (*personBatch, personEnd) {
	sortPerson(b.keys, b.touches[from.touches:], b.convs[from.convs:])
	b.ends = append(b.ends, b.end())
	if len(b.touches)+len(b.convs) >= batchRows {
		room := b.fit()
		send(b)
		keys := b.keys
		b = newBatchRoom(room)
		b.keys = keys
	}
	return b, b.end()
}

// withKeys returns a batch of b's people with keys in place of b's, sharing b's rows.
func (b *personBatch) withKeys(keys []string) *personBatch {
	c := *b
	c.keys = keys
	return &c
}

// people calls fn with each person's touchpoints and conversions in the batch.
func (b *personBatch) people(fn func([]touchpoint, []conversionAt)) {
	var from personEnd
	for _, end := range b.ends {
		fn(b.touches[from.touches:end.touches], b.convs[from.convs:end.convs])
		from = end
	}
}

// sharedRead is one run of the touchpoints query and the members it hands its batches to.
type sharedRead struct {
	sql     string
	links   string           // for a read of touch_rows (grouped here, touchrows.go): its person_links query; else ""
	params  map[string]Value // for a read of touch_rows: the placeholders sql was filled with
	from    time.Time        // for a read of touch_rows: its period, whole UTC days (daystore.go)
	until   time.Time
	cancel  context.CancelFunc // ends the read's context: once its last member has left, or it has ended
	members map[*member]bool   // who still reads it; under Runner.sharesMu
	open    bool               // whether others may still join; under Runner.sharesMu
	err     error              // how the read ended, set before the members' batches close
}

// member is one reader of a shared read.
type member struct {
	key     touchKey          // the key it takes the touchpoints and sessions by (a read of touch_rows)
	batches chan *personBatch // the read's batches; closed by the read when it ends
	gone    chan struct{}     // closed when the member leaves before the end
}

// readPeople runs the touchpoints query filled with params, or joins an identical read
// that has not handed out anything yet, and calls fn with each batch of people in the
// query's order. It returns the read's error, or ctx's when ctx ends first.
func (r *Runner) readPeople(ctx context.Context, params map[string]Value, fn func(*personBatch)) error {
	name, sql, links, key, params, err := r.touchpointsSQL(params)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cannot run query %s: %w", name, err)
	}
	read, m := r.join(ctx, &sharedRead{sql: sql, links: links, params: params, from: params["from"].at, until: params["until"].at}, key)
	for ctx.Err() == nil { // a member whose context has ended takes no further batch
		select {
		case b, ok := <-m.batches:
			if !ok {
				return read.err
			}
			fn(b)
		case <-ctx.Done():
		}
	}
	r.leave(read, m)
	return fmt.Errorf("cannot read the rows of query %s: %w", name, ctx.Err())
}

// touchpointsSQL returns the query that reads the touch groups for params, filled: name
// and sql, touchpoints.sql, or, when params read the sessions (touchParams), touch_rows.sql
// with the person_links.sql (links) its groups are resolved with, here (touchrows.go), and
// the key the reader takes from its rows; and the params the query was filled with.
// touch_rows.sql is filled without the key (touchRowsParams): readers of any key share
// its read.
func (r *Runner) touchpointsSQL(params map[string]Value) (name, sql, links string, key touchKey, filled map[string]Value, err error) {
	name = "touchpoints"
	if readsSessions(params) {
		name = "touch_rows"
		if links, err = r.SQL("person_links", map[string]Value{"site": params["site"]}); err != nil {
			return "", "", "", touchKey{}, nil, err
		}
		params, key = touchRowsParams(params)
	}
	sql, err = r.SQL(name, params)
	return name, sql, links, key, params, err
}

// join makes a member, taking key, of the read of want.sql that is open to joiners,
// starting want (its sql, links, params and period set) if there is none.
func (r *Runner) join(ctx context.Context, want *sharedRead, key touchKey) (*sharedRead, *member) {
	m := &member{key: key, batches: make(chan *personBatch, batchesAhead), gone: make(chan struct{})}
	r.sharesMu.Lock()
	defer r.sharesMu.Unlock()
	read := r.shares[want.sql]
	if read == nil {
		c, cancel := context.WithCancel(context.WithoutCancel(ctx))
		read = want
		read.cancel, read.members, read.open = cancel, map[*member]bool{}, true
		if r.shares == nil {
			r.shares = map[string]*sharedRead{}
		}
		r.shares[read.sql] = read
		go r.runShared(c, read)
	}
	read.members[m] = true
	return read, m
}

// leave takes m out of read before its end; the last member to leave cancels the read.
func (r *Runner) leave(read *sharedRead, m *member) {
	r.sharesMu.Lock()
	defer r.sharesMu.Unlock()
	close(m.gone)
	delete(read.members, m)
	if len(read.members) == 0 {
		r.closeShare(read)
		read.cancel()
	}
}

// seal closes read to joiners and returns its members: those its batches go to.
func (r *Runner) seal(read *sharedRead) []*member {
	r.sharesMu.Lock()
	defer r.sharesMu.Unlock()
	r.closeShare(read)
	out := make([]*member, 0, len(read.members))
	for m := range read.members {
		out = append(out, m)
	}
	return out
}

// closeShare stops others from joining read. The caller holds sharesMu.
func (r *Runner) closeShare(read *sharedRead) {
	if read.open {
		read.open = false
		delete(r.shares, read.sql)
	}
}

// runShared runs read's query with ctx and hands its batches to the members, each in
// turn, skipping those who have left; it ends by closing every member's batches. A read of
// touch_rows hands each member the batches of its key (groupTouchRows), and keeps what the
// Runner keeps of it only once the members have all of their batches: the reports answer
// while it does (a tenth of a second at 10 million events). The members of a touchpoints
// read all take its rows' keys.
func (r *Runner) runShared(ctx context.Context, read *sharedRead) {
	defer read.cancel()
	var members []*member
	sealed := false
	seal := func() []*member {
		if !sealed {
			members, sealed = r.seal(read), true
		}
		return members
	}
	var err error
	var keep func() // nil: nothing to keep
	if read.links != "" {
		keep, err = r.groupTouchRows(ctx, read, seal)
	} else {
		err = r.streamSQL(ctx, "touchpoints", read.sql, func(rows driver.Rows) error {
			return scanPeople(rows, func(b *personBatch) { handOut(seal(), b) })
		})
	}
	seal()
	read.err = err
	for _, m := range members {
		close(m.batches)
	}
	if keep != nil {
		keep()
	}
}

// handOut hands b to each of members in turn, skipping those who have left.
func handOut(members []*member, b *personBatch) {
	for _, m := range members {
		select {
		case m.batches <- b:
		case <-m.gone:
		}
	}
}

// scanPeople reads the rows of the touchpoints query, ordered by person, gathers each
// person's touchpoints and conversions, sorted (sortPerson), into batches of whole people
// and hands each batch to send.
func scanPeople(rows driver.Rows, send func(*personBatch)) error {
	var (
		b       = newBatch()
		from    personEnd // where the current person starts in b
		cur     uint64
		started bool
		person  uint64
		visit   uint8
		t       uint32
		k       string
		keyOf   = map[string]uint32{} // the index of each key met in b.keys, which every batch shares
		convT   []uint32
		convV   []float64
	)
	endPerson := func() { b, from = b.endPerson(from, send) }
	for rows.Next() {
		if err := rows.Scan(&person, &visit, &t, &k, &convT, &convV); err != nil {
			return err
		}
		if len(convT) != len(convV) {
			return fmt.Errorf("a touch group has %d conversion times and %d values", len(convT), len(convV))
		}
		if started && person != cur {
			endPerson()
		}
		cur, started = person, true
		if visit == 1 {
			i, ok := keyOf[k]
			if !ok {
				i = uint32(len(b.keys))
				keyOf[k] = i
				// appended only: a batch handed out sees its keys' prefix, never written again
				b.keys = append(b.keys, k)
			}
			b.touches = append(b.touches, touchpoint{t, i})
		}
		for i := range convT {
			b.convs = append(b.convs, conversionAt{convT[i], convV[i]})
		}
	}
	if err := rows.Err(); err != nil {
		return err // not the last person's rows: they may be cut short
	}
	if started {
		endPerson()
	}
	if len(b.ends) > 0 {
		b.fit()
		send(b)
	}
	return nil
}
