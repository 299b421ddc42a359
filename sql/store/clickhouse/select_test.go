package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// open returns a connection to the shared test server with the DSN's query dsnQuery, and
// the database it made for t.
func open(t *testing.T, dsnQuery string) (*clickhouse.Conn, string) {
	t.Helper()
	s := chtest.Shared(t)
	db, _ := s.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(ctx, s.DSN(db)+dsnQuery)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.(*clickhouse.Conn), db
}

// numbersSQL is a result of one column of each type Select reads, n rows made of number:
// a = number, b = 3 number (UInt32), s = the decimal of number (String), e = number mod 2
// (UInt8), d = number mod 65536 (UInt16), f = number / 2 (Float64).
func numbersSQL(n int) string {
	return fmt.Sprintf(`SELECT number AS a, toUInt32(number * 3) AS b, toString(number) AS s, toUInt8(number %% 2) AS e,
		toUInt16(number %% 65536) AS d, number / 2 AS f FROM system.numbers LIMIT %d`, n)
}

// readNumbers runs numbersSQL(n) through Select on conn in blocks of at most 1 000 rows and
// checks every value; it returns how many blocks came.
func readNumbers(t *testing.T, conn driver.Conn, n int) int {
	t.Helper()
	var (
		a    clickhouse.Fixed[uint64]
		b    clickhouse.Fixed[uint32]
		s    clickhouse.Strings
		e    clickhouse.Fixed[uint8]
		d    clickhouse.Fixed[uint16]
		f    clickhouse.Fixed[float64]
		next uint64
	)
	blocks := 0
	err := clickhouse.Select(context.Background(), conn, numbersSQL(n), ch.Settings{"max_block_size": 1000},
		[]clickhouse.Column{&a, &b, &s, &e, &d, &f}, func(rows int) error {
			blocks++
			if len(a) != rows || len(b) != rows || s.Len() != rows || len(e) != rows || len(d) != rows || len(f) != rows {
				return fmt.Errorf("a block of %d rows has columns of %d %d %d %d %d %d", rows, len(a), len(b), s.Len(), len(e), len(d), len(f))
			}
			for i := range rows {
				x := next
				if a[i] != x || b[i] != uint32(3*x) || s.String(i) != strconv.FormatUint(x, 10) || e[i] != uint8(x%2) ||
					d[i] != uint16(x%65536) || f[i] != float64(x)/2 {
					return fmt.Errorf("row %d: %d %d %q %d %d %g", x, a[i], b[i], s.Bytes(i), e[i], d[i], f[i])
				}
				next++
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if next != uint64(n) {
		t.Fatalf("read %d rows, want %d", next, n)
	}
	return blocks
}

// TestSelectManyBlocks: 200 000 rows in blocks of at most 1 000 (max_block_size, so the
// setting reaches the server) come as at least 200 blocks, every value as the SQL makes it,
// through Select's connections with LZ4 (journeyd's default, or named) and without
// compression, and through the driver (a driver.Conn that is not a Conn).
func TestSelectManyBlocks(t *testing.T) {
	for _, q := range []string{"", "?compress=none", "?compress=lz4"} {
		conn, _ := open(t, q)
		if blocks := readNumbers(t, conn, 200_000); blocks < 200 {
			t.Fatalf("DSN query %q: %d blocks of at most 1 000 rows for 200 000 rows", q, blocks)
		}
	}
	conn, _ := open(t, "")
	if blocks := readNumbers(t, conn.Conn, 20_000); blocks != 3 { // 8 192 + 8 192 + 3 616
		t.Fatalf("through the driver: %d batches for 20 000 rows, want 3", blocks)
	}
}

// TestSelectEmpty: a result without rows never calls the callback.
func TestSelectEmpty(t *testing.T) {
	conn, _ := open(t, "")
	var a clickhouse.Fixed[uint64]
	calls := 0
	err := clickhouse.Select(context.Background(), conn, "SELECT number FROM system.numbers LIMIT 0", nil,
		[]clickhouse.Column{&a}, func(int) error { calls++; return nil })
	if err != nil || calls != 0 {
		t.Fatalf("empty result: err %v, %d calls", err, calls)
	}
}

// TestSelectException: the server's exception comes back as clickhouse-go's (code 60, no
// such table), and the connection serves the next query.
func TestSelectException(t *testing.T) {
	conn, db := open(t, "")
	var a clickhouse.Fixed[uint64]
	err := clickhouse.Select(context.Background(), conn, "SELECT x FROM "+db+".missing", nil, []clickhouse.Column{&a}, func(int) error { return nil })
	var ex *ch.Exception
	if !errors.As(err, &ex) || ex.Code != 60 || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("SELECT from a missing table: %v, want exception 60 naming it", err)
	}
	readNumbers(t, conn, 10)
}

// TestSelectSettings: a max_memory_usage of 1 MB fails a GROUP BY of a million numbers
// with the server's memory limit (code 241) that the default lets through, and a query run
// with a quota key (WithQuotaKey) and the DSN's log_queries=1 is in system.query_log under
// that key.
func TestSelectSettings(t *testing.T) {
	conn, _ := open(t, "?log_queries=1")
	const group = "SELECT count() FROM (SELECT number FROM numbers(1000000) GROUP BY number)"
	var n clickhouse.Fixed[uint64]
	count := func(ctx context.Context, settings ch.Settings) error {
		return clickhouse.Select(ctx, conn, group, settings, []clickhouse.Column{&n}, func(int) error { return nil })
	}
	err := count(context.Background(), ch.Settings{"max_memory_usage": 1 << 20})
	var ex *ch.Exception
	if !errors.As(err, &ex) || ex.Code != 241 {
		t.Fatalf("GROUP BY of a million numbers within 1 MB: %v, want the memory limit (241)", err)
	}
	key := fmt.Sprintf("select-test-%d", time.Now().UnixNano())
	if err := count(clickhouse.WithQuotaKey(context.Background(), key), nil); err != nil || len(n) != 1 || n[0] != 1_000_000 {
		t.Fatalf("GROUP BY of a million numbers: %v %v, want 1000000", err, n)
	}
	// The server logs a query once it has ended, which may be after the client read its
	// end: the log is flushed and counted again for up to 10 s.
	var logged uint64
	for try := 0; try < 40 && logged == 0; try++ {
		if try > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		if err := conn.Exec(context.Background(), "SYSTEM FLUSH LOGS"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.query_log WHERE type = 2 AND quota_key = '"+key+"'").Scan(&logged); err != nil {
			t.Fatal(err)
		}
	}
	if logged != 1 {
		t.Fatalf("%d queries logged with quota key %s, want 1", logged, key)
	}
}

// running counts the queries with quota key key that the server runs.
func running(t *testing.T, conn driver.Conn, key string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.processes WHERE quota_key = '"+key+"'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitGone waits until the server runs no query with quota key key.
func waitGone(t *testing.T, conn driver.Conn, key string) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); running(t, conn, key) != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("a query with quota key %s still runs 30 s after it was cancelled", key)
		}
	}
}

// TestSelectCancel: an endless result ends, on the server too, when the context ends
// during the read (the error says so) or when the callback fails (its error comes back);
// the connection pool serves the next query.
func TestSelectCancel(t *testing.T) {
	conn, _ := open(t, "")
	var a clickhouse.Fixed[uint64]
	cols := []clickhouse.Column{&a}

	key := fmt.Sprintf("cancel-test-%d", time.Now().UnixNano())
	ctx, cancel := context.WithCancel(clickhouse.WithQuotaKey(context.Background(), key))
	blocks := 0
	err := clickhouse.Select(ctx, conn, "SELECT number FROM system.numbers", nil, cols, func(int) error {
		if blocks++; blocks == 3 {
			if n := running(t, conn, key); n != 1 {
				t.Errorf("%d queries with quota key %s run while their blocks come, want 1", n, key)
			}
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("endless result, context cancelled: %v, want context.Canceled", err)
	}
	waitGone(t, conn, key)

	key = fmt.Sprintf("cancel-test-%d", time.Now().UnixNano())
	stop := errors.New("enough")
	err = clickhouse.Select(clickhouse.WithQuotaKey(context.Background(), key), conn, "SELECT number FROM system.numbers", nil, cols,
		func(int) error { return stop })
	if err != stop {
		t.Fatalf("endless result, callback failed: %v, want its error", err)
	}
	waitGone(t, conn, key)

	// cancelled while the server computes, before any block of rows
	key = fmt.Sprintf("cancel-test-%d", time.Now().UnixNano())
	ctx, cancel = context.WithCancel(clickhouse.WithQuotaKey(context.Background(), key))
	go func() {
		defer cancel()
		for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			var n uint64
			if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.processes WHERE quota_key = '"+key+"'").Scan(&n); err != nil || n > 0 {
				return
			}
		}
	}()
	err = clickhouse.Select(ctx, conn, "SELECT count() FROM (SELECT number FROM system.numbers LIMIT 100000000000)", nil, cols, func(int) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a long count, context cancelled: %v, want context.Canceled", err)
	}
	waitGone(t, conn, key)
	readNumbers(t, conn, 10)
}

// TestSelectWrongColumns: a result whose columns are not the reader's fails with what
// differs.
func TestSelectWrongColumns(t *testing.T) {
	conn, _ := open(t, "")
	var a clickhouse.Fixed[uint64]
	var s clickhouse.Strings
	f := func(query, want string, cols ...clickhouse.Column) {
		t.Helper()
		err := clickhouse.Select(context.Background(), conn, query, nil, cols, func(int) error { return nil })
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want an error containing %q", query, err, want)
		}
	}
	f("SELECT toUInt32(1) AS x", "column x is UInt32, the reader takes UInt64", &a)
	f("SELECT 1 AS x, 'y' AS y", "2 columns, the reader takes 1", &a)
	f("SELECT toUInt64(1) AS x", "1 columns, the reader takes 2", &a, &s)
}

// TestSelectAfterRestart: a connection kept idle across a restart of the server is
// dropped and the query runs on a new one.
func TestSelectAfterRestart(t *testing.T) {
	s := chtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(ctx, s.DSN("default"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	readNumbers(t, conn, 10)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	readNumbers(t, conn, 10)
}

// TestSelectFallsBack: when the server does not understand Select's own connections (here
// a query sent as a packet it does not know: UNKNOWN_PACKET_FROM_CLIENT) and no row came,
// the query is read through the driver, and from then on the Conn's Select uses the
// driver; a network error (nothing listening) or an exception of the query (no such
// table) does not turn Select's connections off.
func TestSelectFallsBack(t *testing.T) {
	conn, db := open(t, "")
	var a clickhouse.Fixed[uint64]
	err := clickhouse.Select(context.Background(), conn, "SELECT x FROM "+db+".missing", nil, []clickhouse.Column{&a}, func(int) error { return nil })
	if err == nil || clickhouse.SelectOff(conn) {
		t.Fatalf("a missing table: err %v, Select off %v; want an error and Select on", err, clickhouse.SelectOff(conn))
	}
	clickhouse.SelectAt(conn, "127.0.0.1:1")
	err = clickhouse.Select(context.Background(), conn, "SELECT 1", nil, []clickhouse.Column{&a}, func(int) error { return nil })
	if err == nil || clickhouse.SelectOff(conn) {
		t.Fatalf("nothing listening: err %v, Select off %v; want an error and Select on", err, clickhouse.SelectOff(conn))
	}
	clickhouse.SelectAt(conn, chtest.Shared(t).Addr())
	restore := clickhouse.SelectSendsUnknownPacket()
	defer restore()
	readNumbers(t, conn, 10)
	if !clickhouse.SelectOff(conn) {
		t.Fatal("the server did not understand Select's query packet, and Select stayed on")
	}
	readNumbers(t, conn, 20_000)
}
