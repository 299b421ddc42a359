package channel

import (
	"fmt"
	"strings"
	"sync"

	"github.com/journeyd/journeyd/collector/enrich/sources"
)

// Overrides are a site's changes to the default grouping, the channels key of a site:
//
//	channels:
//	  sources:                 # extra sources (hosts or utm_source values) per kind
//	    search: [search.example, intranet-search]
//	    social: [club.example]
//	  rules:                   # checked in order before the default rules
//	    - channel: Partners
//	      medium: [partner, "partner-*"]
//	    - channel: Paid Social
//	      source: [vk]
//	      campaign_contains: [promo]
//
// The zero value and nil change nothing. Overrides must not be copied after first use.
type Overrides struct {
	// Sources adds hosts or source names to the kinds search, social, video, shopping and
	// email; they are checked before the built-in lists.
	Sources map[string][]string `yaml:"sources"`
	// Rules are checked in order before the default rules; the first that matches names
	// the channel.
	Rules []Rule `yaml:"rules"`

	once sync.Once
	list *sources.List
}

// Rule names a channel for the events that meet every condition it sets; an empty
// condition matches anything. Values compare case-insensitively; a value ending in "*"
// matches by prefix.
type Rule struct {
	Channel          string   `yaml:"channel"`
	Source           []string `yaml:"source"`
	Medium           []string `yaml:"medium"`
	CampaignContains []string `yaml:"campaign_contains"`
	// ReferrerKind: internal, search, social, video, shopping, email, other.
	ReferrerKind []string `yaml:"referrer_kind"`
	// ClickID: click id types such as gclid or yclid; "*" for any.
	ClickID []string `yaml:"click_id"`
}

// Validate reports the first problem with o, naming the key that is wrong.
func (o *Overrides) Validate() error {
	if o == nil {
		return nil
	}
	for kind := range o.Sources {
		if !oneOf(kind, sources.Kinds...) {
			return fmt.Errorf("sources.%s: unknown kind, want one of %s", kind, strings.Join(sources.Kinds, ", "))
		}
	}
	for i, r := range o.Rules {
		if strings.TrimSpace(r.Channel) == "" {
			return fmt.Errorf("rules[%d].channel: must not be empty", i)
		}
		if len(r.Source)+len(r.Medium)+len(r.CampaignContains)+len(r.ReferrerKind)+len(r.ClickID) == 0 {
			return fmt.Errorf("rules[%d]: sets no condition (source, medium, campaign_contains, referrer_kind, click_id)", i)
		}
	}
	return nil
}

// sourceKind returns the kind of a lower-case source from o's sources, then the built-in
// lists; "" when neither knows it.
func (o *Overrides) sourceKind(src string) sources.Kind {
	if src == "" {
		return ""
	}
	if o != nil && len(o.Sources) > 0 {
		o.once.Do(o.compile)
		if e, ok := o.list.Lookup(src); ok {
			return e.Kind
		}
	}
	if e, ok := sources.Default.Lookup(src); ok {
		return e.Kind
	}
	return ""
}

func (o *Overrides) compile() {
	o.list = sources.NewList()
	for kind, names := range o.Sources {
		for _, n := range names {
			o.list.Add(n, sources.Entry{Kind: kind, Name: n})
		}
	}
}

// match returns the channel of the first rule of o that in meets, "" for none.
func (o *Overrides) match(in Input) string {
	if o == nil {
		return ""
	}
	for _, r := range o.Rules {
		if r.matches(in) {
			return r.Channel
		}
	}
	return ""
}

func (r *Rule) matches(in Input) bool {
	return anyValue(r.Source, in.Source) && anyValue(r.Medium, in.Medium) &&
		anyValue(r.ReferrerKind, in.ReferrerKind) && anyValue(r.ClickID, in.ClickIDType) &&
		anyContained(r.CampaignContains, in.Campaign)
}

// anyValue reports whether v equals one of list (or starts with a "prefix*" of it); an
// empty list matches anything.
func anyValue(list []string, v string) bool {
	for _, x := range list {
		if p, ok := strings.CutSuffix(x, "*"); ok {
			if len(v) >= len(p) && strings.EqualFold(v[:len(p)], p) && (p != "" || v != "") {
				return true
			}
		} else if strings.EqualFold(x, v) {
			return true
		}
	}
	return len(list) == 0
}

func anyContained(list []string, campaign string) bool {
	for _, x := range list {
		if strings.Contains(campaign, strings.ToLower(x)) {
			return true
		}
	}
	return len(list) == 0
}
