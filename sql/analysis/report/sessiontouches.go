package report

import (
	"fmt"
	"time"
)

// visitKeyParam is the placeholder of include/session_touches.sql that picks the key out of
// a session's first visit; a query whose params fill it reads its touches from the sessions.
const visitKeyParam = "visit_key"

// visitFields numbers the fields of a session's first visit as session_aggregates keeps it
// (visit_state, migration 0026: channel, source, medium, campaign, referrer, path, country,
// device and browser, joined by the byte 0xFF), by the names of the columns and top
// dimensions that read them.
var visitFields = map[string]int{"channel": 1, "source": 2, "medium": 3, "campaign": 4, "entry_page": 6,
	"country": 7, "device": 8, "browser": 9}

// visitKey returns the expression that takes the field key out of the column visit, and
// false when a visit does not hold key. The first field is cut, not split: splitting every
// session's nine fields costs 18.16 about as much as reading the sessions.
func visitKey(key string) (string, bool) {
	i, ok := visitFields[key]
	if !ok {
		return "", false
	} else if i == 1 {
		return `substring(visit, 1, position(visit, '\xff') - 1)`, true
	}
	return fmt.Sprintf(`splitByChar('\xff', visit)[%d]`, i), true
}

// fromSessions reports whether the sessions ClickHouse keeps at insert time give req's
// touches exactly as grouping its events does: when the period is whole UTC days (the
// table holds a row per session and day) and no filter narrows the events (a filter is on
// events, not sessions), unless the Runner reads events only.
func (r *Runner) fromSessions(req *Request) bool {
	return !r.EventsOnly && len(req.Filter) == 0 && midnight(req.From) && midnight(req.To)
}

// touchParams sets the placeholders of a query that includes touches.sql for touchpoints
// keyed by the column key (empty: what a visit without one reads as), over req's period
// and filter: $key and $empty_key, and, where the sessions give the very rows touches.sql
// gives (fromSessions, and a key a visit holds), $visit_key, which makes the query read
// them (include/session_touches.sql) instead of grouping every event of the period, with
// $days 1: every day of the period (a read of touch_rows may narrow it, daystore.go).
func (r *Runner) touchParams(req *Request, p map[string]Value, key, empty string) {
	p["key"], p["empty_key"] = fragment(key), String(empty)
	if expr, ok := visitKey(key); ok && r.fromSessions(req) {
		p[visitKeyParam], p["days"] = fragment(expr), fragment("1")
	}
}

// midnight reports whether t is the start of a UTC day.
func midnight(t time.Time) bool {
	return t.Equal(t.UTC().Truncate(day))
}
