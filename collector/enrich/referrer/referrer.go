// Package referrer is the enrichment step that classifies the referrer of an event: its
// host, its kind (internal, search, social, video, shopping, email, other), the search term
// where the engine still puts one in the URL (q=, text= for Yandex, p= for Yahoo, wd= for
// Baidu, ...), and, when the URL carries no campaign tagging, the source and medium it
// implies: the engine or network's name (google, vk, gmail) or the referring host, with
// medium "organic" for search engines, "email" for webmail and "referral" otherwise.
//
// A referrer is internal when its host is the page's host (a "www." prefix aside) or one
// of the site's internal domains (or their subdomains). Internal referrers set no source:
// internal navigation carries the session's source, which the sessionizer fills in.
package referrer

import (
	"strings"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/pageurl"
	"github.com/journeyd/journeyd/collector/enrich/sources"
	"github.com/journeyd/journeyd/event"
)

// The media a referrer implies.
const (
	MediumOrganic  = "organic"
	MediumEmail    = "email"
	MediumReferral = "referral"
)

// Class is what a referrer says about where a visit came from.
type Class struct {
	Host       string       // the referrer's host, lower case
	Kind       sources.Kind // internal, search, social, video, shopping, email, other; "" for none
	Source     string       // the source name it implies; "" for internal referrers
	SearchTerm string
}

// Classify classifies the referrer ref of a page on pageHost; internal lists extra hosts
// that count as internal.
func Classify(ref, pageHost string, internal []string) Class {
	p := pageurl.Split(ref)
	if p.Host == "" {
		return Class{}
	}
	c := Class{Host: p.Host}
	if isInternal(p.Host, pageHost, internal) {
		c.Kind = sources.Internal
		return c
	}
	e, ok := sources.Default.Lookup(p.Host)
	if !ok {
		c.Kind, c.Source = sources.Other, strings.TrimPrefix(p.Host, "www.")
		return c
	}
	c.Kind, c.Source = e.Kind, e.Name
	for _, param := range e.Params {
		if v, ok := pageurl.Param(p.Query, param); ok && v != "" {
			c.SearchTerm = strings.TrimSpace(v)
			break
		}
	}
	if c.SearchTerm == "" && len(e.Params) > 0 {
		c.SearchTerm = fragmentTerm(p.Fragment, e.Params)
	}
	return c
}

// fragmentTerm finds the search term in a fragment such as Google's "#q=term".
func fragmentTerm(fragment string, params []string) string {
	for _, param := range params {
		if v, ok := pageurl.Param(fragment, param); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// isInternal reports whether host is the page's own host or an internal domain.
func isInternal(host, pageHost string, internal []string) bool {
	if pageHost != "" && strings.TrimPrefix(host, "www.") == strings.TrimPrefix(pageHost, "www.") {
		return true
	}
	for _, d := range internal {
		d = strings.TrimPrefix(d, "*.")
		if len(host) >= len(d) && strings.EqualFold(host[len(host)-len(d):], d) &&
			(len(host) == len(d) || host[len(host)-len(d)-1] == '.') {
			return true
		}
	}
	return false
}

// MediumFor returns the medium a referrer of kind implies.
func MediumFor(kind sources.Kind) string {
	switch kind {
	case sources.Search:
		return MediumOrganic
	case sources.Email:
		return MediumEmail
	case sources.Internal, "":
		return ""
	}
	return MediumReferral
}

// Step classifies e.Referrer against the page host e.Host (set by package pageurl, which
// runs before it) and the site's internal domains.
type Step struct{}

// Enrich fills the referrer columns of e, and its source and medium when the event carries
// no campaign tagging (no utm source or medium, no click id).
func (Step) Enrich(e *event.Event, r *enrich.Request) {
	if e.Referrer == "" {
		return
	}
	var internal []string
	if r != nil && r.Site != nil {
		internal = r.Site.InternalDomains
	}
	c := Classify(e.Referrer, e.Host, internal)
	e.ReferrerHost, e.ReferrerKind = c.Host, c.Kind
	if e.SearchTerm == "" {
		e.SearchTerm = c.SearchTerm
	}
	if c.Source != "" && e.Source == "" && e.Medium == "" && e.ClickIDType == "" {
		e.Source, e.Medium = c.Source, MediumFor(c.Kind)
	}
}
