package chtest

import (
	"fmt"
	"os"
	"os/exec"
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
	if !terminate(cmd.Process, exited) {
		return nil
	}
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

// startProcess starts cmd so that it dies with the test binary, even one killed by a
// timeout, and returns a channel closed when it has exited.
func startProcess(cmd *exec.Cmd) (<-chan struct{}, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	return exited, nil
}

// terminate stops a process started with startProcess: SIGTERM, then SIGKILL when it has
// not exited after stopTimeout. It returns once the process has exited, and whether it had
// to kill it.
func terminate(p *os.Process, exited <-chan struct{}) (killed bool) {
	p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return false
	case <-time.After(stopTimeout):
	}
	p.Kill()
	<-exited
	return true
}
