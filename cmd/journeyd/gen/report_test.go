package gen

import (
	"github.com/journeyd/journeyd/event/goal"

	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/adminauth"
	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/analysis/report"
	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
	"github.com/journeyd/journeyd/sql/store/schema"
	"github.com/journeyd/journeyd/sql/store/writer"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// stored generates scenario name, stores its events (twice when replay is set, as a spool
// replay would) in a fresh migrated database and returns a runner on it and the output.
func stored(t *testing.T, name string, people int, replay bool) (*report.Runner, *Output) {
	t.Helper()
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	out := generate(t, name, 1, people)
	for i := 0; i < 1+map[bool]int{true: 1}[replay]; i++ {
		if err := insertEvents(ctx, conn, db, out.Events); err != nil {
			t.Fatal(err)
		}
	}
	return &report.Runner{Conn: conn, DB: db}, out
}

// insertEvents stores events in db.events through the batch writer.
func insertEvents(ctx context.Context, conn driver.Conn, db string, events []event.Event) error {
	w, err := writer.New(conn, writer.Config{Database: db, QueueSize: len(events) + 1})
	if err != nil {
		return err
	}
	return errors.Join(w.Write(ctx, events), w.Close(ctx))
}

func run(t *testing.T, r *report.Runner, name string, opts map[string]string) *report.Result {
	t.Helper()
	all := map[string]string{"from": now.Add(-100 * 24 * time.Hour).Format(time.RFC3339), "to": now.Add(time.Hour).Format(time.RFC3339)}
	for k, v := range opts {
		all[k] = v
	}
	req, err := report.ParseRequest("demo", goal.Definitions{}, all, now)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), name, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestShopFunnelAndBarriers: the funnel counts exactly the people the scenario sent through
// each step, once even when every event was stored twice; its rates lie within sampling
// error of the planted ones; barriers puts the broken mobile checkout first.
func TestShopFunnelAndBarriers(t *testing.T) {
	r, out := stored(t, "shop", 3000, true)
	entered := out.Truth["entered"].(map[string][]int)
	req := map[string]string{"steps": ShopSteps, "window": "7d"}
	res := run(t, r, "funnel", map[string]string{"steps": ShopSteps, "window": "7d", "by": "device"})
	for _, row := range res.Tables[0].Rows {
		dev, step, got := row[0].(string), row[1].(int), row[3].(int64)
		if want := entered[dev][step-1]; int(got) != want {
			t.Fatalf("funnel %s step %d: %d people, the scenario sent %d", dev, step, got, want)
		}
		if dev == "mobile" && step == 4 {
			checkRate(t, "mobile checkout to purchase", row[5].(float64), 0.25, entered[dev][2])
		}
	}
	rates := out.Truth["rates"].(map[string]float64)
	res = run(t, r, "funnel", req)
	checkRate(t, "product to cart", res.Tables[0].Rows[1][5].(float64), rates["cart"], entered["all"][0])
	checkRate(t, "cart to checkout", res.Tables[0].Rows[2][5].(float64), rates["checkout"], entered["all"][1])

	// Every shop journey runs in one session (a return visit sees only the home page), so
	// counting sessions gives the same numbers.
	sessions := run(t, r, "funnel", map[string]string{"steps": ShopSteps, "per": "session"})
	for i, row := range sessions.Tables[0].Rows {
		if got := row[3].(int64); int(got) != entered["all"][i] {
			t.Fatalf("per-session funnel step %d: %d sessions, want %d", i+1, got, entered["all"][i])
		}
	}

	// Everyone who checks out views /checkout: excluding that page leaves exactly the people
	// who never reached checkout.
	ex := run(t, r, "funnel", map[string]string{"steps": ShopSteps, "exclude": "pageview:/checkout"}).Tables[0].Rows
	if got, want := ex[0][3].(int64), entered["all"][0]-entered["all"][2]; int(got) != want || ex[2][3].(int64) != 0 {
		t.Fatalf("funnel excluding /checkout: %d enter, %d check out; want %d and 0", got, ex[2][3], want)
	}
	checkStrict(t, r)

	req["by"] = "device,channel,country"
	top := run(t, r, "barriers", req).Tables[0].Rows[0]
	if top[0] != "device" || top[1] != "mobile" || top[2] != 4 {
		t.Fatalf("the top barrier is %v, want device mobile at step 4 (the broken checkout)", top)
	}

	// Every shopper adds to cart at most once and buys within minutes if at all: the
	// abandoned carts are the people who added to cart and never bought, and what they left
	// is the sum of those carts' prices.
	checkDropped(t, r, entered["all"][1]-entered["all"][3], out.Truth["abandoned_value"].(float64))
}

// checkDropped checks that `dropped --did event:add_to_cart --not purchase|order_paid
// --within 1d` lists want people, each once, who left carts worth value in all.
func checkDropped(t *testing.T, r *report.Runner, want int, value float64) {
	t.Helper()
	rows := run(t, r, "dropped", map[string]string{"did": "event:add_to_cart", "not": "purchase|order_paid", "within": "1d", "top": "10000"}).Tables[0].Rows
	seen := map[any]bool{}
	sum := 0.0
	for _, row := range rows {
		seen[row[0]] = true
		sum += row[5].(float64)
	}
	if len(rows) != want || len(seen) != want || sum != value {
		t.Fatalf("dropped lists %d rows of %d people who left %.2f, the scenario abandoned %d carts worth %.2f",
			len(rows), len(seen), sum, want, value)
	}
}

// checkRate fails when got is further than 4 standard errors from the planted rate p over n.
func checkRate(t *testing.T, what string, got, p float64, n int) {
	t.Helper()
	if se := math.Sqrt(p * (1 - p) / float64(n)); math.Abs(got-p) > 4*se {
		t.Fatalf("%s: %.3f, planted %.3f (n %d, 4 SE %.3f)", what, got, p, n, 4*se)
	}
}

// TestEmailChainAttribution: the chain's emails appear in the journeys and in attribution;
// last touch gives each email exactly the purchases the scenario made right after it.
func TestEmailChainAttribution(t *testing.T) {
	r, out := stored(t, "email-chain", 1500, true)
	buys := out.Truth["purchases_by_last_email"].(map[string]int)
	res := run(t, r, "attribution", map[string]string{"by": "campaign", "model": "last,linear,markov"})
	body := res.Body
	data, _ := json.Marshal(body)
	var parsed struct {
		Models []struct {
			Model string `json:"model"`
			Rows  []struct {
				Key           string  `json:"key"`
				Conversions   float64 `json:"conversions"`
				RemovalEffect float64 `json:"removal_effect"`
			} `json:"rows"`
		} `json:"models"`
	}
	if err := json.Unmarshal(data, &parsed); err != nil || len(parsed.Models) != 3 {
		t.Fatalf("attribution JSON %s: %v", data, err)
	}
	got := map[string]map[string]float64{}
	for _, m := range parsed.Models {
		got[m.Model] = map[string]float64{}
		for _, row := range m.Rows {
			got[m.Model][row.Key] = row.Conversions
			if m.Model == "markov" && row.Key == "cart_coupon" && !(row.RemovalEffect > 0) {
				t.Fatalf("markov removal effect of cart_coupon = %v, want > 0", row.RemovalEffect)
			}
		}
	}
	for _, c := range []string{"cart_reminder", "cart_selection", "cart_coupon"} {
		if got["last"][c] != float64(buys[c]) {
			t.Fatalf("last touch credits %s with %v purchases, the scenario made %d", c, got["last"][c], buys[c])
		}
		if got["linear"][c] == 0 {
			t.Fatalf("linear gives %s nothing", c)
		}
	}
	// Everyone leaves a cart; only the reminder, an hour or three after it, brings a
	// purchase within a day (the selection comes 24 hours after the cart, the coupon three
	// days, a direct return five): the rest are abandoned carts.
	checkDropped(t, r, 1500-buys["cart_reminder"], float64(cartPrice*(1500-buys["cart_reminder"])))

	paths := run(t, r, "paths", map[string]string{"by": "campaign", "top": "50"}).Tables[0]
	joined := ""
	for _, row := range paths.Rows {
		joined += row[0].(string) + "\n"
	}
	for _, c := range []string{"cart_reminder", "cart_selection", "cart_coupon"} {
		if !strings.Contains(joined, c) {
			t.Fatalf("no path to purchase goes through %s:\n%s", c, joined)
		}
	}
}

// TestCoffeeRetention: retention shows exactly the return rate the scenario planted.
func TestCoffeeRetention(t *testing.T) {
	r, out := stored(t, "coffee", 2000, false)
	res := run(t, r, "retention", map[string]string{"within": "7d"})
	var people, returned int64
	for _, row := range res.Tables[0].Rows {
		people += int64(row[1].(uint64))
		returned += int64(row[2].(uint64))
	}
	want := out.Truth["return_rate_7d"].(float64)
	if people != 2000 || math.Abs(float64(returned)/float64(people)-want) > 1e-9 {
		t.Fatalf("retention: %d of %d returned, the scenario planted a rate of %.4f", returned, people, want)
	}
	checkRate(t, "return within 7 days", want, 0.4, 2000)
}

// TestWebinarPersonsAndAPI: a person's anonymous visit before sign-up and their later
// purchase are one journey; the API serves the same report as JSON behind the admin token.
func TestWebinarPersonsAndAPI(t *testing.T) {
	r, out := stored(t, "webinar", 1200, false)
	signups, buys := 0, 0
	for _, n := range out.Truth["signups"].(map[string]int) {
		signups += n
	}
	for _, n := range out.Truth["purchases"].(map[string]int) {
		buys += n
	}
	h := adminauth.Guard("admin-token-1", report.Handler(r.Conn, r.DB, map[string]goal.Definitions{"demo": {}}))
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/api/v1/reports/funnel?site=demo&steps=pageview:/webinar,event:webinar_signup,event:purchase&window=30d&from=" +
		now.Add(-60*24*time.Hour).Format("2006-01-02"))
	ctx.Request.Header.Set("Authorization", "Bearer admin-token-1")
	h(&ctx)
	if ctx.Response.StatusCode() != 200 {
		t.Fatalf("GET funnel: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	var body struct {
		Funnel []struct {
			Step    int   `json:"step"`
			Entered int64 `json:"entered"`
		} `json:"funnel"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &body); err != nil || len(body.Funnel) != 3 {
		t.Fatalf("funnel JSON %s: %v", ctx.Response.Body(), err)
	}
	if body.Funnel[0].Entered != 1200 || body.Funnel[1].Entered != int64(signups) || body.Funnel[2].Entered != int64(buys) {
		t.Fatalf("funnel %+v, want 1200 visitors, %d sign-ups, %d buyers (anonymous visit joined to the user)", body.Funnel, signups, buys)
	}
}

// checkStrict: strict order runs where windowFunnel has strict_order, and is refused with a
// clear message elsewhere (18.16); it never counts more people than the plain funnel.
func checkStrict(t *testing.T, r *report.Runner) {
	t.Helper()
	opts := map[string]string{"from": now.Add(-100 * 24 * time.Hour).Format(time.RFC3339), "steps": ShopSteps, "strict": "true"}
	req, err := report.ParseRequest("demo", goal.Definitions{}, opts, now)
	if err != nil {
		t.Fatal(err)
	}
	strict, err := r.Run(context.Background(), "funnel", req)
	v, verr := clickhouse.ServerVersion(r.Conn)
	if verr != nil {
		t.Fatal(verr)
	}
	var usage *report.UsageError
	if !v.AtLeast(clickhouse.Version{Major: 21, Minor: 1}) {
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "21.1") {
			t.Fatalf("strict funnel on ClickHouse %s: error %v, want a usage error naming 21.1", v, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	plain := run(t, r, "funnel", map[string]string{"steps": ShopSteps})
	for i, row := range strict.Tables[0].Rows {
		if row[3].(int64) > plain.Tables[0].Rows[i][3].(int64) {
			t.Fatalf("strict step %d: %v people, more than without strict order (%v)", i+1, row[3], plain.Tables[0].Rows[i][3])
		}
	}
}

// TestReportsAreMemoryBound: every report query runs with the Runner's memory bound
// (max_memory_usage). The shop scenario's 300 people (about 6 000 events, each stored
// twice) need far more than 64 KiB to group into journeys, so with that bound attribution
// fails with ClickHouse's memory limit error (code 241), and with the default bound (6 GiB)
// the same report answers.
func TestReportsAreMemoryBound(t *testing.T) {
	r, _ := stored(t, "shop", 300, true)
	tight := &report.Runner{Conn: r.Conn, DB: r.DB, MaxMemory: 64 << 10}
	req, err := report.ParseRequest("demo", goal.Definitions{}, map[string]string{"from": now.Add(-100 * 24 * time.Hour).Format(time.RFC3339),
		"to": now.Add(time.Hour).Format(time.RFC3339), "model": "all"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tight.Run(context.Background(), "attribution", req); err == nil || !strings.Contains(err.Error(), "241") {
		t.Fatalf("attribution within 64 KiB: err %v, want ClickHouse's memory limit (code 241)", err)
	}
	if _, err := r.Run(context.Background(), "attribution", req); err != nil {
		t.Fatalf("attribution within the default bound: %v", err)
	}
}
