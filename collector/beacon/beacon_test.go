package beacon

import (
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/event"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const batch = `{"site":"shop","aid":"a1","sid":"s1","sent":1748779205000,
 "utm":{"source":"yandex","medium":"cpc","campaign":"spring","term":"shoes","content":"ad1"},
 "click":{"type":"yclid","id":"Y1"},
 "events":[
  {"id":"e1","type":"pageview","ts":1748779200000,"url":"https://shop.example/?x=1","ref":"https://ya.ru/","title":"Home"},
  {"id":"e2","type":"pageview","ts":1748779201000,"url":"https://shop.example/p?utm_source=vk&utm_medium=social"},
  {"id":"e3","type":"event","name":"add_to_cart","ts":1748779202000,"props":{"sku":"A1","qty":2,"gift":true},"revenue":19.9,"currency":"RUB"},
  {"id":"e4","type":"identify","uid":"u42","ts":1748779203000},
  {"id":"e5","type":"leave","ts":1748779204000,"engaged":15000},
  {"id":"e6","type":"bogus"},
  42
 ]}`

func TestParse(t *testing.T) {
	var p Parser
	// The client's clock runs 5 s slow: it says it sent at 12:00:05, the server received at
	// 12:00:10, so every event time moves 5 s later.
	recv := now.Add(10 * time.Second)
	b, err := p.Parse(nil, []byte(batch), recv)
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Site) != "shop" || len(b.Events) != 5 || b.Dropped != 2 {
		t.Fatalf("site %q, %d events, %d dropped; want shop, 5, 2", b.Site, len(b.Events), b.Dropped)
	}
	f := func(i int, check func(e *event.Event) bool) {
		t.Helper()
		if e := &b.Events[i]; !check(e) {
			t.Fatalf("event %d: %+v", i, *e)
		}
	}
	f(0, func(e *event.Event) bool {
		return e.ID == "e1" && e.Type == event.TypePageview && e.AnonID == "a1" && e.SessionID == "s1" &&
			e.Referrer == "https://ya.ru/" && e.Title == "Home" && e.Library == Library &&
			e.TS.Equal(recv.Add(-5*time.Second)) && e.ReceivedAt.Equal(recv) &&
			e.Source == "yandex" && e.Medium == "cpc" && e.Campaign == "spring" && e.Term == "shoes" &&
			e.Content == "ad1" && e.ClickIDType == "yclid" && e.ClickID == "Y1"
	})
	f(1, func(e *event.Event) bool { return e.Source == "" && e.ClickID == "" }) // the URL's campaign wins
	f(2, func(e *event.Event) bool {
		return e.Name == "add_to_cart" && e.Revenue == 19.9 && e.Currency == "RUB" &&
			strings.Join(e.PropKeys, ",") == "sku,qty,gift" && strings.Join(e.PropValues, ",") == "A1,2,true"
	})
	f(3, func(e *event.Event) bool { return e.Type == event.TypeIdentify && e.UserID == "u42" })
	f(4, func(e *event.Event) bool { return e.EngagedMS == 15000 && e.TS.Equal(recv.Add(-time.Second)) })
}

func TestParseTimes(t *testing.T) {
	f := func(body string, wantTS time.Time, wantClamped string) {
		t.Helper()
		var p Parser
		b, err := p.Parse(nil, []byte(body), now)
		if err != nil || len(b.Events) != 1 {
			t.Fatalf("Parse(%s): %v, %d events", body, err, len(b.Events))
		}
		e := &b.Events[0]
		clamped, _ := e.Prop(clientclock.ClampedProp)
		if !e.TS.Equal(wantTS) || clamped != wantClamped {
			t.Fatalf("Parse(%s): ts %v, clamped %q; want %v, %q", body, e.TS, clamped, wantTS, wantClamped)
		}
	}
	f(`{"site":"s","events":[{"type":"event"}]}`, now, "")
	f(`{"site":"s","events":[{"type":"event","ts":1748779100000}]}`, time.UnixMilli(1748779100000), "")
	f(`{"site":"s","events":[{"type":"event","ts":100}]}`, now, "100")
	f(`{"site":"s","events":[{"type":"event","ts":"soon"}]}`, now, "soon")
	f(`{"site":"s","sent":1,"events":[{"type":"event","ts":1748779100000}]}`, now, "1748779100000")
	f(`{"site":"s","events":[{"type":"event","ts":9e300}]}`, now, "9e300")
}

func TestParseErrors(t *testing.T) {
	f := func(body, wantErr string) {
		t.Helper()
		var p Parser
		_, err := p.Parse(nil, []byte(body), now)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Parse(%s) = %v, want an error containing %q", body, err, wantErr)
		}
	}
	f(``, "cannot parse batch as JSON")
	f(`{"site":"shop","events":[`, "cannot parse batch as JSON")
	f(`[1]`, "want a JSON object, got array")
	f(`{"events":[]}`, `no "site"`)
	f(`{"site":"shop"}`, `"events" must be an array`)
	f(`{"site":"shop","events":{}}`, `"events" must be an array`)
}

func TestHasCampaign(t *testing.T) {
	f := func(u string, want bool) {
		t.Helper()
		if got := HasCampaign(u); got != want {
			t.Fatalf("HasCampaign(%q) = %v, want %v", u, got, want)
		}
	}
	f("https://a/", false)
	f("https://a/?utm_source=x", true)
	f("https://a/?x=1&gclid=abc#top", true)
	f("https://a/?x=1#utm_source=y", false)
	f("https://a/?notutm_source=1&yclid", true)
	f("", false)
}

func BenchmarkParse(b *testing.B) {
	var p Parser
	body := []byte(batch)
	var dst []event.Event
	b.ReportAllocs()
	for b.Loop() {
		res, _ := p.Parse(dst, body, now)
		dst = res.Events
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(batch))
	f.Add([]byte(`{"site":"\u0000","sent":-1e308,"events":[{"type":"leave","engaged":-5,"ts":1e20}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Parser
		b, err := p.Parse(nil, body, now)
		if err != nil {
			return
		}
		if len(b.Site) == 0 {
			t.Fatal("accepted a batch without a site")
		}
		for i := range b.Events {
			e := &b.Events[i]
			if e.TS.Before(clientclock.Earliest) || e.TS.After(now.Add(clientclock.MaxAhead)) {
				t.Fatalf("event time %v out of bounds", e.TS)
			}
			if len(e.PropKeys) != len(e.PropValues) {
				t.Fatal("property keys and values differ in number")
			}
		}
	})
}
