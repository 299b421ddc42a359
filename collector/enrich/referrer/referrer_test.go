package referrer

import (
	"testing"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

type result struct {
	host, kind, term, source, medium string
}

func TestEnrich(t *testing.T) {
	s := &site.Site{ID: "shop", InternalDomains: []string{"pay.example", "*.shop-cdn.example"}}
	f := func(referrer string, want result) {
		t.Helper()
		e := event.Event{Host: "www.shop.example", Referrer: referrer}
		Step{}.Enrich(&e, &enrich.Request{Site: s})
		got := result{e.ReferrerHost, e.ReferrerKind, e.SearchTerm, e.Source, e.Medium}
		if got != want {
			t.Fatalf("referrer %q\n got  %+v\n want %+v", referrer, got, want)
		}
	}
	// Search engines, with the search term where they still send it.
	f("https://www.google.com/", result{"www.google.com", "search", "", "google", "organic"})
	f("https://www.google.co.uk/search?q=red+sofa", result{"www.google.co.uk", "search", "red sofa", "google", "organic"})
	f("https://www.bing.com/search?q=sofa&form=QBLH", result{"www.bing.com", "search", "sofa", "bing", "organic"})
	f("https://yandex.ru/search/?text=%D0%B4%D0%B8%D0%B2%D0%B0%D0%BD&lr=213", result{"yandex.ru", "search", "диван", "yandex", "organic"})
	f("https://ya.ru/", result{"ya.ru", "search", "", "yandex", "organic"})
	f("https://go.mail.ru/search?q=sofa", result{"go.mail.ru", "search", "sofa", "mail.ru", "organic"})
	f("https://duckduckgo.com/", result{"duckduckgo.com", "search", "", "duckduckgo", "organic"})
	f("https://search.yahoo.com/search?p=sofa", result{"search.yahoo.com", "search", "sofa", "yahoo", "organic"})
	f("https://www.baidu.com/s?wd=sofa", result{"www.baidu.com", "search", "sofa", "baidu", "organic"})
	f("https://www.ecosia.org/search?q=sofa", result{"www.ecosia.org", "search", "sofa", "ecosia", "organic"})
	f("https://nova.rambler.ru/search?query=sofa", result{"nova.rambler.ru", "search", "sofa", "rambler", "organic"})
	// Social networks and messengers.
	f("https://vk.com/", result{"vk.com", "social", "", "vk", "referral"})
	f("https://away.vk.com/away.php?to=x", result{"away.vk.com", "social", "", "vk", "referral"})
	f("https://ok.ru/", result{"ok.ru", "social", "", "ok", "referral"})
	f("https://t.me/shopchannel/12", result{"t.me", "social", "", "telegram", "referral"})
	f("https://dzen.ru/a/xyz", result{"dzen.ru", "social", "", "dzen", "referral"})
	f("https://l.facebook.com/", result{"l.facebook.com", "social", "", "facebook", "referral"})
	f("https://l.instagram.com/", result{"l.instagram.com", "social", "", "instagram", "referral"})
	f("https://t.co/abc", result{"t.co", "social", "", "twitter", "referral"})
	f("https://www.linkedin.com/", result{"www.linkedin.com", "social", "", "linkedin", "referral"})
	f("https://www.tiktok.com/", result{"www.tiktok.com", "social", "", "tiktok", "referral"})
	f("https://www.pinterest.com/", result{"www.pinterest.com", "social", "", "pinterest", "referral"})
	f("https://out.reddit.com/", result{"out.reddit.com", "social", "", "reddit", "referral"})
	f("https://web.whatsapp.com/", result{"web.whatsapp.com", "social", "", "whatsapp", "referral"})
	f("android-app://org.telegram.messenger/", result{"org.telegram.messenger", "social", "", "telegram", "referral"})
	// Video and shopping.
	f("https://www.youtube.com/", result{"www.youtube.com", "video", "", "youtube", "referral"})
	f("https://rutube.ru/video/1/", result{"rutube.ru", "video", "", "rutube", "referral"})
	f("https://vimeo.com/1", result{"vimeo.com", "video", "", "vimeo", "referral"})
	f("https://www.twitch.tv/x", result{"www.twitch.tv", "video", "", "twitch", "referral"})
	f("https://www.ozon.ru/", result{"www.ozon.ru", "shopping", "", "ozon", "referral"})
	f("https://market.yandex.ru/product/1", result{"market.yandex.ru", "shopping", "", "yandex market", "referral"})
	f("https://www.amazon.de/", result{"www.amazon.de", "shopping", "", "amazon", "referral"})
	// Webmail.
	f("https://mail.google.com/", result{"mail.google.com", "email", "", "gmail", "email"})
	f("https://mail.yandex.ru/?uid=1", result{"mail.yandex.ru", "email", "", "yandex mail", "email"})
	f("https://e.mail.ru/inbox/", result{"e.mail.ru", "email", "", "mail.ru mail", "email"})
	f("https://outlook.live.com/", result{"outlook.live.com", "email", "", "outlook", "email"})
	// Internal navigation: no source.
	f("https://www.shop.example/catalog", result{"www.shop.example", "internal", "", "", ""})
	f("https://shop.example/", result{"shop.example", "internal", "", "", ""})
	f("https://pay.example/3ds", result{"pay.example", "internal", "", "", ""})
	f("https://img.shop-cdn.example/", result{"img.shop-cdn.example", "internal", "", "", ""})
	// Other sites.
	f("https://www.blog.example/post", result{"www.blog.example", "other", "", "blog.example", "referral"})
	f("notaurl", result{})
	f("", result{})
}

func TestCampaignTaggingWins(t *testing.T) {
	e := event.Event{Host: "shop.example", Referrer: "https://www.google.com/", Source: "newsletter", Medium: "email"}
	Step{}.Enrich(&e, &enrich.Request{})
	if e.Source != "newsletter" || e.Medium != "email" || e.ReferrerKind != "search" {
		t.Fatalf("got source %q medium %q kind %q", e.Source, e.Medium, e.ReferrerKind)
	}
	e = event.Event{Host: "shop.example", Referrer: "https://www.google.com/", Source: "google", Medium: "cpc", ClickIDType: "gclid"}
	Step{}.Enrich(&e, nil)
	if e.Medium != "cpc" {
		t.Fatalf("a click id's medium became %q", e.Medium)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"https://yandex.ru/search/?text=%zz", "https://www.google.com/#q=x", "//", "http://[::1]/", "android-app://"} {
		f.Add(s, "shop.example")
	}
	f.Fuzz(func(t *testing.T, ref, pageHost string) {
		c := Classify(ref, pageHost, []string{"pay.example"})
		if (c.Host == "") != (c.Kind == "") {
			t.Fatalf("Classify(%q): host %q kind %q", ref, c.Host, c.Kind)
		}
		if c.Kind == "internal" && c.Source != "" {
			t.Fatalf("Classify(%q): internal referrer with source %q", ref, c.Source)
		}
	})
}
