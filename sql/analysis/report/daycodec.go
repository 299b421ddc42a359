package report

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"
)

// How each kind of kept day is written to disk (daydisk.go) and read back: fixed-size
// little-endian fields through encoding/binary, a slice as its length (32 bits) and its
// elements, a string as its length and bytes. A decoder checks every index a report
// follows (a group's key and conversions, a stage row's kind), so that a file that
// decodes never makes a report read out of range; a wrong length or index fails the day.
// Loading the bench's month at 10 million events is measured in docs/BENCHMARKS.md.

// dayEncoder appends a day's encoding to b.
type dayEncoder struct{ b []byte }

func (e *dayEncoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *dayEncoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *dayEncoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }

func (e *dayEncoder) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
}

func (e *dayEncoder) u64s(xs []uint64) {
	e.u32(uint32(len(xs)))
	e.b = slices.Grow(e.b, 8*len(xs))
	for _, x := range xs {
		e.b = binary.LittleEndian.AppendUint64(e.b, x)
	}
}

func (e *dayEncoder) u32s(xs []uint32) {
	e.u32(uint32(len(xs)))
	e.b = slices.Grow(e.b, 4*len(xs))
	for _, x := range xs {
		e.b = binary.LittleEndian.AppendUint32(e.b, x)
	}
}

// dayDecoder reads a day's encoding from b; the first error sticks in err, and every
// read after it gives zero values.
type dayDecoder struct {
	b   []byte
	err error
}

func (d *dayDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
	d.b = nil
}

// take returns the next n bytes, or nil when fewer are left.
func (d *dayDecoder) take(n int) []byte {
	if n > len(d.b) || n < 0 {
		d.fail("%d bytes needed, %d left", n, len(d.b))
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *dayDecoder) u8() uint8 {
	if b := d.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *dayDecoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *dayDecoder) u64() uint64 {
	if b := d.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads a slice's length, whose elements take at least size bytes each: a length
// the bytes left cannot hold fails, so that a damaged length allocates nothing.
func (d *dayDecoder) count(size int) int {
	n := int(d.u32())
	if n*size > len(d.b) {
		d.fail("%d elements of %d bytes, %d bytes left", n, size, len(d.b))
		return 0
	}
	return n
}

func (d *dayDecoder) str() string {
	return string(d.take(d.count(1)))
}

func (d *dayDecoder) u64s() []uint64 {
	b := d.take(8 * d.count(8))
	xs := make([]uint64, len(b)/8)
	for i := range xs {
		xs[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return xs
}

func (d *dayDecoder) u32s() []uint32 {
	b := d.take(4 * d.count(4))
	xs := make([]uint32, len(b)/4)
	for i := range xs {
		xs[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return xs
}

// touch_rows' days (daygroups.go): the keys, the conversions (time, value, event id),
// the groups (37 bytes each) and their conversions' indexes; the parts by top byte are
// counted again from the groups.

func (*dayRows) diskKind() string { return "touch" }

func (d *dayRows) encode(e *dayEncoder) {
	e.u32(uint32(len(d.keys)))
	for _, k := range d.keys {
		e.str(k)
	}
	e.u32(uint32(len(d.conv)))
	for _, c := range d.conv {
		e.u32(c.t)
		e.u64(math.Float64bits(c.v))
		e.str(c.id)
	}
	e.u32(uint32(len(d.groups)))
	e.b = slices.Grow(e.b, 37*len(d.groups))
	for _, g := range d.groups {
		e.u64(g.hash)
		e.u64(g.user)
		e.u64(g.anon)
		e.u32(g.t)
		e.u32(g.k)
		e.u32(g.from)
		e.u8(boolByte(g.email))
	}
	e.u32(uint32(len(d.groupConv)))
	for _, c := range d.groupConv {
		e.u32(uint32(c))
	}
}

func decodeDayRows(d *dayDecoder) keptDay {
	x := &dayRows{}
	x.keys = make([]string, d.count(4))
	for i := range x.keys {
		x.keys[i] = d.str()
	}
	x.conv = make([]rowConversion, d.count(16))
	for i := range x.conv {
		x.conv[i] = rowConversion{t: d.u32(), v: math.Float64frombits(d.u64()), id: d.str()}
	}
	b := d.take(37 * d.count(37))
	x.groups = make([]dayGroup, len(b)/37)
	for i := range x.groups {
		g := b[37*i : 37*i+37]
		x.groups[i] = dayGroup{hash: binary.LittleEndian.Uint64(g), user: binary.LittleEndian.Uint64(g[8:]),
			anon: binary.LittleEndian.Uint64(g[16:]), t: binary.LittleEndian.Uint32(g[24:]), k: binary.LittleEndian.Uint32(g[28:]),
			from: binary.LittleEndian.Uint32(g[32:]), email: g[36] != 0}
	}
	conv := d.u32s()
	x.groupConv = make([]int32, len(conv))
	for i, c := range conv {
		if c >= uint32(len(x.conv)) {
			d.fail("a group's conversion %d of %d", c, len(x.conv))
			break
		}
		x.groupConv[i] = int32(c)
	}
	for i, g := range x.groups {
		switch {
		case i > 0 && g.hash <= x.groups[i-1].hash:
			d.fail("the groups are not in hash order at %d", i)
		case i > 0 && g.from < x.groups[i-1].from, g.from > uint32(len(x.groupConv)):
			d.fail("group %d's conversions start at %d", i, g.from)
		case g.t != 0 && g.k >= uint32(len(x.keys)):
			d.fail("group %d's key %d of %d", i, g.k, len(x.keys))
		}
		x.parts[g.hash>>56]++
	}
	return x
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// page_rows' days (pagedays.go): each path's hash, event ids and distinct people, in
// hash order.

func (*pageDay) diskKind() string { return "pages" }

func (p *pageDay) encode(e *dayEncoder) {
	paths := slices.Sorted(maps.Keys(p.paths))
	e.u32(uint32(len(paths)))
	for _, h := range paths {
		e.u64(h)
		e.u64s(p.paths[h].ids)
		e.u64s(p.paths[h].people)
	}
}

func decodePageDay(d *dayDecoder) keptDay {
	n := d.count(16)
	p := &pageDay{paths: make(map[uint64]*pageViews, n)}
	for range n {
		h := d.u64()
		p.paths[h] = &pageViews{ids: d.u64s(), people: d.u64s()}
	}
	return p
}

// stage_rows' days (stagerows.go): the day's start, each row's person key and item, the
// kinds (channel bits, stage mask) and the channels met that day.

func (*stageDay) diskKind() string { return "stages" }

func (s *stageDay) encode(e *dayEncoder) {
	e.u32(s.start)
	e.u64s(s.keys)
	e.u32s(s.items)
	e.u32(uint32(len(s.kinds)))
	for _, k := range s.kinds {
		e.u32(k.bits)
		e.u64(k.mask)
	}
	e.u32(uint32(len(s.channels)))
	for _, c := range s.channels {
		e.str(c.name)
		e.u32(c.bits)
	}
}

func decodeStageDay(d *dayDecoder) keptDay {
	s := &stageDay{start: d.u32(), keys: d.u64s(), items: d.u32s()}
	s.kinds = make([]stageKind, d.count(12))
	for i := range s.kinds {
		s.kinds[i] = stageKind{bits: d.u32(), mask: d.u64()}
	}
	s.channels = make([]stageChannel, d.count(8))
	for i := range s.channels {
		s.channels[i].name = d.str()
		s.channels[i].bits = d.u32()
	}
	if len(s.keys) != len(s.items) {
		d.fail("%d rows' keys, %d items", len(s.keys), len(s.items))
	}
	for _, item := range s.items {
		if item&(1<<stageKindBits-1) >= uint32(len(s.kinds)) {
			d.fail("a row's kind %d of %d", item&(1<<stageKindBits-1), len(s.kinds))
			break
		}
	}
	return s
}

// retention_rows' days (retentiondays.go): the day's start, each event's person key and
// item.

func (*retentionDay) diskKind() string { return "retention" }

func (r *retentionDay) encode(e *dayEncoder) {
	e.u32(r.start)
	e.u64s(r.keys)
	e.u32s(r.items)
}

func decodeRetentionDay(d *dayDecoder) keptDay {
	r := &retentionDay{start: d.u32(), keys: d.u64s(), items: d.u32s()}
	if len(r.keys) != len(r.items) {
		d.fail("%d events' keys, %d items", len(r.keys), len(r.items))
	}
	return r
}

// funnel_rows' days (funneldays.go): the day's start, how many values a hash names, each
// unit key with its first event and hash of values, the hashes and their values, and each
// step or exclusion event's unit key and item.

func (*funnelDay) diskKind() string { return "funnel" }

func (f *funnelDay) encode(e *dayEncoder) {
	e.u32(f.start)
	e.u32(f.cols)
	e.u64s(f.keys)
	e.u32s(f.first)
	e.u64s(f.combos)
	e.u64s(f.hashes)
	e.u32(uint32(len(f.names)))
	for _, v := range f.names {
		e.str(v)
	}
	e.u64s(f.evKeys)
	e.u32s(f.items)
}

func decodeFunnelDay(d *dayDecoder) keptDay {
	f := &funnelDay{start: d.u32(), cols: d.u32(), keys: d.u64s(), first: d.u32s(), combos: d.u64s(), hashes: d.u64s()}
	f.names = make([]string, d.count(4))
	for i := range f.names {
		f.names[i] = d.str()
	}
	f.evKeys, f.items = d.u64s(), d.u32s()
	secs := uint32(day / time.Second)
	switch {
	case len(f.first) != len(f.keys) || len(f.combos) != len(f.keys):
		d.fail("%d keys, %d first events, %d hashes of values", len(f.keys), len(f.first), len(f.combos))
	case uint64(len(f.names)) != uint64(len(f.hashes))*uint64(f.cols):
		d.fail("%d values, %d hashes of %d values", len(f.names), len(f.hashes), f.cols)
	case len(f.evKeys) != len(f.items):
		d.fail("%d events' keys, %d events", len(f.evKeys), len(f.items))
	}
	for _, t := range f.first {
		if t >= secs {
			d.fail("a first event %d s into the day", t)
			break
		}
	}
	for _, item := range f.items {
		if item>>funnelMaskBits >= secs {
			d.fail("an event %d s into the day", item>>funnelMaskBits)
			break
		}
	}
	return f
}
