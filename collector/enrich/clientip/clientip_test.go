package clientip

import (
	"net/netip"
	"testing"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/site"
	"github.com/journeyd/journeyd/event"
)

func TestResolve(t *testing.T) {
	r, err := NewResolver([]string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	f := func(peer, clientIP, xff, xRealIP, want string) {
		t.Helper()
		req := &enrich.Request{Peer: netip.MustParseAddr(peer), ClientIP: []byte(clientIP),
			XForwardedFor: []byte(xff), XRealIP: []byte(xRealIP)}
		var e event.Event
		r.Enrich(&e, req)
		if e.IP != want {
			t.Fatalf("peer %s context.ip %q XFF %q X-Real-IP %q: got %q, want %q", peer, clientIP, xff, xRealIP, e.IP, want)
		}
	}
	f("203.0.113.9", "", "", "", "203.0.113.9")
	f("::ffff:203.0.113.9", "", "", "", "203.0.113.9")
	// Forwarding headers from an untrusted peer are forged or irrelevant.
	f("203.0.113.9", "", "198.51.100.1", "198.51.100.2", "203.0.113.9")
	// From a trusted proxy: the rightmost address not added by a trusted proxy.
	f("10.1.2.3", "", "198.51.100.1", "", "198.51.100.1")
	f("10.1.2.3", "", "1.1.1.1, 198.51.100.1, 10.9.9.9", "", "198.51.100.1")
	f("10.1.2.3", "", "198.51.100.1:4711", "", "198.51.100.1")
	f("10.1.2.3", "", "[2001:db8::1]:443", "", "2001:db8::1")
	f("192.0.2.7", "", "2001:db8::1, 2001:db8:ffff::5", "", "2001:db8::1")
	f("10.1.2.3", "", "10.0.0.1, 10.0.0.2", "", "10.0.0.1")
	f("10.1.2.3", "", "garbage, 10.0.0.2", "", "10.0.0.2")
	f("10.1.2.3", "", "", "198.51.100.3", "198.51.100.3")
	f("10.1.2.3", "", "", "nonsense", "10.1.2.3")
	// An address the server-side sender vouches for wins.
	f("10.1.2.3", "198.51.100.4", "198.51.100.1", "", "198.51.100.4")
	f("203.0.113.9", "not an ip", "", "", "203.0.113.9")
}

func TestNewResolverRejectsGarbage(t *testing.T) {
	if _, err := NewResolver([]string{"10.0.0.0/33"}); err == nil {
		t.Fatal("NewResolver accepted 10.0.0.0/33")
	}
}

func TestAnonymize(t *testing.T) {
	f := func(a Anonymizer, keep bool, ip, want string) {
		t.Helper()
		e := event.Event{IP: ip}
		a.Enrich(&e, &enrich.Request{Site: &site.Site{ID: "s", KeepIP: keep}})
		if e.IP != want {
			t.Fatalf("%+v keep=%v: %q became %q, want %q", a, keep, ip, e.IP, want)
		}
	}
	d := DefaultAnonymizer()
	f(d, false, "203.0.113.77", "203.0.113.0")
	f(d, false, "2001:db8:1234:5678::1", "2001:db8:1234::")
	f(d, true, "203.0.113.77", "203.0.113.77")
	f(d, false, "", "")
	f(d, false, "bogus", "")
	f(Anonymizer{V4Bits: 16, V6Bits: 32}, false, "203.0.113.77", "203.0.0.0")
	f(Anonymizer{V4Bits: 32, V6Bits: 128}, false, "203.0.113.77", "203.0.113.77")
}

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", " [::1]:80 ", "::ffff:1.2.3.4", "fe80::1%eth0", "1.2.3.4:99999", ""} {
		f.Add(s)
	}
	r, _ := NewResolver([]string{"0.0.0.0/0", "::/0"})
	a := DefaultAnonymizer()
	f.Fuzz(func(t *testing.T, s string) {
		if addr, ok := parseAddr([]byte(s)); ok && (!addr.IsValid() || addr.Zone() != "" || addr.Is4In6()) {
			t.Fatalf("parseAddr(%q) = %v", s, addr)
		}
		var e event.Event
		req := &enrich.Request{Peer: netip.MustParseAddr("10.0.0.1"), XForwardedFor: []byte(s)}
		r.Enrich(&e, req)
		a.Enrich(&e, req)
		if e.IP != "" {
			if _, err := netip.ParseAddr(e.IP); err != nil {
				t.Fatalf("XFF %q gave unparsable ip %q", s, e.IP)
			}
		}
	})
}
