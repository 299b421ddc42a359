package ua

import (
	"testing"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/internal/uastrings"
	"github.com/journeyd/journeyd/event"
)

func TestParse(t *testing.T) {
	f := func(ua string, want Result) {
		t.Helper()
		want.UA = ua
		if got := New(16).Parse([]byte(ua)); got != want {
			t.Fatalf("Parse(%q)\n got  %+v\n want %+v", ua, got, want)
		}
	}
	f(uastrings.ChromeWindows, Result{Browser: "Chrome", Version: "131.0.0.0", OS: "Windows", Device: Desktop})
	f(uastrings.ChromeAndroid, Result{Browser: "Chrome", Version: "131.0.0.0", OS: "Android", Device: Mobile})
	f(uastrings.ChromeTablet, Result{Browser: "Chrome", Version: "131.0.0.0", OS: "Android", Device: Tablet})
	f(uastrings.SafariIOS, Result{Browser: "Safari", Version: "17.5", OS: "iOS", Device: Mobile})
	f(uastrings.SafariIPad, Result{Browser: "Safari", Version: "17.5", OS: "iOS", Device: Tablet})
	f(uastrings.SafariMac, Result{Browser: "Safari", Version: "17.5", OS: "macOS", Device: Desktop})
	f(uastrings.Firefox, Result{Browser: "Firefox", Version: "133.0", OS: "Windows", Device: Desktop})
	f(uastrings.Samsung, Result{Browser: "Samsung Internet", Version: "25.0", OS: "Android", Device: Mobile})
	f(uastrings.YandexBrowser, Result{Browser: "Yandex Browser", Version: "24.6.0.0", OS: "Windows", Device: Desktop})
	f(uastrings.Edge, Result{Browser: "Edge", Version: "131.0.0.0", OS: "Windows", Device: Desktop})
	f(uastrings.Googlebot, Result{Browser: "Googlebot", Version: "2.1", Device: Bot})
	f(uastrings.YandexBot, Result{Browser: "YandexBot", Version: "3.0", Device: Bot})
	f(uastrings.Bingbot, Result{Browser: "Bingbot", Version: "2.0", Device: Bot})
	f(uastrings.TelegramBot, Result{Browser: "TelegramBot", Device: Bot})
	f(uastrings.HeadlessChrome, Result{Browser: "Headless Chrome", Version: "131.0.0.0", OS: "Linux", Device: Bot})
	f(uastrings.Curl, Result{Browser: "curl", Version: "8.5.0", Device: Other})
	f("", Result{})
}

func TestEnrichWithHints(t *testing.T) {
	p := New(16)
	f := func(ua, brands, mobile, platform string, want Result) {
		t.Helper()
		var e event.Event
		p.Enrich(&e, &enrich.Request{UserAgent: []byte(ua), SecCHUA: []byte(brands),
			SecCHUAMobile: []byte(mobile), SecCHUAPlatform: []byte(platform)})
		got := Result{UA: e.UserAgent, Browser: e.Browser, Version: e.BrowserVersion, OS: e.OS, Device: e.Device}
		want.UA = ua
		if got != want {
			t.Fatalf("Enrich(%q, hints %q %q %q)\n got  %+v\n want %+v", ua, brands, mobile, platform, got, want)
		}
	}
	f(uastrings.ChromeWindows, `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`, "?0", `"Windows"`,
		Result{Browser: "Chrome", Version: "131.0.0.0", OS: "Windows", Device: Desktop})
	f(uastrings.ChromeWindows, `"Chromium";v="122", "Not(A:Brand";v="24", "YaBrowser";v="24.4", "Yowser";v="2.5"`, "?0", `"Windows"`,
		Result{Browser: "Yandex Browser", Version: "24.4", OS: "Windows", Device: Desktop})
	f(uastrings.ChromeWindows, `"Microsoft Edge";v="131", "Chromium";v="131", "Not_A Brand";v="24"`, "?0", `"Linux"`,
		Result{Browser: "Edge", Version: "131", OS: "Linux", Device: Desktop})
	f(uastrings.ChromeTablet, `"Google Chrome";v="131"`, "?1", `"Android"`,
		Result{Browser: "Chrome", Version: "131.0.0.0", OS: "Android", Device: Mobile})
	f(uastrings.ChromeAndroid, `"Google Chrome";v="131"`, "?0", `"Android"`,
		Result{Browser: "Chrome", Version: "131.0.0.0", OS: "Android", Device: Tablet})
	f(uastrings.Googlebot, `"Google Chrome";v="131"`, "?1", `"Android"`,
		Result{Browser: "Googlebot", Version: "2.1", Device: Bot})
	f(uastrings.Firefox, "", "", "", Result{Browser: "Firefox", Version: "133.0", OS: "Windows", Device: Desktop})
}

// TestEnrichKeepsOSOfMessage: a server call's context.os (set on the event by the Segment
// parser) stays when the user agent names no OS, and gives way when it names one.
func TestEnrichKeepsOSOfMessage(t *testing.T) {
	p := New(16)
	f := func(ua, os, want string) {
		t.Helper()
		e := event.Event{OS: os}
		p.Enrich(&e, &enrich.Request{UserAgent: []byte(ua)})
		if e.OS != want {
			t.Fatalf("Enrich(%q) with os %q: os %q, want %q", ua, os, e.OS, want)
		}
	}
	f("", "iOS", "iOS")
	f(uastrings.Curl, "Android", "Android")
	f(uastrings.SafariMac, "iOS", "macOS")
	f("", "", "")
}

func TestBrand(t *testing.T) {
	f := func(header, wantName, wantVersion string) {
		t.Helper()
		if name, version := Brand([]byte(header)); name != wantName || string(version) != wantVersion {
			t.Fatalf("Brand(%q) = %q, %q; want %q, %q", header, name, version, wantName, wantVersion)
		}
	}
	f(`"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`, "Chrome", "124")
	f(`"Not A(Brand";v="99", "Opera";v="107", "Chromium";v="121"`, "Opera", "107")
	f(`"Brave";v="131","Chromium";v="131"`, "Brave", "131")
	f(`"Chromium";v="131", "Not_A Brand";v="24"`, "", "")
	f(`"Google, \"Chrome";v="1"`, "", "")
	f(``, "", "")
	f(`;;,,"`, "", "")
}

func TestParseCacheHitDoesNotAllocate(t *testing.T) {
	p := New(16)
	ua := []byte(uastrings.ChromeWindows)
	p.Parse(ua)
	if n := testing.AllocsPerRun(100, func() { p.Parse(ua) }); n != 0 {
		t.Fatalf("a cached Parse allocates %v times, want 0", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{uastrings.ChromeWindows, uastrings.SafariIOS, uastrings.Googlebot, uastrings.Curl, "", "Mozilla/5.0 (", "\xff\xfe"} {
		f.Add(s, `"Google Chrome";v="131"`, "?1", `"Android"`)
	}
	p := New(64)
	f.Fuzz(func(t *testing.T, ua, brands, mobile, platform string) {
		var e event.Event
		p.Enrich(&e, &enrich.Request{UserAgent: []byte(ua), SecCHUA: []byte(brands),
			SecCHUAMobile: []byte(mobile), SecCHUAPlatform: []byte(platform)})
		if ua != "" && e.Device == "" {
			t.Fatalf("no device type for %q", ua)
		}
		if len(e.UserAgent) > maxKey {
			t.Fatalf("user agent of %d bytes kept, limit %d", len(e.UserAgent), maxKey)
		}
	})
}
