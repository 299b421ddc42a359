package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// The journey map (stages) is drawn here from the events' rows, as the journey reports cut
// journeys from touch rows (touchrows.go): stage_rows.sql gives one row per event in no
// order (its person's key, its time and session channel, its stages), and journeyd gathers
// each person's rows into the answer of stages.sql. On ClickHouse 18.16 stages.sql's
// grouping by person (an aggregate per stage, an array of every session event, a row per
// stage and person searching it) costs about four plain grouped passes over the events;
// reading the rows costs less than one, and journeyd's work on them about one
// (docs/BENCHMARKS.md). TestStagesAgreeWithLibrary holds the two to the same answers.

// stageRow is one row of stage_rows, 16 bytes: its person (resolved), its time, and its
// kind, an index into stageGatherer.kinds (the session channel and the stages).
type stageRow struct {
	person uint64
	t      uint32
	kind   uint32
}

// stageKind is what a row is besides its person and time: the low 32 bits of its session
// channel's hash (0: no session channel) and the stages it belongs to; rank and hi are
// derived once the channels are known (rank) and the stages counted (hi).
type stageKind struct {
	bits  uint32 // the channel's hash bits
	mask  uint64 // bit k: the row is of stage k+1
	rank  int32  // the channel's place among the names sorted, from 1; 0 none
	upto  int32  // the greatest stage up to purchase the row is of, 0-based; -1 none
	after bool   // the row is of a stage after purchase
}

// stageGatherer gathers the rows of a stage_rows read and draws the map from them.
type stageGatherer struct {
	n        int    // stages
	purchase int    // the purchase stage, 0-based
	repeat   []bool // repeat[k]: stage k (after purchase) is reached strictly after purchase
	links    map[uint64]uint64
	kinds    []stageKind
	kindOf   map[[2]uint64]uint32
	parts    [256][][]stageRow // the rows, by the top byte of their person, in chunks of stageChunk

	channels []stageChannel // the channels of stage_channels
	collide  bool           // two of them share their hash bits, or one has none
	names    []string       // the channel names, sorted; rank r is names[r-1]

	counts []*stageCounts // what each goroutine of gather added up
}

// stageCounts is what the people of some parts add up to, per stage (gather), and one
// goroutine's room for a part's rows and a person's times.
type stageCounts struct {
	people []int64
	gaps   [][]int64 // per stage after the first: each person's seconds from the stage before
	ranks  [][]int64 // per stage: the people whose latest session then had each rank
	parts  int       // how many parts it has gathered

	sorted       []stageRow
	chain, first []uint32
}

// stagesFromRows answers the stages report from stage_rows.sql (params p, which fill
// stages.sql) as stages.sql would: its rows (stage, people, median_seconds,
// top_channels). ok is false when two channel names share the 32 bits stage_rows keeps of
// their hash (or one has none), which this way cannot tell apart, or when a day holds more
// kinds of rows than a kept day can name: stages.sql answers then. It keeps no day.
func (r *Runner) stagesFromRows(ctx context.Context, p map[string]Value, n, purchase int, repeat []bool) (rows *Rows, ok bool, err error) {
	return r.stagesFromDays(ctx, p, n, purchase, repeat, false)
}

// stagesFromDays answers as stagesFromRows does. With keep (the period is whole UTC days
// and no filter narrows the events, so that each day's rows are its own), each day's rows
// go through the Runner's store (keptDays): only the days whose events changed since they
// were kept are read.
func (r *Runner) stagesFromDays(ctx context.Context, p map[string]Value, n, purchase int, repeat []bool, keep bool) (rows *Rows, ok bool, err error) {
	if n == 0 || n > 64 {
		return nil, false, nil // stage_rows keeps a row's stages in 64 bits
	}
	from, until := p["from"].at, p["until"].at
	if !until.After(from) || from.Unix() < 0 || until.Unix() > 1<<32-1 {
		return nil, false, nil // stage_rows' times are 32-bit seconds, by day from 1970
	}
	first, end := epochDay(from), epochDay(until.Add(-time.Second))+1
	links, err := r.siteLinks(ctx, p["site"])
	if err != nil {
		return nil, false, err
	}
	terms := make([]string, n)
	for k := range n {
		terms[k] = fmt.Sprintf("bitShiftLeft(toUInt64(s%d), %d)", k+1, k)
	}
	rp := map[string]Value{"stage_bits": fragment(strings.Join(terms, " + ")), "days": fragment("1")}
	for _, k := range []string{"site", "from", "until", "filter", "steps"} {
		rp[k] = p[k]
	}
	read := func(p map[string]Value, keep bool, events []uint64) ([]keptDay, error) {
		return r.readStageDays(ctx, p, first, end, keep, events)
	}
	var days []keptDay
	if keep {
		days, err = r.keptDaysSized(ctx, "stage_rows", rp, first, end, read)
	} else {
		days, err = read(rp, false, nil)
	}
	if errors.Is(err, errStageKinds) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	g := &stageGatherer{n: n, purchase: purchase, repeat: repeat, links: links, kindOf: map[[2]uint64]uint32{}}
	stageDays := make([]*stageDay, len(days))
	for i, d := range days {
		stageDays[i] = d.(*stageDay)
	}
	g.add(stageDays)
	if !g.rankKinds() {
		return nil, false, nil
	}
	g.gather()
	return g.rows(), true, nil
}

// stageDay is one UTC day's rows of a stage_rows read, and the channel names of that day
// (stage_channels), as the store keeps them: 12 bytes a row, its person key (before the
// links) and its seconds into the day beside its kind. Once stored it is never changed:
// readers share it.
type stageDay struct {
	start    uint32      // the day's first second
	keys     []uint64    // each row's person key
	items    []uint32    // each row's seconds into the day << stageKindBits | its kind, an index into kinds
	kinds    []stageKind // the day's own kinds: only bits and mask
	channels []stageChannel
	kindOf   map[[2]uint64]uint32 // while the day is read; nil once it is done
}

// stageKindBits is how many bits of a stageDay's item name the row's kind: a day has 86 400
// seconds, which take the other 17.
const stageKindBits = 15

// errStageKinds is the error of a day with more kinds of rows than stageKindBits name.
var errStageKinds = errors.New("a day holds more kinds of stage rows (channel bits and stages) than a kept day can name")

// size is about how many bytes the day holds.
func (d *stageDay) size() int64 {
	n := int64(cap(d.keys))*8 + int64(cap(d.items))*4 + int64(cap(d.kinds))*32 + int64(cap(d.channels))*24 + 128
	for _, c := range d.channels {
		n += int64(len(c.name))
	}
	return n
}

// readStageDays reads stage_rows and then stage_channels, filled with p, and returns what
// they give of each day first to end (excluded), as stageDays: days[n-first] is day n's,
// none nil. When keep, the days' slices are trimmed to their rows. events, when not nil,
// is how many events each day holds (keptDaysSized): a day's rows, one per event but bots',
// identifies' and aliases', get that room at once.
func (r *Runner) readStageDays(ctx context.Context, p map[string]Value, first, end uint16, keep bool, events []uint64) ([]keptDay, error) {
	days := make([]*stageDay, end-first)
	for i := range days {
		days[i] = &stageDay{start: uint32(first+uint16(i)) * uint32(day/time.Second), kindOf: map[[2]uint64]uint32{}}
		if events != nil && events[i] > 0 {
			days[i].keys, days[i].items = make([]uint64, 0, events[i]), make([]uint32, 0, events[i])
		}
	}
	sql, err := r.SQL("stage_rows", p)
	if err != nil {
		return nil, err
	}
	scan := &stageScan{first: first, days: days}
	rows := func(ctx context.Context) error {
		return r.selectSQL(ctx, "stage_rows", sql, scan.columns(), scan.block)
	}
	cp := map[string]Value{"site": p["site"], "from": p["from"], "until": p["until"], "days": p["days"]}
	channels := func(ctx context.Context) error {
		return r.stream(ctx, "stage_channels", cp, func(rows driver.Rows) error { return scanStageChannels(rows, first, days) })
	}
	// the channels' names beside the rows: read after them, they ended the dashboard's
	// first open alone (the rows fill each day's keys, items and kinds, the names its
	// channels)
	if err := r.atOnce(ctx, rows, channels); err != nil {
		return nil, err
	}
	out := make([]keptDay, len(days))
	for i, d := range days {
		d.kindOf = nil
		if keep && cap(d.keys) > len(d.keys)+len(d.keys)/8 {
			d.keys, d.items = slices.Clone(d.keys), slices.Clone(d.items)
		}
		out[i] = d
	}
	return out, nil
}

// stageScan reads the blocks of stage_rows, in any order, into the day of their rows'
// time (days[day-first]), each row with its kind among its day's.
type stageScan struct {
	first           uint16
	days            []*stageDay
	key, item, mask clickhouse.Fixed[uint64] // the columns of stage_rows, which each block fills (clickhouse.Select)
	// the kinds met lately, by a hash of theirs and their day: a map lookup per row
	// costs a tenth of the read
	recent [64]struct {
		key  [2]uint64
		day  *stageDay
		kind uint32
	}
}

// columns returns the columns in stage_rows' order.
func (s *stageScan) columns() []clickhouse.Column {
	return []clickhouse.Column{&s.key, &s.item, &s.mask}
}

// block adds the rows of the block s's columns hold to their days.
func (s *stageScan) block(rows int) error {
	for i := range rows {
		key, item, mask := s.key[i], s.item[i], s.mask[i]
		t := uint32(item >> 32)
		n := uint16(t / uint32(day/time.Second))
		if n < s.first || int(n-s.first) >= len(s.days) {
			return fmt.Errorf("a row of day %d is outside the period's days %d to %d", n, s.first, int(s.first)+len(s.days))
		}
		d := s.days[n-s.first]
		kk := [2]uint64{item & 0xFFFFFFFF, mask}
		slot := &s.recent[(kk[0]^kk[1]*0x9E3779B97F4A7C15)>>58]
		if slot.key != kk || slot.day != d {
			kind, ok := d.kindOf[kk]
			if !ok {
				if len(d.kinds) >= 1<<stageKindBits {
					return errStageKinds
				}
				kind = uint32(len(d.kinds))
				d.kinds = append(d.kinds, stageKind{bits: uint32(kk[0]), mask: mask})
				d.kindOf[kk] = kind
			}
			slot.key, slot.day, slot.kind = kk, d, kind
		}
		d.keys = append(d.keys, key)
		d.items = append(d.items, (t-d.start)<<stageKindBits|slot.kind)
	}
	return nil
}

// scanStageChannels reads stage_channels: every channel name with its hash bits, into the
// day it was met on (days[day-first]).
func scanStageChannels(rows driver.Rows, first uint16, days []*stageDay) error {
	var (
		n    uint16
		name string
		bits uint64
	)
	for rows.Next() {
		if err := rows.Scan(&n, &name, &bits); err != nil {
			return err
		}
		if n < first || int(n-first) >= len(days) {
			return fmt.Errorf("a channel of day %d is outside the period's days %d to %d", n, first, int(first)+len(days))
		}
		days[n-first].channels = append(days[n-first].channels, stageChannel{name, uint32(bits)})
	}
	return rows.Err()
}

// add adds the rows of days to the parts by the top byte of their person (the key's link,
// or the key), each day's kinds made the read's. The days are added on up to groupWorkers
// goroutines, each into parts of its own, which then join the read's as chunks, uncopied.
func (g *stageGatherer) add(days []*stageDay) {
	kinds := make([][]uint32, len(days))
	for i, d := range days {
		g.channels = append(g.channels, d.channels...)
		kinds[i] = make([]uint32, len(d.kinds))
		for j, k := range d.kinds {
			kk := [2]uint64{uint64(k.bits), k.mask}
			kind, ok := g.kindOf[kk]
			if !ok {
				kind = uint32(len(g.kinds))
				g.kinds = append(g.kinds, stageKind{bits: k.bits, mask: k.mask})
				g.kindOf[kk] = kind
			}
			kinds[i][j] = kind
		}
	}
	parts := eachWithState(len(days), func() *[256][][]stageRow { return new([256][][]stageRow) },
		func(own *[256][][]stageRow, i int) { addDay(own, days[i], kinds[i], g.links) })
	for _, own := range parts {
		for b := range own {
			g.parts[b] = append(g.parts[b], own[b]...)
		}
	}
}

// addDay adds the rows of d, its kinds those of kinds (by d's own), to parts by the top
// byte of their person (the key's link in links, or the key).
func addDay(parts *[256][][]stageRow, d *stageDay, kinds []uint32, links map[uint64]uint64) {
	for i, key := range d.keys {
		if len(links) > 0 {
			if person, ok := links[key]; ok {
				key = person
			}
		}
		item := d.items[i]
		part := &parts[key>>56]
		if n := len(*part); n == 0 || len((*part)[n-1]) == stageChunk {
			*part = append(*part, make([]stageRow, 0, stageChunk))
		}
		chunk := &(*part)[len(*part)-1]
		*chunk = append(*chunk, stageRow{person: key, t: d.start + item>>stageKindBits, kind: kinds[item&(1<<stageKindBits-1)]})
	}
}

// stageChunk is how many rows a chunk of a part holds: a part grows by chunks, so that its
// rows are never copied to grow it (a slice doubling copied each row about twice over).
const stageChunk = 4096

// stageChannel is a channel name and the bits of its hash that stage_rows gives.
type stageChannel struct {
	name string
	bits uint32
}

// rankKinds gives each kind its channel's rank (the names sorted, as stages.sql's
// channel_ranks numbers them) and its stages' summary. It returns false when the hash bits
// cannot tell the channels apart: two names share them, one has none (0 is no channel),
// or a row's bits are no channel's (which a read cannot meet: the names are read after
// the rows, and a name never leaves the table).
func (g *stageGatherer) rankKinds() bool {
	slices.SortFunc(g.channels, func(a, b stageChannel) int { return strings.Compare(a.name, b.name) })
	g.channels = slices.CompactFunc(g.channels, func(a, b stageChannel) bool { return a.name == b.name })
	rankOf := make(map[uint32]int32, len(g.channels))
	for i, c := range g.channels {
		if _, twice := rankOf[c.bits]; twice || c.bits == 0 {
			return false
		}
		rankOf[c.bits] = int32(i + 1)
		g.names = append(g.names, c.name)
	}
	upto := uint64(1)<<(g.purchase+1) - 1
	for i := range g.kinds {
		k := &g.kinds[i]
		if k.bits != 0 {
			r, ok := rankOf[k.bits]
			if !ok {
				return false
			}
			k.rank = r
		}
		k.upto = -1
		if m := k.mask & upto; m != 0 {
			k.upto = int32(bits.Len64(m) - 1)
		}
		k.after = k.mask&^upto != 0
	}
	return true
}

// gather sorts each part's rows by person and adds up each person's stages, the parts on
// up to groupWorkers goroutines (stageCounts). A part is copied out of its chunks by the
// second byte of the person into 256 runs, and each run sorted on its own: runs of a few
// hundred rows sort in cache, in about half the time of the part as one.
func (g *stageGatherer) gather() {
	g.counts = eachWithState(len(g.parts), g.newCounts, func(c *stageCounts, p int) {
		var runs [257]int
		c.sorted, runs = personRuns(c.sorted, g.parts[p], func(row stageRow) uint64 { return row.person })
		g.parts[p] = nil
		for b := range 256 {
			rows := c.sorted[runs[b]:runs[b+1]]
			sortByPerson(rows)
			for i := 0; i < len(rows); {
				j := i + 1
				for j < len(rows) && rows[j].person == rows[i].person {
					j++
				}
				g.person(c, rows[i:j])
				i = j
			}
		}
		if c.parts++; c.parts == gapSampleParts {
			c.growGaps(len(g.parts) / groupWorkers)
		}
	})
}

// newCounts returns empty counts for g's stages and channels.
func (g *stageGatherer) newCounts() *stageCounts {
	c := &stageCounts{people: make([]int64, g.n), gaps: make([][]int64, g.n), ranks: make([][]int64, g.n),
		chain: make([]uint32, g.n), first: make([]uint32, g.purchase+1)}
	for s := range c.ranks {
		c.ranks[s] = make([]int64, len(g.names)+1)
	}
	return c
}

// gapSampleParts is after how many parts a goroutine of gather makes the room of the gaps
// it expects.
const gapSampleParts = 4

// growGaps gives each stage's gaps, once the first gapSampleParts parts of about parts
// are gathered, room for what the parts to come are expected to add, and an eighth more:
// a person's part is the top byte of a hash, so each part holds about as many people as
// the others. Grown gap by gap, the gaps were copied about once more each, into fresh
// memory (a tenth of journeyd's CPU in the stages report alone on the bench); a stage that
// needs more grows on as before.
func (c *stageCounts) growGaps(parts int) {
	for s, gaps := range c.gaps {
		want := len(gaps) * parts / gapSampleParts
		c.gaps[s] = slices.Grow(gaps, want+want/8-len(gaps))
	}
}

// sortByPerson sorts rows by person (equal persons in any order): a quicksort written for
// stageRow, whose comparisons inline, where slices.SortFunc calls its comparison through a
// function value (about half of gather's time went to it). gather's runs are a few hundred
// rows, of a few dozen people each.
func sortByPerson(rows []stageRow) {
	for len(rows) > 12 {
		m, last := len(rows)/2, len(rows)-1
		if rows[m].person < rows[0].person {
			rows[0], rows[m] = rows[m], rows[0]
		}
		if rows[last].person < rows[0].person {
			rows[0], rows[last] = rows[last], rows[0]
		}
		if rows[last].person < rows[m].person {
			rows[m], rows[last] = rows[last], rows[m]
		}
		pivot := rows[m].person // the median of three
		i, j := 0, last
		for i <= j { // Hoare's partition: rows equal to the pivot are split between the sides
			for rows[i].person < pivot {
				i++
			}
			for rows[j].person > pivot {
				j--
			}
			if i <= j {
				rows[i], rows[j] = rows[j], rows[i]
				i, j = i+1, j-1
			}
		}
		if j+1 < len(rows)-i { // the smaller side recursively, so the stack stays shallow
			sortByPerson(rows[:j+1])
			rows = rows[i:]
		} else {
			sortByPerson(rows[i:])
			rows = rows[:j+1]
		}
	}
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].person < rows[j-1].person; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

// person adds up the stages one person reached (DESIGN §7, stages.sql): a stage up to
// purchase at the earliest event of it or of any later stage up to purchase; a stage after
// purchase at its earliest event at or after the purchase (strictly after for a repeat
// stage); for each stage reached, the seconds from the stage before (or from the purchase,
// for a stage after it whose stage before was not reached) and the channel of the latest
// session event at or before it (the greater name on a tie of seconds; none: Direct).
// It adds them up in c.
func (g *stageGatherer) person(c *stageCounts, rows []stageRow) {
	chain, first := c.chain, c.first
	clear(first)
	after := false
	for _, r := range rows {
		k := &g.kinds[r.kind]
		if k.upto >= 0 && (first[k.upto] == 0 || r.t < first[k.upto]) {
			first[k.upto] = r.t
		}
		after = after || k.after
	}
	var reached uint32
	for s := g.purchase; s >= 0; s-- {
		if first[s] != 0 && (reached == 0 || first[s] < reached) {
			reached = first[s]
		}
		chain[s] = reached
	}
	bought := chain[g.purchase]
	for s := g.purchase + 1; s < g.n; s++ {
		chain[s] = 0
		if bought == 0 || !after {
			continue
		}
		bit := uint64(1) << s
		for _, r := range rows {
			if g.kinds[r.kind].mask&bit != 0 && (r.t > bought || r.t == bought && !g.repeat[s]) && (chain[s] == 0 || r.t < chain[s]) {
				chain[s] = r.t
			}
		}
	}
	for s, t := range chain {
		if t == 0 {
			continue
		}
		c.people[s]++
		if s > 0 {
			prev := chain[s-1]
			if prev == 0 {
				prev = bought
			}
			c.gaps[s] = append(c.gaps[s], int64(t)-int64(prev))
		}
		var latest uint32
		var rank int32
		for _, r := range rows {
			if k := g.kinds[r.kind].rank; k != 0 && r.t <= t && (r.t > latest || r.t == latest && k > rank) {
				latest, rank = r.t, k
			}
		}
		c.ranks[s][rank]++
	}
}

// rows returns the map as stages.sql's rows: per stage reached by someone, its number
// (from 1), its people, the median of its people's seconds from the stage before
// (quantileExact(0.5): the element at half the count, rounded down, in order; 0 for the
// first stage) and its top five channels (most people first, then by name).
func (g *stageGatherer) rows() *Rows {
	out := &Rows{Columns: []string{"stage", "people", "median_seconds", "top_channels"}}
	for s := range g.n {
		var people int64
		gaps := make([][]int64, len(g.counts))
		ranks := make([]int64, len(g.names)+1)
		for i, c := range g.counts {
			people += c.people[s]
			gaps[i] = c.gaps[s]
			for rank, n := range c.ranks[s] {
				ranks[rank] += n
			}
		}
		if people == 0 {
			continue
		}
		median := sortedMedian(gaps)
		byName := map[string]int64{}
		for rank, people := range ranks {
			if people == 0 {
				continue
			}
			name := "Direct" // no session before the stage, as stages.sql names rank 0
			if rank > 0 {
				name = g.names[rank-1]
			}
			byName[name] += people
		}
		top := make([]string, 0, len(byName))
		for name := range byName {
			top = append(top, name)
		}
		slices.SortFunc(top, func(a, b string) int {
			if c := cmp.Compare(byName[b], byName[a]); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		out.Data = append(out.Data, []any{int64(s + 1), people, median, top[:min(len(top), 5)]})
	}
	return out
}

// sortedMedian sorts each of lists and returns the element at half their count together,
// rounded down, in order (quantileExact(0.5)), walking them as one merged list; 0 when
// they are empty.
func sortedMedian(lists [][]int64) int64 {
	total := 0
	for _, l := range lists {
		slices.Sort(l)
		total += len(l)
	}
	if total == 0 {
		return 0
	}
	at := make([]int, len(lists)) // where the walk stands in each list
	for k := 0; ; k++ {
		least := -1
		for i, l := range lists {
			if at[i] < len(l) && (least < 0 || l[at[i]] < lists[least][at[least]]) {
				least = i
			}
		}
		if k == total/2 {
			return lists[least][at[least]]
		}
		at[least]++
	}
}
