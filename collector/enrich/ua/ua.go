// Package ua is the enrichment step for the user agent: browser, browser version, operating
// system and device type, from the User-Agent header (parsed by mileusna/useragent) refined
// by the client hints Sec-CH-UA, Sec-CH-UA-Mobile and Sec-CH-UA-Platform when the browser
// sends them. Parsed user agents are memoised in a bounded cache keyed by the string.
//
// It does not decide whether a sender is a bot; that is package bot, which runs after it and
// reads the device type this step sets ("bot" for user agents the parser knows as robots).
package ua

import (
	"bytes"
	"strings"

	"github.com/mileusna/useragent"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/internal/boundedcache"
	"github.com/journeyd/journeyd/event"
)

// The device types stored in the device column.
const (
	Desktop = "desktop"
	Mobile  = "mobile"
	Tablet  = "tablet"
	Bot     = "bot"
	Other   = "other"
)

// maxKey is the longest user agent kept; longer ones are cut (the column keeps as much).
const maxKey = event.MaxTitleLen

// Result is what one user agent string says.
type Result struct {
	UA      string // the user agent itself, as stored in the user_agent column
	Browser string
	Version string
	OS      string
	Device  string // Desktop, Mobile, Tablet, Bot or Other
}

// Parser parses user agents through a bounded cache. It is safe for concurrent use.
type Parser struct {
	cache *boundedcache.Cache[Result]
}

// New returns a parser that caches up to cacheSize user agents.
func New(cacheSize int) *Parser {
	return &Parser{cache: boundedcache.New[Result](cacheSize)}
}

// Enrich fills the browser, version, OS, device and user agent columns of e from r's
// User-Agent and client hints. The user agent column is left alone when e already has one,
// and so is an OS the message named itself (a server call's context.os) when the user agent
// and hints name none.
func (p *Parser) Enrich(e *event.Event, r *enrich.Request) {
	res := p.Parse(r.UserAgent)
	ApplyHints(&res, r.SecCHUA, r.SecCHUAMobile, r.SecCHUAPlatform)
	e.Browser, e.BrowserVersion, e.Device = res.Browser, res.Version, res.Device
	if res.OS != "" {
		e.OS = res.OS
	}
	if e.UserAgent == "" {
		e.UserAgent = res.UA
	}
}

// Parse returns what the user agent ua says, from the cache when it has been seen before.
// An empty user agent gives the zero Result.
func (p *Parser) Parse(ua []byte) Result {
	if len(ua) > maxKey {
		ua = ua[:maxKey]
	}
	if len(ua) == 0 {
		return Result{}
	}
	if res, ok := p.cache.Get(ua); ok {
		return res
	}
	res := Parse(event.Clean(string(ua), maxKey))
	p.cache.Put(res.UA, res)
	return res
}

// Parse parses ua without a cache.
func Parse(ua string) Result {
	u := useragent.Parse(ua)
	res := Result{UA: ua, Browser: browserName(u.Name), Version: u.Version, OS: osName(u.OS)}
	switch {
	case u.Bot || res.Browser == "Headless Chrome":
		res.Device = Bot
	case u.Tablet || u.OS == useragent.Android && !strings.Contains(ua, "Mobile"):
		res.Device = Tablet
	case u.Mobile:
		res.Device = Mobile
	case u.Desktop:
		res.Device = Desktop
	default:
		res.Device = Other
	}
	return res
}

// browserName maps the parser's names to the names products call themselves.
func browserName(name string) string {
	switch name {
	case "YaBrowser":
		return "Yandex Browser"
	case useragent.SamsungBrowser:
		return "Samsung Internet"
	}
	return name
}

func osName(os string) string {
	if os == useragent.CrOS {
		return useragent.ChromeOS
	}
	return os
}

// ApplyHints refines res with client hints: a specific brand from Sec-CH-UA replaces a
// generic Chrome or Chromium, Sec-CH-UA-Platform names the OS (the reduced User-Agent of
// Chromium browsers hides it), and Sec-CH-UA-Mobile tells a phone (?1) from an Android
// tablet (?0). Empty hints change nothing; bots are left as they are.
func ApplyHints(res *Result, brands, mobile, platform []byte) {
	if res.Device == Bot {
		return
	}
	if name, version := Brand(brands); name != "" && name != res.Browser &&
		(res.Browser == "" || res.Browser == useragent.Chrome || res.Browser == "Chromium") {
		res.Browser, res.Version = name, string(version)
	}
	if os := platformName(platform); os != "" {
		res.OS = os
	}
	switch {
	case bytes.Equal(mobile, []byte("?1")):
		res.Device = Mobile
	case bytes.Equal(mobile, []byte("?0")) && res.OS == useragent.Android:
		res.Device = Tablet
	}
}

// platformName maps a Sec-CH-UA-Platform value to an OS name, "" when unknown.
func platformName(platform []byte) string {
	switch string(bytes.Trim(platform, `" `)) {
	case "Windows":
		return useragent.Windows
	case "macOS":
		return useragent.MacOS
	case "Android":
		return useragent.Android
	case "iOS":
		return useragent.IOS
	case "Linux":
		return useragent.Linux
	case "Chrome OS", "ChromeOS":
		return useragent.ChromeOS
	}
	return ""
}
