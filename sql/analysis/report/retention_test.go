package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

// retentionTraffic: purchases (the default cohort, first purchase, and return event, a
// purchase again) from Monday 2026-01-05 on; the period ends on Monday 2026-02-16 00:00.
// A person is in a window's cohort once t0 + window <= 02-16 00:00, that is for 7d a first
// purchase up to 02-09 00:00, for 14d up to 02-02 00:00, for 30d up to 01-17 00:00.
//   - week of 01-05: A buys 01-05 and again 3 days later; B 01-06 and 10 days later; C 01-07
//     and 20 days later; D once on 01-07 (and browses on 01-20). All four are in every
//     window; A returns within 7d, B within 14d but not 7d, C within 30d alone, D never.
//   - week of 01-12: I buys 01-12 10:00 and again exactly 7 days later (a window's end is
//     inside it); J buys 01-13 as j-anon, signs in as user-j, and the backend reports
//     user-j's purchase 17 days later (one person): within 30d alone. Both in every window.
//   - week of 01-19: E browses 01-05, buys first on 01-20 and again 5 days later; F buys
//     01-21 and 11 days later. 01-20 + 30d is past the end: the week has no 30d cohort.
//   - week of 02-02: G buys 02-05 and 3 days later: in the 7d cohort alone (02-05 + 14d is
//     02-19).
//   - H buys 02-12: 7 days later is 02-19, in no window's cohort.
//   - a bot buys on 01-05 and 01-06: left out.
//
// Expected, window by window (people, returned, rate):
//
//	7d:  01-05: A B C D 4, A 1, 0.25;  01-12: I J 2, I 1, 0.5;  01-19: E F 2, E 1, 0.5;
//	     02-02: G 1, 1, 1
//	14d: 01-05: 4, A B 2, 0.5;  01-12: 2, I 1, 0.5;  01-19: 2, E F 2, 1
//	30d: 01-05: 4, A B C 3, 0.75;  01-12: 2, I J 2, 1
var retentionTraffic = []planted{
	{"event", "purchase", "a", "", "sa1", "2026-01-05 10:00:00", "/", "Email", "", "", "", 10, ""},
	{"event", "purchase", "a", "", "sa2", "2026-01-08 10:00:00", "/", "Email", "", "", "", 10, ""},
	{"event", "purchase", "b", "", "sb1", "2026-01-06 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "b", "", "sb2", "2026-01-16 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "c", "", "sc1", "2026-01-07 12:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "c", "", "sc2", "2026-01-27 12:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "d", "", "sd1", "2026-01-07 09:00:00", "/", "Direct", "", "", "", 10, ""},
	{"pageview", "", "d", "", "sd2", "2026-01-20 09:00:00", "/", "Direct", "", "", "", 0, ""},
	{"event", "purchase", "i", "", "si1", "2026-01-12 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "i", "", "si2", "2026-01-19 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"identify", "", "j-anon", "user-j", "sj1", "2026-01-13 09:59:00", "", "", "", "", "", 0, ""},
	{"event", "purchase", "j-anon", "", "sj1", "2026-01-13 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"server", "purchase", "", "user-j", "", "2026-01-30 10:00:00", "", "", "", "", "", 10, ""},
	{"pageview", "", "e", "", "se1", "2026-01-05 08:00:00", "/", "Direct", "", "", "", 0, ""},
	{"event", "purchase", "e", "", "se2", "2026-01-20 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "e", "", "se3", "2026-01-25 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "f", "", "sf1", "2026-01-21 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "f", "", "sf2", "2026-02-01 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "g", "", "sg1", "2026-02-05 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "g", "", "sg2", "2026-02-08 10:00:00", "/", "Direct", "", "", "", 10, ""},
	{"event", "purchase", "h", "", "sh1", "2026-02-12 10:00:00", "/", "Direct", "", "", "", 10, ""},
}

// retentionWant are the rows worked out above, "week people returned rate" per window.
var retentionWant = map[string][]string{
	"7d":  {"2026-01-05 4 1 0.25", "2026-01-12 2 1 0.5", "2026-01-19 2 1 0.5", "2026-02-02 1 1 1"},
	"14d": {"2026-01-05 4 2 0.5", "2026-01-12 2 1 0.5", "2026-01-19 2 2 1"},
	"30d": {"2026-01-05 4 3 0.75", "2026-01-12 2 2 1"},
}

func plantRetention(t *testing.T) *report.Runner {
	t.Helper()
	conn, db := journeytest.Database(t)
	insertPlanted(t, conn, retentionTraffic)
	insertPlanted(t, conn, retentionTraffic) // stored twice, as a replay would: nothing may change
	var bots []event.Event
	for i, at := range []string{"2026-01-05 10:00:00", "2026-01-06 10:00:00"} {
		e := journeytest.Planted(t, i, "event", "purchase", "bot", "", "sbot", at, "/", "Direct", "", "", "", 10, "")
		e.ID, e.IsBot = fmt.Sprintf("bot-%d", i), true
		bots = append(bots, e)
	}
	journeytest.Insert(t, conn, bots)
	return &report.Runner{Conn: conn, DB: db}
}

// cellText writes a report cell as the tests compare it: dates as YYYY-MM-DD.
func cellText(c any) string {
	if tm, ok := c.(time.Time); ok {
		return tm.Format(time.DateOnly)
	}
	return fmt.Sprint(c)
}

// retentionRows runs retention with within and returns its rows as "[within ]week people
// returned rate" and its columns.
func retentionRows(t *testing.T, r *report.Runner, within string) ([]string, []string) {
	t.Helper()
	opts := map[string]string{"from": "2026-01-05", "to": "2026-02-16", "within": within}
	req, err := report.ParseRequest("shop", goal.Definitions{}, opts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), "retention", req)
	if err != nil {
		t.Fatalf("retention within %s: %v", within, err)
	}
	var rows []string
	for _, row := range res.Tables[0].Rows {
		var cells []string
		for _, c := range row {
			cells = append(cells, cellText(c))
		}
		rows = append(rows, strings.Join(cells, " "))
	}
	return rows, res.Tables[0].Columns
}

// TestRetentionWindows: each window alone answers the rows worked out beside
// retentionTraffic, with the columns of one window; the three windows in one request answer
// the same rows, each with its within, shortest window first; so do they in any order given,
// as JSON on the HTTP API, and in the CLI's table.
func TestRetentionWindows(t *testing.T) {
	r := plantRetention(t)
	var all []string
	for _, w := range []string{"7d", "14d", "30d"} {
		rows, cols := retentionRows(t, r, w)
		if strings.Join(cols, " ") != "cohort_week people returned rate" {
			t.Fatalf("retention within %s: columns %q, want those of one window", w, cols)
		}
		if !reflect.DeepEqual(rows, retentionWant[w]) {
			t.Errorf("retention within %s:\n%q\nwant (worked out beside retentionTraffic):\n%q", w, rows, retentionWant[w])
		}
		for _, row := range rows {
			all = append(all, w+" "+row)
		}
	}
	for _, within := range []string{"7d,14d,30d", "30d,7d,14d", "14d, 30d ,168h"} {
		rows, cols := retentionRows(t, r, within)
		if strings.Join(cols, " ") != "within cohort_week people returned rate" {
			t.Fatalf("retention within %s: columns %q, want within first", within, cols)
		}
		// The order given does not matter, and 168 hours are 7 days, named 7d.
		if !reflect.DeepEqual(rows, all) {
			t.Errorf("retention within %s:\n%q\nwant the single windows' rows, each with its window:\n%q", within, rows, all)
		}
	}

	// The API: one row object per window and week, the window as text.
	h := report.Handler(r.Conn, r.DB, map[string]goal.Definitions{"shop": {}})
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/api/v1/reports/retention?site=shop&from=2026-01-05&to=2026-02-16&within=7d,14d,30d")
	h(&ctx)
	var body struct {
		Retention []struct {
			Within     string  `json:"within"`
			CohortWeek string  `json:"cohort_week"`
			People     int     `json:"people"`
			Returned   int     `json:"returned"`
			Rate       float64 `json:"rate"`
		} `json:"retention"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &body); err != nil || ctx.Response.StatusCode() != 200 {
		t.Fatalf("GET retention: %d %s (%v)", ctx.Response.StatusCode(), ctx.Response.Body(), err)
	}
	var api []string
	for _, o := range body.Retention {
		api = append(api, fmt.Sprintf("%s %s %d %d %v", o.Within, o.CohortWeek[:10], o.People, o.Returned, o.Rate))
	}
	if !reflect.DeepEqual(api, all) {
		t.Errorf("GET retention within=7d,14d,30d:\n%q\nwant:\n%q", api, all)
	}

	// The CLI's table: one table, the window in its first column.
	req, err := report.ParseRequest("shop", goal.Definitions{}, map[string]string{"from": "2026-01-05", "to": "2026-02-16", "within": "30d,14d"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), "retention", req)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := report.Write(&text, res, "table"); err != nil {
		t.Fatal(err)
	}
	wantText := `# retention
within  cohort_week  people  returned  rate
14d     2026-01-05   4       2         0.5
14d     2026-01-12   2       1         0.5
14d     2026-01-19   2       2         1
30d     2026-01-05   4       3         0.75
30d     2026-01-12   2       2         1
`
	if text.String() != wantText {
		t.Errorf("retention within 30d,14d as a table:\n%s\nwant:\n%s", text.String(), wantText)
	}
}
