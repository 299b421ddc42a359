package pageurl

import (
	"strings"
	"testing"

	"github.com/journeyd/journeyd/event"
)

func TestSplit(t *testing.T) {
	f := func(raw string, want Parts) {
		t.Helper()
		if got := Split(raw); got != want {
			t.Fatalf("Split(%q)\n got  %+v\n want %+v", raw, got, want)
		}
	}
	f("https://Shop.Example.com/Cart?utm_source=vk&x=1#top", Parts{"https", "shop.example.com", "/Cart", "utm_source=vk&x=1", "top"})
	f("http://user:pw@shop.example:8080", Parts{"http", "shop.example", "/", "", ""})
	f("https://[2001:DB8::1]:443/a", Parts{"https", "[2001:db8::1]", "/a", "", ""})
	f("https://www.google.com./", Parts{"https", "www.google.com", "/", "", ""})
	f("android-app://com.google.android.gm/", Parts{"android-app", "com.google.android.gm", "/", "", ""})
	f("//cdn.example/x.js", Parts{"", "cdn.example", "/x.js", "", ""})
	f("shop.example/p?q=1", Parts{"", "shop.example", "/p", "q=1", ""})
	f("/checkout?step=2", Parts{"", "", "/checkout", "step=2", ""})
	f("", Parts{})
	f("  https://a.example  ", Parts{"https", "a.example", "/", "", ""})
	f("javascript:alert(1)", Parts{"", "", "javascript:alert(1)", "", ""})
}

func TestParam(t *testing.T) {
	f := func(query, name, want string, wantOK bool) {
		t.Helper()
		if got, ok := Param(query, name); got != want || ok != wantOK {
			t.Fatalf("Param(%q, %q) = %q, %v; want %q, %v", query, name, got, ok, want, wantOK)
		}
	}
	f("utm_source=vk&utm_medium=cpc", "utm_medium", "cpc", true)
	f("UTM_Source=VK", "utm_source", "VK", true)
	f("text=%D0%BA%D1%83%D0%BF%D0%B8%D1%82%D1%8C+%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD", "text", "купить диван", true)
	f("q=100%", "q", "100%", true)
	f("a=1&a=2", "a", "1", true)
	f("flag&b=2", "flag", "", true)
	f("a=1", "b", "", false)
	f("", "a", "", false)
}

func TestStepKeepsWhatTheEventCarries(t *testing.T) {
	e := event.Event{URL: "https://shop.example/p?x=1", Path: "/virtual"}
	Step{}.Enrich(&e, nil)
	if e.Host != "shop.example" || e.Path != "/virtual" || e.Query != "x=1" {
		t.Fatalf("got host %q path %q query %q", e.Host, e.Path, e.Query)
	}
}

func TestSplitDoesNotAllocate(t *testing.T) {
	raw := "https://shop.example/catalog/sofas?utm_source=yandex&utm_medium=cpc#x"
	if n := testing.AllocsPerRun(100, func() { Split(raw); Param(raw, "utm_medium") }); n != 0 {
		t.Fatalf("Split and Param allocate %v times, want 0", n)
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"https://a.example/b?c=d#e", "//x", "a.b/c", "?", "#", "http://[::1", "x://@:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p := Split(raw)
		for _, part := range []string{p.Path, p.Query, p.Fragment} {
			if !strings.Contains(raw, part) && !(part == "/" && p.Path == "/" && p.Host != "") {
				t.Fatalf("Split(%q) gave %q, not a part of it", raw, part)
			}
		}
		if p.Host != strings.ToLower(p.Host) {
			t.Fatalf("Split(%q) host %q is not lower case", raw, p.Host)
		}
		e := event.Event{URL: raw}
		Step{}.Enrich(&e, nil)
	})
}

func FuzzParam(f *testing.F) {
	f.Add("utm_source=a%20b&gclid=X", "utm_source")
	f.Add("%zz=%zz&&=", "%zz")
	f.Fuzz(func(t *testing.T, query, name string) {
		v, ok := Param(query, name)
		if !ok && v != "" {
			t.Fatalf("Param(%q, %q) = %q without finding it", query, name, v)
		}
	})
}
