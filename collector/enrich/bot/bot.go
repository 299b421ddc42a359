// Package bot is the enrichment step that sets is_bot: from an embedded list of robot user
// agent substrings (search engines, SEO and AI crawlers, monitoring, headless browsers,
// link unfurlers and HTTP libraries), from the user agent parser's verdict (device "bot",
// set by package ua, which runs first), and from the prefetch headers Purpose and
// Sec-Purpose. Bots are stored, flagged and given the device type "bot"; reports exclude
// them by default.
//
// An empty user agent does not make a bot: server-side events often carry none. Image
// proxies of webmail (GoogleImageProxy, YahooMailProxy) are not bots either: their fetch of
// an open pixel is the open.
package bot

import (
	"bufio"
	"bytes"
	_ "embed"
	"strings"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/internal/boundedcache"
	"github.com/journeyd/journeyd/event"
)

//go:embed bots.txt
var botsTxt string

// patterns are the lower-case substrings of bots.txt.
var patterns = parseList(botsTxt)

// exceptions are user agents that match a pattern but fetch on behalf of a person.
var exceptions = []string{"googleimageproxy", "yahoomailproxy", "cubot"} // Cubot is a phone brand

func parseList(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && line[0] != '#' {
			out = append(out, strings.ToLower(line))
		}
	}
	return out
}

// Detector flags bots, memoising its verdict per user agent in a bounded cache. It is safe
// for concurrent use.
type Detector struct {
	cache *boundedcache.Cache[bool]
}

// New returns a detector that remembers up to cacheSize user agents.
func New(cacheSize int) *Detector {
	return &Detector{cache: boundedcache.New[bool](cacheSize)}
}

// Enrich sets e.IsBot, and e.Device to "bot" when it is one.
func (d *Detector) Enrich(e *event.Event, r *enrich.Request) {
	if e.Device == "bot" || IsPrefetch(r.Purpose) || d.Match(r.UserAgent) {
		e.IsBot, e.Device = true, "bot"
	}
}

// Match reports whether the user agent ua is on the robot list.
func (d *Detector) Match(ua []byte) bool {
	if len(ua) == 0 {
		return false
	}
	if len(ua) > event.MaxTitleLen {
		ua = ua[:event.MaxTitleLen]
	}
	if v, ok := d.cache.Get(ua); ok {
		return v
	}
	v := Match(string(ua))
	d.cache.Put(string(ua), v)
	return v
}

// Match reports whether ua contains a robot pattern, without a cache.
func Match(ua string) bool {
	lower := strings.ToLower(ua)
	for _, x := range exceptions {
		if strings.Contains(lower, x) {
			return false
		}
	}
	for _, p := range patterns {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// IsPrefetch reports whether a Purpose or Sec-Purpose header value marks a prefetch or
// prerender, which no person has seen (yet).
func IsPrefetch(purpose []byte) bool {
	return bytes.Contains(bytes.ToLower(purpose), []byte("prefetch")) ||
		bytes.Contains(bytes.ToLower(purpose), []byte("prerender"))
}
