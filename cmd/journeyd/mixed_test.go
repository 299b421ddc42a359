package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/cmd/journeyd/gen"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/erase"
)

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

// mixedTraffic is a browser visit and server-side events mixed as a shop's backend sends
// them, one person per observation of the mixed-journeys issue (t0 is three days ago):
//
//	u1  email visit (pixel, a1) at t0, identify a1→u1 at +1m, server purchase 50 of u1 at
//	    +2h: the session ended at +30m, so the purchase is outside any session.
//	u2  organic search visit (a2, google referrer) at t0+1d, identify a2→u2 at +1m, server
//	    purchase 30 of u2 alone at +10m: it joins the open session.
//	a3  paid social visit (pixel, utm fb/cpc) at t0, /product/1 without referrer at +10m:
//	    a return to the tab, one session.
//	a3b Segment page with utm google/cpc (Paid Search) at t0, a page /about without
//	    referrer at +10m: one session.
//	u6  one Segment flush (identify a6→u6, page, screen, group, alias within ms): one
//	    Direct session; the identify comes first and stays outside.
//	a4  a Direct visit at t0 with a browser purchase 20 (pixel t=event) at +5m, and again at
//	    t0+2d with a purchase 25: a buyer who never used the cart, and a repeat buyer.
//	a5  a referral visit (blog.example) at t0, Segment track "Order Completed" 70 with a5 at
//	    +5m: the Segment e-commerce name is a conversion by default.
//	new an organic social visit (a7, facebook) at t0, identify a7→old at +1m, alias
//	    old→new (both user ids) at +1h, server purchase 40 of new at +3h: one person.
func mixedTraffic(t *testing.T, a *testApp, t0 time.Time) {
	t.Helper()
	pixel := func(at time.Duration, q string) {
		t.Helper()
		u := a.URL + "/p.gif?s=shop&ts=" + fmt.Sprint(t0.Add(at).UnixMilli()) + "&" + q
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("User-Agent", firefox)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 || resp.Header.Get("X-Journeyd-Reject") != "" {
			t.Fatalf("pixel %s: %v %v", q, err, resp.Header)
		}
		resp.Body.Close()
	}
	api := func(path string, at time.Duration, body string) {
		t.Helper()
		body = strings.ReplaceAll(body, "@ts", t0.Add(at).UTC().Format(time.RFC3339Nano))
		req, _ := http.NewRequest("POST", a.URL+"/v1/"+path, strings.NewReader(body))
		req.SetBasicAuth("shop-key", "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST /v1/%s %s: %v %v", path, body, err, resp)
		}
		resp.Body.Close()
	}
	page := func(p string) string { return "u=" + url.QueryEscape("https://shop.example"+p) }
	min := time.Minute
	// u1
	pixel(0, "a=a1&"+page("/?utm_source=newsletter&utm_medium=email"))
	api("identify", min, `{"anonymousId":"a1","userId":"u1","timestamp":"@ts"}`)
	api("track", 2*time.Hour, `{"userId":"u1","event":"purchase","properties":{"revenue":50},"timestamp":"@ts"}`)
	// u2
	day := 24 * time.Hour
	pixel(day, "a=a2&"+page("/")+"&r="+url.QueryEscape("https://www.google.com/"))
	api("identify", day+min, `{"anonymousId":"a2","userId":"u2","timestamp":"@ts"}`)
	api("track", day+10*min, `{"userId":"u2","event":"purchase","properties":{"revenue":30},"timestamp":"@ts"}`)
	// a3, a3b
	pixel(0, "a=a3&"+page("/?utm_source=fb&utm_medium=cpc"))
	pixel(10*min, "a=a3&"+page("/product/1"))
	api("page", 0, `{"anonymousId":"a3b","name":"Home","context":{"page":{"url":"https://shop.example/?utm_source=google&utm_medium=cpc"},"userAgent":"`+firefox+`"},"timestamp":"@ts"}`)
	api("page", 10*min, `{"anonymousId":"a3b","name":"About","context":{"page":{"url":"https://shop.example/about"},"userAgent":"`+firefox+`"},"timestamp":"@ts"}`)
	// u6: one flush, a millisecond apart
	ms := time.Millisecond
	flush := []string{
		`{"type":"identify","anonymousId":"a6","userId":"u6","timestamp":"%s"}`,
		`{"type":"page","anonymousId":"a6","name":"Home","context":{"userAgent":"` + firefox + `"},"timestamp":"%s"}`,
		`{"type":"screen","anonymousId":"a6","name":"Main","timestamp":"%s"}`,
		`{"type":"group","anonymousId":"a6","groupId":"g1","timestamp":"%s"}`,
		`{"type":"alias","previousId":"a6","userId":"u6","timestamp":"%s"}`,
	}
	for i := range flush {
		flush[i] = fmt.Sprintf(flush[i], t0.Add(time.Duration(i)*ms).UTC().Format(time.RFC3339Nano))
	}
	api("batch", 0, `{"batch":[`+strings.Join(flush, ",")+`]}`)
	// a4
	pixel(0, "a=a4&"+page("/"))
	pixel(5*min, "a=a4&t=event&n=purchase&rev=20&"+page("/thanks"))
	pixel(2*day, "a=a4&"+page("/"))
	pixel(2*day+5*min, "a=a4&t=event&n=purchase&rev=25&"+page("/thanks"))
	// a5
	pixel(0, "a=a5&"+page("/")+"&r="+url.QueryEscape("https://blog.example/post"))
	api("track", 5*min, `{"anonymousId":"a5","event":"Order Completed","properties":{"revenue":70},"timestamp":"@ts"}`)
	// new
	pixel(0, "a=a7&"+page("/")+"&r="+url.QueryEscape("https://www.facebook.com/"))
	api("identify", min, `{"anonymousId":"a7","userId":"old","timestamp":"@ts"}`)
	api("alias", time.Hour, `{"previousId":"old","userId":"new","timestamp":"@ts"}`)
	api("track", 3*time.Hour, `{"userId":"new","event":"purchase","properties":{"revenue":40},"timestamp":"@ts"}`)
	// 10 pixels, 3 identify, 4 track, 2 page, 5 in the batch, 1 alias
	a.waitCount(t, "SELECT count() FROM events", 25)
}

// TestMixedJourneys checks every report on mixedTraffic against figures worked out by hand
// from the traffic above (DESIGN §6-§8).
func TestMixedJourneys(t *testing.T) {
	a := startApp(t, "sites:\n  - id: shop\n    write_keys: [shop-key]\n")
	t0 := time.Now().UTC().Add(-3 * 24 * time.Hour).Truncate(time.Second)
	mixedTraffic(t, a, t0)
	ctx := context.Background()
	sessions := func(where string) []string {
		return chtest.Strings(t, ctx, a.Conn, "SELECT DISTINCT session_id FROM events WHERE "+where+" ORDER BY session_id")
	}
	// Observation 1: the server purchase two hours after u1's email visit has no session.
	if s := sessions("user_id = 'u1' AND type = 'server'"); len(s) != 1 || s[0] != "" {
		t.Errorf("u1's late server purchase: sessions %q, want none", s)
	}
	// Observation 2: u2's server purchase joins the search visit's session.
	if s := sessions("anon_id = 'a2' OR user_id = 'u2'"); len(s) != 1 || s[0] == "" {
		t.Errorf("u2's events: sessions %q, want the one of the search visit", s)
	}
	// Observation 3: one session each for a3, a3b and the Segment flush of a6 (whose first
	// event, the identify, stays outside: '' sorts first).
	for who, where := range map[string]string{"a3": "anon_id = 'a3'", "a3b": "anon_id = 'a3b'"} {
		if s := sessions(where); len(s) != 1 || s[0] == "" {
			t.Errorf("%s: sessions %q, want one", who, s)
		}
	}
	if s := sessions("anon_id = 'a6'"); len(s) != 2 || s[0] != "" {
		t.Errorf("a6's flush: sessions %q, want none for the identify and one for the rest", s)
	}
	// The flush's session: the page Home and the screen Main are its two page views (an
	// app's screen is its page view), entering on the page and leaving on the screen.
	if got := chtest.Strings(t, ctx, a.Conn, "SELECT concat(toString(pageviews), ' ', entry_page, ' ', exit_page) FROM sessions_v WHERE anon_id = 'a6'"); fmt.Sprint(got) != "[2  Main]" {
		t.Errorf("a6's session: pageviews, entry and exit %q, want [2  Main] (the page has no path)", got)
	}
	r := &report.Runner{Conn: a.Conn, DB: a.DB}
	run := func(name string, opts map[string]string) *report.Result {
		t.Helper()
		req, err := report.ParseRequest("shop", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(ctx, name, req)
		if err != nil {
			t.Fatalf("report %s: %v", name, err)
		}
		return res
	}
	channels := run("channels", nil)
	checkMixedChannels(t, channels)
	// sessions_v, the view analysts query, agrees with the channels report row for row.
	view := chtest.Strings(t, ctx, a.Conn, `SELECT concat('[', channel, ' ', toString(count()), ' ', toString(uniqExact(if(user_id != '', user_id, anon_id))), ' ',
		toString(sum(conversions)), ' ', toString(sum(revenue)), ']') FROM sessions_v WHERE is_bot = 0
		GROUP BY channel ORDER BY count() DESC, channel`)
	for i, row := range channels.Tables[0].Rows {
		if i >= len(view) || view[i] != fmt.Sprint(row) {
			t.Errorf("sessions_v %v disagrees with the channels report at %v", view, row)
			break
		}
	}
	checkMixedAttribution(t, run("attribution", map[string]string{"model": "all"}))
	// Every one of the six conversions has one touchpoint (before the fix u1's and new's
	// had two: their own Direct session after the visit).
	ttc := run("time-to-convert", nil)
	if got := fmt.Sprint(ttc.Tables[1].Rows[0]); got != "[1 6 1]" {
		t.Errorf("time-to-convert touchpoints: first row %s, want [1 6 1] (6 conversions with one touchpoint)", got)
	}
	checkMixedStages(t, run("stages", nil))
	checkMixedAlias(t, a)
	// The funnel with the site's conversion as its last step counts the server purchases:
	// 8 people viewed a page (u1, u2, a3, a3b, u6, a4, a5, new); 5 converted within 7 days
	// (u1, u2, a4, a5, new). With event:purchase only a4's browser purchase would count.
	f := run("funnel", map[string]string{"steps": "pageview:*,conversion"})
	if got := fmt.Sprint(f.Tables[0].Rows[0][3], f.Tables[0].Rows[1][3]); got != "8 5" {
		t.Errorf("funnel pageview → conversion entered %s, want 8 5", got)
	}
}

// checkMixedChannels: sessions (visits), people, conversions inside them and revenue by
// channel. Direct: a4's two visits and u6's flush (3 sessions, 2 people, a4's purchases
// 20 + 25); Organic Search: u2's visit with its server purchase 30; Referral: a5's visit
// with Order Completed 70; Email, Organic Social, Paid Search, Paid Social: one visit each,
// no conversion inside (u1's and new's purchases came after their sessions ended). No row
// for a session made of a server event.
func checkMixedChannels(t *testing.T, res *report.Result) {
	t.Helper()
	want := []string{
		"[Direct 3 2 2 45]", "[Email 1 1 0 0]", "[Organic Search 1 1 1 30]", "[Organic Social 1 1 0 0]",
		"[Paid Search 1 1 0 0]", "[Paid Social 1 1 0 0]", "[Referral 1 1 1 70]",
	}
	var got []string
	for _, row := range res.Tables[0].Rows {
		got = append(got, fmt.Sprint(row))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("channels:\n got %v\nwant %v", got, want)
	}
}

// checkMixedAttribution: every conversion's journey has exactly one touchpoint (u1: Email;
// u2: Organic Search; a4: Direct, then Direct after the first purchase; a5: Referral; new:
// Organic Social, through the alias), so every model gives the same conversions: Direct 2,
// the others 1 each; and the heuristic models and Shapley the same value: Direct 20 + 25 =
// 45, Referral 70, Email 50, Organic Social 40, Organic Search 30. Markov credits value in
// proportion to the removal effects (Direct 2/6, the others 1/6 each) of the total 235:
// Direct 78.33, the others 39.17. Paid Search and Paid Social only start null paths: 0.
// Before the fix last touch gave u1's and new's purchases to Direct.
func checkMixedAttribution(t *testing.T, res *report.Result) {
	t.Helper()
	want := map[string][2]float64{"Direct": {2, 45}, "Referral": {1, 70}, "Email": {1, 50},
		"Organic Social": {1, 40}, "Organic Search": {1, 30}, "Paid Search": {0, 0}, "Paid Social": {0, 0}}
	for _, row := range res.Tables[0].Rows {
		model, key := row[0].(string), row[1].(string)
		w, ok := want[key]
		if model == "markov" && w[0] > 0 {
			w[1] = math.Round(235*w[0]/6*100) / 100
		}
		conv, value := toF(row[2]), toF(row[3])
		if !ok || !near(conv, w[0]) || !near(value, w[1]) {
			t.Errorf("attribution %s %s: %v conversions worth %v, want %v", model, key, conv, value, w)
		}
	}
	if len(res.Tables[0].Rows) != 8*len(want) {
		t.Errorf("attribution: %d rows, want %d (8 models × 7 channels)", len(res.Tables[0].Rows), 8*len(want))
	}
}

// checkMixedStages: awareness is anyone with an event (8 people); consideration a3's
// /product/1 and the 5 buyers (a buyer reaches every stage up to purchase); decision and
// purchase the 5 buyers (u1, u2, a4, a5, new), though none used the cart or checkout;
// retention a4, whose second purchase came two days after the first; advocacy nobody.
func checkMixedStages(t *testing.T, res *report.Result) {
	t.Helper()
	var got []string
	for _, row := range res.Tables[0].Rows {
		got = append(got, fmt.Sprint(row[1], " ", row[2]))
	}
	want := "awareness 8, consideration 6, decision 5, purchase 5, retention 1, advocacy 0"
	if strings.Join(got, ", ") != want {
		t.Errorf("stages: %s, want %s", strings.Join(got, ", "), want)
	}
}

// checkMixedAlias: the alias old→new makes one person of both user ids. The journey of
// either id is new's: a7's organic social visit, the identify, the alias and the purchase
// (4 events), one session, one conversion worth 40. Erasing new takes old's events and a7's
// device too: users new and old, anonymous ids new, old and a7, and all 4 events.
func checkMixedAlias(t *testing.T, a *testApp) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{"new", "old", "a7"} {
		j, err := journey.Person(ctx, a.Conn, a.DB, "shop", id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Person != "new" || len(j.Touchpoints) != 4 || len(j.Sessions) != 1 || len(j.Conversions) != 1 || j.Conversions[0].Revenue != 40 {
			t.Errorf("journey of %s: person %s, %d events, %d sessions, %d conversions; want new, 4, 1, 1 worth 40",
				id, j.Person, len(j.Touchpoints), len(j.Sessions), len(j.Conversions))
		}
	}
	// u1's journey as text: the email session, then the purchase outside any session.
	j, err := journey.Person(ctx, a.Conn, a.DB, "shop", "u1")
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := journey.Write(&text, j, "text"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 session,", "[Email]", "Outside any session", "purchase  50.00   outside any session"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("journey of u1 lacks %q:\n%s", want, text.String())
		}
	}
	p, err := erase.Find(ctx, a.Conn, a.DB, "shop", "new")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(p.UserIDs)
	sort.Strings(p.AnonIDs)
	if fmt.Sprint(p.UserIDs, p.AnonIDs, p.Events) != "[new old] [a7 new old] 4" {
		t.Errorf("erasing new: users %v, anons %v, %d events; want [new old] [a7 new old] 4", p.UserIDs, p.AnonIDs, p.Events)
	}
}

func toF(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case int:
		return float64(x)
	}
	return -1
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

// TestGenMixedThroughCollector sends gen's mixed scenario (web visits, email touches, and
// sign-ups and orders the backend reports with the user id alone) through a real journeyd,
// and checks that every report recovers the truth the scenario planted: the orders, each
// credited to the touchpoints before it and never to Direct.
func TestGenMixedThroughCollector(t *testing.T) {
	a := startApp(t, "sites:\n  - id: demo\n    origins: ['https://demo.example']\n    write_keys: [demo-key]\n")
	out, err := gen.Generate("mixed", gen.Options{Seed: 3, People: 600, Site: "demo", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	s := &gen.Sender{Target: a.URL, WriteKey: "demo-key", Client: &http.Client{Timeout: time.Minute}}
	if err := s.Send(context.Background(), out.Events); err != nil {
		t.Fatal(err)
	}
	a.waitCount(t, "SELECT count() FROM events", uint64(len(out.Events)))
	truth := out.Truth
	visits, orders := truth["visits"].(map[string]int), truth["orders"].(int)
	r := &report.Runner{Conn: a.Conn, DB: a.DB}
	run := func(name string, opts map[string]string) *report.Result {
		t.Helper()
		opts["from"] = time.Now().AddDate(0, 0, -30).Format(time.RFC3339)
		req, err := report.ParseRequest("demo", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Run(context.Background(), name, req)
		if err != nil {
			t.Fatalf("report %s: %v", name, err)
		}
		return res
	}
	// channels: one session per visit the scenario made, by its channel; no order inside
	// any (each came hours after the last visit), so no conversions, and no Direct
	// sessions beyond the direct first visits.
	for _, row := range run("channels", map[string]string{}).Tables[0].Rows {
		ch, sessions, conv := row[0].(string), toF(row[1]), toF(row[3])
		if int(sessions) != visits[ch] || conv != 0 {
			t.Errorf("channels %s: %v sessions, %v conversions; want %d and 0", ch, sessions, conv, visits[ch])
		}
	}
	// attribution: first and last touch give each channel the orders planted for it; every
	// model credits all orders, at MixedPrice each.
	want := map[string]map[string]int{"first": truth["first_touch"].(map[string]int), "last": truth["last_touch"].(map[string]int)}
	total := map[string]float64{}
	for _, row := range run("attribution", map[string]string{"model": "all"}).Tables[0].Rows {
		model, ch, conv := row[0].(string), row[1].(string), toF(row[2])
		total[model] += conv
		if w, ok := want[model]; ok && !near(conv, float64(w[ch])) {
			t.Errorf("attribution %s %s: %v orders, want %d", model, ch, conv, w[ch])
		}
	}
	for model, n := range total {
		if math.Abs(n-float64(orders)) > 0.01 { // each row is rounded to 3 decimals
			t.Errorf("attribution %s credits %v orders, want %d", model, n, orders)
		}
	}
	// time-to-convert: orders by number of touchpoints (1, 2 or 4).
	byTouches := truth["orders_by_touchpoints"].(map[int]int)
	for _, row := range run("time-to-convert", map[string]string{}).Tables[1].Rows {
		var n int
		fmt.Sscan(row[0].(string), &n)
		if got := toF(row[1]); int(got) != byTouches[n] {
			t.Errorf("time-to-convert %s touchpoints: %v orders, want %d", row[0], got, byTouches[n])
		}
	}
	// stages: everyone is aware; the sign-ups considered; the buyers decided and bought.
	signups := truth["signups"].(int)
	var got []string
	for _, row := range run("stages", map[string]string{}).Tables[0].Rows {
		got = append(got, fmt.Sprint(row[2]))
	}
	if w := fmt.Sprint(600, signups, orders, orders, 0, 0); strings.Join(got, " ") != w {
		t.Errorf("stages people %v, want %s", got, w)
	}
	// the funnel to the site's conversion counts the backend's orders.
	f := run("funnel", map[string]string{"steps": "pageview:/,event:signup,conversion"})
	var entered []string
	for _, row := range f.Tables[0].Rows {
		entered = append(entered, fmt.Sprint(row[3]))
	}
	if w := fmt.Sprint(600, signups, orders); strings.Join(entered, " ") != w {
		t.Errorf("funnel entered %v, want %s", entered, w)
	}
}
