// Package site holds the sites journeyd collects for: their ids, allowed origins, write keys
// and per-site privacy and enrichment options, and the registry the endpoints look them up in.
// It does not read files: cmd/journeyd decodes the config file into these types.
package site

import (
	"crypto/sha256"
	"fmt"
	"net/url"
	"strings"

	"github.com/journeyd/journeyd/collector/enrich/channel"
	"github.com/journeyd/journeyd/event/goal"
)

// Site is one tracked property (a website, an app, a backend) as configured in the sites
// section of the config file.
type Site struct {
	// ID is the site id sent by the snippet and pixels (data-site, ?s=) and stored as site_id.
	ID string `yaml:"id"`
	// Origins lists the origins allowed to POST /e and to call the browser SDKs' endpoints
	// (Segment's and RudderStack's /v1, Snowplow's tp2), as scheme://host[:port]; a leading
	// "*." matches any subdomain; "*" allows every origin. Empty allows every origin.
	Origins []string `yaml:"origins"`
	// WriteKeys are the server API keys of the site (Segment write keys).
	WriteKeys []string `yaml:"write_keys"`
	// InternalDomains are extra hosts whose referrers count as internal navigation.
	InternalDomains []string `yaml:"internal_domains"`
	// Channels overrides the default channel grouping: extra sources per kind and rules
	// checked before the default ones (see collector/enrich/channel). Nil keeps the defaults.
	Channels *channel.Overrides `yaml:"channels"`
	// KeepIP stores the full client IP instead of the anonymised one.
	KeepIP bool `yaml:"keep_ip"`
	// Cookieless replaces the anonymous id of events without one by a daily-salted hash of
	// site, IP and user agent.
	Cookieless bool `yaml:"cookieless"`
	// RespectDNT drops browser events that carry DNT: 1 or Sec-GPC: 1.
	RespectDNT bool `yaml:"respect_dnt"`
	// Conversions define the site's conversions for the reports (event, property
	// conditions, value); empty means purchase valued by revenue (see sql/analysis/report).
	Conversions []goal.Conversion `yaml:"conversions"`
	// Stages define the site's journey map; empty means awareness → consideration →
	// decision → purchase → retention → advocacy (see sql/analysis/report).
	Stages []goal.Stage `yaml:"stages"`
}

// ReportDefinitions returns the conversions and stages the reports use for s.
func (s *Site) ReportDefinitions() goal.Definitions {
	return goal.Definitions{Conversions: s.Conversions, Stages: s.Stages}
}

// Validate reports the first problem with s, naming the key that is wrong.
func (s *Site) Validate() error {
	if s.ID == "" {
		return fmt.Errorf("id: must not be empty")
	}
	if len(s.ID) > 128 {
		return fmt.Errorf("id %q: longer than 128 bytes", s.ID)
	}
	for i, o := range s.Origins {
		if o == "*" || strings.HasPrefix(o, "*.") {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return fmt.Errorf("origins[%d] %q: want scheme://host[:port], e.g. https://shop.example", i, o)
		}
	}
	if err := s.Channels.Validate(); err != nil {
		return fmt.Errorf("channels.%w", err)
	}
	for i, k := range s.WriteKeys {
		if len(k) < 8 {
			return fmt.Errorf("write_keys[%d]: shorter than 8 characters", i)
		}
	}
	return s.ReportDefinitions().Validate()
}

// AllowsOrigin reports whether a browser request from origin (the Origin header, or the
// scheme and host of the Referer) may send events to s.
func (s *Site) AllowsOrigin(origin string) bool {
	if len(s.Origins) == 0 {
		return true
	}
	origin = strings.TrimSuffix(strings.ToLower(origin), "/")
	for _, o := range s.Origins {
		switch {
		case o == "*":
			return true
		case strings.HasPrefix(o, "*."):
			host := origin
			if i := strings.Index(host, "://"); i >= 0 {
				host = host[i+3:]
			}
			if j := strings.IndexByte(host, ':'); j >= 0 {
				host = host[:j]
			}
			if strings.HasSuffix(host, strings.ToLower(o[1:])) {
				return true
			}
		case strings.EqualFold(strings.TrimSuffix(o, "/"), origin):
			return true
		}
	}
	return false
}

// Registry finds sites by id and by write key. It is read-only after New and safe for
// concurrent use.
type Registry struct {
	byID  map[string]*Site
	byKey map[[sha256.Size]byte]*Site
}

// NewRegistry validates sites and indexes them. A duplicate id or write key is an error.
func NewRegistry(sites []Site) (*Registry, error) {
	r := &Registry{byID: make(map[string]*Site), byKey: make(map[[sha256.Size]byte]*Site)}
	for i := range sites {
		s := &sites[i]
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("sites[%d].%w", i, err)
		}
		if _, dup := r.byID[s.ID]; dup {
			return nil, fmt.Errorf("sites[%d].id %q: defined twice", i, s.ID)
		}
		r.byID[s.ID] = s
		for j, k := range s.WriteKeys {
			h := sha256.Sum256([]byte(k))
			if _, dup := r.byKey[h]; dup {
				return nil, fmt.Errorf("sites[%d].write_keys[%d]: used by another site too", i, j)
			}
			r.byKey[h] = s
		}
	}
	return r, nil
}

// ByID returns the site with id, or nil.
func (r *Registry) ByID(id string) *Site { return r.byID[id] }

// ByIDBytes is ByID for a byte slice, without allocating.
func (r *Registry) ByIDBytes(id []byte) *Site { return r.byID[string(id)] }

// ByWriteKey returns the site that owns key, or nil. The lookup goes through a SHA-256 of
// the key, so its timing says nothing about how much of a wrong key matched.
func (r *Registry) ByWriteKey(key []byte) *Site {
	if len(key) == 0 {
		return nil
	}
	return r.byKey[sha256.Sum256(key)]
}

// Sites returns every site, in config order is not guaranteed.
func (r *Registry) Sites() []*Site {
	out := make([]*Site, 0, len(r.byID))
	for _, s := range r.byID {
		out = append(out, s)
	}
	return out
}

// AnyAllowsOrigin reports whether some site allows origin: the answer to a CORS preflight,
// which names no site; the request that follows is checked against its own site.
func (r *Registry) AnyAllowsOrigin(origin string) bool {
	for _, s := range r.byID {
		if s.AllowsOrigin(origin) {
			return true
		}
	}
	return false
}
