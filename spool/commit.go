package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// wait returns once Write number seq is fsynced, or ctx ends. The kick comes after the
// Write's records are appended, so a commit that includes them starts after it (or one is
// already due); every commit that ends closes the channel wait holds.
func (s *Spool) wait(ctx context.Context, seq uint64) error {
	s.kick(s.kickCommit)
	if s.hook != nil {
		s.hook("kicked")
	}
	for {
		s.mu.Lock()
		durable, err, next := s.durable, s.commitErr, s.committed
		s.mu.Unlock()
		if durable >= seq {
			if err != nil {
				return fmt.Errorf("cannot make events durable: %w", err)
			}
			return nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return fmt.Errorf("cannot make events durable: %w", ctx.Err())
		}
	}
}

func (s *Spool) kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// commitLoop commits every CommitInterval and when a Write asks, until Close.
func (s *Spool) commitLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.cfg.Clock.After(s.cfg.CommitInterval):
		case <-s.kickCommit:
		case <-s.stop:
			return
		}
		s.commit()
	}
}

// commit writes the buffered records and fsyncs every file that has unsynced ones, then
// tells the Writes waiting for it.
func (s *Spool) commit() {
	s.mu.Lock()
	err := s.flush()
	files := s.unsynced
	s.unsynced = nil
	if s.file != nil {
		files = append(files, s.file)
	}
	sealed := len(files)
	if s.file != nil {
		sealed--
	}
	dir := s.dirDirty
	s.dirDirty = false
	seq := s.appended
	s.mu.Unlock()
	if s.hook != nil {
		s.hook("snapshot")
	}

	for i, f := range files {
		if serr := f.Sync(); serr != nil {
			err = errors.Join(err, fmt.Errorf("cannot fsync spool segment %s: %w", f.Name(), serr))
		}
		if i < sealed {
			f.Close()
		}
	}
	if dir {
		err = errors.Join(err, syncDir(s.cfg.Dir))
	}
	if err != nil {
		s.m.commitErrors.Inc()
	}
	s.m.commits.Inc()
	// The channel is swapped when the commit ends, not when it starts: a Write that looked
	// at durable during this commit waits on the channel closed now, and looks again.
	s.mu.Lock()
	s.durable, s.commitErr = seq, err
	s.note(err)
	done := s.committed
	s.committed = make(chan struct{})
	s.mu.Unlock()
	close(done)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open spool directory %s to fsync it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cannot fsync spool directory %s: %w", dir, err)
	}
	return nil
}

// note logs the first of a run of write or commit errors, and the commit that ends the
// run, instead of every failed Write: a full disk fails every one. s.mu is held.
func (s *Spool) note(err error) {
	switch {
	case err != nil && !s.failing:
		s.failing = true
		s.cfg.Logger.Error("cannot write the spool: accepted events are kept in memory, and API calls fail until it works again",
			"dir", s.cfg.Dir, "err", err)
	case err == nil && s.failing:
		s.failing = false
		s.cfg.Logger.Info("the spool is written again", "dir", s.cfg.Dir)
	}
}
