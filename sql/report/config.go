package report

import (
	"fmt"
	"sort"
	"strings"
)

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
	{Name: "purchase", Match: "purchase|order_paid"},
	{Name: "retention", Match: "purchase|order_paid", Repeat: true},
	{Name: "advocacy", Match: "event:share|event:review|event:referral|event:invite"},
}

// DefaultConversions is used when a site defines none: purchase, valued by revenue.
var DefaultConversions = []Conversion{{Name: "purchase", Event: "purchase|order_paid"}}

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
		return Conversion{}, fmt.Errorf("no conversion given: use --conversion NAME")
	}
	return Conversion{Name: name}, nil
}

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
		if _, err := c.step(); err != nil {
			return fmt.Errorf("conversions[%d].event: %w", i, err)
		}
	}
	for i, s := range d.Stages {
		if s.Name == "" {
			return fmt.Errorf("stages[%d].name: must not be empty", i)
		}
		if _, err := ParseStep(s.Match); err != nil {
			return fmt.Errorf("stages[%d].match: %w", i, err)
		}
	}
	return nil
}

// step returns the conversion as a Step, its Where conditions added to each alternative.
func (c Conversion) step() (Step, error) {
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

// valueExpr returns the conversion's value as a Float64 expression.
func (c Conversion) valueExpr() string {
	if c.Value == "" || c.Value == "revenue" {
		return "revenue"
	}
	return fmt.Sprintf("toFloat64OrZero(`props.value`[indexOf(`props.key`, %s)])", quote(c.Value))
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// dimensions maps --by values to their columns in events.
var dimensions = map[string]string{
	"device": "device", "channel": "channel", "country": "country", "source": "source",
	"medium": "medium", "campaign": "campaign", "browser": "browser", "os": "os",
	"region": "region", "city": "city", "referrer_host": "referrer_host",
}

// dimension returns the column for a --by value.
func dimension(by string) (string, error) {
	if by == "" {
		return "", nil
	}
	col, ok := dimensions[by]
	if !ok {
		names := sortedKeys(dimensions)
		return "", fmt.Errorf("unknown breakdown %q: use one of %s", by, strings.Join(names, ", "))
	}
	return col, nil
}
