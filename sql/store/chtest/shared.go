package chtest

import (
	"os"
	"sync"
	"testing"
)

var shared struct {
	mu     sync.Mutex
	server *Server
	dir    string
	err    error
}

// Shared returns the package's shared server, starting it on the first call. Tests that use
// it should take their own database with NewDatabase. Stop it with Main from TestMain (or
// defer StopShared there); a server that is not stopped dies with the test binary anyway.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	bin := binary(tb)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server == nil && shared.err == nil {
		shared.server, shared.dir, shared.err = startShared(bin)
	}
	if shared.err != nil {
		tb.Fatal(shared.err)
	}
	return shared.server
}

func startShared(bin []string) (*Server, string, error) {
	dir, err := os.MkdirTemp("", "chtest-")
	if err != nil {
		return nil, "", err
	}
	s, err := launch(bin, dir)
	if err != nil {
		return nil, dir, err
	}
	return s, dir, nil
}

// StopShared stops the shared server, if one was started, and removes its directory.
func StopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	var err error
	if shared.server != nil {
		err = shared.server.Stop()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	shared.server, shared.dir, shared.err = nil, "", nil
	return err
}

// Main runs the tests of a package and stops the shared server afterwards. Call it as
//
//	func TestMain(m *testing.M) { chtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}
