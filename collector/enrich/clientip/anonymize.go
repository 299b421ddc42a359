package clientip

import (
	"net/netip"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/event"
)

// Default prefix lengths kept by an Anonymizer: the network, not the host.
const (
	DefaultV4Bits = 24
	DefaultV6Bits = 48
)

// Anonymizer cuts e.IP to its network prefix, unless the site keeps full addresses
// (site.Site.KeepIP). It runs after the geo lookup.
type Anonymizer struct {
	V4Bits int // bits of an IPv4 address kept, 0..32; 32 keeps it whole
	V6Bits int // bits of an IPv6 address kept, 0..128; 128 keeps it whole
}

// DefaultAnonymizer keeps an IPv4 /24 and an IPv6 /48.
func DefaultAnonymizer() Anonymizer {
	return Anonymizer{V4Bits: DefaultV4Bits, V6Bits: DefaultV6Bits}
}

// Enrich replaces e.IP by its anonymised form. An address that does not parse is removed.
func (a Anonymizer) Enrich(e *event.Event, r *enrich.Request) {
	if e.IP == "" || (r.Site != nil && r.Site.KeepIP) {
		return
	}
	addr, err := netip.ParseAddr(e.IP)
	if err != nil {
		e.IP = ""
		return
	}
	if masked := a.Anonymize(addr); masked != addr {
		e.IP = masked.String()
	}
}

// Anonymize returns addr with the host bits beyond the configured prefix zeroed.
func (a Anonymizer) Anonymize(addr netip.Addr) netip.Addr {
	bits := a.V6Bits
	if addr.Is4() {
		bits = a.V4Bits
	}
	if bits >= addr.BitLen() {
		return addr
	}
	p, err := addr.Prefix(max(bits, 0))
	if err != nil {
		return netip.Addr{}
	}
	return p.Addr()
}
