package report_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/analysis/report"
)

// planted is one event of the overview test: "type name anon user session time path
// channel device country browser revenue props", props as k=v,k=v.
type planted struct {
	typ, name, anon, user, session, at, path, channel, device, country, browser string
	revenue                                                                     float64
	props                                                                       string
}

// overviewTraffic: the current period is 2026-01-02 and 01-03, the previous one 2025-12-31
// and 2026-01-01.
//   - s1 (a1, 01-02, Email, mobile, DE, Safari): /, /product/x, a purchase of 50 with coupon=XMAS;
//   - s2 (a2, 01-02, Organic Search, desktop, US): /; a2 came before, in s0 on 01-01;
//   - s3 (a3, 01-03, no channel: Direct, desktop, US): /pricing, then identifies as u3 with
//     plan=pro; u3 buys for 30 at 15:00, a server event outside any session;
//   - previous period: s0 (a2, 01-01, Organic Search, desktop) and s9 (a4, 12-31, Email,
//     mobile) with a purchase of 20.
var overviewTraffic = []planted{
	{"pageview", "", "a1", "", "s1", "2026-01-02 10:00:00", "/", "Email", "mobile", "DE", "Safari", 0, ""},
	{"pageview", "", "a1", "", "s1", "2026-01-02 10:05:00", "/product/x", "", "mobile", "DE", "Safari", 0, ""},
	{"event", "purchase", "a1", "", "s1", "2026-01-02 10:10:00", "/product/x", "", "mobile", "DE", "Safari", 50, "coupon=XMAS"},
	{"pageview", "", "a2", "", "s2", "2026-01-02 12:00:00", "/", "Organic Search", "desktop", "US", "Chrome", 0, ""},
	{"pageview", "", "a3", "", "s3", "2026-01-03 09:00:00", "/pricing", "", "desktop", "US", "Chrome", 0, ""},
	{"identify", "", "a3", "u3", "s3", "2026-01-03 09:01:00", "", "", "", "", "", 0, "plan=pro"},
	{"server", "purchase", "", "u3", "", "2026-01-03 15:00:00", "", "", "", "", "", 30, ""},
	{"pageview", "", "a2", "", "s0", "2026-01-01 08:00:00", "/", "Organic Search", "desktop", "US", "Chrome", 0, ""},
	{"pageview", "", "a4", "", "s9", "2025-12-31 20:00:00", "/", "Email", "mobile", "DE", "Safari", 0, ""},
	{"event", "purchase", "a4", "", "s9", "2025-12-31 20:05:00", "/", "Email", "mobile", "DE", "Safari", 20, ""},
}

func insertPlanted(t *testing.T, conn driver.Conn, events []planted) {
	t.Helper()
	es := make([]event.Event, len(events))
	for i, e := range events {
		es[i] = journeytest.Planted(t, i, e.typ, e.name, e.anon, e.user, e.session, e.at, e.path, e.channel,
			e.device, e.country, e.browser, e.revenue, e.props)
	}
	journeytest.Insert(t, conn, es)
}

func plantOverview(t *testing.T) *report.Runner {
	t.Helper()
	conn, db := journeytest.Database(t)
	insertPlanted(t, conn, overviewTraffic)
	insertPlanted(t, conn, overviewTraffic) // stored twice, as a replay would: nothing may change
	return &report.Runner{Conn: conn, DB: db}
}

func runReport(t *testing.T, r *report.Runner, name string, opts map[string]string) map[string][]map[string]any {
	t.Helper()
	all := map[string]string{"from": "2026-01-02", "to": "2026-01-04"}
	for k, v := range opts {
		all[k] = v
	}
	req, err := report.ParseRequest("shop", goal.Definitions{}, all, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), name, req)
	if err != nil {
		t.Fatalf("report %s %v: %v", name, opts, err)
	}
	b, _ := json.Marshal(res.JSON())
	var out map[string][]map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// totals returns the overview's totals as "metric=value/previous" in order.
func totals(t *testing.T, r *report.Runner, filter string) string {
	t.Helper()
	var parts []string
	for _, row := range runReport(t, r, "overview", map[string]string{"filter": filter, "interval": "day"})["totals"] {
		parts = append(parts, fmt.Sprintf("%s=%v/%v", row["metric"], row["value"], row["previous"]))
	}
	return strings.Join(parts, " ")
}

// TestOverview checks the overview's totals and day buckets against the planted traffic.
func TestOverview(t *testing.T) {
	r := plantOverview(t)
	res := runReport(t, r, "overview", map[string]string{"interval": "day"})
	// Current: sessions s1, s2, s3 of a1, a2 and u3 (a3 resolves to u3); conversions s1's 50
	// and u3's server purchase of 30 (outside any session, still the person's): 2 by 2 of the
	// 3 visitors. Previous: s0 and s9 of a2 and a4, one conversion of 20 by 1 of 2.
	want := "visitors=3/2 sessions=3/2 conversions=2/1 conversion_rate=0.6667/0.5 revenue=80/20"
	if got := totals(t, r, ""); got != want {
		t.Errorf("overview totals %s, want %s", got, want)
	}
	if change := res["totals"][0]["change"]; change != 0.5 {
		t.Errorf("visitors change %v, want 0.5 (3 against 2)", change)
	}
	// Day 0 (01-02): s1 and s2, a1's purchase; day 1 (01-03): s3 and u3's purchase. Previous
	// day 0 (12-31): s9 with its purchase; day 1 (01-01): s0.
	var days []string
	for _, row := range res["series"] {
		days = append(days, fmt.Sprintf("%s %v/%v %v/%v %v/%v", row["start"], row["sessions"], row["previous_sessions"],
			row["conversions"], row["previous_conversions"], row["revenue"], row["previous_revenue"]))
	}
	if got := strings.Join(days, "; "); got != "2026-01-02 2/1 1/1 50/20; 2026-01-03 1/1 1/0 30/0" {
		t.Errorf("overview series %q", got)
	}
	if res["series"][0]["previous_start"] != "2025-12-31" {
		t.Errorf("first previous bucket starts %v, want 2025-12-31", res["series"][0]["previous_start"])
	}
	hours := runReport(t, r, "overview", map[string]string{"from": "2026-01-02", "to": "2026-01-03"})["series"]
	if len(hours) != 24 || hours[10]["sessions"] != 1.0 || hours[12]["sessions"] != 1.0 || hours[10]["start"] != "2026-01-02 10:00" {
		t.Errorf("a one-day period has %d buckets (want 24, hours 10 and 12 with one session each): %v", len(hours), hours)
	}
}

// TestFilters checks each kind of filter term on the overview, the top lists and the
// channels report.
func TestFilters(t *testing.T) {
	r := plantOverview(t)
	f := func(filter, want string) {
		t.Helper()
		if got := totals(t, r, filter); got != want {
			t.Errorf("filter %q: totals %s, want %s", filter, got, want)
		}
	}
	// Email: s1 and, before, s9; u3's server purchase is outside any session and goes.
	f("channel=Email", "visitors=1/1 sessions=1/1 conversions=1/1 conversion_rate=1/1 revenue=50/20")
	// Direct is a visit without a channel: s3 only; its purchase came outside the session.
	f("channel=Direct", "visitors=1/0 sessions=1/0 conversions=0/0 conversion_rate=0/0 revenue=0/0")
	f("channel!=Email", "visitors=2/1 sessions=2/1 conversions=0/0 conversion_rate=0/0 revenue=0/0")
	f("device=desktop;country=US", "visitors=2/1 sessions=2/1 conversions=0/0 conversion_rate=0/0 revenue=0/0")
	f("page=/product/*", "visitors=1/0 sessions=1/0 conversions=1/0 conversion_rate=1/0 revenue=50/0")
	f("entry_page=/pricing", "visitors=1/0 sessions=1/0 conversions=0/0 conversion_rate=0/0 revenue=0/0")
	f("event=purchase", "visitors=1/1 sessions=1/1 conversions=1/1 conversion_rate=1/1 revenue=50/20")
	f("prop.coupon=XMAS", "visitors=1/0 sessions=1/0 conversions=1/0 conversion_rate=1/0 revenue=50/0")
	// plan=pro: every event of u3 and of a3 linked to them, the server purchase included.
	f("trait.plan=pro", "visitors=1/0 sessions=1/0 conversions=1/0 conversion_rate=1/0 revenue=30/0")
	f("trait.plan!=pro", "visitors=2/2 sessions=2/2 conversions=1/1 conversion_rate=0.5/0.5 revenue=50/20")
	// Returning: seen before the current period: a2 (s2, and s0 itself) and a4 (s9, in the
	// previous period, so all of it). New: a1, a3, and the purchase with no anonymous id.
	f("visitor=returning", "visitors=1/2 sessions=1/2 conversions=0/1 conversion_rate=0/0.5 revenue=0/20")
	f("visitor=new", "visitors=2/0 sessions=2/0 conversions=2/0 conversion_rate=1/0 revenue=80/0")

	top := func(dim, filter, want string) {
		t.Helper()
		var rows []string
		res := runReport(t, r, "top", map[string]string{"dimension": dim, "filter": filter})
		for _, row := range append(res["top"], res["pages"]...) {
			rows = append(rows, fmt.Sprintf("%v %v %v", row["value"], row["people"], row["conversions"]))
		}
		if got := strings.Join(rows, "; "); got != want {
			t.Errorf("top %s filter %q: %q, want %q", dim, filter, got, want)
		}
	}
	top("channel", "", "Direct 1 0; Email 1 1; Organic Search 1 0")
	top("device", "", "desktop 2 0; mobile 1 1")
	top("entry_page", "", "/ 2 1; /pricing 1 0")
	top("browser", "channel=Email", "Safari 1 1")
	top("campaign", "", "(none) 3 1")
	// page: people and pageviews; '/' by a1 and a2, each once.
	top("page", "", "/ 2 <nil>; /pricing 1 <nil>; /product/x 1 <nil>")
	top("page", "device=mobile", "/ 1 <nil>; /product/x 1 <nil>")
	// Several at once, each dimension's rows together, in the order of the dimension names.
	top("device,channel,page", "country=US", "Direct 1 0; Organic Search 1 0; desktop 2 0; / 1 <nil>; /pricing 1 <nil>")

	ch := runReport(t, r, "channels", map[string]string{"filter": "device=mobile"})["channels"]
	if len(ch) != 1 || ch[0]["channel"] != "Email" || ch[0]["revenue"] != 50.0 {
		t.Errorf("channels on mobile: %v, want Email alone with 50", ch)
	}
}

// TestPersonAPI checks /api/v1/person answers a person's journey: a3 resolves to u3, whose
// journey holds s3's page view, the identify call and the server purchase.
func TestPersonAPI(t *testing.T) {
	r := plantOverview(t)
	h := report.PersonHandler(r.Conn, r.DB, map[string]goal.Definitions{"shop": {}})
	get := func(uri string) (int, map[string]any) {
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI(uri)
		h(&ctx)
		var body map[string]any
		json.Unmarshal(ctx.Response.Body(), &body)
		return ctx.Response.StatusCode(), body
	}
	status, j := get("/api/v1/person?site=shop&id=a3")
	if status != 200 || j["person"] != "u3" {
		t.Fatalf("person a3: %d %v, want 200 and person u3", status, j)
	}
	if tps, convs := j["touchpoints"].([]any), j["conversions"].([]any); len(tps) != 3 || len(convs) != 1 {
		t.Errorf("u3 has %d touchpoints and %d conversions, want 3 (page view, identify, purchase) and 1", len(tps), len(convs))
	}
	if status, _ := get("/api/v1/person?site=shop&id=nobody"); status != 404 {
		t.Errorf("an unknown person: status %d, want 404", status)
	}
	if status, _ := get("/api/v1/person?site=elsewhere&id=a3"); status != 404 {
		t.Errorf("an unknown site: status %d, want 404", status)
	}
}

// TestEveryReportHonoursTheFilter runs every report with a filter on ClickHouse: each query
// must run with it, and the funnel to the conversion counts only the mobile session s1.
func TestEveryReportHonoursTheFilter(t *testing.T) {
	r := plantOverview(t)
	opts := map[string]string{"filter": "device=mobile", "steps": "pageview:/,conversion", "after": "pageview:/", "by": "device", "did": "pageview:/"}
	for _, name := range report.Names() {
		o := opts
		if name == "attribution" || name == "paths" || name == "time-to-convert" {
			o = map[string]string{"filter": "device=mobile", "by": "channel"}
		}
		res := runReport(t, r, name, o)
		if name != "funnel" {
			continue
		}
		// Unfiltered, a1, a2 and u3 view / or /pricing; on mobile only a1 views / and buys.
		var got []string
		for _, row := range res["funnel"] {
			got = append(got, fmt.Sprintf("%v:%v", row["segment"], row["entered"]))
		}
		if strings.Join(got, " ") != "mobile:1 mobile:1" {
			t.Errorf("funnel on mobile by device: %v, want mobile:1 mobile:1", got)
		}
	}
}
