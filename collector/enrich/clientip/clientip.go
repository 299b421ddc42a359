// Package clientip owns the client IP address of an event: which address to believe
// (Resolver, the first step of the chain) and how much of it to keep (Anonymizer, which runs
// after the geo lookup so that the lookup sees the full address).
//
// The address comes from, in order: the address a server-side sender vouches for
// (Segment's context.ip); X-Forwarded-For or X-Real-IP, but only when the socket peer is a
// configured trusted proxy; the socket peer itself.
package clientip

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/event"
)

// Resolver picks the client address of a request. It is read-only after NewResolver.
type Resolver struct {
	trusted []netip.Prefix
}

// NewResolver returns a resolver that believes forwarding headers from peers inside the
// trusted CIDRs (a bare address is a /32 or /128).
func NewResolver(trusted []string) (*Resolver, error) {
	r := &Resolver{}
	for _, s := range trusted {
		s = strings.TrimSpace(s)
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("cannot parse trusted proxy %q: want a CIDR like 10.0.0.0/8 or an address: %w", s, err)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// Enrich sets e.IP to the full client address, or leaves it empty when none is known.
func (r *Resolver) Enrich(e *event.Event, req *enrich.Request) {
	if a := r.Resolve(req); a.IsValid() {
		e.IP = a.String()
	}
}

// Resolve returns the client address of req; the zero Addr when there is none.
func (r *Resolver) Resolve(req *enrich.Request) netip.Addr {
	if a, ok := parseAddr(req.ClientIP); ok {
		return a
	}
	peer := req.Peer.Unmap()
	if !r.isTrusted(peer) {
		return peer
	}
	if len(req.XForwardedFor) > 0 {
		return r.fromForwardedFor(req.XForwardedFor, peer)
	}
	if a, ok := parseAddr(req.XRealIP); ok {
		return a
	}
	return peer
}

// fromForwardedFor walks X-Forwarded-For from the right, past trusted proxies, to the first
// address a trusted proxy did not add itself. Entries to its left could be forged by the
// client. An unparsable entry ends the walk at the last good address.
func (r *Resolver) fromForwardedFor(xff []byte, peer netip.Addr) netip.Addr {
	last := peer
	for len(xff) > 0 {
		var item []byte
		if i := bytes.LastIndexByte(xff, ','); i >= 0 {
			item, xff = xff[i+1:], xff[:i]
		} else {
			item, xff = xff, nil
		}
		a, ok := parseAddr(item)
		if !ok {
			return last
		}
		if !r.isTrusted(a) {
			return a
		}
		last = a
	}
	return last
}

func (r *Resolver) isTrusted(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr parses an address as found in headers: surrounding spaces, an optional port,
// IPv6 in brackets, IPv4-mapped IPv6 unmapped.
func parseAddr(b []byte) (netip.Addr, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	s := string(b) // does not escape: the parsers below keep no reference
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a.Unmap().WithZone(""), true
		}
	}
	return netip.Addr{}, false
}
