package snowplow

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/event"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ms is now in epoch milliseconds, as the tracker writes times.
const ms = "1772366400000"

// webPage is the contexts field the browser tracker attaches to every event.
const webPage = `{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0\",\"data\":{\"id\":\"wp-1\"}}]}`

// batch is a tp2 body as @snowplow/browser-tracker 4 posts it: a page view, a structured
// event, a self-describing event, a page ping, a transaction and one of an unknown type.
// The device clock runs 2 000 ms behind: dtm and stm are both 2 s early, and the page view
// was created 500 ms before the batch was sent.
const batch = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[
{"e":"pv","aid":"shop","eid":"e1","tv":"js-4.10.1","tna":"sp","p":"web","duid":"d-1","sid":"s-1","url":"https://shop.example/p?utm_source=x","refr":"https://www.google.com/","page":"Kettle","dtm":"1772366397500","stm":"1772366398000","co":"` + webPage + `"},
{"e":"se","aid":"shop","eid":"e2","duid":"d-1","sid":"s-1","uid":"ada","se_ca":"video","se_ac":"play","se_la":"intro","se_pr":"hd","se_va":"1.5","dtm":"1772366398000","stm":"1772366398000"},
{"e":"ue","aid":"shop","eid":"e3","duid":"d-1","sid":"s-1","ue_pr":"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\",\"data\":{\"schema\":\"iglu:com.acme/add_to_cart/jsonschema/1-0-0\",\"data\":{\"sku\":\"k1\",\"qty\":2,\"item\":{\"color\":\"red\"}}}}","dtm":"1772366398000","stm":"1772366398000"},
{"e":"pp","aid":"shop","eid":"e4","duid":"d-1","sid":"s-1","pp_may":"300","dtm":"1772366398000","stm":"1772366398000"},
{"e":"tr","aid":"shop","eid":"e5","duid":"d-1","sid":"s-1","tr_id":"o-9","tr_tt":"49.90","tr_cu":"EUR","tr_tx":"8","dtm":"1772366398000","stm":"1772366398000"},
{"e":"zz","aid":"shop","eid":"e6"},
7]}`

func TestParsePost(t *testing.T) {
	var p Parser
	b, err := p.ParsePost(nil, nil, []byte(batch), now)
	if err != nil {
		t.Fatal(err)
	}
	// 7 entries: the unknown type and the number are dropped.
	if string(b.App) != "shop" || len(b.Events) != 5 || len(b.Meta) != 5 || b.Dropped != 2 {
		t.Fatalf("app %q, %d events, %d meta, %d dropped; want shop, 5, 5, 2", b.App, len(b.Events), len(b.Meta), b.Dropped)
	}
	pv, se, ue, pp, tr := &b.Events[0], &b.Events[1], &b.Events[2], &b.Events[3], &b.Events[4]
	f := func(e *event.Event, typ, name string) {
		t.Helper()
		if e.Type != typ || e.Name != name || e.AnonID != "d-1" || e.SessionID != "s-1" || !e.ReceivedAt.Equal(now) {
			t.Errorf("%s: %s %q anon %q session %q; want %s %q, d-1, s-1", e.ID, e.Type, e.Name, e.AnonID, e.SessionID, typ, name)
		}
	}
	f(pv, event.TypePageview, "")
	f(se, event.TypeEvent, "play")
	f(ue, event.TypeEvent, "add_to_cart")
	f(pp, event.TypeLeave, "page_ping")
	f(tr, event.TypeEvent, "purchase")
	if pv.URL != "https://shop.example/p?utm_source=x" || pv.Referrer != "https://www.google.com/" || pv.Title != "Kettle" || pv.Library != "js-4.10.1" {
		t.Errorf("page view: %q %q %q lib %q", pv.URL, pv.Referrer, pv.Title, pv.Library)
	}
	// dtm is 500 ms before stm: ts = now − 500 ms, whatever the device clock says.
	if want := now.Add(-500 * time.Millisecond); !pv.TS.Equal(want) {
		t.Errorf("page view at %v, want %v", pv.TS, want)
	}
	if !se.TS.Equal(now) {
		t.Errorf("structured event at %v, want now (dtm = stm)", se.TS)
	}
	wantProps(t, pv, "web_page.id", "wp-1")
	wantProps(t, se, "category", "video", "action", "play", "label", "intro", "property", "hd", "value", "1.5")
	if se.UserID != "ada" {
		t.Errorf("structured event user %q, want ada", se.UserID)
	}
	wantProps(t, ue, "$schema", "iglu:com.acme/add_to_cart/jsonschema/1-0-0", "sku", "k1", "qty", "2", "item.color", "red")
	wantProps(t, pp, "pp_may", "300")
	if pp.EngagedMS != 10000 {
		t.Errorf("page ping engaged %d ms, want 10000", pp.EngagedMS)
	}
	wantProps(t, tr, "order_id", "o-9", "tax", "8")
	if tr.Revenue != 49.9 || tr.Currency != "EUR" {
		t.Errorf("transaction revenue %v %s, want 49.9 EUR", tr.Revenue, tr.Currency)
	}
}

// wantProps checks that e has exactly the properties kv (key, value, ...).
func wantProps(t *testing.T, e *event.Event, kv ...string) {
	t.Helper()
	if len(e.PropKeys) != len(kv)/2 {
		t.Errorf("%s: properties %v = %v, want %v", e.ID, e.PropKeys, e.PropValues, kv)
	}
	for i := 0; i < len(kv); i += 2 {
		if v, ok := e.Prop(kv[i]); !ok || v != kv[i+1] {
			t.Errorf("%s: property %s = %q, want %q", e.ID, kv[i], v, kv[i+1])
		}
	}
}

func TestParseGet(t *testing.T) {
	ue := `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0","data":{"name":"Home","id":"x"}}}`
	cx := `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2","data":{"userId":"dev-1","sessionId":"sess-1","sessionIndex":3}}]}`
	var args fasthttp.Args
	args.Parse("e=ue&aid=app&tv=andr-6&ua=UA%2F1&ip=10.0.0.1&ttm=" + ms +
		"&ue_px=" + base64.RawURLEncoding.EncodeToString([]byte(ue)) + "&cx=" + base64.URLEncoding.EncodeToString([]byte(cx)))
	var p Parser
	b, err := p.ParseGet(nil, nil, &args, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 {
		t.Fatalf("%d events, want 1", len(b.Events))
	}
	e, m := &b.Events[0], b.Meta[0]
	// A mobile screen view: the client_session entity gives the ids; ttm is taken as is.
	if e.Type != event.TypeScreen || e.Name != "Home" || e.AnonID != "dev-1" || e.SessionID != "sess-1" || !e.TS.Equal(now) {
		t.Errorf("got %s %q anon %q session %q at %v; want screen Home dev-1 sess-1 at %v", e.Type, e.Name, e.AnonID, e.SessionID, e.TS, now)
	}
	if string(m.UserAgent) != "UA/1" || string(m.ClientIP) != "10.0.0.1" || e.Library != "andr-6" {
		t.Errorf("meta %q %q lib %q", m.UserAgent, m.ClientIP, e.Library)
	}
	wantProps(t, e, "$schema", "iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0", "name", "Home", "id", "x",
		"client_session.userId", "dev-1", "client_session.sessionId", "sess-1", "client_session.sessionIndex", "3")
}

// TestParseDroppedFirst: an entry that is not an event, before the first event, names no
// application id.
func TestParseDroppedFirst(t *testing.T) {
	var p Parser
	b, err := p.ParsePost(nil, nil, []byte(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[7,{"e":"pv","aid":"shop"}]}`), now)
	if err != nil || string(b.App) != "shop" || len(b.Events) != 1 || b.Dropped != 1 {
		t.Fatalf("app %q, %d events, %d dropped, error %v; want shop, 1, 1", b.App, len(b.Events), b.Dropped, err)
	}
}

// TestEcommerceTransaction: the ecommerce plugin's trackTransaction is a purchase with the
// transaction entity's revenue; its trackAddToCart is named add_to_cart.
func TestEcommerceTransaction(t *testing.T) {
	ue := func(typ string) string {
		return `{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\",\"data\":{\"schema\":\"iglu:com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2\",\"data\":{\"type\":\"` + typ + `\"}}}`
	}
	co := `{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0\",\"data\":[{\"schema\":\"iglu:com.snowplowanalytics.snowplow.ecommerce/transaction/jsonschema/1-0-0\",\"data\":{\"transaction_id\":\"T-1\",\"revenue\":45.5,\"currency\":\"EUR\",\"payment_method\":\"card\"}}]}`
	body := `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[` +
		`{"e":"ue","aid":"shop","ue_pr":"` + ue("transaction") + `","co":"` + co + `"},` +
		`{"e":"ue","aid":"shop","ue_pr":"` + ue("add_to_cart") + `","co":"` + co + `"}]}`
	var p Parser
	b, err := p.ParsePost(nil, nil, []byte(body), now)
	if err != nil || len(b.Events) != 2 {
		t.Fatalf("%d events, error %v", len(b.Events), err)
	}
	tr, add := &b.Events[0], &b.Events[1]
	if tr.Name != "purchase" || tr.Revenue != 45.5 || tr.Currency != "EUR" {
		t.Errorf("transaction: %q revenue %v %s, want purchase 45.5 EUR", tr.Name, tr.Revenue, tr.Currency)
	}
	if v, _ := tr.Prop("transaction.transaction_id"); v != "T-1" {
		t.Errorf("transaction id property %q, want T-1", v)
	}
	// Only a transaction takes the entity's revenue: an add to cart is not a conversion.
	if add.Name != "add_to_cart" || add.Revenue != 0 {
		t.Errorf("add to cart: %q revenue %v, want add_to_cart and none", add.Name, add.Revenue)
	}
}

func TestParseErrors(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		var p Parser
		_, err := p.ParsePost(nil, nil, []byte(body), now)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %v, want one about %q", body, err, want)
		}
	}
	f(`{`, "cannot parse the body as JSON")
	f(`{"data":[]}`, "payload_data")
	f(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":{}}`, `"data" must be an array`)
	f(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[]}`, "no events")
	f(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]}`, "appId")
	f(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","aid":"a"},{"e":"pv","aid":"b"}]}`, `"a" and "b"`)
}

func TestTimes(t *testing.T) {
	f := func(fields string, want time.Time, clamped string) {
		t.Helper()
		var args fasthttp.Args
		args.Parse("e=pv&aid=a&" + fields)
		var p Parser
		b, err := p.ParseGet(nil, nil, &args, now)
		if err != nil {
			t.Fatal(err)
		}
		e := &b.Events[0]
		got, _ := e.Prop(clientclock.ClampedProp)
		if !e.TS.Equal(want) || got != clamped {
			t.Fatalf("%s: ts %v, clamped %q; want %v, %q", fields, e.TS, got, want, clamped)
		}
	}
	f("", now, "")
	f("dtm="+ms, now, "")                                               // no stm: taken as is
	f("dtm=1000&stm=61000", now.Add(-time.Minute), "")                  // a clock stuck in 1970, corrected
	f("dtm=1000", now, "1000")                                          // 1970 without stm: clamped
	f("ttm=1772366340000&dtm=1000&stm=2000", now.Add(-time.Minute), "") // ttm wins, as is
	f("dtm=abc", now, "abc")                                            // not a number
	f("dtm="+ms+"&stm=1672366400000", now, ms)                          // sent three years before it happened: absurd
}

func TestSchemaName(t *testing.T) {
	f := func(uri, want string) {
		t.Helper()
		if got := string(schemaName([]byte(uri))); got != want {
			t.Fatalf("schemaName(%q) = %q, want %q", uri, got, want)
		}
	}
	f("iglu:com.acme/add_to_cart/jsonschema/1-0-0", "add_to_cart")
	f("iglu:com.acme", "com.acme")
	f("", "")
}

func BenchmarkParsePost(b *testing.B) {
	var p Parser
	body := []byte(batch)
	var dst []event.Event
	var meta []Meta
	b.ReportAllocs()
	for b.Loop() {
		res, _ := p.ParsePost(dst, meta, body, now)
		dst, meta = res.Events, res.Meta
		clear(dst)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(batch), "")
	f.Add([]byte(nil), "e=ue&aid=a&ue_px=e30&cx=!!&dtm=-1&stm=1e99")
	f.Add([]byte(`{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/x","data":[{"e":"ue","aid":"a","ue_pr":"{\"data\":{\"schema\":\"iglu:x/screen_view/a/b\",\"data\":[1]}}","co":"{\"data\":[{\"schema\":\"s\",\"data\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}}]}"}]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		var p Parser
		var b Batch
		var err error
		if len(body) > 0 {
			b, err = p.ParsePost(nil, nil, body, now)
		} else {
			var args fasthttp.Args
			args.Parse(query)
			b, err = p.ParseGet(nil, nil, &args, now)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if len(b.Events) > 0 && len(b.App) == 0 {
			t.Fatal("accepted events without an application id")
		}
		if len(b.Events) != len(b.Meta) {
			t.Fatal("events and meta differ in number")
		}
		for i := range b.Events {
			e := &b.Events[i]
			if e.TS.Before(clientclock.Earliest) || e.TS.After(now.Add(clientclock.MaxAhead)) {
				t.Fatalf("event time %v out of bounds", e.TS)
			}
			if len(e.PropKeys) != len(e.PropValues) || e.Type == "" {
				t.Fatalf("event %+v: properties unpaired or no type", e)
			}
		}
	})
}
