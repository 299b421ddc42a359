// Package spool is the durable disk buffer between the sessionizer and the writer (DESIGN
// §10): every accepted event is appended to a segment file before the writer inserts it,
// and a segment is deleted once the writer reports every event of it stored. A crash or a
// shutdown that could not drain loses nothing: the next start replays what is left.
//
// Write appends the events to the current segment and, while the writer has room, hands
// them to it at once, so the disk is written but not read on the way to ClickHouse. Every
// hand-over carries the acknowledgement of its segment (event.Ack): the writer calls it
// once the events are stored, and that is how the spool learns what it may delete. When the
// writer is full (ClickHouse is slow or down) the spool keeps taking events on disk alone
// and a replayer feeds them to the writer, in order, as it frees up; once it has caught up
// with the end of the spool, events go straight through again. Write returns event.ErrFull
// only when the events that ClickHouse does not have yet (not acknowledged) reach MaxBytes:
// what the writer has stored counts no more, even while its segment is still being
// appended to.
//
// Durability is a group commit: every CommitInterval, or at once when a Write asks for it
// (event.WithDurable, what the server API does before it answers 200), the buffered records
// are written and fsynced together; such a Write returns after that fsync.
//
// A segment file is records of [length uint32][crc32c uint32][event.AppendBinary], little
// endian. A record that is cut short or fails its checksum (a crash in the middle of a
// write, a damaged disk) costs that record only: the replay looks for the next offset where
// a whole record with a good checksum begins and goes on from there, as the write-ahead
// logs of databases do. The damaged bytes are kept beside the segments, in a file named
// after the segment and the offset (0000000000000003.seg.at-1234.damaged), counted in
// journeyd_spool_damaged_records_total and named in a log line.
package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/event"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("spool is closed")

// Target is where the spool hands events on: the writer. WriteAcked queues the events, or
// returns event.ErrFull when it has no room; once they are stored it calls ack.Stored with
// their number, never from inside WriteAcked.
type Target = event.AckSink

// Config configures a Spool; zero fields take the defaults in brackets.
type Config struct {
	Dir            string                // directory of the segment files (required)
	MaxBytes       int64                 // spool size at which Write returns event.ErrFull [1 GiB]
	SegmentBytes   int64                 // size at which a segment is closed and a new one begun [MaxBytes/8, at most 64 MiB]
	CommitInterval time.Duration         // longest time an accepted event waits to be fsynced [200ms]
	ReplayBatch    int                   // events per hand-over to the target while replaying [10000]
	Registerer     prometheus.Registerer // metrics [a private registry]
	Logger         *slog.Logger          // [discard]
	Clock          event.Clock           // the commit interval and the replay's waits [event.SystemClock]
}

func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return errors.New("cannot open spool: no directory given")
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 30
	}
	if c.SegmentBytes <= 0 {
		// Several segments to the limit: a segment whose events are all stored is deleted
		// once it is sealed, so the disk holds little more than what MaxBytes counts.
		c.SegmentBytes = min(64<<20, max(c.MaxBytes/8, 4096))
	}
	c.SegmentBytes = min(c.SegmentBytes, c.MaxBytes)
	if c.CommitInterval <= 0 {
		c.CommitInterval = 200 * time.Millisecond
	}
	if c.ReplayBatch <= 0 {
		c.ReplayBatch = 10000
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = event.SystemClock
	}
	return nil
}

// segment is one file of the spool. It is the acknowledgement handed to the target with
// its events (Stored).
type segment struct {
	sp          *Spool
	id          uint64
	size        int64 // bytes appended (written to the file or still in the buffer)
	written     int   // records appended; -1 while unknown (left by an earlier run, not yet replayed)
	handed      int   // records handed to the target
	done        int   // records the target has stored
	handedBytes int64 // bytes of the records handed (and of the damaged bytes between them)
	storedBytes int64 // of those, the bytes counted as stored
	kept        int64 // offset up to which damaged bytes were kept aside and counted
	sealed      bool  // no more records will be appended
	gone        bool  // deleted
}

// position is where the replayer reads next.
type position struct {
	seg    uint64
	offset int64
}

// Spool is a durable event.Sink in front of a Target. It is safe for concurrent use.
type Spool struct {
	cfg  Config
	next Target
	m    *metrics

	mu        sync.Mutex
	segs      map[uint64]*segment
	ids       []uint64 // of segs, ascending
	cur       *segment // nil once closed
	file      *os.File // cur's file
	buf       []byte   // records appended to cur and not yet written to file
	bytes     int64    // size of every segment in segs
	pending   int64    // of bytes, those the target has not stored: what MaxBytes limits
	unsynced  []*os.File
	dirDirty  bool          // a segment file was created since the last commit
	appended  uint64        // Writes appended so far
	durable   uint64        // Writes fsynced so far
	commitErr error         // of the last commit
	failing   bool          // writes or commits fail: logged once until a commit succeeds
	committed chan struct{} // closed, and replaced, when a commit ends
	// hook, set by tests before the first Write, is called at named points of a durable
	// Write and of a commit ("kicked", "snapshot"), to force an interleaving.
	hook      func(point string)
	firstNew  uint64   // the first segment of this run: those before it are an earlier run's
	replaying bool     // Writes go to disk only; the replayer hands them on
	from      position // where the replayer resumes
	closed    bool

	lock *os.File // holds the directory's flock: one journeyd per spool

	kickCommit chan struct{}
	kickReplay chan struct{}
	stop       chan struct{}
	wg         sync.WaitGroup
}

// Open opens the spool in cfg.Dir, creating it if needed, and hands events to next. Events
// left in the directory by an earlier run are replayed to next first, in order.
func Open(cfg Config, next Target) (*Spool, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("cannot register spool metrics: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("cannot create spool directory %s: %w", cfg.Dir, err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{
		cfg: cfg, next: next, m: m, lock: lock,
		segs:       map[uint64]*segment{},
		committed:  make(chan struct{}),
		kickCommit: make(chan struct{}, 1),
		kickReplay: make(chan struct{}, 1),
		stop:       make(chan struct{}),
	}
	if err := s.load(); err != nil {
		lock.Close()
		return nil, err
	}
	if err := s.begin(); err != nil {
		lock.Close()
		return nil, err
	}
	s.firstNew = s.cur.id
	s.gaugeLocked() // s is not shared yet
	s.wg.Add(2)
	go s.commitLoop()
	go s.replayLoop()
	if s.replaying {
		cfg.Logger.Info("replaying events left in the spool", "dir", cfg.Dir, "segments", len(s.ids)-1, "bytes", s.bytes)
		s.kick(s.kickReplay)
	}
	return s, nil
}

const headerBytes = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var encodePool = sync.Pool{New: func() any { return new([]byte) }}

// Write appends events to the spool and hands them to the target when it has room. It
// returns event.ErrFull, taking none of them, when the spool is at MaxBytes; when ctx
// carries event.WithDurable, it returns once they are fsynced.
func (s *Spool) Write(ctx context.Context, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	bp := encodePool.Get().(*[]byte)
	defer encodePool.Put(bp)
	recs := (*bp)[:0]
	for i := range events {
		start := len(recs)
		recs = append(recs, make([]byte, headerBytes)...)
		recs = event.AppendBinary(recs, &events[i])
		payload := recs[start+headerBytes:]
		binary.LittleEndian.PutUint32(recs[start:], uint32(len(payload)))
		binary.LittleEndian.PutUint32(recs[start+4:], crc32.Checksum(payload, castagnoli))
	}
	*bp = recs

	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.pending+int64(len(recs)) > s.cfg.MaxBytes:
		s.mu.Unlock()
		return event.ErrFull // comes often when ClickHouse is down: not worth formatting
	}
	at := position{seg: s.cur.id, offset: s.cur.size}
	s.buf = append(s.buf, recs...)
	s.cur.size += int64(len(recs))
	s.cur.written += len(events)
	s.bytes += int64(len(recs))
	s.pending += int64(len(recs))
	s.appended++
	seq := s.appended
	if !s.replaying {
		// Under s.mu, so the target gets events in the order of the spool.
		if err := s.next.WriteAcked(ctx, events, s.cur); err != nil {
			s.replaying, s.from = true, at
			s.kick(s.kickReplay)
		} else {
			s.cur.handedOver(len(events), int64(len(recs)))
		}
	}
	var err error
	if s.cur.size >= s.cfg.SegmentBytes {
		err = s.rotate()
	} else if len(s.buf) >= 1<<20 {
		err = s.flush()
	}
	if err != nil {
		s.note(err) // the events stay in the buffer; the next commit tries again
	}
	s.gaugeLocked()
	s.mu.Unlock()
	if event.Durable(ctx) {
		return s.wait(ctx, seq)
	}
	return nil
}

// handedOver records that n records of seg, of bytes bytes, went to the target. s.mu is
// held.
func (seg *segment) handedOver(n int, bytes int64) {
	seg.handed += n
	seg.handedBytes += bytes
}

// Stored is the acknowledgement of seg's events (event.Ack): the target stored n more of
// them. They no longer count against MaxBytes, and the segment is deleted once all of its
// events are stored. The bytes of the records handed and not yet stored are counted as
// stored in proportion: exact once every record handed is stored.
func (seg *segment) Stored(n int) {
	s := seg.sp
	s.mu.Lock()
	defer s.mu.Unlock()
	if seg.gone || n <= 0 {
		return
	}
	if open := seg.handed - seg.done; open > 0 {
		bytes := (seg.handedBytes - seg.storedBytes) * int64(min(n, open)) / int64(open)
		seg.storedBytes += bytes
		s.pending -= bytes
	}
	seg.done += n
	s.release(seg)
	s.gaugeLocked()
}

// Close stops taking events, stops the replay, seals the current segment and commits. Call
// it before closing the target: the target's Done calls then delete the segments it
// stores, and whatever it cannot store before its own deadline stays for the next start.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	err := s.flush()
	s.cur.sealed = true
	s.unsynced = append(s.unsynced, s.file)
	s.file = nil
	s.release(s.cur)
	s.mu.Unlock()
	s.commit()
	s.mu.Lock()
	defer s.mu.Unlock()
	// The lock goes with the process; a new Open in this one may take it again.
	return errors.Join(err, s.commitErr, s.lock.Close())
}

// WaitReplayed returns once every event an earlier run left in the spool is stored, or ctx
// ends.
func (s *Spool) WaitReplayed(ctx context.Context) error {
	for {
		s.mu.Lock()
		left := len(s.ids) > 0 && s.ids[0] < s.firstNew
		s.mu.Unlock()
		if !left {
			return nil
		}
		select {
		case <-s.cfg.Clock.After(20 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("cannot wait for the events left in the spool: %w", ctx.Err())
		}
	}
}

// Backlog returns the bytes of the events the spool holds that the target has not stored
// yet (what MaxBytes limits), and the limit.
func (s *Spool) Backlog() (bytes, limit int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending, s.cfg.MaxBytes
}

// Held returns the segment files the spool holds and their bytes on disk: after Close and
// the target's, what the next start replays.
func (s *Spool) Held() (segments int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids), s.bytes
}

func (s *Spool) gaugeLocked() {
	s.m.bytes.Set(float64(s.pending))
	s.m.diskBytes.Set(float64(s.bytes))
	s.m.segments.Set(float64(len(s.ids)))
	if s.replaying {
		s.m.replaying.Set(1)
	} else {
		s.m.replaying.Set(0)
	}
}
