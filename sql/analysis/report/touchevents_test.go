package report

import (
	"testing"

	"github.com/journeyd/journeyd/event/goal"
)

// TestTouchEventsTable: a conversion (or retention's cohort and return) reads touch_events
// only when none of its alternatives can match a page view, screen view or leave without
// a name, which touch_events lacks.
func TestTouchEventsTable(t *testing.T) {
	for _, c := range []struct{ step, want string }{
		{"purchase|order_paid|Order Completed", "touch_events"}, // the default: names
		{"event:purchase", "touch_events"},
		{"server:order_paid[plan=pro]", "touch_events"},
		{"event:*", "touch_events"},         // a type that is no view, any name
		{"email_click", "touch_events"},     // a name (of any type)
		{"screen:Checkout", "touch_events"}, // a screen's target is its name
		{"order*", "touch_events"},          // a name starting with order: not empty
		{"event:purchase|server:*", "touch_events"},
		{"pageview:/thanks", "events"}, // a path: views without a name
		{"purchase|pageview:/thanks", "events"},
		{"pageview:*", "events"},
		{"screen:*", "events"},
		{"leave:*", "events"},
		{"*", "events"},             // any touchpoint
		{"*:**", "events"},          // any type, any name, the empty one too
		{"*:*[plan=pro]", "events"}, // properties alone
	} {
		st, err := goal.ParseStep(c.step)
		if err != nil {
			t.Fatalf("%s: %v", c.step, err)
		}
		if got := touchEventsTable(st); got != c.want {
			t.Errorf("%s: %s, want %s", c.step, got, c.want)
		}
	}
	// Retention's cohort and return: both must be in touch_events; a cohort of any first
	// visit (no alternative) is not.
	purchase, _ := goal.ParseStep("purchase")
	views, _ := goal.ParseStep("pageview:/thanks")
	for _, c := range []struct {
		steps []goal.Step
		want  string
	}{
		{[]goal.Step{purchase, purchase}, "touch_events"},
		{[]goal.Step{purchase, views}, "events"},
		{[]goal.Step{{}, purchase}, "events"},
		{nil, "events"},
	} {
		if got := touchEventsTable(c.steps...); got != c.want {
			t.Errorf("%v: %s, want %s", c.steps, got, c.want)
		}
	}
}
