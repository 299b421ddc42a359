// Package event defines the touchpoint that flows through the whole pipeline: the collector
// fills it, the sessionizer assigns its session, and the writer stores it as one row of the
// ClickHouse table events. It is defined once, here, at the end of the pipeline, so that every
// stage can import it without importing a stage to its left.
//
// An Event owns all of its memory: nothing in it may point into a request buffer.
package event

import "time"

// Type is the kind of touchpoint; it is stored as the column type.
type Type = string

// The touchpoint types of DESIGN §4.
const (
	TypePageview   Type = "pageview"
	TypeEvent      Type = "event"
	TypeIdentify   Type = "identify"
	TypeAlias      Type = "alias"
	TypeGroup      Type = "group"
	TypeScreen     Type = "screen"
	TypeEmailOpen  Type = "email_open"
	TypeEmailClick Type = "email_click"
	TypeImpression Type = "impression"
	TypeServer     Type = "server"
	TypeLeave      Type = "leave"
)

// Visit reports whether an event of type t is a visit (DESIGN §6): a pageview, screen or
// browser event, or the landing of an email click. Only a visit starts a session, extends it
// or brings it a new source. The others (server events, identify, alias, group, email opens,
// ad impressions) join the visitor's open session or stay outside any session; the
// reports' touchpoint fragment (sql/analysis/queries/include/touches.sql) uses the same list.
func Visit(t Type) bool {
	switch t {
	case TypePageview, TypeScreen, TypeEvent, TypeLeave, TypeEmailClick:
		return true
	}
	return false
}

// Event is one touchpoint, one row of the events table. Field order follows Columns.
type Event struct {
	ID         string    // event_id: the client's messageId, or generated
	SiteID     string    // site_id
	TS         time.Time // ts: corrected event time (stored as DateTime plus ts_ms)
	ReceivedAt time.Time // received_at
	Type       Type      // type
	Name       string    // name: event name, page name or screen name
	AnonID     string    // anon_id
	UserID     string    // user_id
	SessionID  string    // session_id

	URL          string // url: the full page URL
	Host         string // host
	Path         string // path
	Query        string // query, without the '?'
	Title        string // title
	Referrer     string // referrer: full referrer URL
	ReferrerHost string // referrer_host
	ReferrerKind string // referrer_kind: internal, search, social, video, shopping, email, other
	SearchTerm   string // search_term: from the referrer, where the engine puts it

	Channel     string // channel: default channel group (DESIGN §9)
	Source      string // source: utm_source or derived from the referrer
	Medium      string // medium
	Campaign    string // campaign
	Term        string // term
	Content     string // content
	ClickIDType string // click_id_type: gclid, fbclid, yclid, ...
	ClickID     string // click_id

	Country        string // country: ISO 3166-1 alpha-2
	Region         string // region
	City           string // city
	Browser        string // browser
	BrowserVersion string // browser_version
	OS             string // os
	Device         string // device: desktop, mobile, tablet, bot, other
	IsBot          bool   // is_bot
	IP             string // ip: anonymised unless the site turns that off
	UserAgent      string // user_agent

	PropKeys   []string // props.key
	PropValues []string // props.value
	Revenue    float64  // revenue
	Currency   string   // currency
	EngagedMS  uint32   // engaged_ms: engaged time reported by a page leave
	Library    string   // lib: the sending library, e.g. "journeyd.js", "analytics-go"
}

// SetProp appends a property, or replaces the value of an existing key.
func (e *Event) SetProp(key, value string) {
	for i, k := range e.PropKeys {
		if k == key {
			e.PropValues[i] = value
			return
		}
	}
	e.PropKeys = append(e.PropKeys, key)
	e.PropValues = append(e.PropValues, value)
}

// Prop returns the value of property key and whether it is present.
func (e *Event) Prop(key string) (string, bool) {
	for i, k := range e.PropKeys {
		if k == key {
			return e.PropValues[i], true
		}
	}
	return "", false
}

// Reset clears e for reuse, keeping the capacity of its property slices.
func (e *Event) Reset() {
	keys, values := e.PropKeys[:0], e.PropValues[:0]
	*e = Event{PropKeys: keys, PropValues: values}
}

// Person returns the person the event belongs to: the user id where known, else the
// anonymous id.
func (e *Event) Person() string {
	if e.UserID != "" {
		return e.UserID
	}
	return e.AnonID
}
