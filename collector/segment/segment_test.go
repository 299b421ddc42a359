package segment

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/event"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func parseOne(t *testing.T, k Kind, body string) (*event.Event, Meta) {
	t.Helper()
	var p Parser
	c, err := p.Parse(k, []byte(body), now, nil, nil)
	if err != nil {
		t.Fatalf("Parse(%s): %v", body, err)
	}
	if len(c.Events) != 1 || len(c.Meta) != 1 {
		t.Fatalf("Parse(%s): %d events, want 1", body, len(c.Events))
	}
	return &c.Events[0], c.Meta[0]
}

func TestParseCalls(t *testing.T) {
	f := func(k Kind, body string, check func(e *event.Event, m Meta) bool) {
		t.Helper()
		e, m := parseOne(t, k, body)
		if !check(e, m) {
			t.Fatalf("Parse(%s):\n%+v", body, *e)
		}
	}
	f(Track, `{"messageId":"m1","userId":"u1","event":"Order Paid","properties":{"total":99.5,"currency":"EUR","items":{"n":2}},
		"context":{"ip":"203.0.113.9","userAgent":"UA/1","library":{"name":"analytics-go"},
		"campaign":{"source":"google","medium":"cpc","name":"spring","term":"t","content":"c"},"session_id":"S1"}}`,
		func(e *event.Event, m Meta) bool {
			return e.ID == "m1" && e.Type == event.TypeServer && e.Name == "Order Paid" && e.UserID == "u1" &&
				e.Revenue == 99.5 && e.Currency == "EUR" && strings.Join(e.PropKeys, ",") == "total,currency,items.n" &&
				string(m.ClientIP) == "203.0.113.9" && string(m.UserAgent) == "UA/1" && e.Library == "analytics-go" &&
				e.Source == "google" && e.Medium == "cpc" && e.Campaign == "spring" && e.Term == "t" && e.Content == "c" &&
				e.SessionID == "S1" && e.TS.Equal(now)
		})
	f(Identify, `{"anonymousId":"a1","userId":42,"traits":{"email":"x@y.z","plan":"pro"}}`, func(e *event.Event, _ Meta) bool {
		return e.Type == event.TypeIdentify && e.UserID == "42" && e.AnonID == "a1" && e.Library == DefaultLibrary &&
			strings.Join(e.PropKeys, ",") == "email,plan"
	})
	f(Identify, `{"userId":"u","context":{"traits":{"email":"c@t"}}}`, func(e *event.Event, _ Meta) bool {
		v, _ := e.Prop("email")
		return v == "c@t"
	})
	f(Page, `{"anonymousId":"a1","name":"Pricing","properties":{"url":"https://s.example/pricing","title":"P","session_id":"S2"},
		"context":{"page":{"url":"https://ignored/","referrer":"https://ya.ru/"}}}`, func(e *event.Event, _ Meta) bool {
		return e.Type == event.TypePageview && e.Name == "Pricing" && e.URL == "https://s.example/pricing" &&
			e.Title == "P" && e.Referrer == "https://ya.ru/" && e.SessionID == "S2"
	})
	f(Screen, `{"anonymousId":"a1","name":"Home","context":{"page":{"path":"/home"}}}`, func(e *event.Event, _ Meta) bool {
		return e.Type == event.TypeScreen && e.Name == "Home" && e.Path == "/home" && e.URL == ""
	})
	f(Group, `{"userId":"u1","groupId":"g1","traits":{"name":"Acme"}}`, func(e *event.Event, _ Meta) bool {
		return e.Type == event.TypeGroup && strings.Join(e.PropKeys, ",") == "group_id,group.name"
	})
	f(Alias, `{"previousId":"anon9","userId":"u9"}`, func(e *event.Event, _ Meta) bool {
		return e.Type == event.TypeAlias && e.AnonID == "anon9" && e.UserID == "u9"
	})
}

// TestParseContext: what the context says about the app, the OS, the locale and the user,
// and a page or screen call's top-level category, are kept as properties; context.os.name
// also fills the os column.
func TestParseContext(t *testing.T) {
	f := func(k Kind, body, wantProps, wantOS string) {
		t.Helper()
		e, _ := parseOne(t, k, body)
		var got []string
		for i, key := range e.PropKeys {
			got = append(got, key+"="+e.PropValues[i])
		}
		if strings.Join(got, " ") != wantProps || e.OS != wantOS {
			t.Fatalf("Parse(%s):\n got  props %q, os %q\n want props %q, os %q", body, strings.Join(got, " "), e.OS, wantProps, wantOS)
		}
	}
	// A server-side track call from a mobile backend: properties first, then the context.
	f(Track, `{"userId":"u","event":"Order Completed","properties":{"total":30},
		"context":{"os":{"name":"iOS","version":"17.5"},"app":{"name":"Shop","version":"2.3.1","build":"231"},
		"locale":"ru-RU","timezone":"Europe/Moscow","traits":{"plan":"pro","address":{"city":"Kazan"}},"ip":"203.0.113.9"}}`,
		"total=30 context.os.name=iOS context.os.version=17.5 context.app.name=Shop context.app.version=2.3.1 "+
			"context.app.build=231 context.locale=ru-RU context.timezone=Europe/Moscow context.traits.plan=pro "+
			"context.traits.address.city=Kazan", "iOS")
	// Python and RudderStack put a page's category at the top level.
	f(Page, `{"anonymousId":"a","name":"Pricing","category":"Docs","properties":{"url":"https://s.example/p"}}`,
		"url=https://s.example/p category=Docs", "")
	f(Screen, `{"anonymousId":"a","name":"Cart","category":"Shop","context":{"os":{"name":"Android"},"locale":"en-GB"}}`,
		"category=Shop context.os.name=Android context.locale=en-GB", "Android")
	// A category in properties wins over the top-level one; a track call's category is not read.
	f(Page, `{"anonymousId":"a","category":"Top","properties":{"category":"Inner"}}`, "category=Inner", "")
	f(Track, `{"userId":"u","event":"e","category":"Top"}`, "", "")
	// Identify: context.traits standing in for traits is stored once, as traits; beside
	// traits it is kept under its own name.
	f(Identify, `{"userId":"u","context":{"traits":{"plan":"pro"}}}`, "plan=pro", "")
	f(Identify, `{"userId":"u","traits":{"plan":"pro"},"context":{"traits":{"seats":3}}}`, "plan=pro context.traits.seats=3", "")
	// Odd shapes change nothing: an os that is no object, empty strings, null.
	f(Track, `{"userId":"u","event":"e","context":{"os":"iOS","locale":"","timezone":null,"app":[]}}`, "", "")
}

func TestParseTimes(t *testing.T) {
	f := func(body string, want time.Time, wantClamped string) {
		t.Helper()
		e, _ := parseOne(t, Track, body)
		clamped, _ := e.Prop(clientclock.ClampedProp)
		if !e.TS.Equal(want) || clamped != wantClamped {
			t.Fatalf("Parse(%s): ts %v, clamped %q; want %v, %q", body, e.TS, clamped, want, wantClamped)
		}
	}
	f(`{"userId":"u","event":"e"}`, now, "")
	f(`{"userId":"u","event":"e","timestamp":"2025-06-01T11:00:00Z"}`, now.Add(-time.Hour), "")
	f(`{"userId":"u","event":"e","originalTimestamp":"2025-06-01T13:00:00+02:00"}`, now.Add(-time.Hour), "")
	// The sender's clock is an hour fast: sentAt 13:00 for a request received at 12:00.
	f(`{"userId":"u","event":"e","timestamp":"2025-06-01T12:59:00.5Z","sentAt":"2025-06-01T13:00:00Z"}`,
		now.Add(-59500*time.Millisecond), "")
	f(`{"userId":"u","event":"e","timestamp":"1970-01-01T00:00:00Z"}`, now, "1970-01-01T00:00:00Z")
	f(`{"userId":"u","event":"e","timestamp":"2030-01-01T00:00:00Z"}`, now, "2030-01-01T00:00:00Z")
	f(`{"userId":"u","event":"e","timestamp":"yesterday"}`, now, "yesterday")
	f(`{"userId":"u","event":"e","timestamp":1748779200}`, now, "1748779200")
}

func TestParseBatch(t *testing.T) {
	big := `{"type":"track","userId":"u","event":"big","properties":{"x":"` + strings.Repeat("x", MaxEventBytes) + `"}}`
	body := `{"writeKey":"wk-12345678","sentAt":"2025-06-01T12:00:10Z","context":{"library":{"name":"analytics-node"}},"batch":[
		{"type":"track","userId":"u","event":"a","timestamp":"2025-06-01T12:00:05Z"},
		{"type":"identify","anonymousId":"a"},
		{"type":"track","userId":"u"},
		{"type":"nope","userId":"u"},
		{"type":"batch","userId":"u"},
		"string",
		` + big + `,
		{"type":"alias","previousId":"a","userId":"u"}]}`
	var p Parser
	c, err := p.Parse(Batch, []byte(body), now, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.WriteKey) != "wk-12345678" || len(c.Events) != 3 || len(c.Meta) != 3 || c.Invalid != 4 || c.Oversize != 1 {
		t.Fatalf("key %q, %d events, %d invalid, %d oversize; want wk-12345678, 3, 4, 1", c.WriteKey, len(c.Events), c.Invalid, c.Oversize)
	}
	if e := c.Events[0]; e.Library != "analytics-node" || !e.TS.Equal(now.Add(-5*time.Second)) {
		t.Fatalf("first event: lib %q, ts %v", e.Library, e.TS)
	}
	if c.Events[2].Type != event.TypeAlias {
		t.Fatalf("third event is %q, want alias", c.Events[2].Type)
	}
}

func TestParseErrors(t *testing.T) {
	f := func(k Kind, body string, want error, wantMsg string) {
		t.Helper()
		var p Parser
		_, err := p.Parse(k, []byte(body), now, nil, nil)
		if !errors.Is(err, want) || !strings.Contains(err.Error(), wantMsg) {
			t.Fatalf("Parse(%.60s) = %v, want %v containing %q", body, err, want, wantMsg)
		}
	}
	f(Track, `{"userId":`, ErrInvalid, "cannot parse body as JSON")
	f(Track, `"x"`, ErrInvalid, "want a JSON object, got string")
	f(Track, `{"userId":"u"}`, ErrInvalid, `needs "event"`)
	f(Track, `{"event":"e"}`, ErrInvalid, "neither userId nor anonymousId")
	f(Alias, `{"userId":"u"}`, ErrInvalid, `"previousId"`)
	f(Batch, `{"batch":{}}`, ErrInvalid, `"batch": [messages]`)
	f(Track, `{"userId":"u","event":"e","p":"`+strings.Repeat("x", MaxEventBytes)+`"}`, ErrTooLarge, "larger than")
}

func TestKindOf(t *testing.T) {
	if k, ok := KindOf("import"); !ok || k != Batch {
		t.Fatalf("KindOf(import) = %v, %v", k, ok)
	}
	if _, ok := KindOf("delete"); ok {
		t.Fatal("KindOf(delete) succeeded")
	}
}

func BenchmarkParseBatch(b *testing.B) {
	body := []byte(`{"sentAt":"2025-06-01T12:00:10Z","batch":[` + strings.Repeat(
		`{"type":"track","messageId":"m","userId":"u","event":"Order Paid","timestamp":"2025-06-01T12:00:05Z",
		"properties":{"revenue":10,"currency":"EUR"},"context":{"ip":"1.2.3.4","library":{"name":"x"}}},`, 99) +
		`{"type":"identify","userId":"u"}]}`)
	var p Parser
	var dst []event.Event
	var meta []Meta
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		c, _ := p.Parse(Batch, body, now, dst, meta)
		dst, meta = c.Events, c.Meta
	}
}

func FuzzParse(f *testing.F) {
	f.Add(uint8(Batch), []byte(`{"batch":[{"type":"track","userId":"u","event":"e","timestamp":"2025-06-01T12:00:05Z","properties":{"a":{"b":1}}}]}`))
	f.Add(uint8(Alias), []byte(`{"previousId":1,"userId":true,"sentAt":"2025-06-01"}`))
	f.Add(uint8(Page), []byte(`{"anonymousId":"a","properties":{"url":null},"context":{"page":[],"campaign":{"name":{}}}}`))
	f.Add(uint8(Screen), []byte(`{"anonymousId":"a","category":{"x":1},"context":{"os":{"name":7},"app":{"build":null},"locale":[],"traits":{"a":{"b":{"c":{"d":{"e":1}}}}}}}`))
	f.Fuzz(func(t *testing.T, k uint8, body []byte) {
		kind := Kind(k%7 + 1)
		var p Parser
		c, err := p.Parse(kind, body, now, nil, nil)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps neither ErrInvalid nor ErrTooLarge", err)
			}
			return
		}
		if len(c.Events) != len(c.Meta) {
			t.Fatalf("%d events, %d metas", len(c.Events), len(c.Meta))
		}
		for i := range c.Events {
			e := &c.Events[i]
			if e.Type == "" || (e.UserID == "" && e.AnonID == "") {
				t.Fatalf("accepted event without type or person: %+v", *e)
			}
			if e.TS.Before(clientclock.Earliest) || e.TS.After(now.Add(clientclock.MaxAhead)) {
				t.Fatalf("event time %v out of bounds", e.TS)
			}
		}
	})
}
