package chtest

import (
	"fmt"
	"syscall"
	"time"
)

// Stop shuts the server down (SIGTERM, then SIGKILL after a grace period) and keeps its
// data, so that Restart can bring it back. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	cmd, exited, admin := s.cmd, s.exited, s.admin
	s.cmd, s.admin = nil, nil
	s.mu.Unlock()
	if admin != nil {
		admin.Close()
	}
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(stopTimeout):
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("cannot stop ClickHouse on %s gracefully within %s: killed it", s.Addr(), stopTimeout)
}

// Restart starts a stopped server again with the same ports, config and data: for tests of
// what clients do while ClickHouse is down.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return fmt.Errorf("cannot restart ClickHouse on %s: it is running", s.Addr())
	}
	return s.run()
}
