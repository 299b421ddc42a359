// Package clickhouse opens journeyd's connections to ClickHouse: it parses a DSN such as
// clickhouse://user:password@127.0.0.1:9000/journeyd, applies journeyd's defaults (native
// protocol, short dial timeout, LZ4), pings the server and reports its version, and reads
// large SELECT results block by block into reused columns (Select). It does not
// own any table or query: the schema is in sql/store/schema, the writer in sql/store/writer.
//
// Only the native protocol is supported: clickhouse-go's HTTP mode fails on the 18.16
// servers that journeyd also supports (DESIGN §5). On 18.16, conn.Exec of an
// "INSERT ... VALUES (...)" hangs until its context ends (the server waits for data blocks
// that Exec never sends): insert rows with PrepareBatch, or with INSERT ... SELECT.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Defaults applied when the DSN does not set them (dial_timeout=, read_timeout=).
const (
	DefaultPort        = "9000"
	DefaultDialTimeout = 5 * time.Second
	DefaultReadTimeout = 5 * time.Minute
)

// Options parses dsn into clickhouse-go options with journeyd's defaults. The DSN may omit
// the scheme and the port; the database comes from the path (default "default"), the user
// and password from the user info. Query parameters are clickhouse-go's own (dial_timeout,
// read_timeout, compress, ...); compress is LZ4 unless set, or none when every address is
// on this machine (defaultCompression).
func Options(dsn string) (*ch.Options, error) {
	u, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		return nil, fmt.Errorf("cannot use ClickHouse DSN %q: scheme %q is not supported, use clickhouse:// (native protocol)", redact(dsn), u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("cannot use ClickHouse DSN %q: no host", redact(dsn))
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), DefaultPort)
	}
	opt, err := ch.ParseDSN(u.String())
	if err != nil {
		return nil, fmt.Errorf("cannot parse ClickHouse DSN %q: %w", redact(dsn), err)
	}
	opt.Protocol = ch.Native
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DefaultDialTimeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = DefaultReadTimeout
	}
	if opt.Compression == nil {
		opt.Compression = &ch.Compression{Method: defaultCompression(opt.Addr)}
	}
	return opt, nil
}

// defaultCompression is the compression of a DSN that does not set it (compress=): none
// when every address is on this machine, where LZ4 only costs both ends CPU (journeyd's
// decompression was 0.4 s of its CPU in the dashboard's first open at 10 million events,
// docs/BENCHMARKS.md), LZ4 otherwise.
func defaultCompression(addrs []string) ch.CompressionMethod {
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return ch.CompressionLZ4
		}
	}
	return ch.CompressionNone
}

// OnDatabase returns dsn naming the database db in its path instead of its own, its
// scheme, address and parameters kept: for the connection that creates or drops the
// database dsn names (which cannot be made on that database itself).
func OnDatabase(dsn, db string) (string, error) {
	u, err := parseDSN(dsn)
	if err != nil {
		return "", err
	}
	u.Path, u.RawPath = "/"+db, ""
	return u.String(), nil
}

// parseDSN parses dsn as a URL, clickhouse:// when it names no scheme.
func parseDSN(dsn string) (*url.URL, error) {
	if !strings.Contains(dsn, "://") {
		dsn = "clickhouse://" + dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the DSN, password included
		}
		return nil, fmt.Errorf("cannot parse ClickHouse DSN %q: %w", redact(dsn), err)
	}
	return u, nil
}

// Open connects to the ClickHouse at dsn and pings it; the caller closes the connection.
func Open(ctx context.Context, dsn string) (driver.Conn, error) {
	opt, err := Options(dsn)
	if err != nil {
		return nil, err
	}
	return open(ctx, opt)
}

// Dial returns a connection to the ClickHouse at dsn without waiting for the server: the
// driver connects on the first query and again after the server comes back. For a
// process that must start while ClickHouse is down (journeyd serve); the caller closes it.
func Dial(dsn string) (driver.Conn, error) {
	opt, err := Options(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := ch.Open(opt)
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse connection to %s: %w", strings.Join(opt.Addr, ","), err)
	}
	return wrap(conn, opt), nil
}

// OpenAt connects to the ClickHouse at addr (host:port), with the database, user and
// settings of dsn, and pings it: for the other nodes of a cluster dsn names one of.
func OpenAt(ctx context.Context, dsn, addr string) (driver.Conn, error) {
	opt, err := Options(dsn)
	if err != nil {
		return nil, err
	}
	opt.Addr = []string{addr}
	return open(ctx, opt)
}

func open(ctx context.Context, opt *ch.Options) (driver.Conn, error) {
	conn, err := ch.Open(opt)
	if err != nil {
		return nil, fmt.Errorf("cannot open ClickHouse connection to %s: %w", strings.Join(opt.Addr, ","), err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("cannot ping ClickHouse at %s: %w", strings.Join(opt.Addr, ","), err)
	}
	return wrap(conn, opt), nil
}

// redact hides the user info of a DSN, which may hold a password, for error messages.
func redact(dsn string) string {
	scheme, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		scheme, rest = "", dsn
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return dsn
	}
	if slash := strings.Index(rest, "/"); slash >= 0 && slash < at {
		return dsn // the '@' is in the path or query, not user info
	}
	return scheme + "://xxxxx" + rest[at:]
}

// InDatabase fills the $db placeholder of a query file ("$db.table") with db, quoted as an
// identifier; an empty db leaves the tables to the connection's database.
func InDatabase(query, db string) string {
	if db == "" {
		return strings.ReplaceAll(query, "$db.", "")
	}
	return strings.ReplaceAll(query, "$db.", "`"+strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(db)+"`.")
}
