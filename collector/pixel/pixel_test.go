package pixel

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/event"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func parse(t testing.TB, query, referer string) (event.Event, error) {
	t.Helper()
	var args fasthttp.Args
	args.Parse(query)
	var e event.Event
	err := Parse(&e, &args, []byte(referer), now)
	return e, err
}

func TestParse(t *testing.T) {
	f := func(query, referer string, want event.Event) {
		t.Helper()
		got, err := parse(t, query, referer)
		if err != nil {
			t.Fatalf("Parse(%q): %v", query, err)
		}
		if want.Type == "" {
			want.Type = event.TypePageview
		}
		if want.TS.IsZero() {
			want.TS = now
		}
		want.ReceivedAt, want.Library = now, Library
		if d := diff(got, want); d != "" {
			t.Fatalf("Parse(%q): %s", query, d)
		}
	}
	f("s=shop", "", event.Event{})
	f("s=shop", "https://shop.example/a?b=c", event.Event{URL: "https://shop.example/a?b=c"})
	f("s=shop&u=https%3A%2F%2Fshop.example%2Fx&r=https%3A%2F%2Fya.ru%2F&ti=Hello+world", "https://other/",
		event.Event{URL: "https://shop.example/x", Referrer: "https://ya.ru/", Title: "Hello world"})
	f("t=email_open&n=welcome&a=anon1&uid=u1&sid=s1&id=e1", "",
		event.Event{Type: event.TypeEmailOpen, Name: "welcome", AnonID: "anon1", UserID: "u1", SessionID: "s1", ID: "e1"})
	f("utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_term=t&utm_content=c", "",
		event.Event{Source: "newsletter", Medium: "email", Campaign: "spring", Term: "t", Content: "c"})
	f("t=event&n=purchase&rev=19.90&cur=EUR&p.sku=A1&p.qty=2", "",
		event.Event{Type: event.TypeEvent, Name: "purchase", Revenue: 19.9, Currency: "EUR",
			PropKeys: []string{"sku", "qty"}, PropValues: []string{"A1", "2"}})
	f("rev=-5&ts=1748779200000", "", event.Event{Revenue: -5, TS: time.UnixMilli(1748779200000)})
	f("rev=abc&ts=900000000000", "", event.Event{PropKeys: []string{clientclock.ClampedProp}, PropValues: []string{"900000000000"}})
	f("ts=99999999999999999999999", "", event.Event{PropKeys: []string{clientclock.ClampedProp}, PropValues: []string{"99999999999999999999999"}})
	f("ts=-1", "", event.Event{PropKeys: []string{clientclock.ClampedProp}, PropValues: []string{"-1"}})
	f("p.=x&p=y&zz=1&n=a&n=b", "", event.Event{Name: "b"})
	f("t=leave&en=1500", "", event.Event{Type: event.TypeLeave, EngagedMS: 1500})
	f("t=identify&uid=u1", "", event.Event{Type: event.TypeIdentify, UserID: "u1"})
}

func TestParseBadType(t *testing.T) {
	e, err := parse(t, "t=alias&n=x", "")
	if err != ErrBadType || e.Name != "x" || e.Type != event.TypePageview {
		t.Fatalf("Parse(t=alias) = %v with name %q, type %q; want ErrBadType with the rest parsed", err, e.Name, e.Type)
	}
}

// diff names the first field where got and want differ.
func diff(got, want event.Event) string {
	for _, c := range []struct{ name, got, want string }{
		{"ID", got.ID, want.ID}, {"Type", got.Type, want.Type}, {"Name", got.Name, want.Name},
		{"AnonID", got.AnonID, want.AnonID}, {"UserID", got.UserID, want.UserID},
		{"SessionID", got.SessionID, want.SessionID}, {"URL", got.URL, want.URL},
		{"Referrer", got.Referrer, want.Referrer}, {"Title", got.Title, want.Title},
		{"Source", got.Source, want.Source}, {"Medium", got.Medium, want.Medium},
		{"Campaign", got.Campaign, want.Campaign}, {"Term", got.Term, want.Term},
		{"Content", got.Content, want.Content}, {"Currency", got.Currency, want.Currency},
		{"Library", got.Library, want.Library},
		{"TS", got.TS.String(), want.TS.String()}, {"ReceivedAt", got.ReceivedAt.String(), want.ReceivedAt.String()},
		{"PropKeys", strings.Join(got.PropKeys, ","), strings.Join(want.PropKeys, ",")},
		{"PropValues", strings.Join(got.PropValues, ","), strings.Join(want.PropValues, ",")},
	} {
		if c.got != c.want {
			return c.name + ": got " + c.got + ", want " + c.want
		}
	}
	if got.Revenue != want.Revenue || got.EngagedMS != want.EngagedMS {
		return "Revenue or EngagedMS differs"
	}
	return ""
}

// TestParseAllocs pins the allocations of a typical pixel: one per string field it carries.
func TestParseAllocs(t *testing.T) {
	var args fasthttp.Args
	args.Parse("s=shop&t=pageview&u=https%3A%2F%2Fshop.example%2Fx&a=anon1&ts=1748779200000")
	var e event.Event
	allocs := testing.AllocsPerRun(1000, func() {
		e.Reset()
		_ = Parse(&e, &args, nil, now)
	})
	if allocs > 2 {
		t.Fatalf("Parse allocates %v times, want at most 2 (u and a)", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	var args fasthttp.Args
	args.Parse("s=shop&t=event&n=signup&u=https%3A%2F%2Fshop.example%2Fx&a=anon1&ts=1748779200000&p.plan=pro")
	var e event.Event
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		_ = Parse(&e, &args, nil, now)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("s=shop&t=event&n=x&u=https%3A%2F%2Fa%2F&ts=1748779200000&rev=1.5&p.a=b", "https://r/")
	f.Add("ts=-&rev=-&p.=&t=%ff", "")
	f.Fuzz(func(t *testing.T, query, referer string) {
		var args fasthttp.Args
		args.Parse(query)
		var e event.Event
		err := Parse(&e, &args, []byte(referer), now)
		if err != nil && err != ErrBadType {
			t.Fatalf("unexpected error %v", err)
		}
		if e.Type == "" || e.TS.Before(clientclock.Earliest) || e.TS.After(now.Add(clientclock.MaxAhead)) {
			t.Fatalf("type %q, ts %v out of bounds", e.Type, e.TS)
		}
		if len(e.PropKeys) != len(e.PropValues) {
			t.Fatal("property keys and values differ in number")
		}
	})
}
