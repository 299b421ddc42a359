package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// lockDir takes an exclusive flock on dir/LOCK, so that two processes never share a spool.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("cannot lock spool directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock spool directory %s: another journeyd uses it (%w)", dir, err)
	}
	return f, nil
}

// load takes over the segments an earlier run left, to be replayed from the first.
func (s *Spool) load() error {
	entries, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return fmt.Errorf("cannot read spool directory %s: %w", s.cfg.Dir, err)
	}
	for _, e := range entries {
		id, ok := segmentID(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("cannot read spool segment %s: %w", e.Name(), err)
		}
		if info.Size() == 0 {
			os.Remove(s.path(id))
			continue
		}
		s.segs[id] = &segment{sp: s, id: id, size: info.Size(), written: -1, sealed: true}
		s.ids = append(s.ids, id)
		s.bytes += info.Size()
		s.pending += info.Size()
	}
	slices.Sort(s.ids)
	if len(s.ids) > 0 {
		s.replaying, s.from = true, position{seg: s.ids[0]}
	}
	return nil
}

// begin creates the next segment file and makes it current. s.mu is held, or s is new.
func (s *Spool) begin() error {
	id := uint64(1)
	if len(s.ids) > 0 {
		id = s.ids[len(s.ids)-1] + 1
	}
	f, err := os.OpenFile(s.path(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("cannot create spool segment: %w", err)
	}
	s.cur, s.file, s.dirDirty = &segment{sp: s, id: id}, f, true
	s.segs[id] = s.cur
	s.ids = append(s.ids, id)
	return nil
}

func (s *Spool) path(id uint64) string {
	return filepath.Join(s.cfg.Dir, fmt.Sprintf("%016d.seg", id))
}

func segmentID(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ".seg")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseUint(base, 10, 64)
	return id, err == nil && id > 0
}

// flush writes the buffered records to the current file. What cannot be written (the
// disk is full) stays buffered, in order, for the next flush: the file never skips a byte.
// s.mu is held.
func (s *Spool) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	n, err := s.file.Write(s.buf)
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	if err != nil {
		return fmt.Errorf("cannot write spool segment %s: %w", s.path(s.cur.id), err)
	}
	return nil
}

// rotate seals the current segment, leaves its file to the next commit to fsync and close,
// and begins a new one. s.mu is held.
func (s *Spool) rotate() error {
	if err := s.flush(); err != nil {
		return err // the segment stays current until its records are all in its file
	}
	old, oldFile := s.cur, s.file
	if err := s.begin(); err != nil {
		return err // likewise, until a new file can be made
	}
	old.sealed = true
	s.unsynced = append(s.unsynced, oldFile)
	s.release(old)
	return nil
}

// release deletes seg when it is sealed and every event of it is stored. The target
// reports only events it was handed, so done reaches written only once the replayer has
// read the whole segment too. s.mu is held.
func (s *Spool) release(seg *segment) {
	if seg.gone || !seg.sealed || seg.written < 0 || seg.done < seg.written {
		return
	}
	if err := os.Remove(s.path(seg.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.cfg.Logger.Error("cannot delete a spooled segment whose events are all stored", "segment", s.path(seg.id), "err", err)
		return
	}
	seg.gone = true
	delete(s.segs, seg.id)
	if i, ok := slices.BinarySearch(s.ids, seg.id); ok {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
	s.bytes -= seg.size
	s.pending -= seg.size - seg.storedBytes // damaged bytes never handed, if any
}
