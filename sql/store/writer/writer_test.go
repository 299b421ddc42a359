package writer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// migrated returns a fresh database with the schema applied, on the shared server.
func migrated(t *testing.T) (string, driver.Conn) {
	t.Helper()
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	return db, conn
}

func newWriter(t *testing.T, conn driver.Conn, cfg Config) *Writer {
	t.Helper()
	w, err := New(conn, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func closeWriter(t *testing.T, w *Writer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, conn driver.Conn, db string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+db+".events").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls a condition on real work (an insert, a retry) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func events(n int, ts time.Time) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = event.Event{
			ID: fmt.Sprintf("e%03d", i), SiteID: "shop", TS: ts.Add(time.Duration(i) * time.Second),
			ReceivedAt: ts, Type: event.TypePageview, AnonID: "a1", Path: "/",
		}
	}
	return out
}

func TestColumnsMatchTableAndEvent(t *testing.T) {
	db, conn := migrated(t)
	want := map[string]bool{}
	for _, c := range chtest.Strings(t, context.Background(), conn, "SELECT name FROM system.columns WHERE database = ? AND table = 'events'", db) {
		want[c] = true
	}
	cols := Columns()
	seen := map[string]bool{}
	for _, c := range cols {
		if !want[c] || seen[c] {
			t.Fatalf("writer column %q is not a column of events, or repeats", c)
		}
		seen[c] = true
	}
	if len(seen) != len(want) {
		t.Fatalf("writer names %d of the %d columns of events", len(seen), len(want))
	}
	// Every field of Event is a column; TS is two (ts and ts_ms).
	if n := reflect.TypeOf(event.Event{}).NumField() + 1; len(cols) != n {
		t.Fatalf("writer has %d columns for the %d of Event", len(cols), n)
	}
}

// fullEvent has every field set to a value that tells the fields apart.
func fullEvent() event.Event {
	e := event.Event{
		TS:         time.Date(2026, 4, 2, 3, 4, 5, 678e6, time.UTC),
		ReceivedAt: time.Date(2026, 4, 2, 3, 4, 9, 0, time.UTC),
		IsBot:      true, PropKeys: []string{"plan", "step"}, PropValues: []string{"pro", "2"},
		Revenue: 12.5, EngagedMS: 4321,
	}
	v := reflect.ValueOf(&e).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.String {
			f.SetString(v.Type().Field(i).Name + "-✓")
		}
	}
	return e
}

func TestRowLandsWithAllFields(t *testing.T) {
	db, conn := migrated(t)
	w := newWriter(t, conn, Config{Database: db})
	want := fullEvent()
	if err := w.Write(context.Background(), []event.Event{want}); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	var got event.Event
	var tsMS uint16
	var isBot uint8
	targets := []any{&got.ID, &got.SiteID, &got.TS, &tsMS, &got.ReceivedAt, &got.Type, &got.Name,
		&got.AnonID, &got.UserID, &got.SessionID, &got.URL, &got.Host, &got.Path, &got.Query,
		&got.Title, &got.Referrer, &got.ReferrerHost, &got.ReferrerKind, &got.SearchTerm,
		&got.Channel, &got.Source, &got.Medium, &got.Campaign, &got.Term, &got.Content,
		&got.ClickIDType, &got.ClickID, &got.Country, &got.Region, &got.City, &got.Browser,
		&got.BrowserVersion, &got.OS, &got.Device, &isBot, &got.IP, &got.UserAgent,
		&got.PropKeys, &got.PropValues, &got.Revenue, &got.Currency, &got.EngagedMS, &got.Library}
	q := "SELECT event_id, site_id, ts, ts_ms, received_at, type, name, anon_id, user_id, session_id, " +
		"url, host, path, query, title, referrer, referrer_host, referrer_kind, search_term, channel, " +
		"source, medium, campaign, term, content, click_id_type, click_id, country, region, city, " +
		"browser, browser_version, os, device, is_bot, ip, user_agent, props.key, props.value, " +
		"revenue, currency, engaged_ms, lib FROM " + db + ".events"
	if err := conn.QueryRow(context.Background(), q).Scan(targets...); err != nil {
		t.Fatal(err)
	}
	got.TS = got.TS.Add(time.Duration(tsMS) * time.Millisecond).UTC()
	got.ReceivedAt = got.ReceivedAt.UTC()
	got.IsBot = isBot == 1
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row read back\n got %+v\nwant %+v", got, want)
	}
}

func TestFlushByTime(t *testing.T) {
	db, conn := migrated(t)
	clock := newFakeClock()
	w := newWriter(t, conn, Config{Database: db, FlushInterval: time.Second, Clock: clock})
	if err := w.Write(context.Background(), events(3, clock.Now())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the flush timer", func() bool { return clock.Waiters() == 1 })
	if n := count(t, conn, db); n != 0 {
		t.Fatalf("%d rows inserted before the flush interval passed", n)
	}
	clock.Advance(time.Second)
	waitFor(t, "3 rows", func() bool { return count(t, conn, db) == 3 })
	closeWriter(t, w)
}

func TestFlushBySizeAndClose(t *testing.T) {
	db, conn := migrated(t)
	reg := prometheus.NewRegistry()
	w := newWriter(t, conn, Config{Database: db, BatchSize: 5, Clock: newFakeClock(), Registerer: reg})
	evs := events(12, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for i := 0; i < len(evs); i += 4 {
		if err := w.Write(context.Background(), evs[i:i+4]); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "two full batches", func() bool { return count(t, conn, db) == 10 })
	closeWriter(t, w) // the clock never moved: Close flushes the last 2
	if n := count(t, conn, db); n != 12 {
		t.Fatalf("%d rows after Close, want 12", n)
	}
	if b := testutil.ToFloat64(w.m.batches); b != 3 {
		t.Fatalf("%v batches flushed, want 3", b)
	}
	if d := testutil.ToFloat64(w.m.depth); d != 0 {
		t.Fatalf("queue depth %v after Close, want 0", d)
	}
	if err := w.Write(context.Background(), evs[:1]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v, want ErrClosed", err)
	}
}

// A batch larger than a block goes out as one INSERT in several blocks, and ClickHouse
// stores it as one part: the table (and its views) see one block, not three.
func TestBatchIsOneInsertInBlocks(t *testing.T) {
	db, conn := migrated(t)
	if err := conn.Exec(context.Background(), "SYSTEM STOP MERGES "+db+".events"); err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, conn, Config{Database: db, BatchSize: 25, BlockSize: 10, Clock: newFakeClock()})
	evs := events(25, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err := w.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "25 rows", func() bool { return count(t, conn, db) == 25 })
	closeWriter(t, w)
	if b := testutil.ToFloat64(w.m.batches); b != 1 {
		t.Fatalf("%v inserts, want 1", b)
	}
	var parts uint64
	q := "SELECT count() FROM system.parts WHERE database = ? AND table = 'events' AND active"
	if err := conn.QueryRow(context.Background(), q, db).Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if parts != 1 {
		t.Errorf("events has %d parts, want the 1 of the one insert", parts)
	}
}

func readDeadLetters(t *testing.T, path string) []DeadLetter {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []DeadLetter
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("dead-letter line %q: %v", sc.Text(), err)
		}
		out = append(out, d)
	}
	return out
}

func TestRejectedRowsGoToDeadLetter(t *testing.T) {
	db, conn := migrated(t)
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	// Blocks of 4: the bad row is in the second block of the batch's insert.
	w := newWriter(t, conn, Config{Database: db, DeadLetterPath: path, BlockSize: 4})
	evs := events(9, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	evs[3].PropKeys, evs[3].PropValues = []string{"a", "b"}, []string{"x"} // the server rejects it
	evs[6].TS = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)                // the writer rejects it
	if err := w.Write(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	if n := count(t, conn, db); n != 7 {
		t.Fatalf("%d rows inserted, want the 7 good ones", n)
	}
	dead := readDeadLetters(t, path)
	reasons := map[string]string{}
	for _, d := range dead {
		reasons[d.Event.ID] = d.Reason
	}
	want := map[string]string{"e003": reasonRejected, "e006": reasonBadRow}
	if !reflect.DeepEqual(reasons, want) {
		t.Fatalf("dead letters %v, want %v (%+v)", reasons, want, dead)
	}
}

func TestQueueFullAndCloseDeadline(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t) // no events table: every insert fails and retries
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	clock := newFakeClock()
	w := newWriter(t, conn, Config{Database: db, BatchSize: 4, QueueSize: 8, Clock: clock, DeadLetterPath: path})
	evs := events(9, clock.Now())
	if err := w.Write(context.Background(), evs[:8]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), evs[8:]); !errors.Is(err, event.ErrFull) {
		t.Fatalf("Write into a full queue: %v, want ErrFull", err)
	}
	waitFor(t, "retries", func() bool { return testutil.ToFloat64(w.m.errors.WithLabelValues(reasonServer)) >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil {
		t.Fatal("Close with a dead ClickHouse table returned no error")
	}
	if dead := readDeadLetters(t, path); len(dead) != 8 || dead[0].Reason != reasonShutdown {
		t.Fatalf("%d dead letters (%+v), want the 8 queued events with reason shutdown", len(dead), dead)
	}
}

func TestRetriesUntilClickHouseIsBack(t *testing.T) {
	srv := chtest.Start(t)
	db, conn := srv.NewDatabase(t)
	if err := schema.Migrate(context.Background(), conn, db); err != nil {
		t.Fatal(err)
	}
	w := newWriter(t, conn, Config{Database: db, FlushInterval: 10 * time.Millisecond, RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(context.Background(), events(5, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a network error", func() bool { return testutil.ToFloat64(w.m.errors.WithLabelValues(reasonNetwork)) >= 2 })
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	closeWriter(t, w)
	if n := count(t, srv.Open(t, db), db); n != 5 {
		t.Fatalf("%d rows after ClickHouse came back, want 5", n)
	}
}

// tally records the acknowledgements of the writer, by tag.
type tally struct {
	mu sync.Mutex
	n  map[uint64]int
}

// tagAck is the acknowledgement of the events written with one tag.
type tagAck struct {
	t   *tally
	tag uint64
}

func (a *tagAck) Stored(n int) {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if a.t.n == nil {
		a.t.n = map[uint64]int{}
	}
	a.t.n[a.tag] += n
}

func (t *tally) ack(tag uint64) event.Ack { return &tagAck{t, tag} }

func TestDoneCountsStoredEventsByTag(t *testing.T) {
	db, conn := migrated(t)
	var got tally
	w := newWriter(t, conn, Config{Database: db, BatchSize: 4, DeadLetterPath: filepath.Join(t.TempDir(), "dead.jsonl")})
	evs := events(7, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	evs[4].PropKeys = []string{"only a key"} // rejected by ClickHouse: stored in the dead letter, acknowledged too
	for _, err := range []error{
		w.WriteAcked(context.Background(), evs[:3], got.ack(7)),
		w.WriteAcked(context.Background(), evs[3:6], got.ack(8)),
		w.WriteAcked(context.Background(), evs[6:], got.ack(0)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	closeWriter(t, w)
	if want := map[uint64]int{7: 3, 8: 3, 0: 1}; !reflect.DeepEqual(got.n, want) {
		t.Fatalf("done %v, want %v", got.n, want)
	}
	if n := count(t, conn, db); n != 6 {
		t.Fatalf("%d rows, want 6", n)
	}
}

// With a spool behind it (events written with an acknowledgement), what Close abandons
// stays with the spool: it is neither acknowledged nor written to the dead letter.
func TestShutdownLeavesEventsWithTheSpool(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t) // no events table: every insert fails and retries
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	var got tally
	w := newWriter(t, conn, Config{Database: db, BatchSize: 4, DeadLetterPath: path})
	if err := w.WriteAcked(context.Background(), events(6, time.Now()), got.ack(3)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "retries", func() bool { return testutil.ToFloat64(w.m.errors.WithLabelValues(reasonServer)) >= 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil {
		t.Fatal("Close with a dead ClickHouse table returned no error")
	}
	if len(got.n) != 0 {
		t.Fatalf("done %v for events never stored", got.n)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("dead letter written (%v): the spool holds these events", err)
	}
}
