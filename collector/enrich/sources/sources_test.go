package sources

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	f := func(s string, kind Kind, name string) {
		t.Helper()
		e, ok := Lookup(s)
		if kind == "" {
			if ok {
				t.Fatalf("Lookup(%q) = %+v, want nothing", s, e)
			}
			return
		}
		if !ok || e.Kind != kind || e.Name != name {
			t.Fatalf("Lookup(%q) = %+v, %v; want %s %q", s, e, ok, kind, name)
		}
	}
	// Search engines, with their country domains and subdomains.
	f("www.google.com", Search, "google")
	f("www.google.co.uk", Search, "google")
	f("google.com.tr", Search, "google")
	f("images.google.de", Search, "google")
	f("www.bing.com", Search, "bing")
	f("yandex.ru", Search, "yandex")
	f("yandex.com.tr", Search, "yandex")
	f("ya.ru", Search, "yandex")
	f("go.mail.ru", Search, "mail.ru")
	f("duckduckgo.com", Search, "duckduckgo")
	f("search.yahoo.com", Search, "yahoo")
	f("www.baidu.com", Search, "baidu")
	f("www.ecosia.org", Search, "ecosia")
	f("nova.rambler.ru", Search, "rambler")
	// Social networks and messengers.
	f("vk.com", Social, "vk")
	f("away.vk.com", Social, "vk")
	f("ok.ru", Social, "ok")
	f("t.me", Social, "telegram")
	f("web.telegram.org", Social, "telegram")
	f("dzen.ru", Social, "dzen")
	f("zen.yandex.ru", Social, "dzen")
	f("l.facebook.com", Social, "facebook")
	f("l.instagram.com", Social, "instagram")
	f("t.co", Social, "twitter")
	f("x.com", Social, "twitter")
	f("www.linkedin.com", Social, "linkedin")
	f("www.tiktok.com", Social, "tiktok")
	f("www.pinterest.ru", Social, "pinterest")
	f("out.reddit.com", Social, "reddit")
	f("web.whatsapp.com", Social, "whatsapp")
	f("invite.viber.com", Social, "viber")
	// Video.
	f("m.youtube.com", Video, "youtube")
	f("youtu.be", Video, "youtube")
	f("rutube.ru", Video, "rutube")
	f("vimeo.com", Video, "vimeo")
	f("www.twitch.tv", Video, "twitch")
	// Shopping.
	f("www.amazon.de", Shopping, "amazon")
	f("www.ebay.co.uk", Shopping, "ebay")
	f("www.ozon.ru", Shopping, "ozon")
	f("www.wildberries.ru", Shopping, "wildberries")
	f("market.yandex.ru", Shopping, "yandex market")
	f("aliexpress.ru", Shopping, "aliexpress")
	f("www.avito.ru", Shopping, "avito")
	// Webmail, before the search engine of the same company.
	f("mail.google.com", Email, "gmail")
	f("outlook.live.com", Email, "outlook")
	f("mail.yandex.ru", Email, "yandex mail")
	f("e.mail.ru", Email, "mail.ru mail")
	f("com.google.android.gm", Email, "gmail")
	// utm_source values.
	f("Google", Search, "google")
	f("fb", Social, "facebook")
	f("YouTube", Video, "youtube")
	f("Yandex Market", Shopping, "yandex market")
	f("gmail", Email, "gmail")
	// Look-alikes are not the real thing.
	f("notgoogle.com", "", "")
	f("google.com.evil.example", "", "")
	f("google.evilhost.com", "", "")
	f("shop.example", "", "")
	f("", "", "")
}

func TestSearchParams(t *testing.T) {
	for host, want := range map[string]string{"yandex.ru": "text", "www.google.de": "q", "nova.rambler.ru": "query", "www.baidu.com": "wd", "search.yahoo.com": "p"} {
		e, ok := Lookup(host)
		if !ok || len(e.Params) == 0 || e.Params[0] != want {
			t.Fatalf("%s: params %v, want %s first", host, e, want)
		}
	}
}

func TestParseRejectsBadLine(t *testing.T) {
	if err := NewList().Parse(Search, "justahost\n"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("Parse of a line without a name: %v", err)
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Lookup("images.google.co.uk"); Lookup("shop.example") }); n != 0 {
		t.Fatalf("Lookup allocates %v times, want 0", n)
	}
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{"www.google.co.uk", "google.", ".google", "..", "a.b.c.d", "mail.yandex.ru"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, ok := Lookup(s); ok && (e.Name == "" || e.Kind == "") {
			t.Fatalf("Lookup(%q) = %+v", s, e)
		}
	})
}
