package clickhouse

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"unsafe"
)

// Column is a column of a SELECT's result that Select decodes each block into, reusing the
// column's memory from one block to the next: a Fixed of the Go type of a fixed-width
// ClickHouse type, or Strings. What a block put in it is valid until the callback that was
// handed the block returns; a caller that keeps a value copies it.
type Column interface {
	// Type is the ClickHouse type the column holds, such as UInt64.
	Type() string
	// accepts reports whether a result column of ClickHouse type t decodes into it.
	accepts(t string) bool
	// decode replaces the column's values with rows values read from r (the native
	// format of its type).
	decode(r *bufio.Reader, rows int) error
	// reset empties the column, keeping its memory.
	reset()
	// scanDest returns a pointer that clickhouse-go's Scan fills with one value, and
	// scanned appends the value it holds: for Select through the driver.
	scanDest() any
	scanned(dest any)
}

// Fixed is a column of a fixed-width ClickHouse type (Select): Fixed[uint8] holds a UInt8
// column, Fixed[uint16] UInt16, Fixed[uint32] UInt32, Fixed[uint64] UInt64 and
// Fixed[float64] Float64. A block's values are read into it as they come, little-endian,
// without a call a value.
type Fixed[T uint8 | uint16 | uint32 | uint64 | float64] []T

// Type returns the ClickHouse type of T: UInt8, UInt16, UInt32, UInt64 or Float64.
func (c *Fixed[T]) Type() string {
	switch any(c).(type) { // c a pointer: no allocation, whatever T
	case *Fixed[uint8]:
		return "UInt8"
	case *Fixed[uint16]:
		return "UInt16"
	case *Fixed[uint32]:
		return "UInt32"
	case *Fixed[uint64]:
		return "UInt64"
	default: // *Fixed[float64], the last of T's types
		return "Float64"
	}
}

func (c *Fixed[T]) accepts(t string) bool { return t == c.Type() }
func (c *Fixed[T]) reset()                { *c = (*c)[:0] }
func (c *Fixed[T]) scanDest() any         { return new(T) }
func (c *Fixed[T]) scanned(dest any)      { *c = append(*c, *dest.(*T)) }

// littleEndian is whether this machine stores numbers as the native format does, so
// that a column's bytes are read straight into its values.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// decode replaces the column's values with rows values read from r in one copy: their
// bytes straight into the column's memory, swapped after on a big-endian machine.
func (c *Fixed[T]) decode(r *bufio.Reader, rows int) error {
	if cap(*c) < rows {
		*c = make(Fixed[T], rows)
	}
	*c = (*c)[:rows]
	if rows == 0 {
		return nil
	}
	size := int(unsafe.Sizeof((*c)[0]))
	b := unsafe.Slice((*byte)(unsafe.Pointer(&(*c)[0])), rows*size)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	if !littleEndian {
		swapBytes(b, size)
	}
	return nil
}

// swapBytes reverses the bytes of each size-byte value of b.
func swapBytes(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for l, h := i, i+size-1; l < h; l, h = l+1, h-1 {
			b[l], b[h] = b[h], b[l]
		}
	}
}

// Strings is a String column (Select): its values' bytes one after another, and where
// each ends.
type Strings struct {
	buf  []byte
	ends []int
}

// Len returns how many values the column holds.
func (c *Strings) Len() int { return len(c.ends) }

// Bytes returns value i; its bytes are the column's, overwritten by the next block.
func (c *Strings) Bytes(i int) []byte {
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.buf[start:c.ends[i]:c.ends[i]]
}

// String returns value i as a string of its own.
func (c *Strings) String(i int) string { return string(c.Bytes(i)) }

// Type returns String.
func (*Strings) Type() string          { return "String" }
func (*Strings) accepts(t string) bool { return t == "String" }
func (c *Strings) reset()              { c.buf, c.ends = c.buf[:0], c.ends[:0] }
func (c *Strings) scanDest() any       { return new(string) }
func (c *Strings) scanned(dest any) {
	c.buf = append(c.buf, *dest.(*string)...)
	c.ends = append(c.ends, len(c.buf))
}

// decode replaces the column's values with rows strings read from r: each its length (a
// varint) and its bytes. The values whole in r's buffer are taken from it without a call
// a value; one cut by the buffer's end is read on its own.
func (c *Strings) decode(r *bufio.Reader, rows int) error {
	c.reset()
	if cap(c.ends) < rows {
		c.ends = make([]int, 0, rows)
	}
	for len(c.ends) < rows {
		w, err := r.Peek(max(r.Buffered(), 1))
		if err != nil {
			return err
		}
		p := 0
		for len(c.ends) < rows {
			n, k := binary.Uvarint(w[p:])
			if k <= 0 || uint64(len(w)-p-k) < n {
				break
			}
			c.buf = append(c.buf, w[p+k:p+k+int(n)]...)
			c.ends = append(c.ends, len(c.buf))
			p += k + int(n)
		}
		if _, err := r.Discard(p); err != nil {
			return err
		}
		if p > 0 || len(c.ends) == rows {
			continue
		}
		if err := c.readOne(r); err != nil {
			return err
		}
	}
	return nil
}

// maxString is the longest String value Select takes (a guard against a corrupt length).
const maxString = 1 << 30

// readOne reads one value from r, which may be cut by the end of r's buffer.
func (c *Strings) readOne(r *bufio.Reader) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if n > maxString {
		return fmt.Errorf("a String of %d bytes, more than %d", n, maxString)
	}
	start := len(c.buf)
	c.buf = append(c.buf, make([]byte, n)...)
	if _, err := io.ReadFull(r, c.buf[start:]); err != nil {
		return err
	}
	c.ends = append(c.ends, len(c.buf))
	return nil
}
