package gen

import (
	"sort"
	"time"

	"github.com/journeyd/journeyd/event"
)

func init() {
	register(Scenario{Name: "webinar", People: 1500, run: webinar,
		Summary: "a free webinar sells a paid course; emails are segmented by audience"})
	register(Scenario{Name: "b2b", People: 600, run: b2b,
		Summary: "B2B leads with a long cycle: a lead form, manager calls, a paid order weeks later"})
	register(Scenario{Name: "coffee", People: 3000, run: coffee,
		Summary: "a coffee chain whose loyalty bonus brings buyers back within 7 days"})
}

// webinar plants: 40 % of visitors sign up (60 % beginners, 40 % pros), 60 % attend;
// the offer email is opened by 50 % and clicked by 30 % of openers; an attendee who
// clicked buys with 50 %, one who did not with 15 %, an absentee with 3 %.
func webinar(g *Generator) Truth {
	signups, buys := map[string]int{}, map[string]int{}
	for i := 0; i < g.People(); i++ {
		p := g.Person(g.Pick([]Weighted{{"desktop", 50}, {"mobile", 50}}), "RU")
		p.Visit(g.DaysAgo(8, 25), g.source(g.Pick([]Weighted{{"paid-social", 50}, {"organic", 30}, {"referral", 20}})), "/webinar")
		if !g.Chance(0.4) {
			continue
		}
		aud := g.Pick([]Weighted{{"beginner", 60}, {"pro", 40}})
		p.Track("webinar_signup", g.Between(30*time.Second, 3*time.Minute), "audience", aud)
		p.Identify(g.id("u"), time.Second)
		signups[aud]++
		t0 := p.T
		attended := g.Chance(0.6)
		if attended {
			p.Visit(t0.Add(3*24*time.Hour), Direct, "/webinar/live")
			p.Track("webinar_attend", time.Minute, "audience", aud)
		}
		clicked := false
		if g.Chance(0.5) {
			campaign := "offer_" + aud
			p.Email(event.TypeEmailOpen, campaign, t0.Add(4*24*time.Hour))
			if clicked = g.Chance(0.3); clicked {
				p.Email(event.TypeEmailClick, campaign, p.T.Add(time.Minute))
				p.Visit(p.T.Add(2*time.Second), EmailSource(campaign), "/course")
			}
		}
		rate := map[bool]float64{true: 0.15, false: 0.03}[attended]
		if attended && clicked {
			rate = 0.5
		}
		if g.Chance(rate) {
			if !clicked {
				p.Visit(t0.Add(5*24*time.Hour), Direct, "/course")
			}
			p.Purchase(g.Between(time.Minute, 10*time.Minute), map[string]float64{"beginner": 300, "pro": 600}[aud])
			buys[aud]++
		}
	}
	return Truth{"signups": signups, "purchases": buys,
		"rates": map[string]float64{"signup": 0.4, "attend": 0.6, "buy_attended_clicked": 0.5, "buy_attended": 0.15, "buy_absent": 0.03}}
}

// b2b plants: half of the visitors leave a lead; a manager calls each lead 1-4 times, and
// 30 % of leads pay an order 20-60 days after the lead.
func b2b(g *Generator) Truth {
	leads, deals, calls := 0, 0, 0
	var days []float64
	for i := 0; i < g.People(); i++ {
		p := g.Person(g.Pick([]Weighted{{"desktop", 85}, {"mobile", 15}}), "RU")
		p.Visit(g.DaysAgo(65, 88), g.source(g.Pick([]Weighted{{"organic", 50}, {"paid-social", 30}, {"referral", 20}})), "/solutions")
		if !g.Chance(0.5) {
			continue
		}
		p.Page("/contact", g.Between(time.Minute, 5*time.Minute))
		p.Track("lead", 30*time.Second)
		p.Identify(g.id("u"), time.Second)
		leads++
		t0 := p.T
		p.Server("lead_created", t0.Add(time.Minute), 0)
		at := t0
		for n := 1 + g.rnd.IntN(4); n > 0; n-- {
			at = at.Add(g.Between(2*24*time.Hour, 8*24*time.Hour))
			p.Server("manager_call", at, 0)
			calls++
		}
		if g.Chance(0.5) {
			p.Visit(t0.Add(g.Between(5*24*time.Hour, 15*24*time.Hour)), EmailSource("case_studies"), "/cases")
		}
		if g.Chance(0.3) {
			paid := t0.Add(g.Between(20*24*time.Hour, 60*24*time.Hour))
			p.Server("order_paid", paid, float64(50000+g.rnd.IntN(150000)))
			deals++
			days = append(days, paid.Sub(t0).Hours()/24)
		}
	}
	return Truth{"leads": leads, "deals": deals, "calls": calls, "median_days_lead_to_deal": median(days),
		"rates": map[string]float64{"lead": 0.5, "deal_of_lead": 0.3}}
}

// coffee plants: half of first-time buyers get a loyalty bonus; 60 % of them and 20 % of
// the others buy again within 7 days.
func coffee(g *Generator) Truth {
	returned := map[string]int{}
	cohort := map[string]int{}
	for i := 0; i < g.People(); i++ {
		p := g.Person("mobile", "RU")
		p.Visit(g.DaysAgo(9, 60), g.source(g.Pick([]Weighted{{"direct", 60}, {"social", 40}})), "/menu")
		p.Purchase(g.Between(time.Minute, 3*time.Minute), 250)
		group := "no_bonus"
		if g.Chance(0.5) {
			group = "bonus"
			p.Track("loyalty_bonus", time.Minute)
		}
		cohort[group]++
		t0 := p.T
		if g.Chance(map[string]float64{"bonus": 0.6, "no_bonus": 0.2}[group]) {
			p.Visit(t0.Add(g.Between(24*time.Hour, 6*24*time.Hour)), Direct, "/menu")
			p.Purchase(time.Minute, 250)
			returned[group]++
		} else if g.Chance(0.3) && t0.Add(10*24*time.Hour).Before(g.opt.Now) {
			p.Visit(t0.Add(g.Between(8*24*time.Hour, 10*24*time.Hour)), Direct, "/menu")
			p.Purchase(time.Minute, 250)
		}
	}
	total := returned["bonus"] + returned["no_bonus"]
	return Truth{"first_buyers": cohort, "returned_within_7d": returned,
		"return_rate_7d": float64(total) / float64(g.People()),
		"rates":          map[string]float64{"bonus": 0.5, "return_bonus": 0.6, "return_no_bonus": 0.2}}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
