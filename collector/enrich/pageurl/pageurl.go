// Package pageurl splits URLs into the parts journeyd stores (host, path, query) and reads
// query parameters, without net/url's allocations: the parts are substrings of the URL.
// It is the enrichment step that fills host, path and query from the page URL, and the
// parser the referrer and campaign steps use.
//
// It is lenient by design: URLs arrive from browsers, emails and backends, and a URL that
// net/url would reject still has a host and a path worth storing.
package pageurl

import (
	"net/url"
	"strings"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/event"
)

// Parts are the pieces of a URL, each a substring of it (the host is lower-cased, which
// allocates only when it has upper-case letters).
type Parts struct {
	Scheme string // "https", "android-app", or "" when the URL has none
	Host   string // lower case, without user info, port or a trailing dot
	Path   string // "/" when the URL has a host but no path
	Query  string // without the '?'
	// Fragment is after the '#', without it.
	Fragment string
}

// Split splits raw into its parts. A URL without a scheme is read as host/path when its
// first segment looks like a host name ("shop.example/a"), else as a path ("/a?b").
func Split(raw string) Parts {
	var p Parts
	raw = strings.TrimSpace(raw)
	raw, p.Fragment, _ = strings.Cut(raw, "#")
	raw, p.Query, _ = strings.Cut(raw, "?")
	rest := raw
	if i := strings.Index(raw, "://"); i > 0 && validScheme(raw[:i]) {
		p.Scheme, rest = raw[:i], raw[i+3:]
	} else if strings.HasPrefix(raw, "//") {
		rest = raw[2:]
	} else if !looksLikeHost(raw) {
		p.Path = raw
		return p
	}
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority, p.Path = rest[:i], rest[i:]
	}
	p.Host = hostOf(authority)
	if p.Path == "" && p.Host != "" {
		p.Path = "/"
	}
	return p
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// looksLikeHost reports whether a scheme-less URL starts with a host name: a first segment
// with a dot, no spaces and not starting with '/' or '.'.
func looksLikeHost(s string) bool {
	seg, _, _ := strings.Cut(s, "/")
	return seg != "" && s[0] != '/' && s[0] != '.' && strings.Contains(seg, ".") && !strings.ContainsAny(seg, " \t")
}

// hostOf returns the lower-case host of an authority (userinfo@host:port).
func hostOf(authority string) string {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	if strings.HasPrefix(authority, "[") {
		if i := strings.IndexByte(authority, ']'); i >= 0 {
			return strings.ToLower(authority[:i+1])
		}
	} else if i := strings.LastIndexByte(authority, ':'); i >= 0 {
		authority = authority[:i]
	}
	return lower(strings.TrimSuffix(authority, "."))
}

// lower is strings.ToLower that returns s itself when it has no upper-case ASCII.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}

// Param returns the unescaped value of the first parameter of query named name (compared
// case-insensitively) and whether it is there.
func Param(query, name string) (string, bool) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(pair, "=")
		if strings.EqualFold(k, name) {
			return Unescape(v), true
		}
	}
	return "", false
}

// Unescape decodes %XX and '+' in a query value; a value with a bad escape is returned as
// it is. It returns v itself when there is nothing to decode.
func Unescape(v string) string {
	if !strings.ContainsAny(v, "%+") {
		return v
	}
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// Step fills e.Host, e.Path and e.Query from e.URL, where the event does not carry them.
type Step struct{}

// Enrich splits e.URL.
func (Step) Enrich(e *event.Event, _ *enrich.Request) {
	if e.URL == "" {
		return
	}
	p := Split(e.URL)
	if e.Host == "" {
		e.Host = p.Host
	}
	if e.Path == "" {
		e.Path = p.Path
	}
	if e.Query == "" {
		e.Query = p.Query
	}
}
