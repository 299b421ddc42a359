package event

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Limits on stored strings, in bytes. Longer values are truncated at a rune boundary, never
// rejected whole (DESIGN §4). Invalid UTF-8 is replaced by U+FFFD.
const (
	MaxIDLen       = 128  // event_id (longer ones are hashed: EventID), anon_id, user_id, session_id, site_id
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

// LongIDPrefix begins the event id that stands for a message id longer than MaxIDLen.
const LongIDPrefix = "sha256:"

// EventID returns id as an event id of at most MaxIDLen bytes. An id that fits is kept as
// it is (invalid UTF-8 replaced); a longer one becomes LongIDPrefix and the hex SHA-256 of
// all its bytes, so that two long ids that differ anywhere stay two events (cutting them
// would make one event of two messages that share their first MaxIDLen bytes), and a retry
// of the same long id is still the same event.
func EventID(id string) string {
	if len(id) <= MaxIDLen {
		return Clean(id, MaxIDLen)
	}
	sum := sha256.Sum256([]byte(id))
	return LongIDPrefix + hex.EncodeToString(sum[:])
}

// Normalize truncates every string field of e to its documented limit (the event id is
// hashed instead, see EventID), replaces invalid UTF-8 and drops properties beyond
// MaxProps. It allocates only for values that change.
func (e *Event) Normalize() {
	e.ID = EventID(e.ID)
	for _, f := range []struct {
		p   *string
		max int
	}{
		{&e.SiteID, MaxIDLen}, {&e.AnonID, MaxIDLen}, {&e.UserID, MaxIDLen},
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
