package gen

import (
	"time"

	"github.com/journeyd/journeyd/event"
)

func init() {
	register(Scenario{Name: "mixed", People: 2000, run: mixed,
		Summary: "web visits, email touches, and sign-ups and purchases reported by the backend"})
}

// MixedPrice is what one order of the mixed scenario is worth.
const MixedPrice = 990

// mixed plants a journey that mixes the browser, email and the backend (the case of the
// mixed-journeys issue): a first visit from organic search (40 %), paid social (30 %), a
// referral (15 %) or direct (15 %), landing on / and viewing /pricing; half of the visitors
// sign up in the browser (an event and an identify) and the backend confirms the sign-up two
// hours later; 60 % of those open a welcome email a day later and 40 % of openers click it,
// landing on /pricing from the email; the backend then reports a paid order three hours
// after the person's last touch, with the user id alone: for 50 % of clickers, 20 % of the
// other openers and 10 % of the other sign-ups. Every server event comes long after the
// visit before it, so it belongs to no session: the reports must credit the orders to the
// touchpoints before them, never to Direct.
//
// The truth counts what was drawn: visits and orders per channel of the last and of the
// first touch, orders per number of touchpoints (a first visit; an email open; an email
// click and the visit it lands: 1, 2 or 4), and sign-ups.
func mixed(g *Generator) Truth {
	visits, first, last, byTouches := map[string]int{}, map[string]int{}, map[string]int{}, map[int]int{}
	signups, buyers := 0, 0
	for i := 0; i < g.People(); i++ {
		p := g.Person(g.Pick([]Weighted{{"desktop", 60}, {"mobile", 40}}), "RU")
		src := g.source(g.Pick([]Weighted{{"organic", 40}, {"paid-social", 30}, {"referral", 15}, {"direct", 15}}))
		p.Visit(g.DaysAgo(10, 25), src, "/")
		visits[src.Channel]++
		p.Page("/pricing", g.Between(10*time.Second, 2*time.Minute))
		if !g.Chance(0.5) {
			continue
		}
		p.Track("signup", g.Between(time.Minute, 5*time.Minute))
		p.Identify(g.id("u"), time.Second)
		signups++
		t0 := p.T
		serverOnly(p.Server("sign_up", t0.Add(2*time.Hour), 0))
		lastChannel, touches, rate := src.Channel, 1, 0.1
		if g.Chance(0.6) {
			p.Email(event.TypeEmailOpen, "welcome", t0.Add(24*time.Hour))
			lastChannel, touches, rate = "Email", 2, 0.2
			if g.Chance(0.4) {
				p.Email(event.TypeEmailClick, "welcome", p.T.Add(time.Minute))
				p.Visit(p.T.Add(2*time.Second), EmailSource("welcome"), "/pricing")
				visits["Email"]++
				touches, rate = 4, 0.5
			}
		}
		if g.Chance(rate) {
			serverOnly(p.Server("order_paid", p.T.Add(3*time.Hour), MixedPrice))
			buyers++
			first[src.Channel]++
			last[lastChannel]++
			byTouches[touches]++
		}
	}
	return Truth{"visits": visits, "signups": signups, "orders": buyers, "first_touch": first, "last_touch": last,
		"orders_by_touchpoints": byTouches,
		"rates":                 map[string]float64{"signup": 0.5, "open": 0.6, "click": 0.4, "buy_clicked": 0.5, "buy_opened": 0.2, "buy_signed_up": 0.1}}
}

// serverOnly makes e a backend's call that knows the user id alone.
func serverOnly(e *event.Event) { e.AnonID = "" }
