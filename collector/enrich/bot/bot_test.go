package bot

import (
	"testing"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/internal/uastrings"
	"github.com/journeyd/journeyd/collector/enrich/ua"
	"github.com/journeyd/journeyd/event"
)

func TestEnrich(t *testing.T) {
	parser, d := ua.New(64), New(64)
	f := func(userAgent, purpose string, want bool) {
		t.Helper()
		var e event.Event
		r := &enrich.Request{UserAgent: []byte(userAgent), Purpose: []byte(purpose)}
		parser.Enrich(&e, r)
		d.Enrich(&e, r)
		if e.IsBot != want || (want && e.Device != "bot") {
			t.Fatalf("Enrich(%q, purpose %q): is_bot %v device %q; want is_bot %v", userAgent, purpose, e.IsBot, e.Device, want)
		}
	}
	// People.
	f(uastrings.ChromeWindows, "", false)
	f(uastrings.ChromeAndroid, "", false)
	f(uastrings.SafariIOS, "", false)
	f(uastrings.Firefox, "", false)
	f(uastrings.Samsung, "", false)
	f(uastrings.YandexBrowser, "", false)
	f("Mozilla/5.0 (Linux; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 YaBrowser/24.1.5.825 YaApp_Android/24.12 YaSearchBrowser/24.12 BroPP/1.0 SA/3 Mobile Safari/537.36", "", false)
	f("Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "", false)
	f("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", "", false)
	f("", "", false)
	// Robots.
	f(uastrings.Googlebot, "", true)
	f(uastrings.YandexBot, "", true)
	f(uastrings.Bingbot, "", true)
	f(uastrings.TelegramBot, "", true)
	f("WhatsApp/2.23.20.0", "", true)
	f("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "", true)
	f("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "", true)
	f("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "", true)
	f("Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots yabs01)", "", true)
	f("Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "", true)
	f("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)", "", true)
	f(uastrings.Curl, "", true)
	f("python-requests/2.32.3", "", true)
	f(uastrings.HeadlessChrome, "", true)
	// Prefetches.
	f(uastrings.ChromeWindows, "prefetch", true)
	f(uastrings.ChromeWindows, "prefetch;prerender", true)
	f(uastrings.ChromeWindows, "Prefetch", true)
}

func TestListLoaded(t *testing.T) {
	if len(patterns) < 100 {
		t.Fatalf("bots.txt gave %d patterns, want the whole list", len(patterns))
	}
	for _, p := range patterns {
		if p == "" || p[0] == '#' {
			t.Fatalf("pattern %q is a comment or empty", p)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add(uastrings.Googlebot, "prefetch")
	f.Add(uastrings.ChromeWindows, "")
	f.Add("\xff", "\x00")
	d := New(32)
	f.Fuzz(func(t *testing.T, userAgent, purpose string) {
		if got, want := d.Match([]byte(userAgent)), d.Match([]byte(userAgent)); got != want {
			t.Fatalf("Match(%q) not stable: %v then %v", userAgent, got, want)
		}
		var e event.Event
		d.Enrich(&e, &enrich.Request{UserAgent: []byte(userAgent), Purpose: []byte(purpose)})
		if e.IsBot != (e.Device == "bot") {
			t.Fatalf("is_bot %v but device %q", e.IsBot, e.Device)
		}
	})
}
