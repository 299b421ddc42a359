package report

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A Runner with a StoreDir keeps the days of its store (daystore.go) on disk too, so that
// a restarted journeyd starts with the days it had, instead of reading every period from
// ClickHouse again (15-30 s a panel of the dashboard at 10 million events,
// docs/BENCHMARKS.md). Each day is written once, when it is stored, by one goroutine in
// the background (dayDisk.run), so that no report waits for the disk: a stored day is
// never changed, so the writer reads it while reports do. A day evicted, or replaced by a
// newer read, has its file removed the same way; a day stored and evicted before the
// writer came to it is never written. A snapshot at shutdown would lose every day a crash
// ends, and write the whole store at once where a report may be waiting on the cores; a
// day written when stored costs its encoding once, spread over the reads that fill the
// store, and a kill -9 loses only the days not written yet.
//
// A day's file (encodeDayFile) starts with a magic, a format version, its kind and the
// bytes the day takes in the store (dayHeader), then the query that filled it (its key in
// the store: a journeyd with other SQL misses it), its day and the day's print, then the
// kind's encoding (daycodec.go); a CRC-32C of the whole file ends it. It is written to a
// temporary file, synced and renamed over the day's name, so that a crash leaves either
// the old file, the new one or a temporary file, which the next start removes. A file that does not decode (torn,
// damaged, of another format version, of a kind this journeyd does not know) is removed
// with a log line and counted (journeyd_report_store_files_dropped_total); its day is read
// from ClickHouse again when a report needs it. A day loaded is trusted no more than one
// stored by a report: its print is compared with the day's events on use, as every stored
// day's is, and a day whose events changed while journeyd was down is read again.
//
// At start (Runner.LoadStore, or the first report) the files are chosen newest first by
// their headers while their days fit in StoreBytes, the others removed, as the store would
// have evicted them; the chosen ones are then decoded on every core and put into the
// store, the newest at the front of its order, so that the load never holds more than
// StoreBytes of days. A file's time is when it was written, and Runner.Close sets the
// times in the store's order of use, so that after a clean stop the load keeps the days
// most recently used. A directory serves one journeyd at a time (a flock on its LOCK
// file); a second one keeps its store in memory only.

// diskFormat is the version of the files' layout and of every kind's encoding. Change it
// whenever either changes (or what a kind's fields mean): files of another version are
// dropped at load. 3: touch_rows' days hold every key's rows at once (touch_key a session's
// whole first visit, an email's channel, source, medium and campaign), where 2's held one
// key's.
const diskFormat = 3

// diskMagic starts every day file.
const diskMagic = "jrnyday\n"

// diskDay is a kept day that can be written to disk: the name of its kind (a key of
// diskKinds) and its encoding, which its kind's decoder reads back. A kind of keptDay that
// is not a diskDay is kept in memory only.
type diskDay interface {
	keptDay
	diskKind() string
	encode(e *dayEncoder)
}

// diskKinds decodes each kind of day a store writes, by its name. A file of a kind not
// here is dropped at load. Adding a kind: a diskKind and an encode method on it, and its
// decoder here (daycodec.go).
var diskKinds = map[string]func(d *dayDecoder) keptDay{
	"touch":     decodeDayRows,
	"pages":     decodePageDay,
	"stages":    decodeStageDay,
	"retention": decodeRetentionDay,
	"funnel":    decodeFunnelDay,
}

// dayDisk is the directory a store keeps its days in, and the writer that keeps it up
// to date.
type dayDisk struct {
	dir     string
	log     *slog.Logger
	metrics *Metrics
	lock    *os.File

	mu      sync.Mutex
	pending map[dayKey]*storedDay // the days to write, nil those to remove
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// openDayDisk takes dir (made when missing) for one store and starts its writer.
func openDayDisk(dir string, log *slog.Logger, m *Metrics) (*dayDisk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot make report store directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cannot lock report store directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot lock report store directory %s: another journeyd uses it (%w)", dir, err)
	}
	d := &dayDisk{dir: dir, log: log, metrics: m, lock: f, pending: map[dayKey]*storedDay{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.run()
	return d, nil
}

// mark records that day k is now sd (nil: no longer stored), for the writer. It never
// waits for the disk. A day of a kind that is no diskDay is not written.
func (d *dayDisk) mark(k dayKey, sd *storedDay) {
	if d == nil {
		return
	}
	if sd != nil {
		if _, ok := sd.rows.(diskDay); !ok {
			return
		}
	}
	d.mu.Lock()
	if !d.closed {
		d.pending[k] = sd
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run writes and removes the marked days until close, then the ones marked before it.
func (d *dayDisk) run() {
	defer close(d.done)
	for {
		select {
		case <-d.wake:
			d.flush()
		case <-d.stop:
			d.flush()
			return
		}
	}
}

// flush writes or removes every day marked so far, the latest mark of each.
func (d *dayDisk) flush() {
	for {
		d.mu.Lock()
		work := d.pending
		if len(work) == 0 {
			d.mu.Unlock()
			return
		}
		d.pending = map[dayKey]*storedDay{}
		d.mu.Unlock()
		var buf []byte
		for k, sd := range work {
			var err error
			if sd == nil {
				err = os.Remove(d.path(k))
				if errors.Is(err, os.ErrNotExist) {
					err = nil
				}
			} else {
				buf, err = writeDayFile(d.path(k), k, sd.print, sd.rows.(diskDay), buf)
			}
			if err != nil {
				d.metrics.diskError()
				d.log.Warn("cannot keep a report day on disk; a restart reads it from ClickHouse", "err", err)
			}
		}
	}
}

// close stops the writer once it has written what was marked, or when ctx ends, and
// unlocks the directory. order is the store's days, the most recently used first: their
// files' times are set in that order, so that the next load, newest first, keeps the most
// recently used within its bound, as the store would have.
func (d *dayDisk) close(ctx context.Context, order func() []dayKey) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	close(d.stop)
	select {
	case <-d.done:
		now := time.Now()
		for i, k := range order() {
			t := now.Add(-time.Duration(i) * time.Millisecond)
			os.Chtimes(d.path(k), t, t) // a day not written (no diskDay, or an error) has no file
		}
		return d.lock.Close()
	case <-ctx.Done():
		return fmt.Errorf("cannot write every report day to %s before the end: %w", d.dir, ctx.Err())
	}
}

// path is the file of day k: a hash of its query and day.
func (d *dayDisk) path(k dayKey) string {
	h := sha256.Sum256([]byte(k.query + "\x00" + strconv.Itoa(int(k.day))))
	return filepath.Join(d.dir, hex.EncodeToString(h[:16])+".day")
}

// loadStats are what a load found.
type loadStats struct {
	days    int
	bytes   int64
	dropped map[string]int // by reason (fileDropReasons)
}

// errOverBound is the load's reason to leave a day out: the store is full.
var errOverBound = errors.New("the store is full")

// load puts the days of the directory's files into s, newest first while they fit in its
// bound; it removes the temporary files a crash left, the files that do not decode
// (logged) and those that do not fit.
func (d *dayDisk) load(s *dayStore) loadStats {
	st := loadStats{dropped: map[string]int{}}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		d.log.Warn("cannot read the report store directory; the store starts empty", "dir", d.dir, "err", err)
		return st
	}
	type file struct {
		name string
		mod  time.Time
	}
	var files []file
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Name(), ".tmp"):
			os.Remove(filepath.Join(d.dir, e.Name()))
		case strings.HasSuffix(e.Name(), ".day"):
			if info, err := e.Info(); err == nil {
				files = append(files, file{e.Name(), info.ModTime()})
			}
		}
	}
	slices.SortFunc(files, func(a, b file) int { return cmp.Or(b.mod.Compare(a.mod), strings.Compare(a.name, b.name)) })
	// The headers, one after the other, choose the files that fit; their days are then
	// decoded on every core, and put into the store in the files' order.
	var chosen []string
	room := s.max - s.bytes
	for _, f := range files {
		path := filepath.Join(d.dir, f.name)
		h, err := readDayHeader(path)
		if err == nil && h.bytes > room {
			err = errOverBound
		}
		if err != nil {
			d.drop(path, err, &st)
			continue
		}
		room -= h.bytes
		chosen = append(chosen, path)
	}
	days, errs := decodeDayFiles(chosen, s.max)
	for i, sd := range days {
		if errs[i] == nil && s.bytes+sd.bytes > s.max {
			errs[i] = errOverBound
		}
		if errs[i] != nil {
			d.drop(chosen[i], errs[i], &st)
			continue
		}
		s.days[sd.key] = s.lru.PushBack(sd)
		s.bytes += sd.bytes
		st.days++
		st.bytes += sd.bytes
	}
	s.metrics.setBytes(s.bytes)
	s.metrics.loaded(st.days)
	return st
}

// drop removes the file at path, which the load leaves out for err, and counts it by
// reason; a file that does not decode is logged.
func (d *dayDisk) drop(path string, err error, st *loadStats) {
	os.Remove(path)
	reason := "corrupt"
	switch {
	case errors.Is(err, errOverBound):
		reason = "bound"
	case errors.Is(err, errDiskFormat):
		reason = "format"
	case errors.Is(err, errDiskKind):
		reason = "kind"
	default:
		d.log.Warn("dropped a report day file that does not decode; its day is read from ClickHouse again", "file", path, "err", err)
	}
	d.metrics.fileDropped(reason)
	st.dropped[reason]++
}

// decodeDayFiles reads and decodes the day files at paths, on up to GOMAXPROCS goroutines,
// each day taking at most room bytes: days[i] is the day of paths[i], or errs[i] why not.
func decodeDayFiles(paths []string, room int64) (days []*storedDay, errs []error) {
	days, errs = make([]*storedDay, len(paths)), make([]error, len(paths))
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for i := next.Add(1) - 1; i < int64(len(paths)); i = next.Add(1) - 1 {
				days[i], buf, errs[i] = readDayFile(paths[i], buf, room)
			}
		}()
	}
	wg.Wait()
	return days, errs
}

// readDayHeader reads the header of the day file at path.
func readDayHeader(path string) (dayHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return dayHeader{}, fmt.Errorf("cannot open report day file %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, headerBytes)
	n, err := io.ReadFull(f, b)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return dayHeader{}, fmt.Errorf("cannot read report day file %s: %w", path, err)
	}
	h, _, err := decodeDayHeader(b[:n])
	if err != nil {
		return dayHeader{}, fmt.Errorf("cannot load report day file %s: %w", path, err)
	}
	return h, nil
}

// errDiskFormat and errDiskKind are why a file of another format version or of an
// unknown kind is dropped.
var (
	errDiskFormat = errors.New("another format version")
	errDiskKind   = errors.New("a kind of day this journeyd does not keep")
)

// readDayFile reads and decodes the day file at path, into buf's room, unless its day
// takes more than room bytes.
func readDayFile(path string, buf []byte, room int64) (*storedDay, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, buf, fmt.Errorf("cannot open report day file %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, buf, fmt.Errorf("cannot stat report day file %s: %w", path, err)
	}
	n := int(info.Size())
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, buf, fmt.Errorf("cannot read report day file %s: %w", path, err)
	}
	sd, err := decodeDayFile(buf, room)
	if err != nil {
		return nil, buf, fmt.Errorf("cannot load report day file %s: %w", path, err)
	}
	return sd, buf, nil
}

// encodeDayFile appends day k of print p, rows, as a day file to buf.
func encodeDayFile(buf []byte, k dayKey, p dayPrint, rows diskDay) []byte {
	e := &dayEncoder{b: buf}
	e.b = append(e.b, diskMagic...)
	e.u32(diskFormat)
	e.str(rows.diskKind())
	e.u64(uint64(rows.size()))
	e.str(k.query)
	e.u32(uint32(k.day))
	e.u64(p.events)
	e.u64(p.hash)
	rows.encode(e)
	return binary.LittleEndian.AppendUint32(e.b, crc32.Checksum(e.b, crcTable))
}

// crcTable is CRC-32C's, which the CPU computes.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// dayHeader is what starts a day file: its format version, the kind of its day and the
// bytes the day takes in the store, all a load needs to know before it decodes the day.
type dayHeader struct {
	kind  string
	bytes int64
}

// headerBytes is how much of a file a load reads for its header: the magic, the version,
// a kind's name (a word) and the bytes.
const headerBytes = 256

// decodeDayHeader decodes the header at the start of b, a day file or its first bytes.
func decodeDayHeader(b []byte) (dayHeader, *dayDecoder, error) {
	if len(b) < len(diskMagic)+8 || !bytes.HasPrefix(b, []byte(diskMagic)) {
		return dayHeader{}, nil, errors.New("not a report day file")
	}
	d := &dayDecoder{b: b[len(diskMagic):]}
	if v := d.u32(); v != diskFormat {
		return dayHeader{}, nil, fmt.Errorf("%w: %d, this journeyd reads %d", errDiskFormat, v, diskFormat)
	}
	h := dayHeader{kind: d.str(), bytes: int64(d.u64())}
	switch {
	case d.err != nil:
		return dayHeader{}, nil, fmt.Errorf("its header is cut short: %w", d.err)
	case diskKinds[h.kind] == nil:
		return dayHeader{}, nil, fmt.Errorf("%w: %q", errDiskKind, h.kind)
	case h.bytes < 0:
		return dayHeader{}, nil, fmt.Errorf("a day of %d bytes", h.bytes)
	}
	return h, d, nil
}

// decodeDayFile decodes a day file whose day takes at most room bytes.
func decodeDayFile(b []byte, room int64) (*storedDay, error) {
	if len(b) < len(diskMagic)+8 {
		return nil, errors.New("not a report day file")
	}
	body := b[:len(b)-4]
	if sum := binary.LittleEndian.Uint32(b[len(b)-4:]); sum != crc32.Checksum(body, crcTable) {
		return nil, errors.New("its checksum does not match: the file is damaged or was cut short")
	}
	h, d, err := decodeDayHeader(body)
	if err != nil {
		return nil, err
	}
	if h.bytes > room {
		return nil, errOverBound
	}
	sd := &storedDay{}
	sd.key.query = d.str()
	day := d.u32()
	sd.key.day = uint16(day)
	sd.print.events, sd.print.hash = d.u64(), d.u64()
	switch {
	case d.err != nil:
		return nil, d.err
	case day > 1<<16-1:
		return nil, fmt.Errorf("day %d is past the store's days", day)
	}
	sd.rows = diskKinds[h.kind](d)
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d bytes after the day", len(d.b))
	}
	if d.err != nil {
		return nil, fmt.Errorf("cannot decode its %s day: %w", h.kind, d.err)
	}
	if sd.bytes = sd.rows.size(); sd.bytes > room {
		return nil, errOverBound
	}
	return sd, nil
}

// writeDayFile writes day k of print p, rows, to path through a temporary file in the
// same directory, synced and renamed over path. buf is room for the encoding, returned for
// the next.
func writeDayFile(path string, k dayKey, p dayPrint, rows diskDay, buf []byte) ([]byte, error) {
	buf = encodeDayFile(buf[:0], k, p, rows)
	f, err := os.CreateTemp(filepath.Dir(path), "*.tmp")
	if err != nil {
		return buf, fmt.Errorf("cannot write report day file %s: %w", path, err)
	}
	_, err = f.Write(buf)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return buf, fmt.Errorf("cannot write report day file %s: %w", path, err)
	}
	return buf, nil
}
