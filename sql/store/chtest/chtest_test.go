package chtest

import (
	"context"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

func TestMain(m *testing.M) { Main(m) }

func TestSharedServerDatabases(t *testing.T) {
	s := Shared(t)
	if s2 := Shared(t); s2 != s {
		t.Fatalf("Shared started a second server: %s and %s", s.Addr(), s2.Addr())
	}
	ctx := context.Background()
	db1, conn1 := s.NewDatabase(t)
	db2, _ := s.NewDatabase(t)
	if db1 == db2 {
		t.Fatalf("NewDatabase returned %q twice", db1)
	}
	if err := conn1.Exec(ctx, "CREATE TABLE t (x UInt32) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if err := conn1.Exec(ctx, "INSERT INTO t (x) SELECT 7"); err != nil {
		t.Fatal(err)
	}
	var got uint32
	if err := conn1.QueryRow(ctx, "SELECT x FROM "+db1+".t").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != 7 {
		t.Fatalf("read %d from %s.t, want 7", got, db1)
	}
	v, err := clickhouse.ServerVersion(conn1)
	if err != nil {
		t.Fatal(err)
	}
	if v.Major == 0 {
		t.Fatalf("server version %s has no major", v)
	}
	if !strings.HasPrefix(s.DSN("x"), "clickhouse://127.0.0.1:") {
		t.Fatalf("DSN %q is not a loopback native DSN", s.DSN("x"))
	}
}

func TestDatabaseDroppedAfterTest(t *testing.T) {
	s := Shared(t)
	var name string
	t.Run("inner", func(t *testing.T) { name, _ = s.NewDatabase(t) })
	var n uint64
	conn := s.Open(t, "default")
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.databases WHERE name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

func TestStartStopRestartKeepsData(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	if err := s.Exec(ctx, "CREATE TABLE default.keep (x UInt8) ENGINE = MergeTree ORDER BY x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "INSERT INTO default.keep (x) SELECT 1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := clickhouse.Open(ctx, s.DSN("default")); err == nil {
		t.Fatalf("a stopped server at %s still answers", s.Addr())
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := s.Open(t, "default").QueryRow(ctx, "SELECT count() FROM keep").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("after restart keep has %d rows, want 1", n)
	}
}

func TestDatabaseName(t *testing.T) {
	f := func(test, wantPrefix string) {
		t.Helper()
		got := databaseName(test)
		if !strings.HasPrefix(got, wantPrefix+"_") {
			t.Fatalf("databaseName(%q) = %q, want prefix %q", test, got, wantPrefix+"_")
		}
		for _, r := range got {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
				t.Fatalf("databaseName(%q) = %q has %q", test, got, r)
			}
		}
	}
	f("TestX", "t_testx")
	f("TestX/sub case-1", "t_testx_sub_case_1")
	f("Тест", "t_____")
	f(strings.Repeat("a", 100), "t_"+strings.Repeat("a", 38))
}
