// Package chtest starts throwaway ClickHouse servers for tests, from the installed binary
// (/usr/sbin/clickhouse-server, clickhouse-server on PATH, or the clickhouse multi-binary),
// with a config written into a temp dir, free loopback ports and its logs beside the data.
// Nothing depends on a system service. It owns no schema: tests call sql/store/schema themselves.
//
// Start gives a test its own server; Shared gives every test of a package one server,
// started once, and Main (called from TestMain) stops it. NewDatabase hands each test a
// uniquely named database that is dropped afterwards, so tests sharing a server do not see
// each other's rows.
//
// The server is Debian's 18.16 here: see sql/store/clickhouse for what that means for inserts
// (PrepareBatch or INSERT ... SELECT, never Exec of INSERT ... VALUES).
//
// When no binary is installed the test is skipped, unless CI=true: then it fails, because a
// CI run that silently skips every storage test proves nothing.
package chtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// StartTimeout bounds how long a server may take to answer its first ping.
const StartTimeout = 60 * time.Second

// stopTimeout bounds a graceful shutdown before the server is killed.
const stopTimeout = 15 * time.Second

//go:embed config.xml.tmpl
var configText string

var configTemplate = template.Must(template.New("config.xml").Parse(configText))

// Server is one running throwaway ClickHouse. Its methods are safe for concurrent use.
type Server struct {
	bin      []string
	dir      string
	tcpPort  int
	httpPort int
	// interPort serves replicas' part fetches (interserver_http_port).
	interPort int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited <-chan struct{}
	admin  driver.Conn
}

// Start starts a server for tb alone and stops it when tb ends. It skips tb (fails it under
// CI=true) when no ClickHouse binary is installed.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := binary(tb)
	s, err := launch(bin, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// Addr returns the host:port of the native protocol.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tcpPort)) }

// HTTPAddr returns the host:port of the HTTP interface.
func (s *Server) HTTPAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.httpPort))
}

// DSN returns the native-protocol DSN of database db, as sql/store/clickhouse.Open takes it.
func (s *Server) DSN(db string) string { return "clickhouse://" + s.Addr() + "/" + db }

// Dir returns the directory that holds the server's config, data and logs.
func (s *Server) Dir() string { return s.dir }

// binary returns the command that runs a ClickHouse server, or ends tb when there is none.
func binary(tb testing.TB) []string {
	tb.Helper()
	bin, err := findBinary()
	if err == nil {
		return bin
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%v: install clickhouse-server (make test does)", err)
	}
	tb.Skipf("%v: install clickhouse-server to run this test (make test does)", err)
	return nil
}

func findBinary() ([]string, error) {
	if p := os.Getenv("CHTEST_BINARY"); p != "" {
		return []string{p}, nil
	}
	if _, err := os.Stat("/usr/sbin/clickhouse-server"); err == nil {
		return []string{"/usr/sbin/clickhouse-server"}, nil
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, nil
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, errors.New("cannot find a ClickHouse server binary (/usr/sbin/clickhouse-server, clickhouse-server or clickhouse on PATH)")
}

// launch writes a config into dir and starts a server on free ports; a port taken between
// choosing it and binding it is retried with new ports.
func launch(bin []string, dir string) (*Server, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		s := &Server{bin: bin, dir: dir}
		var ports []int
		if ports, err = freePorts(3); err != nil {
			return nil, err
		}
		s.tcpPort, s.httpPort, s.interPort = ports[0], ports[1], ports[2]
		if err = s.writeConfig(); err != nil {
			return nil, err
		}
		if err = s.run(); err == nil {
			return s, nil
		}
		if !bytes.Contains(s.logTail(), []byte("already in use")) {
			return nil, err
		}
	}
	return nil, err
}

// freePorts returns n different free loopback ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("cannot find a free port on 127.0.0.1: %w", err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func (s *Server) writeConfig() error {
	var buf bytes.Buffer
	err := configTemplate.Execute(&buf, struct {
		Dir                          string
		TCPPort, HTTPPort, InterPort int
	}{s.dir, s.tcpPort, s.httpPort, s.interPort})
	if err != nil {
		return fmt.Errorf("cannot render ClickHouse config: %w", err)
	}
	if err := os.WriteFile(s.configPath(), buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("cannot write ClickHouse config: %w", err)
	}
	return nil
}

func (s *Server) configPath() string { return filepath.Join(s.dir, "config.xml") }

// run starts the process and waits for its first ping; on failure the process is stopped.
func (s *Server) run() error {
	out, err := os.OpenFile(filepath.Join(s.dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cannot create ClickHouse log in %s: %w", s.dir, err)
	}
	defer out.Close()
	args := append(append([]string{}, s.bin[1:]...), "--config-file="+s.configPath())
	cmd := exec.Command(s.bin[0], args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, out, out
	exited, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("cannot start %s: %w", s.bin[0], err)
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	if err := s.waitReady(exited); err != nil {
		s.Stop()
		return err
	}
	return nil
}

// waitReady polls a native ping until it succeeds, the process exits or StartTimeout passes.
func (s *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(StartTimeout)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("cannot start ClickHouse on %s: the server exited; log tail:\n%s", s.Addr(), s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var conn driver.Conn
		conn, err = clickhouse.Open(ctx, s.DSN("default"))
		cancel()
		if err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond) // polling a real process, not faking time
	}
	return fmt.Errorf("cannot start ClickHouse on %s within %s: %w; log tail:\n%s", s.Addr(), StartTimeout, err, s.logTail())
}

// logTail returns the last lines of the server's error log and its stdout.
func (s *Server) logTail() []byte {
	var buf bytes.Buffer
	for _, name := range []string{"server.err.log", "stdout.log"} {
		b, _ := os.ReadFile(filepath.Join(s.dir, name))
		if len(b) > 2048 {
			b = b[len(b)-2048:]
		}
		fmt.Fprintf(&buf, "--- %s ---\n%s\n", name, b)
	}
	return buf.Bytes()
}
