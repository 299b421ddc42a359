package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"strings"
	"testing"
)

func TestParseSteps(t *testing.T) {
	f := func(in string, want ...string) {
		t.Helper()
		steps, err := goal.ParseSteps(in)
		if err != nil {
			t.Fatalf("goal.ParseSteps(%q): %v", in, err)
		}
		if len(steps) != len(want) {
			t.Fatalf("goal.ParseSteps(%q) gave %d steps, want %d", in, len(steps), len(want))
		}
		for i, st := range steps {
			if got := cond(st); got != want[i] {
				t.Fatalf("goal.ParseSteps(%q)[%cond(d]) = %s, want %s", in, i, got, want[i])
			}
		}
	}
	f("pageview:/product/*,event:add_to_cart",
		`(type = 'pageview' AND path LIKE '/product/%')`, `(type = 'event' AND name = 'add_to_cart')`)
	f("purchase", `(name = 'purchase')`)
	f("*", `1`)
	f("server:*", `(type = 'server')`)
	f("event:add_*", `(type = 'event' AND name LIKE 'add\\_%')`)
	f("event:checkout|server:order_paid", `((type = 'event' AND name = 'checkout') OR (type = 'server' AND name = 'order_paid'))`)
	f("event:purchase[plan=pro,n=1],event:x",
		"(type = 'event' AND name = 'purchase' AND `props.value`[indexOf(`props.key`, 'n')] = '1' AND `props.value`[indexOf(`props.key`, 'plan')] = 'pro')",
		`(type = 'event' AND name = 'x')`)
	f("event:it's", `(type = 'event' AND name = 'it\'s')`)
}

func TestParseStepsErrors(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := goal.ParseSteps(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("goal.ParseSteps(%q) error = %v, want one containing %q", in, err, want)
		}
	}
	f("", "empty step")
	f("event:a,", "step 2")
	f(":", "neither a type nor a target")
	f("event:a[plan]", "want key=value")
	f("event:a[plan=x", "must end with ]")
	f("event:a]", "unexpected")
}

func FuzzParseSteps(f *testing.F) {
	for _, s := range []string{"pageview:/product/*,event:add_to_cart", "event:a[b=c,d=e]|x", "*", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := goal.ParseSteps(s)
		if err != nil {
			return
		}
		for _, st := range steps {
			cond := cond(st)
			// Every literal in the condition must be closed: an even number of unescaped quotes.
			if n := strings.Count(strings.ReplaceAll(cond, `\\`, ""), "'") - strings.Count(strings.ReplaceAll(cond, `\\`, ""), `\'`); n%2 != 0 {
				t.Fatalf("step %q gave a condition with an open literal: %s", st.Text, cond)
			}
		}
	})
}
