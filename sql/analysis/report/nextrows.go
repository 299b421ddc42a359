package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The next report is gathered here from the events' rows, as the journey map is
// (stagerows.go): next_rows.sql gives, in no order, every event of each person who did the
// event to follow, and journeyd orders each person's events and counts what follows each
// one, which is next.sql's answer. On ClickHouse 18.16 next.sql's per-person arrays (of
// strings, deduplicated, filtered and sorted by lambdas) cost about twice the reading of
// these rows (docs/BENCHMARKS.md). TestNextAgreesWithLibrary holds the two to the same
// rows.

// nextRow is one row of next_rows, 24 bytes and no pointer (millions of rows with a string
// each cost the garbage collector more than the read): its person, time, label (an index
// into nextGatherer.labels, the top bit set for an event to follow) and event id (its
// place in nextGatherer.ids, its length, and a 16-bit digest that tells most different ids
// apart without comparing them).
type nextRow struct {
	person uint64
	t      uint32
	label  uint32
	off    uint32
	n, sum uint16
}

// nextAfter marks the label of an event to follow.
const nextAfter = 1 << 31

// nextEnd is what follows the last event of a person: nothing in the period.
const nextEnd = "(end)"

// nextGatherer gathers the rows of a next_rows read and counts what follows.
type nextGatherer struct {
	labels  []string          // the labels met, by index
	labelOf map[string]uint32 // index of each label in labels
	ids     [][]byte          // the event ids of the rows, one after another in blocks of nextIDBlock bytes
	parts   [256][][]nextRow  // the rows, by the top byte of their person, in chunks of nextChunk
	times   []int64           // per label: how many times it followed
	people  []int64           // per label: how many people it followed for
	cols    nextColumns       // the columns of next_rows' blocks
}

// nextChunk is how many rows a chunk of a part holds, and nextIDBlock how many bytes of
// event ids a block holds: both grow by adding one, never by copying what they hold.
const (
	nextChunk   = 4096
	nextIDBlock = 1 << 20
)

// nextFromRows answers the next report from next_rows.sql (params p: $site, $from,
// $until, $filter, $after) as next.sql would with $limit limit: its rows (next, times,
// people), most times first, then by label.
func (r *Runner) nextFromRows(ctx context.Context, p map[string]Value, limit int) (*Rows, error) {
	g := &nextGatherer{labelOf: map[string]uint32{}}
	sql, err := r.SQL("next_rows", p)
	if err != nil {
		return nil, err
	}
	if err := r.selectSQL(ctx, "next_rows", sql, g.cols.all(), g.block); err != nil {
		return nil, err
	}
	g.count(g.label(nextEnd))
	return g.rows(limit), nil
}

// nextCounts is what one goroutine of count counts: per label, how many times it followed
// and for how many people, and its room for a part's rows.
type nextCounts struct {
	times, people  []int64
	sorted, events []nextRow
	counted        []uint32
}

// count counts what follows each event to follow (end after a person's last event) into
// g.times and g.people. The parts, each a top byte of the person, are counted on up to
// groupWorkers goroutines, each part sorted by the second byte of the person into 256 runs,
// each run sorted on its own in cache: once ClickHouse has sent the last row the machine's
// cores are journeyd's (0.6 s of 3.1 s at 10 million events on one, docs/BENCHMARKS.md).
func (g *nextGatherer) count(end uint32) {
	fresh := func() *nextCounts {
		return &nextCounts{times: make([]int64, len(g.labels)), people: make([]int64, len(g.labels))}
	}
	counts := eachWithState(len(g.parts), fresh, func(c *nextCounts, p int) {
		var runs [257]int
		c.sorted, runs = personRuns(c.sorted, g.parts[p], func(row nextRow) uint64 { return row.person })
		g.parts[p] = nil
		for b := range 256 {
			run := c.sorted[runs[b]:runs[b+1]]
			slices.SortFunc(run, g.compare)
			for i := 0; i < len(run); {
				j := i + 1
				for j < len(run) && run[j].person == run[i].person {
					j++
				}
				c.person(g.onceByID(c.events[:0], fromFirstAfter(run[i:j])), end)
				i = j
			}
		}
	})
	g.times, g.people = make([]int64, len(g.labels)), make([]int64, len(g.labels))
	for _, c := range counts {
		for i := range g.times {
			g.times[i] += c.times[i]
			g.people[i] += c.people[i]
		}
	}
}

// person counts what follows each event to follow among one person's events (sorted by
// time, each event id once).
func (c *nextCounts) person(events []nextRow, end uint32) {
	c.events = events
	c.counted = c.counted[:0]
	for k, e := range events {
		if e.label&nextAfter == 0 {
			continue
		}
		next := end
		if k+1 < len(events) {
			next = events[k+1].label &^ nextAfter
		}
		c.times[next]++
		if !slices.Contains(c.counted, next) {
			c.counted = append(c.counted, next)
			c.people[next]++
		}
	}
}

// compare orders rows by person, time, then event id, as next.sql orders each person's events.
func (g *nextGatherer) compare(a, b nextRow) int {
	if c := cmp.Compare(a.person, b.person); c != 0 {
		return c
	}
	if c := cmp.Compare(a.t, b.t); c != 0 {
		return c
	}
	return bytes.Compare(g.id(a), g.id(b))
}

// fromFirstAfter returns the events of one person (sorted by time) from the time of their
// first event to follow on: the earlier ones cannot follow one (next.sql leaves them out
// before its arrays), so this only spares the work of ordering them.
func fromFirstAfter(events []nextRow) []nextRow {
	for i, e := range events {
		if e.label&nextAfter != 0 {
			for i > 0 && events[i-1].t == e.t {
				i--
			}
			return events[i:]
		}
	}
	return nil
}

// id returns the event id of row.
func (g *nextGatherer) id(row nextRow) []byte {
	return g.ids[row.off/nextIDBlock][row.off%nextIDBlock:][:row.n]
}

// sameID reports whether rows a and b have the same event id.
func (g *nextGatherer) sameID(a, b nextRow) bool {
	return a.n == b.n && a.sum == b.sum && bytes.Equal(g.id(a), g.id(b))
}

// onceByID appends to dst the events of one person (sorted by time, then event id) with
// each event id once, the first of its copies: a replay stored twice counts once, as
// arrayEnumerateUniq keeps it in next.sql.
func (g *nextGatherer) onceByID(dst, events []nextRow) []nextRow {
	for i, e := range events {
		if i > 0 && g.sameID(events[i-1], e) {
			continue // a copy in the same second
		}
		if slices.ContainsFunc(dst, func(d nextRow) bool { return g.sameID(d, e) }) {
			continue // a copy at another time: rare, and a person's events are few
		}
		dst = append(dst, e)
	}
	return dst
}

// idSum returns a 16-bit digest of an event id: of its last 8 bytes, where random and
// counting ids differ.
func idSum[T string | []byte](id T) uint16 {
	var x uint64
	for i := max(len(id)-8, 0); i < len(id); i++ {
		x = x<<8 | uint64(id[i])
	}
	return uint16((x * 0x9E3779B97F4A7C15) >> 48)
}

// labelBytes is label of label's bytes, which it copies only when the label is new.
func (g *nextGatherer) labelBytes(label []byte) uint32 {
	if idx, ok := g.labelOf[string(label)]; ok {
		return idx
	}
	return g.label(string(label))
}

// label returns the index of label in g.labels, adding it when new.
func (g *nextGatherer) label(label string) uint32 {
	idx, ok := g.labelOf[label]
	if !ok {
		idx = uint32(len(g.labels))
		g.labels = append(g.labels, label)
		g.labelOf[label] = idx
	}
	return idx
}

// nextColumns are the columns of next_rows, which each block of a read fills
// (clickhouse.Select), and the last label met, which the next block's rows likely share.
type nextColumns struct {
	person    clickhouse.Fixed[uint64]
	t         clickhouse.Fixed[uint32]
	id, label clickhouse.Strings
	after     clickhouse.Fixed[uint8]

	last   string // the last label met (one of labels), when known
	lastOf uint32
	known  bool
}

// all returns the columns in next_rows' order.
func (c *nextColumns) all() []clickhouse.Column {
	return []clickhouse.Column{&c.person, &c.t, &c.id, &c.label, &c.after}
}

// block keeps the rows of the block g.cols holds, in any order, each in the part of its
// person's top byte.
func (g *nextGatherer) block(rows int) error {
	c := &g.cols
	for i := range rows {
		person, t, id := c.person[i], c.t[i], c.id.Bytes(i)
		if label := c.label.Bytes(i); !c.known || string(label) != c.last {
			c.lastOf, c.known = g.labelBytes(label), true
			c.last = g.labels[c.lastOf]
		}
		if len(id) >= 1<<16 || len(g.labels) >= nextAfter {
			return fmt.Errorf("an event id of 64 KiB or more, or 2^31 labels, are more than a read can hold")
		}
		n := len(g.ids)
		if n == 0 || len(g.ids[n-1])+len(id) > nextIDBlock {
			if n >= 1<<32/nextIDBlock {
				return fmt.Errorf("more than 4 GiB of event ids are more than a read can hold")
			}
			g.ids = append(g.ids, make([]byte, 0, nextIDBlock))
			n++
		}
		row := nextRow{person: person, t: t, label: c.lastOf, off: uint32((n-1)*nextIDBlock + len(g.ids[n-1])), n: uint16(len(id)), sum: idSum(id)}
		if c.after[i] == 1 {
			row.label |= nextAfter
		}
		g.ids[n-1] = append(g.ids[n-1], id...)
		part := &g.parts[person>>56]
		if k := len(*part); k == 0 || len((*part)[k-1]) == nextChunk {
			*part = append(*part, make([]nextRow, 0, nextChunk))
		}
		chunk := &(*part)[len(*part)-1]
		*chunk = append(*chunk, row)
	}
	return nil
}

// rows returns the counts as next.sql's rows, most times first, then by label, at most
// limit of them.
func (g *nextGatherer) rows(limit int) *Rows {
	out := &Rows{Columns: []string{"next", "times", "people"}}
	var order []int
	for i, n := range g.times {
		if n > 0 {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(g.times[b], g.times[a]); c != 0 {
			return c
		}
		return strings.Compare(g.labels[a], g.labels[b])
	})
	for _, i := range order[:min(len(order), max(limit, 0))] {
		out.Data = append(out.Data, []any{g.labels[i], uint64(g.times[i]), uint64(g.people[i])})
	}
	return out
}
