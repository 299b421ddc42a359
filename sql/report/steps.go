package report

import (
	"fmt"
	"strings"
)

// A Step matches the events that count as reaching one funnel step or stage. Its text form,
// used by --steps and by the config, is TYPE:TARGET[key=value,...], alternatives joined by
// '|':
//
//	pageview:/product/*       a page view whose path matches the glob (* is any text)
//	event:add_to_cart         an event (or any other type) by its name
//	server:order_paid         a server event by name
//	purchase                  any type named purchase
//	event:purchase[plan=pro]  with a property condition
//	*                         any touchpoint
type Step struct {
	Text string  // as written
	Alts []Match // any of them matches
}

// Match is one alternative of a Step.
type Match struct {
	Type   string            // event type; "" or "*" is any
	Target string            // path glob for pageviews, name glob otherwise; "" or "*" is any
	Props  map[string]string // property key = value, all must hold
}

// ParseSteps parses a comma-separated list of steps. Commas inside [...] belong to the
// property conditions.
func ParseSteps(s string) ([]Step, error) {
	var out []Step
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '[':
				depth++
			case ']':
				depth--
			}
			if s[i] != ',' || depth > 0 {
				continue
			}
		}
		st, err := ParseStep(s[start:i])
		if err != nil {
			return nil, fmt.Errorf("cannot parse step %d: %w", len(out)+1, err)
		}
		out = append(out, st)
		start = i + 1
	}
	return out, nil
}

// ParseStep parses one step (see Step).
func ParseStep(s string) (Step, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Step{}, fmt.Errorf("empty step: write TYPE:TARGET, e.g. event:add_to_cart")
	}
	st := Step{Text: s}
	for _, alt := range strings.Split(s, "|") {
		m, err := parseMatch(strings.TrimSpace(alt))
		if err != nil {
			return Step{}, err
		}
		st.Alts = append(st.Alts, m)
	}
	return st, nil
}

func parseMatch(s string) (Match, error) {
	var m Match
	if i := strings.IndexByte(s, '['); i >= 0 {
		if !strings.HasSuffix(s, "]") {
			return m, fmt.Errorf("%q: property conditions must end with ]", s)
		}
		m.Props = map[string]string{}
		for _, kv := range strings.Split(s[i+1:len(s)-1], ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return m, fmt.Errorf("%q: property condition %q: want key=value", s, kv)
			}
			m.Props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		s = s[:i]
	}
	if t, target, ok := strings.Cut(s, ":"); ok {
		m.Type, m.Target = strings.TrimSpace(t), strings.TrimSpace(target)
	} else {
		m.Target = strings.TrimSpace(s)
	}
	if m.Type == "" && m.Target == "" {
		return m, fmt.Errorf("%q: neither a type nor a target", s)
	}
	for _, f := range []string{m.Type, m.Target} {
		if strings.ContainsAny(f, "[]|,") {
			return m, fmt.Errorf("%q: unexpected [ ] | or , in %q", s, f)
		}
	}
	return m, nil
}

// Cond returns the step as a ClickHouse boolean expression over the columns of events.
func (st Step) Cond() string {
	alts := make([]string, len(st.Alts))
	for i, m := range st.Alts {
		alts[i] = m.cond()
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

func (m Match) cond() string {
	var parts []string
	if m.Type != "" && m.Type != "*" {
		parts = append(parts, "type = "+quote(m.Type))
	}
	col := "name"
	if m.Type == "pageview" {
		col = "path"
	}
	if m.Target != "" && m.Target != "*" {
		parts = append(parts, globCond(col, m.Target))
	}
	for _, k := range sortedKeys(m.Props) {
		parts = append(parts, fmt.Sprintf("`props.value`[indexOf(`props.key`, %s)] = %s", quote(k), quote(m.Props[k])))
	}
	if len(parts) == 0 {
		return "1"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// globCond matches col against a glob where * is any text.
func globCond(col, glob string) string {
	if !strings.Contains(glob, "*") {
		return col + " = " + quote(glob)
	}
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`, `*`, `%`)
	return col + " LIKE " + quote(r.Replace(glob))
}
