package report

import (
	"container/list"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// codecDays are one day of each kind the store writes, made by hand: a touch day of three
// rows (two of one group, which holds one conversion twice), a page day of two paths, a
// stage day of three rows of two kinds, a retention day of two events and a funnel day of
// two keys with two breakdowns (two hashes of values) and three events.
func codecDays() []diskDay {
	touch := &dayRows{keyOf: map[string]uint32{}}
	c := rowConversion{t: 1000, v: 20.5, id: "buy-1"}
	for _, r := range []struct {
		row  touchRow
		key  string
		conv bool
	}{
		{touchRow{hash: 7 << 56, user: 3, anon: 4, t: 900}, "Email", false},
		{touchRow{hash: 7 << 56, anon: 5}, "", true},
		{touchRow{hash: 2, anon: 6, t: 800, flags: emailRow}, "Direct", true},
	} {
		if err := touch.row(r.row, r.key, r.conv, c); err != nil {
			panic(err)
		}
	}
	touch.done(true)
	pages := &pageDay{paths: map[uint64]*pageViews{11: {ids: []uint64{1, 2, 2}, people: []uint64{9}}, 12: {ids: []uint64{3}, people: []uint64{8}}}}
	stages := &stageDay{start: 86400 * 20000, keys: []uint64{1, 2, 1}, items: []uint32{5<<stageKindBits | 1, 7 << stageKindBits, 9<<stageKindBits | 1},
		kinds: []stageKind{{bits: 0, mask: 1}, {bits: 77, mask: 3}}, channels: []stageChannel{{"Email", 77}}}
	retention := &retentionDay{start: 86400 * 20000, keys: []uint64{4, 5}, items: []uint32{10<<2 | 1, 20<<2 | 2}}
	funnel := &funnelDay{start: 86400 * 20000, cols: 2, keys: []uint64{6, 7}, first: []uint32{30, 40}, combos: []uint64{11, 12},
		hashes: []uint64{11, 12}, names: []string{"mobile", "Email", "desktop", "Email"}, evKeys: []uint64{6, 6, 7},
		items: []uint32{30<<funnelMaskBits | 1, 50<<funnelMaskBits | 2, 40<<funnelMaskBits | 5}}
	return []diskDay{touch, pages, stages, retention, funnel}
}

// TestDayFileRoundTrip: each kind's day, written as a day file, decodes to the same day
// (the touch day's parts counted again: 1 group under top byte 0, 1 under 7), with its
// key, print and size; cut short by a byte, with a byte changed, of another format
// version or of a kind this journeyd does not know, the file fails to decode, saying why.
func TestDayFileRoundTrip(t *testing.T) {
	for _, day := range codecDays() {
		k, p := dayKey{query: "SELECT " + day.diskKind(), day: 20000}, dayPrint{events: 3, hash: 0xfeed}
		b := encodeDayFile(nil, k, p, day)
		sd, err := decodeDayFile(b, 1<<20)
		if err != nil {
			t.Fatalf("%s: %v", day.diskKind(), err)
		}
		if sd.key != k || sd.print != p || sd.bytes != day.size() || !reflect.DeepEqual(sd.rows, keptDay(day)) {
			t.Errorf("%s: decoded %+v (%d bytes)\nwant %+v (%d bytes)", day.diskKind(), sd.rows, sd.bytes, day, day.size())
		}
		if _, err := decodeDayFile(b, day.size()-1); err != errOverBound {
			t.Errorf("%s: with one byte less room than the day takes: %v, want %v", day.diskKind(), err, errOverBound)
		}
		for name, bad := range map[string][]byte{
			"cut short":   b[:len(b)-1],
			"a byte flip": flipByte(b, len(b)/2),
			"format next": withFormat(b, diskFormat+1),
			"kind cheese": encodeDayFile(nil, k, p, cheeseDay{day}),
		} {
			if _, err := decodeDayFile(bad, 1<<20); err == nil {
				t.Errorf("%s, %s: decoded", day.diskKind(), name)
			}
		}
	}
	if got := codecDays()[0].(*dayRows).parts; got[0] != 1 || got[7] != 1 {
		t.Errorf("the touch day's parts under bytes 0 and 7: %d and %d, want 1 and 1", got[0], got[7])
	}
}

// cheeseDay is a day of a kind no journeyd keeps.
type cheeseDay struct{ diskDay }

func (cheeseDay) diskKind() string { return "cheese" }

func flipByte(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x40
	return out
}

// withFormat returns the file b with format version v, its checksum made again.
func withFormat(b []byte, v uint32) []byte {
	out := append([]byte(nil), b[:len(b)-4]...)
	binary.LittleEndian.PutUint32(out[len(diskMagic):], v)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, crcTable))
}

// FuzzDecodeDayFile: no file, however damaged, makes the decoder panic, and a day it
// decodes fits the room it was given.
func FuzzDecodeDayFile(f *testing.F) {
	for _, day := range codecDays() {
		f.Add(encodeDayFile(nil, dayKey{"q", 1}, dayPrint{1, 2}, day))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := decodeDayFile(b, 1<<20)
		if err == nil && sd.bytes > 1<<20 {
			t.Fatalf("a decoded day of %d bytes, room 1 MiB", sd.bytes)
		}
	})
}

// restartReports are the rig's reports, with their options over March 1 to 7, 2026.
var restartReports = []struct {
	name string
	opts map[string]string
}{
	{"paths", nil},
	{"top", map[string]string{"dimension": "page", "top": "10"}},
	{"stages", nil},
	{"retention", map[string]string{"within": "1d,2d"}},
}

// runAll runs restartReports through r, checks each answers as plain does, and returns
// each one's rows as text and its days from the store and from ClickHouse.
func runAll(t *testing.T, r, plain *Runner, m *Metrics) (rows []string, hits, misses []float64) {
	t.Helper()
	for _, rep := range restartReports {
		opts := map[string]string{"from": "2026-03-01", "to": "2026-03-08"}
		for k, v := range rep.opts {
			opts[k] = v
		}
		req, err := ParseRequest("store", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		h0, m0 := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses)
		res, err := r.Run(context.Background(), rep.name, req)
		if err != nil {
			t.Fatal(err)
		}
		hits, misses = append(hits, testutil.ToFloat64(m.hits)-h0), append(misses, testutil.ToFloat64(m.misses)-m0)
		got, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if want := reportJSON(t, plain, rep.name, req); string(got) != want {
			t.Fatalf("%s through the store\n%s\nfrom ClickHouse alone\n%s", rep.name, got, want)
		}
		if rep.name == "retention" {
			rows = append(rows, retentionText(res.Tables[0].Rows))
		} else {
			rows = append(rows, fmt.Sprint(res.Tables[0].Rows))
		}
	}
	return rows, hits, misses
}

// storedRunner returns a Runner keeping bytes of days in dir, and its metrics.
func storedRunner(t *testing.T, r *Runner, dir string, bytes int64) (*Runner, *Metrics) {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return &Runner{Conn: r.Conn, DB: r.DB, StoreBytes: bytes, StoreDir: dir, Metrics: m}, m
}

// dayFiles returns the day files of dir by kind and day (the 1st of March 1 to the 7th
// 7), decoding each.
func dayFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.day"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sd, err := decodeDayFile(b, 1<<40)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		day := dayTime(sd.key.day).Day()
		out[fmt.Sprintf("%s %d", sd.rows.(diskDay).diskKind(), day)] = f
	}
	return out
}

// TestDayStoreRestart: a Runner keeping its store in a directory runs paths, the top
// pages, stages and retention over the week of storeTraffic, reading every day from
// ClickHouse, and stops (Close writes what it had not written). While it is down a late
// purchase lands on the 3rd, the touch file of the 5th is cut short, a byte of the page
// file of the 1st is changed, and a file of garbage and a temporary file a crash would
// leave are put beside them. A second Runner on the directory (the restart) loads the 26
// good files (4 kinds of 7 days, less the 2 damaged), drops the 3 bad ones and the
// temporary file, and answers every report as by hand and as a Runner without a store,
// reading from ClickHouse only the changed day and the damaged ones. A third, after the
// second has stopped, reads no day at all.
func TestDayStoreRestart(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	plain := &Runner{Conn: conn, DB: db}
	dir := t.TempDir()

	// Cold, by hand (TestDayStore, TestWarm, TestStageDays, TestRetentionDays): paths
	// converting are Email (u3, 10 minutes) and Paid Search > Email (a1, a day and 5
	// minutes); the one page / has 6 views of 5 people; 5 people are aware, 2 reach
	// consideration, decision and purchase; a1 and u3 buy once each, neither within a day
	// or two again. Every day of every report is read.
	first, m1 := storedRunner(t, plain, dir, 1<<24)
	rows, hits, misses := runAll(t, first, plain, m1)
	want := []string{
		"[[Email 1 0 1 0.01] [Paid Search > Email 1 0 1 1]]",
		"[[page / 5 6]]",
		"[[1 awareness 5 1 1 0 Paid Search, Email, Referral] [2 consideration 2 0.4 0.4 86700 Email] " +
			"[3 decision 2 1 0.4 0 Email] [4 purchase 2 1 0.4 0 Email] [5 retention 0 0 0 0 ] [6 advocacy 0 0 0 0 ]]",
		"1d 2026-03-02 2 0 0; 2d 2026-03-02 2 0 0",
	}
	checkRuns(t, "cold", rows, hits, misses, want, []float64{0, 0, 0, 0}, []float64{7, 7, 7, 7})
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := dayFiles(t, dir)
	if len(files) != 28 {
		t.Fatalf("%d day files after the first Runner stopped, want 28 (4 kinds of 7 days): %v", len(files), files)
	}

	// While down: a2 buys for 5 at 09:20 on the 3rd, in its Paid Search session (received
	// on the 9th); two files are damaged; garbage and a temporary file lie beside them.
	late := storeEvent("a2-2", 3, 9, 20, "track", "purchase", "a2", "", "s3", "", 5)
	late.ReceivedAt = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	damage(t, files["touch 5"], func(b []byte) []byte { return b[:len(b)/2] })
	damage(t, files["pages 1"], func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
	for name, content := range map[string]string{"garbage.day": "not a day", "123.tmp": "half a day"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// After the restart, by hand: Paid Search now converts once (a2, 20 minutes) beside
	// a5's journey that does not (rate 0.5); the page views are unchanged (the purchase is
	// no view); a2 reaches consideration, decision and purchase 1 200 s after its visit
	// (median of [600 1200 86700]); a2 joins the cohort and does not return. From
	// ClickHouse: the 3rd for every report, and the 5th's touch rows and the 1st's views.
	second, m2 := storedRunner(t, plain, dir, 1<<24)
	second.LoadStore()
	if loaded := testutil.ToFloat64(m2.loadedDays); loaded != 26 {
		t.Errorf("the restart loaded %v days, want 26", loaded)
	}
	if dropped := testutil.ToFloat64(m2.filesDropped.WithLabelValues("corrupt")); dropped != 3 {
		t.Errorf("the restart dropped %v corrupt files, want 3 (the two damaged and the garbage)", dropped)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) != 0 {
		t.Errorf("temporary files left after the load: %v", left)
	}
	rows, hits, misses = runAll(t, second, plain, m2)
	want = []string{
		"[[Email 1 0 1 0.01] [Paid Search 1 1 0.5 0.01] [Paid Search > Email 1 0 1 1]]",
		"[[page / 5 6]]",
		"[[1 awareness 5 1 1 0 Paid Search, Email, Referral] [2 consideration 3 0.6 0.6 1200 Email, Paid Search] " +
			"[3 decision 3 1 0.6 0 Email, Paid Search] [4 purchase 3 1 0.6 0 Email, Paid Search] [5 retention 0 0 0 0 ] [6 advocacy 0 0 0 0 ]]",
		"1d 2026-03-02 3 0 0; 2d 2026-03-02 3 0 0",
	}
	checkRuns(t, "after the restart", rows, hits, misses, want, []float64{5, 5, 6, 6}, []float64{2, 2, 1, 1})
	if err := second.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Another restart: the days the second Runner read were written; every day is loaded.
	third, m3 := storedRunner(t, plain, dir, 1<<24)
	rows, hits, misses = runAll(t, third, plain, m3)
	checkRuns(t, "after another restart", rows, hits, misses, want, []float64{7, 7, 7, 7}, []float64{0, 0, 0, 0})
	if err := third.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A restart with a store of half the days' bytes loads the newest files while they
	// fit and removes the others; the answers are the same, the days it left read again.
	var total int64
	for _, e := range third.store.days {
		total += e.Value.(*storedDay).bytes
	}
	half, mh := storedRunner(t, plain, dir, total/2)
	half.LoadStore()
	loaded, over := testutil.ToFloat64(mh.loadedDays), testutil.ToFloat64(mh.filesDropped.WithLabelValues("bound"))
	if loaded+over != 28 || loaded == 0 || over == 0 || half.store.bytes > total/2 {
		t.Errorf("within %d bytes of %d: %v days loaded (%d bytes), %v dropped over the bound; want some of each, 28 in all",
			total/2, total, loaded, half.store.bytes, over)
	}
	rows, _, _ = runAll(t, half, plain, mh)
	checkRuns(t, "within half the bytes", rows, nil, nil, want, nil, nil)
	if err := half.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// checkRuns compares runAll's rows, hits and misses with the wanted ones (nil: any).
func checkRuns(t *testing.T, step string, rows []string, hits, misses []float64, want []string, wantHits, wantMisses []float64) {
	t.Helper()
	for i, rep := range restartReports {
		if rows[i] != want[i] {
			t.Errorf("%s, %s: %s\nwant %s", step, rep.name, rows[i], want[i])
		}
		if wantHits != nil && (hits[i] != wantHits[i] || misses[i] != wantMisses[i]) {
			t.Errorf("%s, %s: %v days from the store, %v from ClickHouse; want %v and %v", step, rep.name, hits[i], misses[i], wantHits[i], wantMisses[i])
		}
	}
}

// damage rewrites the file at path with change applied to its bytes.
func damage(t *testing.T, path string, change func([]byte) []byte) {
	t.Helper()
	if path == "" {
		t.Fatal("no such day file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, change(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDayDiskSecondOpener: a directory a store holds is refused to a second one, which
// keeps its days in memory only.
func TestDayDiskSecondOpener(t *testing.T) {
	dir := t.TempDir()
	d, err := openDayDisk(dir, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openDayDisk(dir, slog.New(slog.DiscardHandler), nil); err == nil || !strings.Contains(err.Error(), "another journeyd") {
		t.Errorf("a second store on %s: %v, want refused", dir, err)
	}
	s := &dayStore{max: 1 << 20, days: map[dayKey]*list.Element{}}
	d.load(s)
	if err := d.close(context.Background(), s.order); err != nil {
		t.Fatal(err)
	}
}

// TestDayCodecCoversFields: the fields of every type a day file holds are those daycodec.go
// writes (or derives, or leaves out as only a read's: dayRows.rows and keyOf, stageDay.kindOf,
// stageKind's rank, upto and after). A field added to one of them fails here until the
// codec writes it and diskFormat is raised: a restart would otherwise load days without it.
func TestDayCodecCoversFields(t *testing.T) {
	for _, c := range []struct {
		v      any
		fields string
	}{
		{dayRows{}, "rows keys conv keyOf groups groupConv parts"},
		{dayGroup{}, "hash user anon t k from email"},
		{rowConversion{}, "t v id"},
		{pageDay{}, "paths"},
		{pageViews{}, "ids people"},
		{stageDay{}, "start keys items kinds channels kindOf"},
		{stageKind{}, "bits mask rank upto after"},
		{stageChannel{}, "name bits"},
		{retentionDay{}, "start keys items"},
		{funnelDay{}, "start cols keys first combos hashes names evKeys items"},
	} {
		typ := reflect.TypeOf(c.v)
		var names []string
		for i := range typ.NumField() {
			names = append(names, typ.Field(i).Name)
		}
		if got := strings.Join(names, " "); got != c.fields {
			t.Errorf("%s has the fields %q, the day files %q: write the new ones in daycodec.go and raise diskFormat", typ.Name(), got, c.fields)
		}
	}
}

// TestDayStoreRestartKeepsRecentlyUsed: a Runner runs paths, then retention, then paths
// again over the week of storeTraffic, and stops: its touch days are the most recently
// used. Restarted with a bound of just those seven days' bytes, the store loads them (and
// removes the seven retention files, over the bound), whatever order the files were
// written in: paths then takes every day from the store, retention none.
func TestDayStoreRestartKeepsRecentlyUsed(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, storeTraffic())
	plain := &Runner{Conn: conn, DB: db}
	dir := t.TempDir()
	req := func(opts map[string]string) *Request {
		all := map[string]string{"from": "2026-03-01", "to": "2026-03-08"}
		maps.Copy(all, opts)
		r, err := ParseRequest("store", goal.Definitions{}, all, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	paths, retention := req(nil), req(map[string]string{"within": "1d,2d"})
	first, _ := storedRunner(t, plain, dir, 1<<24)
	for _, run := range []struct {
		name string
		req  *Request
	}{{"paths", paths}, {"retention", retention}, {"paths", paths}} {
		reportJSON(t, first, run.name, run.req)
	}
	var touch int64
	for _, e := range first.store.days {
		if _, ok := e.Value.(*storedDay).rows.(*dayRows); ok {
			touch += e.Value.(*storedDay).bytes
		}
	}
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	second, m := storedRunner(t, plain, dir, touch)
	second.LoadStore()
	if loaded, over := testutil.ToFloat64(m.loadedDays), testutil.ToFloat64(m.filesDropped.WithLabelValues("bound")); loaded != 7 || over != 7 {
		t.Errorf("within the touch days' %d bytes: %v days loaded, %v dropped over the bound; want 7 and 7", touch, loaded, over)
	}
	for _, run := range []struct {
		name         string
		req          *Request
		hits, misses float64
	}{{"paths", paths, 7, 0}, {"retention", retention, 0, 7}} {
		h0, m0 := testutil.ToFloat64(m.hits), testutil.ToFloat64(m.misses)
		if got, want := reportJSON(t, second, run.name, run.req), reportJSON(t, plain, run.name, run.req); got != want {
			t.Errorf("%s after the restart:\n%s\nwithout a store:\n%s", run.name, got, want)
		}
		if h, ms := testutil.ToFloat64(m.hits)-h0, testutil.ToFloat64(m.misses)-m0; h != run.hits || ms != run.misses {
			t.Errorf("%s after the restart: %v days from the store, %v from ClickHouse; want %v and %v", run.name, h, ms, run.hits, run.misses)
		}
	}
	second.Close(context.Background())
}
