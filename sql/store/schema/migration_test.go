package schema

import (
	"reflect"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

func TestSplitStatements(t *testing.T) {
	f := func(text string, want ...string) {
		t.Helper()
		got := SplitStatements(text)
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("SplitStatements(%q)\n got %q\nwant %q", text, got, want)
		}
	}
	f("")
	f("-- only a comment;\n\n")
	f("SELECT 1", "SELECT 1")
	f("SELECT 1;\nSELECT 2;\n", "SELECT 1", "SELECT 2")
	f("-- head\nCREATE TABLE t\n(\n  x String -- a; b\n);  \n\n-- tail\n", "-- head\nCREATE TABLE t\n(\n  x String -- a; b\n)")
	f("SELECT ';' ; \r\nSELECT 2", "SELECT ';'", "SELECT 2")
	f("SELECT 'a;b'\nFROM t;", "SELECT 'a;b'\nFROM t")
}

func TestParseMigration(t *testing.T) {
	m, err := ParseMigration("0012_x.sql", "-- requires: >=20.1\n-- requires: <24.1\nCREATE TABLE {db}.a (x UInt8) ENGINE = Log;\nCREATE VIEW {db}.b AS SELECT x FROM {db}.a;\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 12 || len(m.Statements) != 2 {
		t.Fatalf("version %d, %d statements; want 12, 2", m.Version, len(m.Statements))
	}
	f := func(v string, want bool) {
		t.Helper()
		sv, _ := clickhouse.ParseVersion(v)
		if got := m.Requires.Admits(sv); got != want {
			t.Fatalf("%s admits %s: %v, want %v", m.Name, v, got, want)
		}
	}
	f("18.16.1", false)
	f("20.1.0", true)
	f("23.8.2", true)
	f("24.1", false)
}

func TestParseMigrationErrors(t *testing.T) {
	f := func(name, text, want string) {
		t.Helper()
		_, err := ParseMigration(name, text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("ParseMigration(%q): error %v, want one containing %q", name, err, want)
		}
	}
	f("events.sql", "CREATE TABLE {db}.x", "NNNN_name.sql")
	f("0001_x.txt", "CREATE TABLE {db}.x", "NNNN_name.sql")
	f("0001_x.sql", "-- nothing\n", "no statement")
	f("0001_x.sql", "CREATE TABLE events (x UInt8);", "{db}")
	f("0001_x.sql", "-- requires: ~20.1\nCREATE TABLE {db}.x;", ">=X.Y")
	f("0001_x.sql", "-- requires: >=twenty\nCREATE TABLE {db}.x;", "version")
}

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 || ms[0].Name != "0001_events.sql" {
		t.Fatalf("first migration is not 0001_events.sql: %+v", ms)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Version < ms[i-1].Version {
			t.Fatalf("migrations out of order: %s after %s", ms[i].Name, ms[i-1].Name)
		}
	}
}

func FuzzSplitStatements(f *testing.F) {
	for _, s := range []string{"SELECT 1;\nSELECT 2;", "-- c;\n", "a;\r\n;\n;b", "CREATE TABLE {db}.t (x String);"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, s := range SplitStatements(text) {
			if strings.TrimSpace(s) == "" || onlyComments(s) {
				t.Fatalf("SplitStatements(%q) returned an empty statement %q", text, s)
			}
			if strings.HasSuffix(s, ";") {
				t.Fatalf("SplitStatements(%q) kept the terminator in %q", text, s)
			}
		}
		ParseMigration("0001_f.sql", text) // must not panic
	})
}

// TestScript: the printed schema has every admitted statement with the database in place.
func TestScript(t *testing.T) {
	v, _ := clickhouse.ParseVersion("26.7")
	stmts, err := Script("jd", v)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(stmts, ";\n")
	for _, want := range []string{"CREATE DATABASE IF NOT EXISTS jd", "CREATE TABLE IF NOT EXISTS jd.events", "jd.session_aggregates_mv", "AS rhs USING"} {
		if !strings.Contains(text, want) {
			t.Errorf("the schema for 26.7 lacks %q", want)
		}
	}
	if strings.Contains(text, "{db}") {
		t.Error("the schema keeps a {db} placeholder")
	}
	if _, err := Script("jd; DROP", v); err == nil {
		t.Error("a database name with SQL in it: no error")
	}
}

func TestMigrationVersionsDistinct(t *testing.T) {
	parse := func(name, text string) Migration {
		m, err := ParseMigration(name, text)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := parse("0021_a.sql", "CREATE VIEW {db}.a AS SELECT 1;"), parse("0021_b.sql", "CREATE VIEW {db}.b AS SELECT 2;")
	if err := checkVersions([]Migration{a, b}); err == nil || !strings.Contains(err.Error(), "0021_a.sql and 0021_b.sql") {
		t.Fatalf("two plain files of version 21: %v, want an error naming both", err)
	}
	old, cur := parse("0021_a.sql", "-- requires: <20.1\nCREATE VIEW {db}.a AS SELECT 1;"), parse("0021_b.sql", "-- requires: >=20.1\nCREATE VIEW {db}.b AS SELECT 2;")
	if err := checkVersions([]Migration{old, cur}); err != nil {
		t.Fatalf("two files of version 21 for different servers: %v", err)
	}
	if _, err := Migrations(); err != nil {
		t.Fatalf("the embedded migrations: %v", err)
	}
}
