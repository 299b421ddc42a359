package spool

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"time"

	"github.com/journeyd/journeyd/event"
)

// replayLoop replays whenever the spool is replaying, until Close.
func (s *Spool) replayLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.kickReplay:
		case <-s.stop:
			return
		}
		if err := s.replay(); err != nil && !errors.Is(err, errStopped) {
			s.cfg.Logger.Error("cannot replay the spool, retrying in a second", "dir", s.cfg.Dir, "err", err)
			select {
			case <-s.cfg.Clock.After(time.Second):
				s.kick(s.kickReplay)
			case <-s.stop:
				return
			}
		}
	}
}

var errStopped = errors.New("spool closed")

// replay hands the target every event from s.from on, segment after segment, until it has
// caught up with the end of the spool and Writes go straight to the target again.
func (s *Spool) replay() error {
	for {
		select {
		case <-s.stop:
			return errStopped
		default:
		}
		s.mu.Lock()
		if !s.replaying {
			s.mu.Unlock()
			return nil
		}
		if err := s.flush(); err != nil {
			s.mu.Unlock()
			return err
		}
		from := s.from
		seg := s.segs[from.seg]
		if seg == nil { // deleted: its events are all stored
			s.advance(from.seg)
			s.mu.Unlock()
			continue
		}
		end, sealed := seg.size, seg.sealed
		if !sealed && from.offset == end {
			// Caught up with the segment Writes append to: they go to the target again.
			s.replaying = false
			s.gaugeLocked()
			s.mu.Unlock()
			s.cfg.Logger.Info("spool replay caught up")
			return nil
		}
		s.mu.Unlock()

		handed, count, err := s.replaySegment(from, end)
		s.mu.Lock()
		s.from.offset = handed
		if errors.Is(err, errDamaged) {
			// What follows the damage cannot be read: the segment ends there.
			s.m.damaged.Inc()
			s.cfg.Logger.Error("spool segment damaged: its records before the damage are replayed, the rest is lost",
				"segment", s.path(from.seg), "err", err)
			if seg.written < 0 {
				seg.written = count
			}
			s.from.offset, handed, err = end, end, nil
		} else if err == nil && seg.written < 0 && count >= 0 {
			seg.written = count // a segment of an earlier run, now counted
		}
		if err == nil && sealed && handed == end {
			s.release(seg)
			s.advance(from.seg)
		}
		s.gaugeLocked()
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// advance moves the replayer past segment id to the next one. s.mu is held.
func (s *Spool) advance(id uint64) {
	for _, next := range s.ids {
		if next > id {
			s.from = position{seg: next}
			return
		}
	}
	s.from = position{seg: id + 1}
}

// errDamaged is a record cut short or failing its checksum.
var errDamaged = errors.New("damaged record")

// replaySegment hands the target the records of segment from.seg from from.offset up to
// end. It returns the offset up to which it handed them, the number of records it read
// when it started at 0 (else -1), and errDamaged when a record cannot be read, errStopped
// when the spool closed, or why the segment cannot be read.
func (s *Spool) replaySegment(from position, end int64) (handed int64, records int, err error) {
	handed, records = from.offset, -1
	f, err := os.Open(s.path(from.seg))
	if err != nil {
		return handed, records, fmt.Errorf("cannot open spool segment: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(from.offset, io.SeekStart); err != nil {
		return handed, records, fmt.Errorf("cannot seek in spool segment %s: %w", f.Name(), err)
	}
	r := bufio.NewReaderSize(io.LimitReader(f, end-from.offset), 1<<20)
	batch := make([]event.Event, 0, min(s.cfg.ReplayBatch, 1024))
	offset, count := from.offset, 0
	handOn := func() error {
		if err := s.hand(from.seg, batch); err != nil {
			return err
		}
		handed, batch = offset, batch[:0]
		s.mu.Lock()
		s.from.offset = handed
		s.mu.Unlock()
		return nil
	}
	var damage error
	var payload []byte
	for offset < end {
		var e event.Event
		var size int64
		if payload, size, err = readRecord(r, end-offset, payload, &e); err != nil {
			damage = fmt.Errorf("%w at offset %d of %s: %v", errDamaged, offset, f.Name(), err)
			break
		}
		batch = append(batch, e)
		offset += size
		count++
		if len(batch) == s.cfg.ReplayBatch {
			if err := handOn(); err != nil {
				return handed, records, err
			}
		}
	}
	if err := handOn(); err != nil {
		return handed, records, err
	}
	if from.offset == 0 {
		records = count
	}
	return handed, records, damage
}

// readRecord reads one record of at most left bytes from r into e, with buf as scratch
// space, and returns buf and the record's size.
func readRecord(r io.Reader, left int64, buf []byte, e *event.Event) ([]byte, int64, error) {
	var header [headerBytes]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return buf, 0, fmt.Errorf("cannot read the record header: %w", err)
	}
	size := int64(binary.LittleEndian.Uint32(header[:4]))
	if size > left-headerBytes {
		return buf, 0, fmt.Errorf("a length of %d bytes runs past the end", size)
	}
	buf = slices.Grow(buf[:0], int(size))[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf, 0, fmt.Errorf("cannot read the record: %w", err)
	}
	if crc32.Checksum(buf, castagnoli) != binary.LittleEndian.Uint32(header[4:]) {
		return buf, 0, errors.New("checksum mismatch")
	}
	if err := e.UnmarshalBinary(buf); err != nil {
		return buf, 0, err
	}
	return buf, headerBytes + size, nil
}

// hand gives batch to the target, waiting while it is full, until it takes it or the spool
// closes.
func (s *Spool) hand(tag uint64, batch []event.Event) error {
	if len(batch) == 0 {
		return nil
	}
	wait := 10 * time.Millisecond
	for {
		err := s.next.WriteFrom(context.Background(), batch, tag)
		if err == nil {
			s.m.replayed.Add(float64(len(batch)))
			return nil
		}
		if !errors.Is(err, event.ErrFull) {
			return fmt.Errorf("cannot hand replayed events to the writer: %w", err)
		}
		select {
		case <-s.cfg.Clock.After(wait):
		case <-s.stop:
			return errStopped
		}
		wait = min(2*wait, time.Second)
	}
}
