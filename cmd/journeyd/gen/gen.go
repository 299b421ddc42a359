// Package gen generates synthetic customer journeys with a known truth: scenarios (an online
// shop with a checkout broken on mobile, an abandoned-cart email chain, a webinar selling a
// course, a long B2B cycle, a coffee chain's loyalty bonus) plant step rates, touchpoints
// and return rates, produce the events a real site would send, and report what they planted,
// so that reports can be checked against it. Generation is deterministic per seed and
// scenario. Sending the events (through the collector's HTTP API, or straight to a Sink) is
// in send.go; the package owns no endpoint and no table.
package gen

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/journeyd/journeyd/event"
)

// Options parameterise a scenario run.
type Options struct {
	Seed   uint64
	People int       // people to simulate; 0 means the scenario's default
	Site   string    // site id of the events; "" means "demo"
	Now    time.Time // the journeys end before Now; zero means time.Now()
}

// Output is a scenario's events, in time order, and the truth it planted.
type Output struct {
	Events []event.Event
	Truth  Truth
}

// Truth is what a scenario planted and how it came out in this run: planted parameters
// (rates, windows) and realised counts, keyed by name; JSON-encodable.
type Truth map[string]any

// Scenario produces journeys for opt.People people.
type Scenario struct {
	Name    string
	Summary string
	People  int // default number of people
	run     func(g *Generator) Truth
}

var scenarios = map[string]Scenario{}

func register(s Scenario) { scenarios[s.Name] = s }

// Scenarios lists the scenario names, sorted.
func Scenarios() []string {
	out := make([]string, 0, len(scenarios))
	for n := range scenarios {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns the scenario called name.
func Lookup(name string) (Scenario, error) {
	s, ok := scenarios[name]
	if !ok {
		return s, fmt.Errorf("unknown scenario %q: use one of %s", name, strings.Join(Scenarios(), ", "))
	}
	return s, nil
}

// Generate runs scenario name with opt.
func Generate(name string, opt Options) (*Output, error) {
	s, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if opt.People <= 0 {
		opt.People = s.People
	}
	if opt.Site == "" {
		opt.Site = "demo"
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	g := &Generator{name: name, opt: opt, rnd: rand.New(rand.NewPCG(opt.Seed, uint64(len(name))<<32|0x6a6f75726e6579))}
	truth := s.run(g)
	truth["scenario"], truth["seed"], truth["people"], truth["events"] = name, opt.Seed, opt.People, len(g.events)
	sort.SliceStable(g.events, func(i, j int) bool { return g.events[i].TS.Before(g.events[j].TS) })
	return &Output{Events: g.events, Truth: truth}, nil
}

// Generator holds a run's random source and the events produced so far.
type Generator struct {
	name   string
	opt    Options
	rnd    *rand.Rand
	events []event.Event
	ids    int
}

// People returns the number of people to simulate.
func (g *Generator) People() int { return g.opt.People }

// Chance returns true with probability p.
func (g *Generator) Chance(p float64) bool { return g.rnd.Float64() < p }

// Pick returns one of the choices, weighted.
func (g *Generator) Pick(choices []Weighted) string {
	total := 0.0
	for _, c := range choices {
		total += c.Weight
	}
	x := g.rnd.Float64() * total
	for _, c := range choices {
		if x -= c.Weight; x < 0 {
			return c.Value
		}
	}
	return choices[len(choices)-1].Value
}

// Weighted is a choice and its weight.
type Weighted struct {
	Value  string
	Weight float64
}

// Between returns a whole number of seconds uniformly between lo and hi.
func (g *Generator) Between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.rnd.Int64N(int64((hi-lo)/time.Second)+1))*time.Second
}

// DaysAgo returns a time between lo and hi days before Now, on the second.
func (g *Generator) DaysAgo(lo, hi int) time.Time {
	return g.opt.Now.Add(-g.Between(time.Duration(lo)*24*time.Hour, time.Duration(hi)*24*time.Hour)).Truncate(time.Second)
}

func (g *Generator) id(prefix string) string {
	g.ids++
	return fmt.Sprintf("%s-%s-%d-%07d", prefix, g.name, g.opt.Seed, g.ids)
}

// Person starts a person with a device ("desktop", "mobile", "tablet") and a country.
func (g *Generator) Person(device, country string) *Person {
	return &Person{g: g, AnonID: g.id("a"), Device: device, Country: country}
}

// Source is where a session comes from.
type Source struct {
	Channel, Source, Medium, Campaign, Referrer string
}

// Common sources.
var (
	Direct        = Source{Channel: "Direct", Source: "(direct)", Medium: "(none)"}
	OrganicSearch = Source{Channel: "Organic Search", Source: "google", Medium: "organic", Referrer: "https://www.google.com/"}
	PaidSearch    = Source{Channel: "Paid Search", Source: "google", Medium: "cpc", Campaign: "brand"}
	PaidSocial    = Source{Channel: "Paid Social", Source: "vk", Medium: "cpc", Campaign: "launch", Referrer: "https://vk.com/"}
	OrganicSocial = Source{Channel: "Organic Social", Source: "t.me", Medium: "referral", Referrer: "https://t.me/"}
	Referral      = Source{Channel: "Referral", Source: "blog.example", Medium: "referral", Referrer: "https://blog.example/post"}
)

// EmailSource is the source of a session opened from an email of campaign.
func EmailSource(campaign string) Source {
	return Source{Channel: "Email", Source: "newsletter", Medium: "email", Campaign: campaign}
}

// landingURL returns the URL of a landing page with the source's utm parameters.
func landingURL(host, path string, s Source) string {
	u := "https://" + host + path
	if s.Medium == "" || s.Medium == "(none)" || s.Medium == "organic" || s.Medium == "referral" {
		return u
	}
	q := url.Values{"utm_source": {s.Source}, "utm_medium": {s.Medium}}
	if s.Campaign != "" {
		q.Set("utm_campaign", s.Campaign)
	}
	return u + "?" + q.Encode()
}
