// Package spool is the durable disk buffer between the sessionizer and the writer (DESIGN
// §10): every accepted event is appended to a segment file before the writer inserts it,
// and a segment is deleted once the writer reports every event of it stored. A crash or a
// shutdown that could not drain loses nothing: the next start replays what is left.
//
// Write appends the events to the current segment and, while the writer has room, hands
// them to it at once, so the disk is written but not read on the way to ClickHouse. When the
// writer is full (ClickHouse is slow or down) the spool keeps taking events on disk alone
// and a replayer feeds them to the writer, in order, as it frees up; once it has caught up
// with the end of the spool, events go straight through again. Write returns event.ErrFull
// only when the spool itself reaches MaxBytes.
//
// Durability is a group commit: every CommitInterval, or at once when a Write asks for it
// (event.WithDurable, what the server API does before it answers 200), the buffered records
// are written and fsynced together; such a Write returns after that fsync.
//
// A segment file is records of [length uint32][crc32c uint32][event.AppendBinary], little
// endian. A record that is cut short or fails its checksum (a crash in the middle of a
// write) ends the replay of its segment; the records before it are replayed.
package spool

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeyd/journeyd/sql/event"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("spool is closed")

// Target is where the spool hands events on: the writer.
type Target interface {
	// WriteFrom queues events of segment tag; event.ErrFull when it has no room. Once
	// they are stored, the target calls Spool.Done(tag, len(events)).
	WriteFrom(ctx context.Context, events []event.Event, tag uint64) error
}

// Config configures a Spool; zero fields take the defaults in brackets.
type Config struct {
	Dir            string                // directory of the segment files (required)
	MaxBytes       int64                 // spool size at which Write returns event.ErrFull [1 GiB]
	SegmentBytes   int64                 // size at which a segment is closed and a new one begun [64 MiB]
	CommitInterval time.Duration         // longest time an accepted event waits to be fsynced [200ms]
	ReplayBatch    int                   // events per hand-over to the target while replaying [10000]
	Registerer     prometheus.Registerer // metrics [a private registry]
	Logger         *slog.Logger          // [discard]
	Clock          Clock                 // [the real clock]
}

// Clock is the spool's source of time: the commit interval and the replay's waits for the
// writer wait on it, so that tests drive time instead of sleeping.
type Clock interface {
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func (c *Config) setDefaults() error {
	if c.Dir == "" {
		return errors.New("cannot open spool: no directory given")
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 1 << 30
	}
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = 64 << 20
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
		c.Clock = realClock{}
	}
	return nil
}

// segment is one file of the spool.
type segment struct {
	id      uint64
	size    int64 // bytes appended (written to the file or still in the buffer)
	written int   // records appended; -1 while unknown (left by an earlier run, not yet replayed)
	done    int   // records the target has stored
	sealed  bool  // no more records will be appended
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
	unsynced  []*os.File
	dirDirty  bool   // a segment file was created since the last commit
	appended  uint64 // Writes appended so far
	durable   uint64 // Writes fsynced so far
	commitErr error  // of the last commit
	committed chan struct{}
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
	s.gauge()
	s.wg.Add(2)
	go s.commitLoop()
	go s.replayLoop()
	if s.replaying {
		cfg.Logger.Info("replaying events left in the spool", "dir", cfg.Dir, "segments", len(s.ids)-1, "bytes", s.bytes)
		s.kick(s.kickReplay)
	}
	return s, nil
}

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
		s.segs[id] = &segment{id: id, size: info.Size(), written: -1, sealed: true}
		s.ids = append(s.ids, id)
		s.bytes += info.Size()
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
	s.cur, s.file, s.dirDirty = &segment{id: id}, f, true
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
	case s.bytes+int64(len(recs)) > s.cfg.MaxBytes:
		s.mu.Unlock()
		return event.ErrFull // comes often when ClickHouse is down: not worth formatting
	}
	at := position{seg: s.cur.id, offset: s.cur.size}
	s.buf = append(s.buf, recs...)
	s.cur.size += int64(len(recs))
	s.cur.written += len(events)
	s.bytes += int64(len(recs))
	s.appended++
	seq := s.appended
	if !s.replaying {
		// Under s.mu, so the target gets events in the order of the spool.
		if err := s.next.WriteFrom(ctx, events, at.seg); err != nil {
			s.replaying, s.from = true, at
			s.m.replaying.Set(1)
			s.kick(s.kickReplay)
		}
	}
	var err error
	if s.cur.size >= s.cfg.SegmentBytes {
		err = s.rotate()
	} else if len(s.buf) >= 1<<20 {
		err = s.flush()
	}
	s.gaugeLocked()
	s.mu.Unlock()
	if err != nil {
		// The events are in the buffer, and the next commit reports what it cannot do.
		s.cfg.Logger.Error("cannot write the spool", "dir", s.cfg.Dir, "err", err)
	}
	if event.Durable(ctx) {
		return s.wait(ctx, seq)
	}
	return nil
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

// wait returns once Write number seq is fsynced, or ctx ends.
func (s *Spool) wait(ctx context.Context, seq uint64) error {
	s.kick(s.kickCommit)
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
	seq, done := s.appended, s.committed
	s.committed = make(chan struct{})
	s.mu.Unlock()

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
		s.cfg.Logger.Error("cannot commit the spool", "dir", s.cfg.Dir, "err", err)
	}
	s.m.commits.Inc()
	s.mu.Lock()
	s.durable, s.commitErr = seq, err
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

// Done records that the target stored n events of segment tag, and deletes the segment
// once all of its events are stored.
func (s *Spool) Done(tag uint64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seg := s.segs[tag]; seg != nil {
		seg.done += n
		s.release(seg)
		s.gaugeLocked()
	}
}

// release deletes seg when it is sealed and every event of it is stored. s.mu is held.
func (s *Spool) release(seg *segment) {
	if !seg.sealed || seg.written < 0 || seg.done < seg.written {
		return
	}
	if s.replaying && s.from.seg == seg.id && s.from.offset < seg.size {
		return // the replayer has not read it all: those events are not stored
	}
	if err := os.Remove(s.path(seg.id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.cfg.Logger.Error("cannot delete a spooled segment whose events are all stored", "segment", s.path(seg.id), "err", err)
		return
	}
	delete(s.segs, seg.id)
	if i, ok := slices.BinarySearch(s.ids, seg.id); ok {
		s.ids = slices.Delete(s.ids, i, i+1)
	}
	s.bytes -= seg.size
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

// Backlog returns the bytes the spool holds and its limit.
func (s *Spool) Backlog() (bytes, limit int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, s.cfg.MaxBytes
}

func (s *Spool) gauge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gaugeLocked()
}

func (s *Spool) gaugeLocked() {
	s.m.bytes.Set(float64(s.bytes))
	s.m.segments.Set(float64(len(s.ids)))
	if s.replaying {
		s.m.replaying.Set(1)
	} else {
		s.m.replaying.Set(0)
	}
}
