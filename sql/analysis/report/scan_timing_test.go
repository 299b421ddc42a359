package report

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/store/chtest"
)

// The reads of the days' route (touch_rows, page_rows, stage_rows) scan millions of rows
// a report; these benchmarks read rows of the same columns and types from a real
// ClickHouse (system.numbers, no table) through the scan of each, so that b.ReportAllocs
// shows what a row costs journeyd besides the driver's blocks: a day of the bench's
// busiest size, 300 000 rows, spread over benchDays days as a month's read is.

// benchScanRows is how many rows each benchmark reads an iteration.
const benchScanRows = 300_000

// benchDays is how many days the rows of an iteration fall on.
const benchDays = 30

// benchFirst is the first day of the rows (2026-01-01).
const benchFirst = uint16(20454)

// benchRunner returns a Runner on a database of the package's shared ClickHouse.
func benchRunner(b *testing.B) *Runner {
	b.Helper()
	db, conn := chtest.Shared(b).NewDatabase(b)
	return &Runner{Conn: conn, DB: db}
}

// BenchmarkScanDays: touch_rows' columns (one key in 8, a conversion in 40 rows) through
// dayScan. A day's rows come in runs of 8 with the same key, as a touch group's rows come
// together in touch_rows while the days of the rows alternate.
func BenchmarkScanDays(b *testing.B) {
	r := benchRunner(b)
	sql := `SELECT cityHash64(number) AS touch_hash, toUInt64(number % 7) AS user_hash, number AS anon_hash,
		toUInt32(1767225600 + number % 86400) AS visit_t, concat('channel ', toString(intDiv(number, 240) % 8)) AS touch_key,
		toUInt8(0) AS is_email, toUInt8(number % 40 = 0) AS is_conversion, toUInt32(1767225600) AS conv_time,
		toFloat64(20) AS conv_value, if(number % 40 = 0, toString(number), '') AS conv_id,
		toUInt16(20454 + number % 30) AS day_number
		FROM system.numbers LIMIT 300000`
	b.ReportAllocs()
	for b.Loop() {
		days := make([]*dayRows, benchDays)
		scan := newDayScan(benchFirst, days, nil)
		err := r.selectSQL(context.Background(), "touch_rows", sql, scan.cols.all(), scan.block)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchScanRows, "ns/row")
}

// BenchmarkReadPageDays: page_rows' columns (52 paths, one of them three views in four, as
// the bench's /blog; 20 000 people) through readPageDays.
func BenchmarkReadPageDays(b *testing.B) {
	r := benchRunner(b)
	sql := `SELECT toUInt16(20454 + number % 30) AS day_number, cityHash64(if(number % 4 = 0, number % 52, 0)) AS path_hash,
		cityHash64(number % 20000) AS person_key, cityHash64(number) AS id
		FROM system.numbers LIMIT 300000`
	for _, sized := range []bool{false, true} {
		b.Run(map[bool]string{false: "grown", true: "sized"}[sized], func(b *testing.B) {
			var events []uint64 // the days' event counts, as the store's prints give them
			if sized {
				events = slices.Repeat([]uint64{benchScanRows / benchDays}, benchDays)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.readPageDays(context.Background(), sql, benchFirst, benchFirst+benchDays, events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchScanRows, "ns/row")
		})
	}
}

// BenchmarkScanStageDays: stage_rows' columns (20 000 people, 8 channels, 4 stages)
// through stageScan.
func BenchmarkScanStageDays(b *testing.B) {
	r := benchRunner(b)
	sql := `SELECT cityHash64(number % 20000) AS person_key,
		bitOr(bitShiftLeft(toUInt64(1767225600 + (number % 30) * 86400 + number % 86400), 32), number % 8) AS item,
		toUInt64(number % 16) AS stages
		FROM system.numbers LIMIT 300000`
	for _, sized := range []bool{false, true} {
		b.Run(map[bool]string{false: "grown", true: "sized"}[sized], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				days := make([]*stageDay, benchDays)
				for i := range days {
					days[i] = &stageDay{start: uint32(benchFirst+uint16(i)) * uint32(day/time.Second), kindOf: map[[2]uint64]uint32{}}
					if sized { // as readStageDays makes them with the days' event counts
						days[i].keys, days[i].items = make([]uint64, 0, benchScanRows/benchDays), make([]uint32, 0, benchScanRows/benchDays)
					}
				}
				scan := &stageScan{first: benchFirst, days: days}
				err := r.selectSQL(context.Background(), "stage_rows", sql, scan.columns(), scan.block)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchScanRows, "ns/row")
		})
	}
}

// BenchmarkReadFunnelDays: funnel_rows' columns through readFunnelDaysSQL with one
// breakdown, the store's read (kept) and one without a store: of every 20 rows 11 of kind
// 1 (an event of a unit, reduced to the unit's first of the day: each unit's about five
// times a day) and 9 of kind 2 (a step event), 20 000 units; the first 240 rows are of
// kind 3 (8 values of the breakdown a day).
func BenchmarkReadFunnelDays(b *testing.B) {
	r := benchRunner(b)
	sql := `SELECT multiIf(number < 240, 3, number % 20 < 11, 1, 2) AS kind, toUInt16(20454 + number % 30) AS day_number,
		if(kind = 3, toUInt64(0), cityHash64(number % 20000)) AS unit_key,
		toUInt32(multiIf(kind = 1, (20454 + number % 30) * 86400 + number % 86400, kind = 2, number % 86400 * 32768 + bitShiftLeft(1, number % 3), 0)) AS t,
		if(kind = 2, toUInt64(0), cityHash64(number % 8)) AS combo,
		if(kind = 3, concat('8:device ', toString(number % 8)), '') AS names
		FROM system.numbers LIMIT 300000`
	for _, keep := range []bool{true, false} {
		b.Run(map[bool]string{true: "kept", false: "unkept"}[keep], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.readFunnelDaysSQL(context.Background(), sql, benchFirst, benchFirst+benchDays, []int{0}, keep); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchScanRows, "ns/row")
		})
	}
}
