package clickhouse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/ClickHouse/ch-go/compress"
	"github.com/ClickHouse/ch-go/proto"
	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// The native protocol as Select speaks it: one fixed client revision, 54412 (that of
// ClickHouse 18.16), which every release since reads too, so that nothing below depends on
// the server's. At that revision the query carries its client info (quota key included)
// and its settings in the binary format of before 54429 (a number as a varint, any other
// value as a string), and the server answers with the packets and fields of that revision:
// no profile events, no custom serialization of columns.
const (
	clientRevision = 54412
	clientName     = "journeyd"

	revisionClientInfo  = 54032 // the query carries the client info
	revisionTimezone    = 54058 // the server's hello names its time zone
	revisionQuotaKey    = 54060 // the client info carries a quota key
	revisionDisplayName = 54372 // the server's hello gives its display name
	revisionPatch       = 54401 // the hellos and the client info carry the version patch
	revisionTotalRows   = 51554 // a progress packet carries the rows to read in total
)

// Client packets.
const (
	clientHello  = 0
	clientQuery  = 1
	clientData   = 2
	clientCancel = 3
)

// Server packets.
const (
	serverHello        = 0
	serverData         = 1
	serverException    = 2
	serverProgress     = 3
	serverEndOfStream  = 5
	serverProfileInfo  = 6
	serverTotals       = 7
	serverExtremes     = 8
	serverLog          = 10
	serverTableColumns = 11
)

// queryPacket is the packet code send gives a query: clientQuery but in a test of a server
// that does not understand Select's connections.
var queryPacket uint64 = clientQuery

// stageComplete asks the server for the query's final result.
const stageComplete = 2

// bufferSize is the read buffer of a connection: a String column's values are taken from
// it without a call each (Strings.decode), and blocks arrive in pieces of about this size.
const bufferSize = 256 << 10

var (
	osUser      = os.Getenv("USER")
	hostname, _ = os.Hostname()
)

// nativeConn is one connection of a selecter to the server.
type nativeConn struct {
	conn     net.Conn
	raw      *bufio.Reader // the packets as they come
	data     *bufio.Reader // the blocks: raw, or the decompressed frames read from raw
	out      proto.Buffer
	z        *compress.Writer // compresses the blocks sent (the empty one after a query)
	revision int              // the lower of the server's revision and clientRevision
}

// dial connects to the server of s and says hello.
func (s *selecter) dial(deadline time.Time) (*nativeConn, error) {
	d := net.Dialer{Timeout: s.dialTimeout, Deadline: deadline}
	conn, err := d.Dial("tcp", s.addr)
	if err != nil {
		return nil, err
	}
	c := &nativeConn{conn: conn, raw: bufio.NewReaderSize(conn, bufferSize)}
	c.data = c.raw
	if s.compress {
		c.data = bufio.NewReaderSize(compress.NewReader(c.raw), bufferSize)
		c.z = compress.NewWriter(compress.LevelZero, compress.LZ4)
	}
	if err := c.hello(s, deadline); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// hello sends the client's hello and reads the server's.
func (c *nativeConn) hello(s *selecter, deadline time.Time) error {
	c.out.Reset()
	proto.ClientHello{Name: clientName, Major: 1, Minor: 0, ProtocolVersion: clientRevision,
		Database: s.database, User: s.user, Password: s.password}.Encode(&c.out)
	if err := c.flush(deadline); err != nil {
		return err
	}
	c.conn.SetReadDeadline(deadline)
	code, err := binary.ReadUvarint(c.raw)
	if err != nil {
		return fmt.Errorf("cannot read the server's hello: %w", err)
	}
	switch code {
	case serverHello:
	case serverException:
		return c.exception()
	default:
		return fmt.Errorf("the server answered hello with packet %d", code)
	}
	if _, err := c.str(); err != nil { // server name
		return err
	}
	for range 2 { // major, minor
		if _, err := binary.ReadUvarint(c.raw); err != nil {
			return err
		}
	}
	rev, err := binary.ReadUvarint(c.raw)
	if err != nil {
		return err
	}
	c.revision = int(min(rev, clientRevision))
	if c.revision < revisionClientInfo {
		return fmt.Errorf("the server's protocol revision %d is older than %d", rev, revisionClientInfo)
	}
	if c.revision >= revisionTimezone {
		if _, err := c.str(); err != nil {
			return err
		}
	}
	if c.revision >= revisionDisplayName {
		if _, err := c.str(); err != nil {
			return err
		}
	}
	if c.revision >= revisionPatch {
		if _, err := binary.ReadUvarint(c.raw); err != nil {
			return err
		}
	}
	return nil
}

// flush writes what was put in c.out.
func (c *nativeConn) flush(deadline time.Time) error {
	c.conn.SetWriteDeadline(deadline)
	_, err := c.conn.Write(c.out.Buf)
	return err
}

// send sends query with settings (settingsBinary) and quota key, and the empty block that
// ends the external tables it has none of.
func (c *nativeConn) send(query string, settings []setting, quotaKey string, deadline time.Time) error {
	b := &c.out
	b.Reset()
	b.PutUVarInt(queryPacket)
	b.PutString("")          // query id: the server makes one
	b.PutByte(1)             // client info: an initial query
	b.PutString("")          // initial user
	b.PutString("")          // initial query id
	b.PutString("0.0.0.0:0") // initial address: the server takes the connection's
	b.PutByte(1)             // interface: TCP
	b.PutString(osUser)
	b.PutString(hostname)
	b.PutString(clientName)
	b.PutUVarInt(1) // major
	b.PutUVarInt(0) // minor
	b.PutUVarInt(clientRevision)
	if c.revision >= revisionQuotaKey {
		b.PutString(quotaKey)
	}
	if c.revision >= revisionPatch {
		b.PutUVarInt(0)
	}
	for _, s := range settings {
		b.PutString(s.key)
		if s.isString {
			b.PutString(s.str)
		} else {
			b.PutUVarInt(s.num)
		}
	}
	b.PutString("") // end of settings
	b.PutUVarInt(stageComplete)
	b.PutBool(c.z != nil)
	b.PutString(query)
	// the empty block that ends the external tables
	b.PutUVarInt(clientData)
	b.PutString("")
	empty := []byte{1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0} // block info (not overflows, bucket -1), no columns, no rows
	if c.z != nil {
		if err := c.z.Compress(empty); err != nil {
			return err
		}
		empty = c.z.Data
	}
	b.PutRaw(empty)
	return c.flush(deadline)
}

// cancel asks the server to stop the query and closes the connection.
func (c *nativeConn) cancel() {
	c.out.Reset()
	c.out.PutUVarInt(clientCancel)
	c.flush(time.Now().Add(time.Second))
	c.conn.Close()
}

// str reads a string of the packets.
func (c *nativeConn) str() (string, error) {
	n, err := binary.ReadUvarint(c.raw)
	if err != nil {
		return "", err
	}
	if n > maxString {
		return "", fmt.Errorf("a string of %d bytes, more than %d", n, maxString)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.raw, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// exception reads an exception packet (its code read) and returns it as clickhouse-go's
// exception, the error the driver returns for it.
func (c *nativeConn) exception() error {
	var all []ch.Exception
	for {
		var e ch.Exception
		var code [4]byte
		if _, err := io.ReadFull(c.raw, code[:]); err != nil {
			return fmt.Errorf("cannot read an exception: %w", err)
		}
		e.Code = int32(binary.LittleEndian.Uint32(code[:]))
		var err error
		for _, s := range []*string{&e.Name, &e.Message, &e.StackTrace} {
			if *s, err = c.str(); err != nil {
				return fmt.Errorf("cannot read an exception: %w", err)
			}
		}
		all = append(all, e)
		nested, err := c.raw.ReadByte()
		if err != nil {
			return fmt.Errorf("cannot read an exception: %w", err)
		}
		if nested == 0 {
			break
		}
	}
	first := all[0]
	first.Nested = all[1:]
	return &first
}

// skipUvarints reads n varints of the packets (a progress or profile packet's fields).
func (c *nativeConn) skipUvarints(n int) error {
	for range n {
		if _, err := binary.ReadUvarint(c.raw); err != nil {
			return err
		}
	}
	return nil
}

// profileInfo reads a profile info packet: rows, blocks, bytes, applied limit, rows
// before limit, calculated rows before limit.
func (c *nativeConn) profileInfo() error {
	if err := c.skipUvarints(3); err != nil {
		return err
	}
	if _, err := c.raw.ReadByte(); err != nil {
		return err
	}
	if err := c.skipUvarints(1); err != nil {
		return err
	}
	_, err := c.raw.ReadByte()
	return err
}

// block reads a data packet's block (its table name read) into cols and returns its rows.
func (c *nativeConn) block(cols []Column) (int, error) {
	r := c.data
	for { // block info: numbered fields, 0 ends them
		f, err := binary.ReadUvarint(r)
		if err != nil {
			return 0, err
		}
		if f == 0 {
			break
		}
		n := 1 // 1: overflows, a bool
		if f == 2 {
			n = 4 // bucket number, an Int32
		} else if f != 1 {
			return 0, fmt.Errorf("block info field %d", f)
		}
		if _, err := r.Discard(n); err != nil {
			return 0, err
		}
	}
	ncols, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	nrows, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	if nrows > 1<<30 {
		return 0, fmt.Errorf("a block of %d rows", nrows)
	}
	if ncols == 0 && nrows == 0 {
		return 0, nil
	}
	if int(ncols) != len(cols) {
		return 0, fmt.Errorf("the result has %d columns, the reader takes %d", ncols, len(cols))
	}
	rows := int(nrows)
	for _, col := range cols {
		name, err := c.blockStr(r)
		if err != nil {
			return 0, err
		}
		typ, err := c.blockStr(r)
		if err != nil {
			return 0, err
		}
		if !col.accepts(typ) {
			return 0, fmt.Errorf("column %s is %s, the reader takes %s", name, typ, col.Type())
		}
		col.reset()
		if rows > 0 {
			if err := col.decode(r, rows); err != nil {
				return 0, fmt.Errorf("cannot decode column %s (%s) of %d rows: %w", name, typ, rows, err)
			}
		}
	}
	if c.data != c.raw && c.data.Buffered() != 0 {
		return 0, errors.New("bytes left in the compressed frame after a block")
	}
	return rows, nil
}

// blockStr reads a string of a block (a column's name or type).
func (c *nativeConn) blockStr(r *bufio.Reader) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > 1<<16 {
		return "", fmt.Errorf("a column name or type of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}
