// Package standard builds journeyd's enrichment chain from its parts, in the order they
// depend on each other: client IP → geo → IP anonymisation, user agent → bot, page URL →
// campaign tags → referrer → channel. It owns only the wiring and its options; each step
// lives in its own package under collector/enrich.
//
// The chain is not built in package enrich itself because the steps import enrich for its
// Request type, and site (which enrich imports) holds the channel overrides.
package standard

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/bot"
	"github.com/journeyd/journeyd/collector/enrich/campaign"
	"github.com/journeyd/journeyd/collector/enrich/channel"
	"github.com/journeyd/journeyd/collector/enrich/clientip"
	"github.com/journeyd/journeyd/collector/enrich/geo"
	"github.com/journeyd/journeyd/collector/enrich/pageurl"
	"github.com/journeyd/journeyd/collector/enrich/referrer"
	"github.com/journeyd/journeyd/collector/enrich/ua"
	"github.com/journeyd/journeyd/event"
)

// DefaultCacheSize is the number of user agents the parser and bot detector remember.
const DefaultCacheSize = 10000

// Options configure the chain. The zero value is a working chain without geo.
type Options struct {
	// TrustedProxies are the CIDRs (or addresses) whose X-Forwarded-For and X-Real-IP are
	// believed.
	TrustedProxies []string
	// GeoDB is the path of a MaxMind City or Country database; empty for no geo.
	GeoDB string
	// IPv4Bits and IPv6Bits are the prefix lengths anonymisation keeps; 0 means the
	// defaults, /24 and /48. KeepIP turns anonymisation off for every site (a site can turn
	// it off for itself with keep_ip).
	IPv4Bits, IPv6Bits int
	KeepIP             bool
	// CacheSize bounds the user agent caches; 0 means DefaultCacheSize.
	CacheSize int
	// Logger gets the warnings (a missing geo database); nil means slog.Default().
	Logger *slog.Logger
}

// Enricher is the whole chain. It is safe for concurrent use.
type Enricher struct {
	chain    enrich.Chain
	geo      *geo.DB
	resolver *clientip.Resolver
}

// New builds the chain.
func New(o Options) (*Enricher, error) {
	resolver, err := clientip.NewResolver(o.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("cannot build the enrichment chain: %w", err)
	}
	db, err := geo.Open(o.GeoDB, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("cannot build the enrichment chain: %w", err)
	}
	size := o.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	chain := enrich.Chain{resolver, db}
	if !o.KeepIP {
		chain = append(chain, anonymizer(o))
	}
	chain = append(chain, ua.New(size), bot.New(size),
		pageurl.Step{}, campaign.Step{}, referrer.Step{}, enrich.StepFunc(assignChannel))
	return &Enricher{chain: chain, geo: db, resolver: resolver}, nil
}

func anonymizer(o Options) clientip.Anonymizer {
	a := clientip.DefaultAnonymizer()
	if o.IPv4Bits > 0 {
		a.V4Bits = o.IPv4Bits
	}
	if o.IPv6Bits > 0 {
		a.V6Bits = o.IPv6Bits
	}
	return a
}

// assignChannel is the channel step: channel.Assign with the site's overrides.
func assignChannel(e *event.Event, r *enrich.Request) {
	var ov *channel.Overrides
	if r != nil && r.Site != nil {
		ov = r.Site.Channels
	}
	channel.Assign(e, ov)
}

// Enrich runs the chain on e.
func (en *Enricher) Enrich(e *event.Event, r *enrich.Request) { en.chain.Enrich(e, r) }

// Chain returns the steps, in order.
func (en *Enricher) Chain() enrich.Chain { return en.chain }

// ClientIP returns the full client address of r as the chain sees it (before
// anonymisation), for collector.Config.ClientIP.
func (en *Enricher) ClientIP(r *enrich.Request) netip.Addr { return en.resolver.Resolve(r) }

// Reload reads the geo database again; call it on SIGHUP. On error the database in use
// stays.
func (en *Enricher) Reload() error { return en.geo.Reload() }
