package gen

import (
	"fmt"
	"time"

	"github.com/journeyd/journeyd/event"
)

func init() {
	register(Scenario{Name: "shop", People: 4000, run: shop,
		Summary: "an online shop: product views, carts, a checkout that is broken on mobile"})
	register(Scenario{Name: "email-chain", People: 2000, run: emailChain,
		Summary: "abandoned carts followed by a reminder, a next-day selection and a coupon two days later"})
}

// ShopSteps are the funnel steps the shop scenario plants rates for.
const ShopSteps = "pageview:/product/*,event:add_to_cart,event:checkout,event:purchase"

var shopSources = []Weighted{{"organic", 40}, {"paid", 25}, {"social", 15}, {"direct", 20}}

func (g *Generator) source(kind string) Source {
	switch kind {
	case "organic":
		return OrganicSearch
	case "paid":
		return PaidSearch
	case "social":
		return OrganicSocial
	case "paid-social":
		return PaidSocial
	case "referral":
		return Referral
	}
	return Direct
}

// shop plants: 80 % view a product, 50 % of them add to cart, 70 % of those check out, and
// 85 % of desktop but only 25 % of mobile checkouts end in a purchase.
func shop(g *Generator) Truth {
	rates := map[string]float64{"product": 0.8, "cart": 0.5, "checkout": 0.7, "purchase_desktop": 0.85, "purchase_mobile": 0.25}
	entered := map[string][]int{"all": make([]int, 4), "desktop": make([]int, 4), "mobile": make([]int, 4)}
	abandoned := 0.0 // the prices of the carts nobody bought
	for i := 0; i < g.People(); i++ {
		p := g.Person(g.Pick([]Weighted{{"desktop", 55}, {"mobile", 45}}), g.Pick([]Weighted{{"RU", 70}, {"KZ", 15}, {"DE", 15}}))
		p.Visit(g.DaysAgo(5, 25), g.source(g.Pick(shopSources)), "/")
		reached := 0
		if g.Chance(rates["product"]) {
			p.Page(fmt.Sprintf("/product/%d", g.rnd.IntN(50)), g.Between(5*time.Second, 2*time.Minute))
			reached = 1
			if g.Chance(rates["cart"]) {
				d, sku := g.Between(10*time.Second, 3*time.Minute), g.rnd.IntN(50) // drawn in this order
				price := skuPrice(sku)
				p.Track("add_to_cart", d, "sku", fmt.Sprint(sku), "price", fmt.Sprint(price))
				reached = 2
				abandoned += price
				if g.Chance(rates["checkout"]) {
					p.Page("/checkout", g.Between(5*time.Second, time.Minute))
					p.Track("checkout", time.Second)
					reached = 3
					if g.Chance(rates["purchase_"+p.Device]) {
						p.Purchase(g.Between(30*time.Second, 5*time.Minute), float64(1000+g.rnd.IntN(9000)))
						reached = 4
						abandoned -= price
					}
				}
			}
		}
		for k := 0; k < reached; k++ {
			entered["all"][k]++
			entered[p.Device][k]++
		}
		if reached < 2 && g.Chance(0.3) {
			p.Visit(p.T.Add(g.Between(24*time.Hour, 4*24*time.Hour)), Direct, "/")
		}
	}
	return Truth{"steps": ShopSteps, "window": "7d", "rates": rates, "entered": entered,
		"barrier": map[string]any{"by": "device", "segment": "mobile", "step": 4}, "abandoned_value": abandoned}
}

// skuPrice is the price of a shop product: a function of its sku, so that pricing the
// carts draws nothing from the generator's random sequence.
func skuPrice(sku int) float64 { return float64(490 + 100*sku) }

// cartPrice is what the email-chain's shoppers put into their cart, and later pay.
const cartPrice = 2500

var chainEmails = []struct {
	campaign string
	after    time.Duration
	buy      float64
}{
	{"cart_reminder", time.Hour, 0.4},
	{"cart_selection", 24 * time.Hour, 0.4},
	{"cart_coupon", 3 * 24 * time.Hour, 0.7},
}

// emailChain plants: every person abandons a cart; each email of the chain (until they buy)
// is opened by 45 %, clicked by 35 % of openers, and a click buys with the email's rate.
func emailChain(g *Generator) Truth {
	opens, clicks, buys := map[string]int{}, map[string]int{}, map[string]int{}
	for i := 0; i < g.People(); i++ {
		p := g.Person(g.Pick([]Weighted{{"desktop", 60}, {"mobile", 40}}), "RU")
		p.Visit(g.DaysAgo(6, 25), g.source(g.Pick(shopSources)), "/product/1")
		p.Track("add_to_cart", g.Between(10*time.Second, 2*time.Minute), "price", fmt.Sprint(cartPrice))
		p.Identify(g.id("u"), 5*time.Second)
		t0 := p.T
		bought := ""
		for _, m := range chainEmails {
			if bought != "" || !g.Chance(0.45) {
				continue
			}
			at := t0.Add(m.after + g.Between(0, 2*time.Hour))
			p.Email(event.TypeEmailOpen, m.campaign, at)
			opens[m.campaign]++
			if !g.Chance(0.35) {
				continue
			}
			p.Email(event.TypeEmailClick, m.campaign, at.Add(g.Between(10*time.Second, 10*time.Minute)))
			clicks[m.campaign]++
			p.Visit(p.T.Add(2*time.Second), EmailSource(m.campaign), "/cart")
			if g.Chance(m.buy) {
				p.Purchase(g.Between(time.Minute, 5*time.Minute), cartPrice)
				bought = m.campaign
				buys[m.campaign]++
			}
		}
		if bought == "" && g.Chance(0.08) {
			p.Visit(t0.Add(5*24*time.Hour), Direct, "/cart")
			p.Purchase(time.Minute, cartPrice)
			buys["direct"]++
		}
	}
	return Truth{"opens": opens, "clicks": clicks, "purchases_by_last_email": buys,
		"rates": map[string]float64{"open": 0.45, "click_of_open": 0.35}}
}
