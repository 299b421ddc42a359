package clickhouse

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/ClickHouse/ch-go/proto"
)

// touchBlock returns the bytes of a block like those of touch_rows (sql/analysis/queries),
// rows rows: three UInt64 hashes, a UInt32 time, a 33-byte String key, two UInt8 flags, a
// UInt32 time, a Float64 value, a String id (empty but on every 50th row) and a UInt16 day.
func touchBlock(rows int) []byte {
	var (
		hash, user, anon proto.ColUInt64
		visit, conv      proto.ColUInt32
		key, id          proto.ColStr
		email, isConv    proto.ColUInt8
		value            proto.ColFloat64
		day              proto.ColUInt16
	)
	for i := range rows {
		hash.Append(uint64(i) * 0x9e3779b97f4a7c15)
		user.Append(uint64(i % 7))
		anon.Append(uint64(i) * 31)
		visit.Append(uint32(1767225600 + i))
		key.Append(fmt.Sprintf("google\xffcpc\xffwinter-%014d", i%1000))
		email.Append(uint8(i % 2))
		isConv.Append(uint8(i % 50 / 49))
		conv.Append(uint32(i))
		value.Append(float64(i) / 4)
		if i%50 == 49 {
			id.Append(fmt.Sprintf("order-%d", i))
		} else {
			id.Append("")
		}
		day.Append(uint16(20454 + i%30))
	}
	var b proto.Buffer
	in := []proto.InputColumn{{Name: "touch_hash", Data: hash}, {Name: "user_hash", Data: user}, {Name: "anon_hash", Data: anon},
		{Name: "visit_t", Data: visit}, {Name: "touch_key", Data: key}, {Name: "is_email", Data: email},
		{Name: "is_conversion", Data: isConv}, {Name: "conv_time", Data: conv}, {Name: "conv_value", Data: value},
		{Name: "conv_id", Data: id}, {Name: "day_number", Data: day}}
	if err := (proto.Block{Columns: len(in), Rows: rows}).EncodeBlock(&b, clientRevision, in); err != nil {
		panic(err)
	}
	return b.Buf
}

// touchColumns returns the columns Select decodes touchBlock into.
func touchColumns() []Column {
	return []Column{new(Fixed[uint64]), new(Fixed[uint64]), new(Fixed[uint64]), new(Fixed[uint32]), new(Strings),
		new(Fixed[uint8]), new(Fixed[uint8]), new(Fixed[uint32]), new(Fixed[float64]), new(Strings), new(Fixed[uint16])}
}

// TestBlockDecode: a block of 70 000 rows decoded through a read buffer of 16 bytes (so
// that nearly every String is cut by the buffer's end) and one of bufferSize give the
// values the block was made of.
func TestBlockDecode(t *testing.T) {
	const rows = 70_000
	raw := touchBlock(rows)
	for _, size := range []int{16, bufferSize} {
		c := &nativeConn{}
		c.raw = bufio.NewReaderSize(bytes.NewReader(raw), size)
		c.data = c.raw
		cols := touchColumns()
		n, err := c.block(cols)
		if err != nil || n != rows {
			t.Fatalf("buffer of %d: %d rows, %v", size, n, err)
		}
		key, id, day := cols[4].(*Strings), cols[9].(*Strings), *cols[10].(*Fixed[uint16])
		for _, i := range []int{0, 1, 48, 49, 999, 1000, rows - 1} {
			wantID := ""
			if i%50 == 49 {
				wantID = fmt.Sprintf("order-%d", i)
			}
			if got, want := key.String(i), fmt.Sprintf("google\xffcpc\xffwinter-%014d", i%1000); got != want || id.String(i) != wantID ||
				day[i] != uint16(20454+i%30) || (*cols[0].(*Fixed[uint64]))[i] != uint64(i)*0x9e3779b97f4a7c15 ||
				(*cols[8].(*Fixed[float64]))[i] != float64(i)/4 || (*cols[3].(*Fixed[uint32]))[i] != uint32(1767225600+i) ||
				(*cols[5].(*Fixed[uint8]))[i] != uint8(i%2) {
				t.Fatalf("buffer of %d, row %d: key %q id %q day %d", size, i, got, id.String(i), day[i])
			}
		}
		if c.raw.Buffered() != 0 {
			t.Fatalf("buffer of %d: %d bytes left after the block", size, c.raw.Buffered())
		}
	}
}

// TestStringsLong: values longer than the read buffer, and empty ones, decode.
func TestStringsLong(t *testing.T) {
	var b proto.Buffer
	want := []string{"", strings.Repeat("x", 100), "", strings.Repeat("y", 70_000), "z"}
	for _, s := range want {
		b.PutString(s)
	}
	var c Strings
	if err := c.decode(bufio.NewReaderSize(bytes.NewReader(b.Buf), 16), len(want)); err != nil {
		t.Fatal(err)
	}
	for i, s := range want {
		if c.String(i) != s {
			t.Fatalf("value %d: %d bytes, want %d", i, len(c.Bytes(i)), len(s))
		}
	}
}

// BenchmarkSelectBlock decodes a touch_rows block of 65 536 rows (as ClickHouse sends
// them) into the same columns again and again, as Select does: no allocation a block but
// the columns' names and types.
func BenchmarkSelectBlock(b *testing.B) {
	raw := touchBlock(65536)
	br := bytes.NewReader(raw)
	c := &nativeConn{}
	c.raw = bufio.NewReaderSize(br, bufferSize)
	c.data = c.raw
	cols := touchColumns()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(raw)
		c.raw.Reset(br)
		if _, err := c.block(cols); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDriverBlock decodes the same block as clickhouse-go does, into columns made
// anew for each block (ch-go's, which the driver uses), for comparison.
func BenchmarkDriverBlock(b *testing.B) {
	raw := touchBlock(65536)
	br := bytes.NewReader(raw)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(raw)
		r := proto.NewReader(br)
		res := proto.Results{{Data: new(proto.ColUInt64)}, {Data: new(proto.ColUInt64)}, {Data: new(proto.ColUInt64)},
			{Data: new(proto.ColUInt32)}, {Data: new(proto.ColStr)}, {Data: new(proto.ColUInt8)}, {Data: new(proto.ColUInt8)},
			{Data: new(proto.ColUInt32)}, {Data: new(proto.ColFloat64)}, {Data: new(proto.ColStr)}, {Data: new(proto.ColUInt16)}}
		var block proto.Block
		if err := block.DecodeBlock(r, clientRevision, res); err != nil {
			b.Fatal(err)
		}
	}
}
