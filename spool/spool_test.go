package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
)

// target stands for the writer: it takes events unless full, and stores them (calling their
// acknowledgement, from outside WriteAcked as the writer's workers do) when told to.
type target struct {
	mu      sync.Mutex
	full    bool
	got     []string // event ids in the order handed
	pending []acked
}

type acked struct {
	ack event.Ack
	n   int
}

func (t *target) WriteAcked(_ context.Context, events []event.Event, ack event.Ack) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.full {
		return event.ErrFull
	}
	for _, e := range events {
		t.got = append(t.got, e.ID)
	}
	t.pending = append(t.pending, acked{ack, len(events)})
	return nil
}

func (t *target) setFull(full bool) {
	t.mu.Lock()
	t.full = full
	t.mu.Unlock()
}

// store reports every event handed so far as stored.
func (t *target) store() {
	t.mu.Lock()
	p := t.pending
	t.pending = nil
	t.mu.Unlock()
	for _, d := range p {
		d.ack.Stored(d.n)
	}
}

func (t *target) ids() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.got)
}

func open(t testing.TB, dir string, cfg Config) (*Spool, *target) {
	t.Helper()
	cfg.Dir = dir
	tg := &target{}
	sp, err := Open(cfg, tg)
	if err != nil {
		t.Fatal(err)
	}
	return sp, tg
}

func evs(from, n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = event.Event{ID: fmt.Sprintf("e%05d", from+i), SiteID: "s", Type: event.TypePageview,
			TS: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), URL: "https://shop.example/p"}
	}
	return out
}

func idRange(from, n int) []string {
	var out []string
	for _, e := range evs(from, n) {
		out = append(out, e.ID)
	}
	return out
}

func write(t *testing.T, sp *Spool, ctx context.Context, events []event.Event) {
	t.Helper()
	if err := sp.Write(ctx, events); err != nil {
		t.Fatal(err)
	}
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// While the writer has room, events go straight to it; a segment is deleted once every
// event of it is stored, and Close leaves nothing behind when everything is stored.
func TestStraightThroughAndDeletedWhenStored(t *testing.T) {
	dir := t.TempDir()
	sp, tg := open(t, dir, Config{SegmentBytes: 2000})
	for i := 0; i < 100; i += 10 {
		write(t, sp, context.Background(), evs(i, 10))
	}
	if got := tg.ids(); !slices.Equal(got, idRange(0, 100)) {
		t.Fatalf("handed %v, want e00000..e00099 in order", got)
	}
	if n := len(segments(t, dir)); n < 3 {
		t.Fatalf("%d segments for 100 events in segments of 2000 bytes, want several", n)
	}
	tg.store()
	if n := len(segments(t, dir)); n != 1 {
		t.Fatalf("%d segments once every event is stored, want only the current one", n)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if s := segments(t, dir); len(s) != 0 {
		t.Fatalf("segments %v left after Close with every event stored", s)
	}
	if testutil.ToFloat64(sp.m.replayed) != 0 {
		t.Fatal("events replayed although the writer always had room")
	}
}

// When the writer is full the spool keeps taking events on disk, replays them in order
// once the writer has room, and then goes straight through again: nothing lost, nothing
// twice, order kept.
func TestReplaysWhileTheWriterIsFull(t *testing.T) {
	sp, tg := open(t, t.TempDir(), Config{SegmentBytes: 3000, ReplayBatch: 7})
	write(t, sp, context.Background(), evs(0, 5))
	tg.setFull(true)
	for i := 5; i < 60; i += 5 {
		write(t, sp, context.Background(), evs(i, 5))
	}
	if testutil.ToFloat64(sp.m.replaying) != 1 {
		t.Fatal("not replaying while the writer is full")
	}
	tg.setFull(false)
	waitFor(t, "the replay to catch up", func() bool { return testutil.ToFloat64(sp.m.replaying) == 0 })
	write(t, sp, context.Background(), evs(60, 5))
	if got := tg.ids(); !slices.Equal(got, idRange(0, 65)) {
		t.Fatalf("handed %v, want e00000..e00064 once each, in order", got)
	}
	if testutil.ToFloat64(sp.m.replayed) != 55 {
		t.Fatalf("%v events replayed, want the 55 written while the writer was full", testutil.ToFloat64(sp.m.replayed))
	}
	tg.store()
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := sp.Backlog(); b != 0 {
		t.Fatalf("%d bytes left with every event stored", b)
	}
}

// A restart replays what the last run left, before the new events; a cut-short record at
// the end (a crash in mid-write) ends its segment's replay and costs only itself.
func TestRestartReplaysWhatIsLeft(t *testing.T) {
	dir := t.TempDir()
	sp, tg := open(t, dir, Config{SegmentBytes: 1500})
	write(t, sp, context.Background(), evs(0, 30))
	tg.store() // the first 30 are stored: their sealed segments go
	write(t, sp, context.Background(), evs(30, 20))
	if err := sp.Close(); err != nil { // the last 20 never reach ClickHouse
		t.Fatal(err)
	}
	left := segments(t, dir)
	if len(left) == 0 {
		t.Fatal("no segments left with 20 events not stored")
	}
	last := left[len(left)-1]
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, 'x'}) // a record header promising 200 bytes, and one
	f.Close()

	sp2, tg2 := open(t, dir, Config{SegmentBytes: 1500})
	waitFor(t, "the replay", func() bool { return testutil.ToFloat64(sp2.m.replaying) == 0 })
	write(t, sp2, context.Background(), evs(50, 1))
	got := tg2.ids()
	// The segment that held events 30.. may also hold some of the stored first 30: those
	// come again, harmlessly (ClickHouse keeps one row per event id).
	want := append(idRange(30, 20), "e00050")
	if len(got) < len(want) || !slices.Equal(got[len(got)-len(want):], want) {
		t.Fatalf("after restart handed %v, want ... e00030..e00049 then e00050", got)
	}
	if testutil.ToFloat64(sp2.m.damaged) != 1 {
		t.Fatalf("%v damaged segments, want 1", testutil.ToFloat64(sp2.m.damaged))
	}
	tg2.store()
	if err := sp2.Close(); err != nil {
		t.Fatal(err)
	}
	if s := segments(t, dir); len(s) != 0 {
		t.Fatalf("segments %v left after the replayed events were stored", s)
	}
}

// At MaxBytes the spool refuses events (the server API answers 503) and takes them again
// once stored events free room.
func TestFullSpoolRefuses(t *testing.T) {
	sp, tg := open(t, t.TempDir(), Config{MaxBytes: 4000, SegmentBytes: 1000})
	tg.setFull(true) // ClickHouse is down
	var refused error
	for i := 0; refused == nil && i < 1000; i++ {
		refused = sp.Write(context.Background(), evs(i, 1))
	}
	if !errors.Is(refused, event.ErrFull) {
		t.Fatalf("Write into a full spool: %v, want ErrFull", refused)
	}
	tg.setFull(false)
	waitFor(t, "the replay", func() bool { return testutil.ToFloat64(sp.m.replaying) == 0 })
	tg.store()
	write(t, sp, context.Background(), evs(5000, 1))
	sp.Close()
}

// A durable Write returns only after a commit has fsynced it.
func TestDurableWriteWaitsForTheCommit(t *testing.T) {
	sp, _ := open(t, t.TempDir(), Config{CommitInterval: time.Hour})
	write(t, sp, context.Background(), evs(0, 1))
	if c := testutil.ToFloat64(sp.m.commits); c != 0 {
		t.Fatalf("%v commits after a plain Write with an hour's interval, want 0", c)
	}
	write(t, sp, event.WithDurable(context.Background()), evs(1, 1))
	if c := testutil.ToFloat64(sp.m.commits); c < 1 {
		t.Fatal("a durable Write returned before any commit")
	}
	sp.mu.Lock()
	durable := sp.durable
	sp.mu.Unlock()
	if durable < 2 {
		t.Fatalf("durable up to Write %d, want 2", durable)
	}
	sp.Close()
}

func BenchmarkWrite(b *testing.B) {
	sp, tg := open(b, b.TempDir(), Config{})
	e := evs(0, 1)
	e[0].UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	e[0].Referrer, e[0].Source, e[0].Medium = "https://www.google.com/", "google", "organic"
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := sp.Write(context.Background(), e); err != nil {
			b.Fatal(err)
		}
		if i%10000 == 0 {
			tg.store()
			tg.mu.Lock()
			tg.got = tg.got[:0]
			tg.mu.Unlock()
		}
	}
	b.StopTimer()
	tg.store()
	sp.Close()
}

// Two spools never share a directory: the second Open is refused until the first closes.
func TestOneSpoolPerDirectory(t *testing.T) {
	dir := t.TempDir()
	sp, _ := open(t, dir, Config{})
	if _, err := Open(Config{Dir: dir}, &target{}); err == nil {
		t.Fatal("a second spool opened the directory of one still open")
	}
	sp.Close()
	sp2, _ := open(t, dir, Config{})
	sp2.Close()
}

// When the disk fails (here the segment's file is closed under the spool), events still go
// to the writer, a durable Write says it could not make them durable, and the failure is
// logged once, not once per Write.
func TestWriteFailureIsReportedOnce(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelError}))
	sp, tg := open(t, t.TempDir(), Config{CommitInterval: time.Hour, Logger: log})
	sp.mu.Lock()
	sp.file.Close()
	sp.mu.Unlock()
	for i := 0; i < 5; i++ {
		write(t, sp, context.Background(), evs(i, 1))
	}
	for i := 5; i < 8; i++ {
		if err := sp.Write(event.WithDurable(context.Background()), evs(i, 1)); err == nil {
			t.Fatal("a durable Write succeeded although its segment cannot be written")
		}
	}
	if got := tg.ids(); !slices.Equal(got, idRange(0, 8)) {
		t.Fatalf("handed %v, want every event still handed to the writer", got)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Fatalf("%d error lines for one failing disk, want 1:\n%s", n, logs.String())
	}
	if testutil.ToFloat64(sp.m.commitErrors) < 3 {
		t.Fatalf("%v failed commits counted, want one per durable Write", testutil.ToFloat64(sp.m.commitErrors))
	}
	tg.store()
	sp.Close()
}

// A durable Write that looks at the spool while the commit covering it runs returns when
// that commit ends, not at the next one (here an hour later): the hook holds the Write until
// its commit has taken its snapshot, and the commit until the Write has had time to look.
func TestDurableWriteDuringItsCommit(t *testing.T) {
	sp, tg := open(t, t.TempDir(), Config{CommitInterval: time.Hour})
	snapshot := make(chan struct{}, 1)
	sp.hook = func(point string) {
		switch point {
		case "kicked":
			<-snapshot
		case "snapshot":
			snapshot <- struct{}{}
			time.Sleep(50 * time.Millisecond) // the Write looks meanwhile
		}
	}
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(event.WithDurable(context.Background()), 10*time.Second)
		err := sp.Write(ctx, evs(i, 1))
		cancel()
		if err != nil {
			t.Fatalf("durable Write %d: %v", i, err)
		}
	}
	if got := tg.ids(); !slices.Equal(got, idRange(0, 3)) {
		t.Fatalf("handed %v, want %v", got, idRange(0, 3))
	}
	sp.hook = nil
	tg.store()
	sp.Close()
}

// The limit counts only what the target has not stored. With a limit of 20,000 bytes and
// segments as large as the limit (what every limit of 64 MiB or less used to get), a
// segment never reached its size before the limit refused events, so it was never sealed
// nor deleted, and the spool refused everything after about 20,000 bytes although every
// event was stored. Here 2,000 events of about 100 bytes (some 200,000 bytes, ten times the
// limit) go through a target that stores each Write at once: none is refused, and once all
// are stored nothing counts against the limit. The same holds with the default segment
// size for this limit (2,500 bytes).
func TestSmallLimitNeverFillsWhileStored(t *testing.T) {
	for _, segBytes := range []int64{20000, 0} {
		dir := t.TempDir()
		sp, tg := open(t, dir, Config{MaxBytes: 20000, SegmentBytes: segBytes})
		for i := 0; i < 2000; i++ {
			if err := sp.Write(context.Background(), evs(i, 1)); err != nil {
				t.Fatalf("segments of %d bytes: Write %d with every earlier event stored: %v", segBytes, i, err)
			}
			tg.store()
		}
		if b, _ := sp.Backlog(); b != 0 {
			t.Fatalf("segments of %d bytes: %d bytes counted against the limit with every event stored", segBytes, b)
		}
		if n, disk := sp.Held(); n > 2 || disk > 20000 {
			t.Fatalf("segments of %d bytes: %d segments of %d bytes on disk with every event stored", segBytes, n, disk)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
		if s := segments(t, dir); len(s) != 0 {
			t.Fatalf("segments %v left after Close with every event stored", s)
		}
	}
}

// records returns the offsets at which the records of a segment file begin.
func records(t *testing.T, path string) []int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var at []int64
	for off := int64(0); off < int64(len(data)); {
		at = append(at, off)
		off += headerBytes + int64(uint32(data[off])|uint32(data[off+1])<<8|uint32(data[off+2])<<16|uint32(data[off+3])<<24)
	}
	return at
}

// One damaged record costs that record only. 100 events are left in one segment (the
// target stored none); 8 bytes in the middle of record 40 are overwritten, as a bad disk
// would. The next start replays 99 events (before: 40, the rest of the segment was lost and
// the segment deleted), counts one damaged record, keeps the record's bytes in a .damaged
// file, logs it, and deletes the segment once the 99 are stored.
func TestDamagedRecordCostsThatRecordOnly(t *testing.T) {
	dir := t.TempDir()
	sp, _ := open(t, dir, Config{})
	write(t, sp, context.Background(), evs(0, 100))
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	seg := segments(t, dir)
	if len(seg) != 1 {
		t.Fatalf("segments %v, want one", seg)
	}
	at := records(t, seg[0])
	if len(at) != 100 {
		t.Fatalf("%d records in the segment, want 100", len(at))
	}
	f, err := os.OpenFile(seg[0], os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	middle := (at[40] + at[41]) / 2
	if _, err := f.WriteAt([]byte("DAMAGED!"), middle); err != nil {
		t.Fatal(err)
	}
	f.Close()
	original, _ := os.ReadFile(seg[0])

	var logs bytes.Buffer
	sp2, tg2 := open(t, dir, Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	waitFor(t, "the replay", func() bool { return testutil.ToFloat64(sp2.m.replaying) == 0 })
	want := append(idRange(0, 40), idRange(41, 59)...)
	if got := tg2.ids(); !slices.Equal(got, want) {
		t.Fatalf("replayed %d events %v, want the 99 but e00040", len(got), got)
	}
	if n := testutil.ToFloat64(sp2.m.damaged); n != 1 {
		t.Fatalf("%v damaged records counted, want 1", n)
	}
	kept, err := os.ReadFile(fmt.Sprintf("%s.at-%d.damaged", seg[0], at[40]))
	if err != nil {
		t.Fatalf("the damaged bytes were not kept aside: %v", err)
	}
	if !bytes.Equal(kept, original[at[40]:at[41]]) {
		t.Fatalf("kept %d bytes, want record 40's %d bytes", len(kept), at[41]-at[40])
	}
	tg2.store()
	if err := sp2.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "spool record damaged") || !strings.Contains(logs.String(), "skipped_records=1") {
		t.Fatalf("no log line for the damaged record:\n%s", logs.String())
	}
	if s := segments(t, dir); len(s) != 0 {
		t.Fatalf("segments %v left after the replayed events were stored", s)
	}
	if b, _ := sp2.Backlog(); b != 0 {
		t.Fatalf("%d bytes counted against the limit after everything readable was stored", b)
	}
}

// BenchmarkWritePixels and BenchmarkWritePixelsDurable compare what a pixel costs the
// spool as it is (answered at once, fsynced within the commit interval) and if it waited
// for its fsync like a server API batch: 64 concurrent one-event Writes, as 64 connections
// of pixels would make (docs/BENCHMARKS.md, the pixel's durability).
func BenchmarkWritePixels(b *testing.B) { benchmarkPixels(b, context.Background()) }
func BenchmarkWritePixelsDurable(b *testing.B) {
	benchmarkPixels(b, event.WithDurable(context.Background()))
}

func benchmarkPixels(b *testing.B, ctx context.Context) {
	sp, tg := open(b, b.TempDir(), Config{})
	e := evs(0, 1)[0]
	e.UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"
	stop := make(chan struct{})
	go func() { // the writer's workers, storing what they were handed
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
				tg.store()
				tg.mu.Lock()
				tg.got = tg.got[:0]
				tg.mu.Unlock()
			}
		}
	}()
	b.SetParallelism(64 / max(1, runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		one := make([]event.Event, 1)
		for pb.Next() {
			one[0] = e
			if err := sp.Write(ctx, one); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(testutil.ToFloat64(sp.m.commits)/b.Elapsed().Seconds(), "commits/s")
	close(stop)
	tg.store()
	sp.Close()
}
