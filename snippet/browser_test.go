package snippet

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

func pageview(path string) func(wireBatch, wireEvent) bool {
	return func(_ wireBatch, e wireEvent) bool { return e.Type == "pageview" && strings.Contains(e.URL, path) }
}

func named(name string) func(wireBatch, wireEvent) bool {
	return func(_ wireBatch, e wireEvent) bool { return e.Name == name }
}

// TestBrowserJourney walks one visitor through a journey in a real Chromium: a campaign
// landing with a click id, a single-page-app route change, custom events, an identify, a
// download, an outbound click, a return, a reload after 31 idle minutes and a second tab.
func TestBrowserJourney(t *testing.T) {
	s := newSite(t)
	browser := startBrowser(t)
	tab := newTab(t, browser, false)
	landing := s.base + "/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&yclid=y-123"

	do(t, tab, chromedp.Navigate(landing))
	b1, pv := s.wait(t, "landing pageview", pageview("/landing"))
	if b1.Site != "test" || b1.AID == "" || b1.SID == "" || pv.ID == "" || pv.Title != "Landing" || pv.URL != landing {
		t.Fatalf("landing batch %+v, event %+v: want site, ids, title and URL", b1, pv)
	}
	if b1.UTM["source"] != "newsletter" || b1.UTM["medium"] != "email" || b1.UTM["campaign"] != "spring" {
		t.Fatalf("utm = %v, want the landing URL's", b1.UTM)
	}
	if b1.Click == nil || b1.Click.Type != "yclid" || b1.Click.ID != "y-123" {
		t.Fatalf("click = %+v, want yclid y-123", b1.Click)
	}
	if b1.Sent < pv.TS {
		t.Fatalf("sent %d is before the event time %d", b1.Sent, pv.TS)
	}
	if c := eval[string](t, tab, `document.cookie`); !strings.Contains(c, "_jd=") {
		t.Fatalf("no _jd cookie after the first page view: %q", c)
	}

	// A single-page-app route change: a leave for the landing page, a page view for the route.
	do(t, tab, chromedp.Evaluate[chromedp.Void](`history.pushState({}, '', '/app/cart')`))
	b2, spa := s.wait(t, "route pageview", pageview("/app/cart"))
	if b2.SID != b1.SID || b2.AID != b1.AID || spa.Ref != landing {
		t.Fatalf("route pageview %+v in session %s, want session %s and ref %s", spa, b2.SID, b1.SID, landing)
	}
	s.wait(t, "landing leave", func(_ wireBatch, e wireEvent) bool {
		return e.Type == "leave" && e.URL == landing && e.Engaged > 0
	})

	do(t, tab, chromedp.Evaluate[chromedp.Void](`journeyd('event', 'signup', {plan: 'pro', seats: 3});
		journeyd('event', 'purchase', {revenue: 49.5, currency: 'USD', order_id: 'A-1'});
		journeyd('identify', 'ada@example.com', {name: 'Ada'})`))
	_, signup := s.wait(t, "signup event", named("signup"))
	if signup.Type != "event" || signup.Props["plan"] != "pro" || signup.Props["seats"] != 3.0 {
		t.Fatalf("signup = %+v, want type event and its props", signup)
	}
	_, buy := s.wait(t, "purchase event", named("purchase"))
	if buy.Revenue != 49.5 || buy.Currency != "USD" || buy.Props["order_id"] != "A-1" {
		t.Fatalf("purchase = %+v, want revenue 49.5 USD and order_id", buy)
	}
	bi, id := s.wait(t, "identify", func(_ wireBatch, e wireEvent) bool { return e.Type == "identify" })
	if id.UID != "ada@example.com" || bi.UID != "ada@example.com" || id.Props["name"] != "Ada" || bi.SID != b1.SID {
		t.Fatalf("identify %+v in batch uid %q, want ada@example.com in session %s", id, bi.UID, b1.SID)
	}

	do(t, tab, chromedp.Click(chromedp.ID("dl")))
	_, dl := s.wait(t, "download", named("download"))
	if dl.Props["url"] != s.base+"/files/prices.pdf" {
		t.Fatalf("download = %+v", dl)
	}
	// An outbound click leaves the page: the click and the page's leave must still arrive.
	do(t, tab, chromedp.Click(chromedp.ID("out")), chromedp.WaitReady(chromedp.CSS("body")))
	_, out := s.wait(t, "outbound", named("outbound"))
	if out.Props["url"] != s.away+"/elsewhere" {
		t.Fatalf("outbound = %+v", out)
	}
	s.wait(t, "route leave", func(_ wireBatch, e wireEvent) bool {
		return e.Type == "leave" && strings.HasSuffix(e.URL, "/app/cart")
	})

	// Back on the same campaign within 30 minutes: the same session.
	do(t, tab, chromedp.Navigate(landing))
	back := func(b wireBatch, e wireEvent) bool { return pageview("/landing")(b, e) && e.ID != pv.ID }
	b3, _ := s.wait(t, "return pageview", back)
	if b3.SID != b1.SID {
		t.Fatalf("return within 30 minutes started session %s, want %s", b3.SID, b1.SID)
	}

	// 31 minutes later (the page clock moves, no test sleeps): a new session, same visitor.
	do(t, tab, chromedp.Evaluate[chromedp.Void](`localStorage.setItem('__skew', String(31 * 60 * 1000))`), chromedp.Reload())
	b4, _ := s.wait(t, "pageview after 31 idle minutes", func(b wireBatch, e wireEvent) bool {
		return pageview("/landing")(b, e) && b.SID != b1.SID
	})
	if b4.AID != b1.AID || b4.UTM["campaign"] != "spring" {
		t.Fatalf("after 31 minutes: aid %s (want %s), utm %v", b4.AID, b1.AID, b4.UTM)
	}

	// A second tab shares the visitor and the session.
	tab2 := newTab(t, browser, false)
	do(t, tab2, chromedp.Navigate(s.base+"/other"))
	b5, _ := s.wait(t, "second tab pageview", pageview("/other"))
	if b5.AID != b1.AID || b5.SID != b4.SID {
		t.Fatalf("second tab: aid %s sid %s, want %s %s", b5.AID, b5.SID, b1.AID, b4.SID)
	}
	if len(s.bad) > 0 {
		t.Fatalf("malformed batches: %v", s.bad)
	}
}

// TestBrowserConsent checks that data-consent sends and stores nothing until consent.
func TestBrowserConsent(t *testing.T) {
	s := newSite(t)
	tab := newTab(t, startBrowser(t), true)
	do(t, tab, chromedp.Navigate(s.base+"/consent"),
		chromedp.Evaluate[chromedp.Void](`journeyd('event', 'early', {})`))
	// Wait in the page for twice the snippet's batching delay, then look.
	eval[bool](t, tab, `new Promise(r => setTimeout(() => r(true), 1200))`)
	for _, b := range s.snapshot() {
		t.Fatalf("sent before consent: %+v", b)
	}
	if got := eval[string](t, tab, `document.cookie + '|' + (localStorage.getItem('_jd') || '')`); got != "|" {
		t.Fatalf("stored before consent: %q", got)
	}
	do(t, tab, chromedp.Evaluate[chromedp.Void](`journeyd('consent', true)`))
	b, _ := s.wait(t, "pageview after consent", pageview("/consent"))
	if len(b.Events) != 2 || b.Events[1].Name != "early" {
		t.Fatalf("consent sent %+v, want the held pageview and event in one batch", b.Events)
	}
	if c := eval[string](t, tab, `document.cookie`); !strings.Contains(c, "_jd=") {
		t.Fatalf("no cookie after consent: %q", c)
	}
	do(t, tab, chromedp.Evaluate[chromedp.Void](`journeyd('consent', false)`))
	if got := eval[string](t, tab, `document.cookie + '|' + (localStorage.getItem('_jd') || '')`); got != "|" {
		t.Fatalf("storage left after consent was withdrawn: %q", got)
	}
}

// TestBrowserCollectorDown checks that a collector that is down costs the page nothing:
// no exception, no console error.
func TestBrowserCollectorDown(t *testing.T) {
	s := newSite(t)
	tab := newTab(t, startBrowser(t), true)
	var mu sync.Mutex
	var msgs []chromedp.ConsoleMessage
	console := chromedp.Console(tab)
	ctx, stop := context.WithCancel(tab)
	defer stop()
	go func() {
		for m, err := range console {
			if err != nil || ctx.Err() != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m)
			mu.Unlock()
		}
	}()
	do(t, tab, chromedp.Navigate(s.base+"/down"),
		chromedp.Evaluate[chromedp.Void](`journeyd('event', 'x', {a: 1}); journeyd('identify', 'u1');
			history.pushState({}, '', '/down/next'); journeyd('nonsense'); journeyd()`),
		chromedp.Click(chromedp.ID("dl")))
	errs := eval[[]string](t, tab, `new Promise(r => setTimeout(() => r(window.__errors), 1200))`)
	do(t, tab, chromedp.Navigate(s.base+"/other"))
	s.wait(t, "pageview of the next page", pageview("/other"))
	if len(errs) > 0 {
		t.Fatalf("page errors with the collector down: %v", errs)
	}
	mu.Lock()
	defer mu.Unlock()
	refused := 0
	for _, m := range msgs {
		// The browser itself logs every failed request (here the beacons to the collector
		// that is down) as a network entry; no script can prevent that. Anything else is ours.
		if m.Source == "network" && strings.HasPrefix(m.URL, s.down+"/e") {
			refused++
			continue
		}
		if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
			t.Fatalf("console %s with the collector down: %s (%s, source %q)", m.Type, m.Text, m.URL, m.Source)
		}
	}
	if refused == 0 {
		t.Fatal("no request reached the collector that is down: the test did not test it")
	}
}

// TestBrowserPixelFallback checks the full build's last resort: when the beacon is refused
// and fetch fails, every event arrives as GET /p.gif.
func TestBrowserPixelFallback(t *testing.T) {
	s := newSite(t)
	tab := newTab(t, startBrowser(t), true, `navigator.sendBeacon = () => false;`)
	if _, err := chromedp.Call(tab, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	block := []*network.BlockPattern{{URLPattern: s.base + "/e", Block: true}}
	if _, err := chromedp.Call(tab, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: block}); err != nil {
		t.Fatal(err)
	}
	do(t, tab, chromedp.Navigate(s.base+"/full"),
		chromedp.Evaluate[chromedp.Void](`journeyd('event', 'signup', {plan: 'pro'})`))
	// The pageview and the event travel as separate pixels, in either order: wait for both.
	deadline := time.After(15 * time.Second)
	for {
		s.mu.Lock()
		px := append([]url.Values(nil), s.pixels...)
		s.mu.Unlock()
		got := pixelNamed(px, "signup")
		if got != nil && pixelNamed(px, "") != nil {
			if got.Get("s") != "test" || got.Get("t") != "event" || got.Get("p.plan") != "pro" || got.Get("a") == "" || got.Get("sid") == "" {
				t.Fatalf("pixel %v, want site, type, props and ids", got)
			}
			return
		}
		select {
		case <-s.notify:
		case <-deadline:
			t.Fatalf("want a pageview pixel and the signup pixel within 15s, got %v", px)
		}
	}
}
