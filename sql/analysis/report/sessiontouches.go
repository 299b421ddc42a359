package report

import (
	"fmt"
	"maps"
	"strings"
	"time"
)

// visitKeyParam is the placeholder of include/session_touches.sql that picks the key out of
// a touch_rows row's touch_key; a query whose params fill it reads its touches from the
// sessions. touch_rows.sql itself has no such placeholder: its rows are keyed the same for
// every key, and journeyd picks the key out of them (touchKey, touchRowsParams).
const visitKeyParam = "visit_key"

// visitFields numbers the fields of a session's first visit as session_aggregates keeps it
// (visit_state, migration 0026: channel, source, medium, campaign, referrer, path, country,
// device and browser, joined by the byte 0xFF), by the names of the columns and top
// dimensions that read them. An email's touch_key holds the first four the same way
// (include/session_touch_rows.sql).
var visitFields = map[string]int{"channel": 1, "source": 2, "medium": 3, "campaign": 4, "entry_page": 6,
	"country": 7, "device": 8, "browser": 9}

// visitKey returns the expression that takes the field key out of the column touch_key
// (include/session_touches.sql), and false when a visit does not hold key. The first field
// is cut, not split: splitting every session's nine fields costs 18.16 about as much as
// reading the sessions.
func visitKey(key string) (string, bool) {
	i, ok := visitFields[key]
	if !ok {
		return "", false
	} else if i == 1 {
		return `substring(touch_key, 1, position(touch_key, '\xff') - 1)`, true
	}
	return fmt.Sprintf(`splitByChar('\xff', touch_key)[%d]`, i), true
}

// touchKey is the key a reader of a touch_rows read takes its touchpoints and sessions by:
// field of the read's touch_key (numbered as visitFields; an empty field reads as empty,
// as touches.sql's if(key = ”, $empty_key, key) reads it), or, field 0, touch_key itself
// (the whole first visit, which the top lists split into their dimensions; and the key of
// every reader of a touchpoints.sql read, whose SQL keys its rows already). The read's
// SQL, its days in the store and its grouping are the same for every touchKey: only the
// mapping of each distinct touch_key to the key differs (keysOf).
type touchKey struct {
	field int
	empty string
}

// of returns the key of the touch_key raw: its field, or k.empty when that is empty.
func (k touchKey) of(raw string) string {
	if k.field == 0 {
		return raw
	}
	v := raw
	for i := 1; i < k.field; i++ {
		j := strings.IndexByte(v, 0xFF)
		if j < 0 {
			v = "" // as splitByChar's index past the last field
			break
		}
		v = v[j+1:]
	}
	if j := strings.IndexByte(v, 0xFF); j >= 0 {
		v = v[:j]
	}
	if v == "" {
		return k.empty
	}
	return v
}

// touchKeyParams are the placeholders touchParams fills for the key, which a read of
// touch_rows.sql does not take (touchRowsParams).
var touchKeyParams = []string{"key", "empty_key", visitKeyParam}

// touchRowsParams returns the placeholders of a touch_rows read for params, which read the
// sessions (readsSessions), and the key its reader takes: params without the key's
// (touchKeyParams), so that readers of every key share one read, its SQL and its days in
// the store. The key is the column params["key"] names (its field of touch_key, with
// params["empty_key"]'s text unquoted by keyEmpty), or the whole first visit when
// $visit_key is wholeVisit's.
func touchRowsParams(params map[string]Value) (map[string]Value, touchKey) {
	p := maps.Clone(params)
	for _, name := range touchKeyParams {
		delete(p, name)
	}
	if params[visitKeyParam].sql == wholeVisit {
		return p, touchKey{}
	}
	return p, touchKey{field: visitFields[params["key"].sql], empty: params["empty_key"].text}
}

// fromDays reports whether req may be answered from rows kept per UTC day rather than by
// the report's own query over the events: the sessions ClickHouse keeps at insert time,
// which give req's touches exactly as grouping its events does, and the days' rows
// journeyd counts the funnel, retention and top pages from (funneldays.go,
// retentiondays.go, pagedays.go). It does when the period is whole UTC days (the sessions
// hold a row per session and day) and no filter narrows the events (a filter is on events,
// not sessions), unless the Runner reads events only (EventsOnly).
func (r *Runner) fromDays(req *Request) bool {
	return !r.EventsOnly && len(req.Filter) == 0 && midnight(req.From) && midnight(req.To)
}

// touchParams sets the placeholders of a query that includes touches.sql for touchpoints
// keyed by the column key (empty: what a visit without one reads as), over req's period
// and filter: $key and $empty_key, and, where the sessions give the very rows touches.sql
// gives (fromDays, and a key a visit holds), $visit_key, which makes the query read
// them (include/session_touches.sql) instead of grouping every event of the period, with
// $days 1: every day of the period (a read of touch_rows may narrow it, daystore.go), and
// $touch_events, the table their emails and conversions are read from (touchEventsTable).
func (r *Runner) touchParams(req *Request, p map[string]Value, key, empty string) {
	p["key"], p["empty_key"] = fragment(key), String(empty)
	if expr, ok := visitKey(key); ok && r.fromDays(req) {
		p[visitKeyParam], p["days"] = fragment(expr), fragment("1")
		st, _ := req.Conversion.Step() // conversionParams has parsed it (an error leaves no alternative: events)
		p["touch_events"] = r.touchEvents(st)
	}
}

// midnight reports whether t is the start of a UTC day.
func midnight(t time.Time) bool {
	return t.Equal(t.UTC().Truncate(day))
}
