package report

import (
	"slices"
	"strings"

	"github.com/journeyd/journeyd/event/goal"
)

// viewTypes are the event types touch_events leaves out unless the event has a name
// (migration 0027): the page and screen views and the leaves, seven in eight events.
var viewTypes = []string{"pageview", "screen", "leave"}

// touchEventsTable returns the table a query reads for the events that match any of steps
// (a conversion, retention's cohort and return), besides the email opens, clicks and
// impressions, which are in both (include/touch_rows_of_events.sql, retention_rows.sql,
// retention.sql: $touch_events): touch_events, which ClickHouse keeps at insert time and
// which holds every event but the views without a name, when every row the steps can
// match is one of those; else events. An alternative matches touch_events' rows only when
// it names a type that is not a view, or a name that is not empty (a target of a type
// other than pageview, whose target is the path, with more than '*' in it); a path, a
// view's type alone, any type or properties alone can match a view without a name.
func touchEventsTable(steps ...goal.Step) string {
	if len(steps) == 0 {
		return "events"
	}
	for _, st := range steps {
		if len(st.Alts) == 0 {
			return "events"
		}
		for _, m := range st.Alts {
			typed := m.Type != "" && m.Type != "*" && !slices.Contains(viewTypes, m.Type)
			named := m.Type != "pageview" && strings.Trim(m.Target, "*") != ""
			if !typed && !named {
				return "events"
			}
		}
	}
	return "touch_events"
}

// touchEvents returns touchEventsTable(steps...) as a table name's placeholder value, or
// events when r reads the events only (Runner.EventsOnly).
func (r *Runner) touchEvents(steps ...goal.Step) Value {
	if r.EventsOnly {
		return Ident("events")
	}
	return Ident(touchEventsTable(steps...))
}
