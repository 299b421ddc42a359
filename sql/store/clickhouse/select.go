package clickhouse

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Conn is a connection to ClickHouse as Open, Dial and OpenAt return it: clickhouse-go's
// pool, and the connections of its own on which Select reads the blocks of a result into
// reused columns.
//
// clickhouse-go decodes each block into columns it makes anew, and hands a row at a time to
// Scan: on the widest report reads (millions of rows) that cost journeyd 3-4 s of CPU in
// the bench's cold dashboard, most of it clearing and first touching the new columns'
// memory (docs/BENCHMARKS.md). Select's connections speak the native protocol themselves,
// at a revision 18.16 and current releases both read (native.go), and are used when the DSN
// asks for nothing they lack: one address, no TLS, LZ4 or no compression, settings that are
// numbers or strings, no send_logs_level.
type Conn struct {
	driver.Conn
	sel *selecter // nil: Select reads through the driver
}

// Close closes the connections of Select and the driver's pool.
func (c *Conn) Close() error {
	if c.sel != nil {
		c.sel.close()
	}
	return c.Conn.Close()
}

// wrap returns conn, opened with opt, as a Conn.
func wrap(conn driver.Conn, opt *ch.Options) *Conn {
	return &Conn{Conn: conn, sel: newSelecter(opt)}
}

// Select runs query, a SELECT whose result has the columns cols (in their order and of
// their types), with settings, and calls each with the number of rows of each block of
// the result after decoding the block into cols. The columns' values are valid until each
// returns; an error from each ends the query and is returned. When conn is a Conn whose
// DSN Select's own connections serve, they read the result; otherwise the driver does, and
// each gets its rows in batches.
//
// The query's quota key is WithQuotaKey's; a deadline of ctx more than a second away is
// sent as max_execution_time (as clickhouse-go does); the end of ctx cancels the query.
//
// Should a server fail Select's own connections in a way that says it did not understand
// them (an unknown packet or setting, a malformed answer) before any row came, the query
// is read through the driver, and when the driver succeeds Select uses the driver for that
// Conn from then on: the protocol revision Select speaks is one that every release since
// 18.16 reads, but the tests here run against 18.16 only.
func Select(ctx context.Context, conn driver.Conn, query string, settings ch.Settings, cols []Column, each func(rows int) error) error {
	c, ok := conn.(*Conn)
	if !ok || c.sel == nil || c.sel.off.Load() {
		return selectDriver(ctx, conn, query, settings, cols, each)
	}
	delivered := false
	err := c.sel.run(ctx, query, settings, cols, func(n int) error { delivered = true; return each(n) })
	if err == nil || delivered || ctx.Err() != nil || !misunderstood(err) {
		return err
	}
	if err := selectDriver(ctx, c.Conn, query, settings, cols, each); err != nil {
		return err
	}
	c.sel.off.Store(true)
	return nil
}

// protocolCodes are the server's exceptions that may say it misread Select's packets:
// UNKNOWN_PACKET_FROM_CLIENT, UNEXPECTED_PACKET_FROM_CLIENT, UNKNOWN_SETTING,
// CANNOT_READ_ALL_DATA, ATTEMPT_TO_READ_AFTER_EOF, POCO_EXCEPTION.
var protocolCodes = map[int32]bool{100: true, 101: true, 115: true, 33: true, 32: true, 1000: true}

// misunderstood reports whether err, Select's own connections' error, may come from the
// server and Select not understanding each other: a protocolError, or neither a network
// error nor an exception of the query.
func misunderstood(err error) bool {
	var ex *ch.Exception
	if errors.As(err, &ex) {
		return protocolCodes[ex.Code]
	}
	if errors.As(err, new(protocolError)) {
		return true
	}
	var ne net.Error
	return !errors.As(err, &ne) && !eof(err)
}

// protocolError is an error of Select's own connections that says the server did not
// understand them.
type protocolError struct{ err error }

func (e protocolError) Error() string { return e.err.Error() }
func (e protocolError) Unwrap() error { return e.err }

// eof reports whether err is the server closing the connection.
func eof(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }

type quotaKeyKey struct{}

// WithQuotaKey returns ctx whose queries run with quota key key, through Select and
// through the driver (ch.WithQuotaKey) alike: system.query_log records it.
func WithQuotaKey(ctx context.Context, key string) context.Context {
	return ch.Context(context.WithValue(ctx, quotaKeyKey{}, key), ch.WithQuotaKey(key))
}

// driverBatch is how many rows Select hands each at a time when the driver reads them.
const driverBatch = 8192

// selectDriver is Select through clickhouse-go: each row scanned, appended to cols, and
// each called every driverBatch rows.
func selectDriver(ctx context.Context, conn driver.Conn, query string, settings ch.Settings, cols []Column, each func(rows int) error) error {
	rows, err := conn.Query(ch.Context(ctx, ch.WithSettings(settings)), query)
	if err != nil {
		return err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	if len(types) != len(cols) {
		return fmt.Errorf("the result has %d columns, the reader takes %d", len(types), len(cols))
	}
	dests := make([]any, len(cols))
	for i, c := range cols {
		if t := types[i].DatabaseTypeName(); !c.accepts(t) {
			return fmt.Errorf("column %s is %s, the reader takes %s", types[i].Name(), t, c.Type())
		}
		dests[i] = c.scanDest()
		c.reset()
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dests...); err != nil {
			return err
		}
		for i, c := range cols {
			c.scanned(dests[i])
		}
		if n++; n == driverBatch {
			if err := each(n); err != nil {
				return err
			}
			for _, c := range cols {
				c.reset()
			}
			n = 0
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n > 0 {
		return each(n)
	}
	return nil
}

// selecter runs Select's queries on connections of its own to one server.
type selecter struct {
	addr, database, user, password string
	settings                       ch.Settings // the DSN's
	dialTimeout, readTimeout       time.Duration
	compress                       bool // LZ4

	mu     sync.Mutex
	idle   []*nativeConn
	closed bool
	off    atomic.Bool // the server did not understand these connections: Select reads through the driver
}

// maxIdle is how many connections a selecter keeps open between queries: as many as a
// report Runner runs queries at once by default.
const maxIdle = 4

// newSelecter returns the selecter of opt, or nil when opt asks for what it lacks.
func newSelecter(opt *ch.Options) *selecter {
	if opt.Protocol != ch.Native || opt.TLS != nil || len(opt.Addr) != 1 || opt.DialContext != nil {
		return nil
	}
	s := &selecter{addr: opt.Addr[0], database: opt.Auth.Database, user: opt.Auth.Username, password: opt.Auth.Password,
		settings: opt.Settings, dialTimeout: opt.DialTimeout, readTimeout: opt.ReadTimeout}
	if s.user == "" {
		s.user = "default"
	}
	if s.readTimeout <= 0 {
		s.readTimeout = DefaultReadTimeout
	}
	if c := opt.Compression; c != nil && c.Method != ch.CompressionNone {
		if c.Method != ch.CompressionLZ4 {
			return nil
		}
		s.compress = true
	}
	if _, err := encodeSettings(s.settings, nil, time.Time{}); err != nil {
		return nil
	}
	if _, ok := s.settings["send_logs_level"]; ok {
		return nil // the server's log packets, which Select does not read
	}
	return s
}

// run is Select on s's connections. A connection kept from an earlier query that fails
// before the server answers (the server closed it meanwhile) is dropped and the query
// sent once more on a new one: a SELECT, it has done nothing.
func (s *selecter) run(ctx context.Context, query string, settings ch.Settings, cols []Column, each func(int) error) error {
	deadline, _ := ctx.Deadline()
	enc, err := encodeSettings(s.settings, settings, deadline)
	if err != nil {
		return err
	}
	quotaKey, _ := ctx.Value(quotaKeyKey{}).(string)
	for retried := false; ; retried = true {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("cannot query ClickHouse at %s: %w", s.addr, err)
		}
		c, reused, err := s.get(ctx)
		if err != nil {
			if eof(err) { // the server hung up on the hello
				err = protocolError{err}
			}
			return fmt.Errorf("cannot connect to ClickHouse at %s: %w", s.addr, err)
		}
		answered, err := s.query(ctx, c, query, enc, quotaKey, cols, each)
		if err != nil && reused && !answered && !retried && ctx.Err() == nil {
			continue
		}
		if err != nil && !reused && !answered && eof(err) {
			// a new connection, hung up on without an answer: 18.16 does that to a
			// packet it does not know
			err = protocolError{err}
		}
		return err
	}
}

// get returns an idle connection (reused) or a new one.
func (s *selecter) get(ctx context.Context) (c *nativeConn, reused bool, err error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c = s.idle[n-1]
		s.idle = s.idle[:n-1]
	}
	s.mu.Unlock()
	if c != nil {
		return c, true, nil
	}
	deadline := time.Now().Add(s.dialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c, err = s.dial(deadline)
	return c, false, err
}

// put keeps c for the next query, or closes it.
func (s *selecter) put(c *nativeConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.idle) >= maxIdle {
		c.conn.Close()
		return
	}
	s.idle = append(s.idle, c)
}

// close closes the idle connections; those of queries running close when they end.
func (s *selecter) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, c := range s.idle {
		c.conn.Close()
	}
	s.idle = nil
}

// query runs query on c and reads its result into cols (Select), and reports whether the
// server answered at all. c goes back to s when the query ended as the protocol says (the
// end of its result, or an exception); otherwise it is closed.
func (s *selecter) query(ctx context.Context, c *nativeConn, query string, settings []setting, quotaKey string, cols []Column, each func(int) error) (answered bool, err error) {
	deadline := time.Now().Add(s.readTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.send(query, settings, quotaKey, deadline); err != nil {
		c.conn.Close()
		return false, fmt.Errorf("cannot send a query to ClickHouse at %s: %w", s.addr, err)
	}
	stop := context.AfterFunc(ctx, c.cancel)
	done, err := s.receive(c, cols, &answered, each)
	if !stop() { // ctx ended: c.cancel closed, or closes, the connection
		if err == nil {
			return answered, nil // the whole result was read
		}
		return answered, fmt.Errorf("cannot read the result of a query from ClickHouse at %s: %w", s.addr, ctx.Err())
	}
	switch {
	case done:
		s.put(c)
	case errors.As(err, new(eachError)):
		c.cancel()
		return answered, err.(eachError).err
	default:
		c.conn.Close()
	}
	var ex *ch.Exception
	if err != nil && !errors.As(err, &ex) {
		err = fmt.Errorf("cannot read the result of a query from ClickHouse at %s: %w", s.addr, err)
	}
	return answered, err
}

// eachError is the error of Select's callback, which ends the query.
type eachError struct{ err error }

func (e eachError) Error() string { return e.err.Error() }

// receive reads the packets that answer a query until its end, decoding its blocks into
// cols for each. done says the query ended as the protocol says: c may run another.
func (s *selecter) receive(c *nativeConn, cols []Column, answered *bool, each func(int) error) (done bool, err error) {
	for {
		c.conn.SetReadDeadline(time.Now().Add(s.readTimeout))
		code, err := binary.ReadUvarint(c.raw)
		if err != nil {
			return false, err
		}
		*answered = true
		switch code {
		case serverData:
			if _, err := c.str(); err != nil { // the table's name: none
				return false, err
			}
			n, err := c.block(cols)
			if err != nil {
				return false, err
			}
			if n > 0 {
				if err := each(n); err != nil {
					return false, eachError{err}
				}
			}
		case serverProgress:
			n := 3 // rows, bytes, total rows
			if c.revision < revisionTotalRows {
				n = 2
			}
			if err := c.skipUvarints(n); err != nil {
				return false, err
			}
		case serverProfileInfo:
			if err := c.profileInfo(); err != nil {
				return false, err
			}
		case serverTableColumns:
			for range 2 {
				if _, err := c.str(); err != nil {
					return false, err
				}
			}
		case serverException:
			return true, c.exception()
		case serverEndOfStream:
			return true, nil
		case serverTotals, serverExtremes, serverLog:
			return false, fmt.Errorf("packet %d (totals, extremes or logs), which Select does not read", code)
		default:
			return false, fmt.Errorf("unknown packet %d", code)
		}
	}
}
