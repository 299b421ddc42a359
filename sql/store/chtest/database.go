package chtest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

var dbCounter atomic.Uint64

// NewDatabase creates a uniquely named database for tb and returns its name and a
// connection to it. Both are cleaned up when tb ends: the connection closed, the database
// dropped.
func (s *Server) NewDatabase(tb testing.TB) (string, driver.Conn) {
	tb.Helper()
	name := databaseName(tb.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			tb.Logf("chtest: %v", err)
		}
	})
	return name, s.Open(tb, name)
}

// Open returns a new connection to database db, closed when tb ends.
func (s *Server) Open(tb testing.TB, db string) driver.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := clickhouse.Open(ctx, s.DSN(db))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// Exec runs one statement on the server through its administrative connection.
func (s *Server) Exec(ctx context.Context, query string) error {
	conn, err := s.adminConn(ctx)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, query); err != nil {
		return fmt.Errorf("cannot run %q on ClickHouse at %s: %w", query, s.Addr(), err)
	}
	return nil
}

func (s *Server) adminConn(ctx context.Context) (driver.Conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil, fmt.Errorf("cannot connect to ClickHouse at %s: it is stopped", s.Addr())
	}
	if s.admin == nil {
		conn, err := clickhouse.Open(ctx, s.DSN("default"))
		if err != nil {
			return nil, err
		}
		s.admin = conn
	}
	return s.admin, nil
}

// databaseName turns a test name into a unique ClickHouse identifier.
func databaseName(test string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(test) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	fmt.Fprintf(&b, "_%d", dbCounter.Add(1))
	return b.String()
}

// Strings runs query with args, whose rows have one String column, on conn and returns the
// values in the order of the rows; any error fails tb.
func Strings(tb testing.TB, ctx context.Context, conn driver.Conn, query string, args ...any) []string {
	tb.Helper()
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		tb.Fatalf("cannot run %q: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			tb.Fatalf("cannot read a row of %q: %v", query, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("cannot read the rows of %q: %v", query, err)
	}
	return out
}
