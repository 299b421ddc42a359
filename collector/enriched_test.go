package collector

import (
	"testing"

	"github.com/journeyd/journeyd/collector/enrich/standard"
)

// TestEnrichedPixel runs a pixel hit and a server event through the real enrichment chain.
func TestEnrichedPixel(t *testing.T) {
	en, err := standard.New(standard.Options{TrustedProxies: []string{"127.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) { c.Enricher, c.ClientIP = en, en.ClientIP })
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	h.do("GET", "/p.gif?s=blog&u=https%3A%2F%2Fblog.example%2Fpost%3Futm_source%3Dnewsletter%26utm_medium%3Demail", nil,
		"User-Agent", ua, "X-Forwarded-For", "198.51.100.23", "Referer", "https://mail.example/")
	h.do("POST", "/v1/track", []byte(`{"userId":"u","event":"Paid","context":{"ip":"203.0.113.99"}}`), "Authorization", basic(blogKey),
		"User-Agent", ua, "X-Forwarded-For", "198.51.100.23")
	evs := h.sink.take()
	if len(evs) != 2 {
		t.Fatalf("got %d events", len(evs))
	}
	e := evs[0]
	if e.Host != "blog.example" || e.Path != "/post" || e.Source != "newsletter" || e.Medium != "email" ||
		e.Browser == "" || e.Device == "" || e.IP != "198.51.100.0" || e.Channel == "" || len(e.AnonID) != 34 {
		t.Fatalf("pixel event not enriched: %+v", e)
	}
	// The anonymous id hashes the full address, before anonymisation: a neighbour in the
	// same /24 with the same browser is another visitor.
	h.do("GET", "/p.gif?s=blog", nil, "User-Agent", ua, "X-Forwarded-For", "198.51.100.24")
	if other := h.sink.take()[0].AnonID; other == e.AnonID {
		t.Fatal("two addresses of one /24 got the same cookieless id")
	}
	s := evs[1]
	if s.IP != "203.0.113.0" || s.Browser != "" || s.UserAgent != "" {
		t.Fatalf("server event: ip %q, browser %q, ua %q; want context.ip only, no user agent of the backend", s.IP, s.Browser, s.UserAgent)
	}
}
