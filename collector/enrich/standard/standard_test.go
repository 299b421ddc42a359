package standard

import (
	"net/netip"
	"testing"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/channel"
	"github.com/journeyd/journeyd/collector/enrich/internal/geotest"
	"github.com/journeyd/journeyd/collector/enrich/internal/uastrings"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

// enriched are the columns the chain fills.
type enriched struct {
	IP, Country, City                   string
	Browser, OS, Device                 string
	IsBot                               bool
	Host, Path                          string
	RefKind, Term                       string
	Source, Medium, Campaign, ClickType string
	Channel                             string
}

func newChain(t testing.TB) *Enricher {
	t.Helper()
	en, err := New(Options{TrustedProxies: []string{"10.0.0.0/8"}, GeoDB: geotest.CityDB(t)})
	if err != nil {
		t.Fatal(err)
	}
	return en
}

func TestChain(t *testing.T) {
	en := newChain(t)
	shop := &site.Site{ID: "shop", InternalDomains: []string{"pay.example"}}
	keep := &site.Site{ID: "keep", KeepIP: true, Channels: &channel.Overrides{
		Rules: []channel.Rule{{Channel: "Partners", Medium: []string{"partner"}}}}}
	f := func(s *site.Site, e event.Event, r enrich.Request, want enriched) {
		t.Helper()
		r.Site = s
		en.Enrich(&e, &r)
		got := enriched{e.IP, e.Country, e.City, e.Browser, e.OS, e.Device, e.IsBot, e.Host, e.Path,
			e.ReferrerKind, e.SearchTerm, e.Source, e.Medium, e.Campaign, e.ClickIDType, e.Channel}
		if got != want {
			t.Fatalf("\n got  %+v\n want %+v", got, want)
		}
	}
	// A Yandex search visit from Moscow on Chrome for Android, through a trusted proxy.
	f(shop, event.Event{Type: event.TypePageview, URL: "https://shop.example/sofas?x=1",
		Referrer: "https://yandex.ru/search/?text=sofa"},
		enrich.Request{Peer: netip.MustParseAddr("10.1.1.1"), XForwardedFor: []byte("95.165.3.4"), UserAgent: []byte(uastrings.ChromeAndroid)},
		enriched{"95.165.3.0", "RU", "Moscow", "Chrome", "Android", "mobile", false, "shop.example", "/sofas",
			"search", "sofa", "yandex", "organic", "", "", channel.OrganicSearch})
	// A Google Ads click from London on Safari iOS; the site keeps full IPs.
	f(keep, event.Event{Type: event.TypePageview, URL: "https://shop.example/?gclid=Cj0Abc&utm_campaign=spring"},
		enrich.Request{Peer: netip.MustParseAddr("81.2.69.160"), UserAgent: []byte(uastrings.SafariIOS)},
		enriched{"81.2.69.160", "GB", "London", "Safari", "iOS", "mobile", false, "shop.example", "/",
			"", "", "google", "cpc", "spring", "gclid", channel.PaidSearch})
	// Per-site rules come first.
	f(keep, event.Event{Type: event.TypePageview, URL: "https://shop.example/?utm_source=acme&utm_medium=partner"},
		enrich.Request{Peer: netip.MustParseAddr("8.8.8.8"), UserAgent: []byte(uastrings.Firefox)},
		enriched{"8.8.8.8", "US", "Mountain View", "Firefox", "Windows", "desktop", false, "shop.example", "/",
			"", "", "acme", "partner", "", "", "Partners"})
	// Googlebot is stored and flagged; an untrusted peer's X-Forwarded-For is ignored.
	f(shop, event.Event{Type: event.TypePageview, URL: "https://shop.example/"},
		enrich.Request{Peer: netip.MustParseAddr("8.8.8.8"), XForwardedFor: []byte("95.165.3.4"), UserAgent: []byte(uastrings.Googlebot)},
		enriched{"8.8.8.0", "US", "Mountain View", "Googlebot", "", "bot", true, "shop.example", "/",
			"", "", "(direct)", "(none)", "", "", channel.Direct})
	// Internal navigation: no source, the sessionizer carries the session's.
	f(shop, event.Event{Type: event.TypePageview, URL: "https://shop.example/cart", Referrer: "https://pay.example/back"},
		enrich.Request{Peer: netip.MustParseAddr("2a02:6b8:1:2::1"), UserAgent: []byte(uastrings.YandexBrowser)},
		enriched{"2a02:6b8:1::", "RU", "Saint Petersburg", "Yandex Browser", "Windows", "desktop", false, "shop.example", "/cart",
			"internal", "", "", "", "", "", ""})
	// A server event with context.ip and no user agent.
	f(shop, event.Event{Type: event.TypeServer, Name: "order_paid"},
		enrich.Request{Peer: netip.MustParseAddr("10.2.2.2"), ClientIP: []byte("81.2.69.7")},
		enriched{"81.2.69.0", "GB", "London", "", "", "", false, "", "", "", "", "", "", "", "", ""})
}

func TestReload(t *testing.T) {
	en := newChain(t)
	if err := en.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	r := &enrich.Request{Peer: netip.MustParseAddr("10.0.0.1"), XForwardedFor: []byte("95.165.3.4")}
	if got := en.ClientIP(r); got != netip.MustParseAddr("95.165.3.4") {
		t.Fatalf("ClientIP = %v, want the full forwarded address", got)
	}
	if _, err := New(Options{TrustedProxies: []string{"nonsense"}}); err == nil {
		t.Fatal("New accepted a trusted proxy that is not a CIDR")
	}
}

// pageview is a typical pixel or snippet event of a returning visitor.
func pageview() (event.Event, enrich.Request) {
	return event.Event{Type: event.TypePageview, URL: "https://shop.example/catalog/sofas?utm_source=vk&utm_medium=cpc&utm_campaign=spring",
			Referrer: "https://away.vk.com/away.php"},
		enrich.Request{Peer: netip.MustParseAddr("95.165.3.4"), UserAgent: []byte(uastrings.ChromeWindows),
			SecCHUA:       []byte(`"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`),
			SecCHUAMobile: []byte("?0"), SecCHUAPlatform: []byte(`"Windows"`), Site: &site.Site{ID: "shop"}}
}

// TestChainAllocations pins the per-event budget of a warm chain: the anonymised IP string
// and the IP string before it.
func TestChainAllocations(t *testing.T) {
	en := newChain(t)
	e0, r := pageview()
	var e event.Event
	n := testing.AllocsPerRun(200, func() {
		e = e0
		en.Enrich(&e, &r)
	})
	if n > 2 {
		t.Fatalf("the chain allocates %v times per event, budget 2", n)
	}
}

func BenchmarkChain(b *testing.B) {
	en := newChain(b)
	e0, r := pageview()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var e event.Event
		for pb.Next() {
			e = e0
			en.Enrich(&e, &r)
		}
	})
}
