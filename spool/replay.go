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

		handed, err := s.replaySegment(seg, from, end)
		s.mu.Lock()
		s.from.offset = handed
		if err == nil && sealed && handed == end {
			// Every readable record of the segment is handed: it is freed once they
			// are stored.
			seg.written = seg.handed
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

// replaySegment hands the target the records of seg from from.offset up to end, skipping
// damaged ones (skipDamage). It returns the offset up to which it handed them, and
// errStopped when the spool closed, or why the segment cannot be read.
func (s *Spool) replaySegment(seg *segment, from position, end int64) (handed int64, err error) {
	handed = from.offset
	f, err := os.Open(s.path(from.seg))
	if err != nil {
		return handed, fmt.Errorf("cannot open spool segment: %w", err)
	}
	defer f.Close()
	batch := make([]event.Event, 0, min(s.cfg.ReplayBatch, 1024))
	offset := from.offset
	handOn := func() error {
		if err := s.hand(seg, batch, offset-handed); err != nil {
			return err
		}
		handed, batch = offset, batch[:0]
		s.mu.Lock()
		s.from.offset = handed
		s.mu.Unlock()
		return nil
	}
	var payload []byte
	for offset < end {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return handed, fmt.Errorf("cannot seek in spool segment %s: %w", f.Name(), err)
		}
		r := bufio.NewReaderSize(io.LimitReader(f, end-offset), 1<<20)
		for offset < end {
			var e event.Event
			var size int64
			var bad error
			if payload, size, bad = readRecord(r, end-offset, payload, &e); bad != nil {
				offset = s.skipDamage(f, seg, offset, end, bad)
				break // a new reader at the offset found
			}
			batch = append(batch, e)
			offset += size
			if len(batch) == s.cfg.ReplayBatch {
				if err := handOn(); err != nil {
					return handed, err
				}
			}
		}
	}
	if err := handOn(); err != nil {
		return handed, err
	}
	return handed, nil
}

// skipDamage finds where the next whole record after the damaged one at offset begins (end
// when none does), keeps the bytes between aside in a .damaged file, counts them and logs
// it, and returns that offset. Damage is counted once however often its segment is read.
func (s *Spool) skipDamage(f *os.File, seg *segment, offset, end int64, why error) int64 {
	next := resync(f, offset, end)
	s.mu.Lock()
	counted := offset < seg.kept
	seg.kept = max(seg.kept, next)
	s.mu.Unlock()
	if counted {
		return next
	}
	aside := fmt.Sprintf("%s.at-%d.damaged", f.Name(), offset)
	kept := keepAside(f, offset, next, aside)
	s.m.damaged.Inc()
	s.m.damagedBytes.Add(float64(next - offset))
	s.cfg.Logger.Error("spool record damaged: skipped up to the next whole record, the events of the damaged bytes are lost",
		"segment", f.Name(), "offset", offset, "bytes", next-offset, "skipped_records", 1, "kept_in", aside, "why", why, "keep_err", kept)
	return next
}

// resync returns the first offset after from and before end where a whole record begins:
// a length that fits, a matching checksum and an event that decodes. end when there is
// none. A stray match needs 32 bits of checksum to agree by chance.
func resync(f *os.File, from, end int64) int64 {
	const window = 1 << 20
	buf := make([]byte, min(window+headerBytes, end-from))
	var payload []byte
	var e event.Event
	for start := from + 1; start+headerBytes <= end; start += window {
		n := min(int64(window+headerBytes), end-start)
		if _, err := f.ReadAt(buf[:n], start); err != nil {
			return end
		}
		for i := int64(0); i < window && i+headerBytes <= n; i++ {
			at := start + i
			size := int64(binary.LittleEndian.Uint32(buf[i:]))
			if size > end-at-headerBytes {
				continue
			}
			var p []byte
			if i+headerBytes+size <= n {
				p = buf[i+headerBytes : i+headerBytes+size]
			} else {
				payload = slices.Grow(payload[:0], int(size))[:size]
				if _, err := f.ReadAt(payload, at+headerBytes); err != nil {
					continue
				}
				p = payload
			}
			if crc32.Checksum(p, castagnoli) != binary.LittleEndian.Uint32(buf[i+4:]) {
				continue
			}
			if e = (event.Event{}); e.UnmarshalBinary(p) == nil {
				return at
			}
		}
	}
	return end
}

// keepAside copies the bytes of f from offset up to next into a new file at path, for
// whoever wants to look at them.
func keepAside(f *os.File, offset, next int64, path string) error {
	out, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("cannot keep damaged spool bytes aside: %w", err)
	}
	_, err = io.Copy(out, io.NewSectionReader(f, offset, next-offset))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cannot keep damaged spool bytes aside in %s: %w", path, err)
	}
	return nil
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

// hand gives batch, bytes of seg's file, to the target with seg as its acknowledgement,
// waiting while the target is full, until it takes it or the spool closes. bytes may
// include damaged bytes skipped before the batch's records: they are freed with them.
func (s *Spool) hand(seg *segment, batch []event.Event, bytes int64) error {
	if len(batch) == 0 {
		return nil
	}
	wait := 10 * time.Millisecond
	for {
		// Under s.mu, so that the acknowledgement of these events cannot come before
		// they are counted as handed.
		s.mu.Lock()
		err := s.next.WriteAcked(context.Background(), batch, seg)
		if err == nil {
			seg.handedOver(len(batch), bytes)
		}
		s.mu.Unlock()
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
