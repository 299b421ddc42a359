package report

import "time"

// visitKeyParam is the placeholder of include/session_touches.sql that picks the key out of
// a session's first visit; a query whose params fill it reads its touches from the sessions.
const visitKeyParam = "visit_key"

// visitKeys are the touchpoint keys a session's first visit holds (session_aggregates'
// visit_state, migration 0026: channel, source, medium and campaign first, joined by the
// byte 0xFF), each as the expression that takes it out of the column visit. The first
// field is cut, not split: splitting every session's nine fields costs 18.16 about a
// quarter of the read.
var visitKeys = map[string]string{
	"channel":  `substring(visit, 1, position(visit, '\xff') - 1)`,
	"source":   `splitByChar('\xff', visit)[2]`,
	"medium":   `splitByChar('\xff', visit)[3]`,
	"campaign": `splitByChar('\xff', visit)[4]`,
}

// touchParams sets the placeholders of a query that includes touches.sql for touchpoints
// keyed by the column key (empty: what a visit without one reads as), over req's period
// and filter: $key and $empty_key, and, where the sessions ClickHouse keeps at insert time
// give the very rows touches.sql gives, $visit_key, which makes the query read them
// (include/session_touches.sql) instead of grouping every event of the period. They do
// when the period is whole UTC days (the table holds a row per session and day), no filter
// narrows the events (a filter is on events, not sessions) and the key is one a visit
// holds; otherwise, or with Runner.EventsOnly, the events are grouped.
func (r *Runner) touchParams(req *Request, p map[string]Value, key, empty string) {
	p["key"], p["empty_key"] = fragment(key), String(empty)
	expr, ok := visitKeys[key]
	if !ok || r.EventsOnly || len(req.Filter) > 0 || !midnight(req.From) || !midnight(req.To) {
		return
	}
	p[visitKeyParam] = fragment(expr)
}

// midnight reports whether t is the start of a UTC day.
func midnight(t time.Time) bool {
	return t.Equal(t.UTC().Truncate(24 * time.Hour))
}
