package gen

import (
	"net/url"
	"time"

	"github.com/journeyd/journeyd/event"
)

// Person is one simulated visitor. Its methods append events at the person's clock T, which
// each call moves forward.
type Person struct {
	g       *Generator
	AnonID  string
	UserID  string
	Device  string
	Country string
	T       time.Time // the time of the person's latest event
	session string
	src     Source
	landing string
}

var userAgents = map[string]string{
	"desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
	"mobile":  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
	"tablet":  "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
}

// Visit starts a session at at from src, landing on path.
func (p *Person) Visit(at time.Time, src Source, path string) {
	p.T, p.src, p.session = at, src, p.g.id("s")
	p.landing = landingURL(p.g.host(), path, src)
	e := p.event(event.TypePageview, path)
	e.URL, e.Path, e.Referrer = p.landing, path, src.Referrer
	if u, err := url.Parse(src.Referrer); err == nil {
		e.ReferrerHost = u.Host
	}
	p.add(e)
}

// Page views path after d.
func (p *Person) Page(path string, d time.Duration) {
	p.T = p.T.Add(d)
	e := p.event(event.TypePageview, path)
	e.URL, e.Path = "https://"+p.g.host()+path, path
	p.add(e)
}

// Track sends the browser event name after d, with properties as key, value pairs.
func (p *Person) Track(name string, d time.Duration, props ...string) *event.Event {
	p.T = p.T.Add(d)
	e := p.event(event.TypeEvent, name)
	for i := 0; i+1 < len(props); i += 2 {
		e.SetProp(props[i], props[i+1])
	}
	return p.add(e)
}

// Purchase tracks a purchase worth revenue after d.
func (p *Person) Purchase(d time.Duration, revenue float64) {
	e := p.Track("purchase", d)
	e.Revenue, e.Currency = revenue, "RUB"
}

// Server records a server-side event (a backend's call) at at, with no session id: the
// collector's sessionizer places it (DESIGN §6).
func (p *Person) Server(name string, at time.Time, revenue float64) *event.Event {
	p.T = at
	e := p.event(event.TypeServer, name)
	e.SessionID, e.Channel, e.Source, e.Medium, e.Campaign = "", "", "", "", ""
	e.Revenue = revenue
	if revenue > 0 {
		e.Currency = "RUB"
	}
	return p.add(e)
}

// Email records an email touch (event.TypeEmailOpen or TypeEmailClick) of campaign at at.
func (p *Person) Email(kind event.Type, campaign string, at time.Time) {
	p.T = at
	e := p.event(kind, campaign)
	e.SessionID = ""
	e.Channel, e.Source, e.Medium, e.Campaign = "Email", "newsletter", "email", campaign
	p.add(e)
}

// Identify links the person to userID after d; later events carry it.
func (p *Person) Identify(userID string, d time.Duration) {
	p.T = p.T.Add(d)
	p.UserID = userID
	p.add(p.event(event.TypeIdentify, ""))
}

func (p *Person) event(typ event.Type, name string) *event.Event {
	g := p.g
	return &event.Event{
		ID: g.id("e"), SiteID: g.opt.Site, TS: p.T, ReceivedAt: p.T, Type: typ, Name: name,
		AnonID: p.AnonID, UserID: p.UserID, SessionID: p.session, Host: g.host(),
		Channel: p.src.Channel, Source: p.src.Source, Medium: p.src.Medium, Campaign: p.src.Campaign,
		Country: p.Country, Device: p.Device, Browser: browserOf(p.Device), OS: osOf(p.Device),
		UserAgent: userAgents[p.Device], Library: "journeyd-gen",
	}
}

func (p *Person) add(e *event.Event) *event.Event {
	p.g.events = append(p.g.events, *e)
	return &p.g.events[len(p.g.events)-1]
}

func (g *Generator) host() string { return g.opt.Site + ".example" }

func browserOf(device string) string {
	if device == "desktop" {
		return "Chrome"
	}
	return "Safari"
}

func osOf(device string) string {
	if device == "desktop" {
		return "Windows"
	}
	return "iOS"
}
