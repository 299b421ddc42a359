package clickhouse

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	f := func(dsn, wantAddr, wantDB, wantUser string) {
		t.Helper()
		opt, err := Options(dsn)
		if err != nil {
			t.Fatalf("Options(%q): %v", dsn, err)
		}
		if len(opt.Addr) != 1 || opt.Addr[0] != wantAddr {
			t.Fatalf("Options(%q).Addr = %v, want [%s]", dsn, opt.Addr, wantAddr)
		}
		if opt.Auth.Database != wantDB || opt.Auth.Username != wantUser {
			t.Fatalf("Options(%q) database %q user %q, want %q %q", dsn, opt.Auth.Database, opt.Auth.Username, wantDB, wantUser)
		}
		if opt.DialTimeout <= 0 || opt.ReadTimeout <= 0 || opt.Compression == nil {
			t.Fatalf("Options(%q) left defaults unset: %+v", dsn, opt)
		}
	}
	f("clickhouse://127.0.0.1:9000/journeyd", "127.0.0.1:9000", "journeyd", "")
	f("clickhouse://u:p@127.0.0.1:19000/j", "127.0.0.1:19000", "j", "u")
	f("127.0.0.1/journeyd", "127.0.0.1:9000", "journeyd", "")
	f("clickhouse://localhost", "localhost:9000", "", "")
}

func TestOptionsTimeoutFromDSN(t *testing.T) {
	opt, err := Options("clickhouse://127.0.0.1:9000/x?dial_timeout=1s&read_timeout=7s")
	if err != nil {
		t.Fatal(err)
	}
	if opt.DialTimeout != time.Second || opt.ReadTimeout != 7*time.Second {
		t.Fatalf("timeouts %s %s, want 1s 7s", opt.DialTimeout, opt.ReadTimeout)
	}
}

func TestOptionsErrors(t *testing.T) {
	f := func(dsn, want string) {
		t.Helper()
		_, err := Options(dsn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Options(%q) error %v, want one containing %q", dsn, err, want)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Fatalf("Options(%q) error shows the password: %v", dsn, err)
		}
	}
	f("http://u:secret@127.0.0.1:8123/x", "native protocol")
	f("clickhouse:///x", "no host")
	f("clickhouse://u:secret@[::1/x", "cannot parse")
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens there, the dial is refused at once.
	_, err := Open(ctx, "clickhouse://127.0.0.1:1/x?dial_timeout=1s")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Fatalf("Open of a closed port: error %v, want one naming 127.0.0.1:1", err)
	}
}

func TestParseVersion(t *testing.T) {
	f := func(s string, want Version) {
		t.Helper()
		got, err := ParseVersion(s)
		if err != nil || got != want {
			t.Fatalf("ParseVersion(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	f("18.16.1", Version{18, 16, 1})
	f("24.8.4.13", Version{24, 8, 4})
	f("20.1", Version{20, 1, 0})
	f(" 23 ", Version{23, 0, 0})
	for _, bad := range []string{"", "x", "1.2.3.4.5", "1..2", "-1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Fatalf("ParseVersion(%q) accepted it", bad)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	f := func(a, b string, want bool) {
		t.Helper()
		va, _ := ParseVersion(a)
		vb, _ := ParseVersion(b)
		if got := va.AtLeast(vb); got != want {
			t.Fatalf("%s.AtLeast(%s) = %v, want %v", a, b, got, want)
		}
	}
	f("18.16.1", "20.1", false)
	f("20.1", "20.1", true)
	f("24.8.4", "20.1", true)
	f("20.0.9", "20.1", false)
	f("20.1.0", "20.0.9", true)
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"18.16.1", "24.8.4.13", "", "1..", "99999999999.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		again, err := ParseVersion(v.String())
		if err != nil || again != v {
			t.Fatalf("ParseVersion(%q) = %v does not round-trip: %v, %v", s, v, again, err)
		}
	})
}

func FuzzOptions(f *testing.F) {
	for _, s := range []string{"clickhouse://u:p@127.0.0.1:9000/db?dial_timeout=1s", "127.0.0.1", "http://x", "clickhouse://u:p@[::1/x", "://"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		opt, err := Options(dsn)
		if err != nil {
			return
		}
		if len(opt.Addr) == 0 || opt.DialTimeout <= 0 {
			t.Fatalf("Options(%q) accepted it without an address or dial timeout: %+v", dsn, opt)
		}
	})
}

// TestSelecterOf: Select's own connections serve a DSN of one address without TLS, with LZ4
// (journeyd's default but on this machine's addresses, where it is none) or no
// compression.
func TestSelecterOf(t *testing.T) {
	f := func(dsn string, want, compress bool) {
		t.Helper()
		opt, err := Options(dsn)
		if err != nil {
			t.Fatal(err)
		}
		s := newSelecter(opt)
		if (s != nil) != want || (s != nil && s.compress != compress) {
			t.Fatalf("%s: selecter %v, want %v (compress %v)", dsn, s != nil, want, compress)
		}
	}
	f("clickhouse://127.0.0.1:9000/j", true, false)
	f("clickhouse://localhost:9000/j", true, false)
	f("clickhouse://[::1]:9000/j", true, false)
	f("clickhouse://127.0.0.1:9000,ch.example:9000/j?compress=none", false, false)
	f("clickhouse://ch.example:9000/j", true, true)
	f("clickhouse://10.0.0.7:9000/j", true, true)
	f("clickhouse://[::1]:9000/j?compress=lz4", true, true)
	f("clickhouse://ch.example:9000/j?compress=none", true, false)
	f("clickhouse://a:9000/j?log_queries=1&max_threads=2", true, true)
	f("clickhouse://ch.example:9000/j?compress=zstd", false, false)
	f("clickhouse://ch.example:9000/j?secure=true", false, false)
	f("clickhouse://a:9000,b:9000/j", false, false)
	f("clickhouse://a:9000/j?send_logs_level=trace", false, false)
}

// TestOnDatabase: the DSN of another database keeps the scheme, user, address and every
// parameter, and names only the database anew.
func TestOnDatabase(t *testing.T) {
	for _, c := range []struct{ dsn, want string }{
		{"clickhouse://127.0.0.1:9000/journeyd", "clickhouse://127.0.0.1:9000/default"},
		{"clickhouse://u:p@ch.example:9000/journeyd?compress=lz4&read_timeout=30s", "clickhouse://u:p@ch.example:9000/default?compress=lz4&read_timeout=30s"},
		{"127.0.0.1:19000/jd?dial_timeout=2s", "clickhouse://127.0.0.1:19000/default?dial_timeout=2s"},
		{"clickhouse://a:9000,b:9000/jd", "clickhouse://a:9000,b:9000/default"},
	} {
		got, err := OnDatabase(c.dsn, "default")
		if err != nil || got != c.want {
			t.Errorf("OnDatabase(%q) = %q, %v; want %q", c.dsn, got, err, c.want)
		}
	}
	if _, err := OnDatabase("clickhouse://[::1/jd", "default"); err == nil {
		t.Error("OnDatabase of a DSN that does not parse: no error")
	}
}
