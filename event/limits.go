package event

import (
	"strings"
	"unicode/utf8"
)

// Limits on stored strings, in bytes. Longer values are truncated at a rune boundary, never
// rejected whole (DESIGN §4). Invalid UTF-8 is replaced by U+FFFD.
const (
	MaxIDLen       = 128  // event_id, anon_id, user_id, session_id, site_id
	MaxNameLen     = 256  // name, type, channel, source, medium, click ids, geo, device fields
	MaxURLLen      = 2048 // url, referrer, path, query
	MaxTitleLen    = 512  // title, campaign, term, content, search term, user agent
	MaxPropKeyLen  = 128  // a property key
	MaxPropValLen  = 4096 // a property value
	MaxProps       = 64   // properties per event; more are dropped
	MaxCurrencyLen = 8
)

// Clean returns s as valid UTF-8 of at most max bytes, cut at a rune boundary.
func Clean(s string, max int) string {
	if len(s) <= max && utf8.ValidString(s) {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Normalize truncates every string field of e to its documented limit, replaces invalid
// UTF-8 and drops properties beyond MaxProps. It allocates only for values that change.
func (e *Event) Normalize() {
	for _, f := range []struct {
		p   *string
		max int
	}{
		{&e.ID, MaxIDLen}, {&e.SiteID, MaxIDLen}, {&e.AnonID, MaxIDLen}, {&e.UserID, MaxIDLen},
		{&e.SessionID, MaxIDLen}, {&e.Type, MaxNameLen}, {&e.Name, MaxNameLen},
		{&e.URL, MaxURLLen}, {&e.Host, MaxNameLen}, {&e.Path, MaxURLLen}, {&e.Query, MaxURLLen},
		{&e.Title, MaxTitleLen}, {&e.Referrer, MaxURLLen}, {&e.ReferrerHost, MaxNameLen},
		{&e.ReferrerKind, MaxNameLen}, {&e.SearchTerm, MaxTitleLen}, {&e.Channel, MaxNameLen},
		{&e.Source, MaxNameLen}, {&e.Medium, MaxNameLen}, {&e.Campaign, MaxTitleLen},
		{&e.Term, MaxTitleLen}, {&e.Content, MaxTitleLen}, {&e.ClickIDType, MaxNameLen},
		{&e.ClickID, MaxTitleLen}, {&e.Country, MaxNameLen}, {&e.Region, MaxNameLen},
		{&e.City, MaxNameLen}, {&e.Browser, MaxNameLen}, {&e.BrowserVersion, MaxNameLen},
		{&e.OS, MaxNameLen}, {&e.Device, MaxNameLen}, {&e.IP, MaxNameLen},
		{&e.UserAgent, MaxTitleLen}, {&e.Currency, MaxCurrencyLen}, {&e.Library, MaxNameLen},
	} {
		*f.p = Clean(*f.p, f.max)
	}
	if len(e.PropKeys) > MaxProps {
		e.PropKeys, e.PropValues = e.PropKeys[:MaxProps], e.PropValues[:MaxProps]
	}
	for i := range e.PropKeys {
		e.PropKeys[i] = Clean(e.PropKeys[i], MaxPropKeyLen)
		e.PropValues[i] = Clean(e.PropValues[i], MaxPropValLen)
	}
}
