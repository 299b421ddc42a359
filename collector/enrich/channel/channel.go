// Package channel assigns the default channel group of DESIGN §9, after GA4's default
// channel grouping: rules evaluated in order from the source, medium and campaign, a click
// id and the referrer's kind, with the search, social, video, shopping and webmail source
// lists of package sources. Sites can add sources to those lists and rules of their own
// (Overrides, the channels key of a site in the config file).
//
// Unlike GA4, where the channel belongs to the session, every event gets the channel of its
// own source information. An event without any (no utm tags, no click id, no external
// referrer) gets no channel: internal navigation, later events of a visit and server-side
// events carry the session's source, which the sessionizer fills in. The one exception is a
// pageview or screen without any referrer: that is a direct arrival, and gets source
// "(direct)", medium "(none)" and channel Direct as in GA4; the sessionizer should not let
// a direct arrival replace the source of a session that is still open (GA4 does not either).
//
// This package does not import the enrichment chain (package site holds its Overrides);
// the chain calls Assign as its last step.
package channel

import (
	"strings"

	"github.com/journeyd/journeyd/collector/enrich/sources"
	"github.com/journeyd/journeyd/event"
)

// The default channel groups, in the order they are evaluated.
const (
	Direct          = "Direct"
	CrossNetwork    = "Cross-network"
	PaidShopping    = "Paid Shopping"
	PaidSearch      = "Paid Search"
	PaidSocial      = "Paid Social"
	PaidVideo       = "Paid Video"
	Display         = "Display"
	PaidOther       = "Paid Other"
	OrganicShopping = "Organic Shopping"
	OrganicSocial   = "Organic Social"
	OrganicVideo    = "Organic Video"
	OrganicSearch   = "Organic Search"
	Referral        = "Referral"
	Email           = "Email"
	Affiliates      = "Affiliates"
	Audio           = "Audio"
	SMS             = "SMS"
	MobilePush      = "Mobile Push"
	Unassigned      = "Unassigned"
)

// The source and medium of a direct arrival, as GA4 names them.
const (
	DirectSource = "(direct)"
	DirectMedium = "(none)"
)

// Input is what the grouping looks at.
type Input struct {
	Source, Medium, Campaign string
	ClickIDType              string
	ReferrerKind             sources.Kind
}

// Assign sets e.Channel (and the source and medium of a direct arrival) from e's own
// source information, with the site's overrides ov (nil for none). A channel the event
// already carries is kept.
func Assign(e *event.Event, ov *Overrides) {
	if e.Channel != "" {
		return
	}
	if e.Source == "" && e.Medium == "" && e.Campaign == "" && e.ClickIDType == "" {
		if e.Referrer == "" && (e.Type == event.TypePageview || e.Type == event.TypeScreen) {
			e.Source, e.Medium, e.Channel = DirectSource, DirectMedium, Direct
		}
		return
	}
	e.Channel = Group(Input{Source: e.Source, Medium: e.Medium, Campaign: e.Campaign,
		ClickIDType: e.ClickIDType, ReferrerKind: e.ReferrerKind}, ov)
}

// Group returns the channel group of in: the first matching rule of ov, else the first
// matching default rule, else Unassigned.
func Group(in Input, ov *Overrides) string {
	in.Source, in.Medium, in.Campaign = sources.Lower(strings.TrimSpace(in.Source)),
		sources.Lower(strings.TrimSpace(in.Medium)), sources.Lower(in.Campaign)
	if ch := ov.match(in); ch != "" {
		return ch
	}
	kind := ov.sourceKind(in.Source)
	if kind == "" && in.Source == "" {
		kind = in.ReferrerKind
	}
	paid := isPaid(in.Medium) || in.Medium == "" && in.ClickIDType != ""
	return defaultGroup(in, kind, paid)
}

// defaultGroup is GA4's default channel grouping, rule by rule.
func defaultGroup(in Input, kind sources.Kind, paid bool) string {
	src, med := in.Source, in.Medium
	switch {
	case src == DirectSource && (med == "" || med == DirectMedium || med == "(not set)"):
		return Direct
	case strings.Contains(in.Campaign, "cross-network"):
		return CrossNetwork
	case paid && (kind == sources.Shopping || isShoppingCampaign(in.Campaign)):
		return PaidShopping
	case paid && kind == sources.Search:
		return PaidSearch
	case paid && kind == sources.Social:
		return PaidSocial
	case paid && kind == sources.Video:
		return PaidVideo
	case oneOf(med, "display", "banner", "expandable", "interstitial", "cpm"):
		return Display
	case paid:
		return PaidOther
	case kind == sources.Shopping || isShoppingCampaign(in.Campaign):
		return OrganicShopping
	case kind == sources.Social || oneOf(med, "social", "social-network", "social-media", "sm", "social network", "social media"):
		return OrganicSocial
	case kind == sources.Video || strings.Contains(med, "video"):
		return OrganicVideo
	case kind == sources.Search || med == "organic":
		return OrganicSearch
	case oneOf(med, "referral", "app", "link"):
		return Referral
	case kind == sources.Email || isEmail(src) || isEmail(med):
		return Email
	}
	return lateGroup(src, med)
}

// lateGroup holds the rules after Email.
func lateGroup(src, med string) string {
	switch {
	case med == "affiliate":
		return Affiliates
	case med == "audio":
		return Audio
	case src == "sms" || med == "sms":
		return SMS
	case strings.HasSuffix(med, "push") || strings.Contains(med, "mobile") ||
		strings.Contains(med, "notification") || src == "firebase":
		return MobilePush
	}
	return Unassigned
}

// isPaid is GA4's ^(.*cp.*|ppc|retargeting|paid.*)$ on the medium.
func isPaid(med string) bool {
	return strings.Contains(med, "cp") || med == "ppc" || med == "retargeting" || strings.HasPrefix(med, "paid")
}

// isShoppingCampaign is GA4's ^(.*(([^a-df-z]|^)shop|shopping).*)$ on the campaign.
func isShoppingCampaign(c string) bool {
	for i := 0; ; {
		j := strings.Index(c[i:], "shop")
		if j < 0 {
			return false
		}
		j += i
		if j == 0 || !('a' <= c[j-1] && c[j-1] <= 'z' && c[j-1] != 'e') {
			return true
		}
		i = j + 1
	}
}

func isEmail(s string) bool { return oneOf(s, "email", "e-mail", "e_mail", "e mail") }

func oneOf(s string, list ...string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}
