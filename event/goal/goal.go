// Package goal holds what a site counts as reaching a goal: its conversions, the stages of
// its journey map, and the step syntax both are written in (event:add_to_cart,
// pageview:/product/*, alternatives joined by |). It parses and validates; turning a step
// into SQL belongs to sql/analysis/report. It imports no driver, so the collector's site
// configuration can depend on it.
package goal

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

// Conversion is a site's definition of one conversion, from the sites section of the config:
//
//	conversions:
//	  - name: purchase
//	    event: event:purchase|server:order_paid
//	    where: {status: paid}
//	    value: revenue
type Conversion struct {
	// Name is how reports refer to it (--conversion purchase).
	Name string `yaml:"name"`
	// Event is the step that matches it (see Step); default: any event called Name.
	Event string `yaml:"event"`
	// Where adds property conditions, key: value, that must all hold.
	Where map[string]string `yaml:"where"`
	// Value is what a conversion is worth: "revenue" (the default, the revenue column) or
	// the key of a numeric property.
	Value string `yaml:"value"`
}

// Stage is one stage of the journey map.
type Stage struct {
	// Name is the stage's label (awareness, consideration, ...; rename freely).
	Name string `yaml:"name"`
	// Match is the step that marks reaching the stage (see Step).
	Match string `yaml:"match"`
	// Repeat requires the match strictly after the previous stage was reached (a second
	// purchase marks retention when the previous stage is the first purchase).
	Repeat bool `yaml:"repeat"`
}

// Definitions are the per-site conversions and stages reports use.
type Definitions struct {
	Conversions []Conversion `yaml:"conversions"`
	Stages      []Stage      `yaml:"stages"`
}

// DefaultStages is the journey map used when a site defines none: awareness →
// consideration → decision → purchase → retention → advocacy.
var DefaultStages = []Stage{
	{Name: "awareness", Match: "*"},
	{Name: "consideration", Match: "pageview:/product*|event:view_item|event:add_to_cart|event:signup|event:register|event:lead"},
	{Name: "decision", Match: "event:checkout|event:begin_checkout|event:add_to_cart|server:lead_qualified"},
	{Name: "purchase", Match: "conversion"},
	{Name: "retention", Match: "conversion", Repeat: true},
	{Name: "advocacy", Match: "event:share|event:review|event:referral|event:invite"},
}

// DefaultConversions is used when a site defines none (DESIGN §7): purchase, an event named
// purchase, order_paid or Order Completed (the Segment e-commerce spec) of any type, valued
// by revenue.
var DefaultConversions = []Conversion{{Name: "purchase", Event: "purchase|order_paid|Order Completed"}}

// Conversion returns the named conversion of d, or of the defaults; a name that neither
// defines is taken as an event name.
func (d Definitions) Conversion(name string) (Conversion, error) {
	for _, list := range [][]Conversion{d.Conversions, DefaultConversions} {
		for _, c := range list {
			if c.Name == name {
				return c, nil
			}
		}
	}
	if name == "" {
		return Conversion{}, fmt.Errorf("no conversion given: name one of the site's conversions or an event")
	}
	return Conversion{Name: name}, nil
}

// PurchaseStage returns the index of the purchase stage of stages: the one named purchase,
// else the last stage before the first repeat stage, else the last. The stages up to it are
// reached by an event of them or of any later stage up to it; those after it follow it.
func PurchaseStage(stages []Stage) int {
	for i, s := range stages {
		if strings.EqualFold(s.Name, "purchase") {
			return i
		}
	}
	for i, s := range stages {
		if s.Repeat && i > 0 {
			return i - 1
		}
	}
	return len(stages) - 1
}

// Expand returns st with every alternative of type conversion (conversion, or
// conversion:NAME) replaced by the alternatives of that conversion of d (default purchase),
// so a funnel step or a stage can say "the site's conversion" once, whatever its event names.
func (d Definitions) Expand(st Step) (Step, error) {
	out := Step{Text: st.Text}
	for _, m := range st.Alts {
		if m.Type != ConversionType && !(m.Type == "" && m.Target == ConversionType) {
			out.Alts = append(out.Alts, m)
			continue
		}
		name := m.Target
		if m.Type == "" || name == "" || name == "*" {
			name = "purchase"
		}
		c, err := d.Conversion(name)
		if err != nil {
			return st, err
		}
		cs, err := c.Step()
		if err != nil {
			return st, fmt.Errorf("conversion %s: %w", name, err)
		}
		for _, alt := range cs.Alts {
			if alt.Type == ConversionType || (alt.Type == "" && alt.Target == ConversionType) {
				return st, fmt.Errorf("conversion %s: defined by a conversion step itself", name)
			}
			for k, v := range m.Props {
				if alt.Props == nil {
					alt.Props = map[string]string{}
				}
				alt.Props[k] = v
			}
			out.Alts = append(out.Alts, alt)
		}
	}
	return out, nil
}

// ConversionType is the step type that stands for a site's conversion: "conversion" alone
// is the purchase conversion, "conversion:lead" the conversion named lead.
const ConversionType = "conversion"

// StageList returns the stages of d, or DefaultStages.
func (d Definitions) StageList() []Stage {
	if len(d.Stages) > 0 {
		return d.Stages
	}
	return DefaultStages
}

// Validate reports the first problem with d, naming the key that is wrong.
func (d Definitions) Validate() error {
	for i, c := range d.Conversions {
		if c.Name == "" {
			return fmt.Errorf("conversions[%d].name: must not be empty", i)
		}
		if _, err := c.Step(); err != nil {
			return fmt.Errorf("conversions[%d].event: %w", i, err)
		}
	}
	for i, s := range d.Stages {
		if s.Name == "" {
			return fmt.Errorf("stages[%d].name: must not be empty", i)
		}
		if st, err := ParseStep(s.Match); err != nil {
			return fmt.Errorf("stages[%d].match: %w", i, err)
		} else if _, err := d.Expand(st); err != nil {
			return fmt.Errorf("stages[%d].match: %w", i, err)
		}
	}
	return nil
}

// Step returns the conversion as a Step, its Where conditions added to each alternative.
func (c Conversion) Step() (Step, error) {
	text := c.Event
	if text == "" {
		text = c.Name
	}
	st, err := ParseStep(text)
	if err != nil {
		return st, err
	}
	for i := range st.Alts {
		if len(c.Where) == 0 {
			break
		}
		if st.Alts[i].Props == nil {
			st.Alts[i].Props = map[string]string{}
		}
		for k, v := range c.Where {
			st.Alts[i].Props[k] = v
		}
	}
	return st, nil
}
