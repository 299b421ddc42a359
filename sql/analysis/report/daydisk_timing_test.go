package report

import (
	"fmt"
	"path/filepath"
	"testing"
)

// benchTouchDay returns a touch day the size of one of the bench's busiest at 10 million
// events (2026-01-27 keyed by channel: about 92 000 groups, 4.3 MB in the store), one
// conversion in 40 groups, 8 keys.
func benchTouchDay() *dayRows {
	d := &dayRows{keyOf: map[string]uint32{}}
	c := rowConversion{t: 1000, v: 20, id: "00000000-0000-4000-8000-000000000000"}
	for i := range 92000 {
		row := touchRow{hash: uint64(i) * 0x9E3779B97F4A7C15, user: uint64(i % 7), anon: uint64(i), t: uint32(i)}
		if err := d.row(row, fmt.Sprint("channel ", i%8), i%40 == 0, c); err != nil {
			panic(err)
		}
	}
	d.done(true)
	return d
}

// BenchmarkDayFileWrite: one busy touch day encoded and written (synced, renamed), as the
// store's writer does when the day is stored.
func BenchmarkDayFileWrite(b *testing.B) {
	d, dir := benchTouchDay(), b.TempDir()
	k := dayKey{query: "SELECT touch rows", day: 20480}
	var buf []byte
	b.SetBytes(d.size())
	for b.Loop() {
		var err error
		if buf, err = writeDayFile(filepath.Join(dir, "d.day"), k, dayPrint{1, 2}, d, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDayFileLoad: one busy touch day read back from its file and decoded, as a
// start loads it.
func BenchmarkDayFileLoad(b *testing.B) {
	d, dir := benchTouchDay(), b.TempDir()
	path := filepath.Join(dir, "d.day")
	if _, err := writeDayFile(path, dayKey{query: "SELECT touch rows", day: 20480}, dayPrint{1, 2}, d, nil); err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.SetBytes(d.size())
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if _, buf, err = readDayFile(path, buf, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
}
