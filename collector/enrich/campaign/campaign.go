// Package campaign is the enrichment step that reads campaign tagging from the page URL:
// utm_source, utm_medium, utm_campaign, utm_term and utm_content, and the ad click ids
// (gclid, gbraid, wbraid, dclid, fbclid, msclkid, yclid, ttclid, li_fat_id). It fills only
// the fields the event does not already carry, so a backend's context.campaign wins.
//
// A click id implies a paid click on its platform: when the URL does not say otherwise the
// source becomes the platform (google, facebook, bing, yandex, tiktok, linkedin) and the
// medium "cpc". Click id values keep their case; when a URL has several, the first of the
// list above wins.
package campaign

import (
	"strings"

	"github.com/journeyd/journeyd/collector/enrich"
	"github.com/journeyd/journeyd/collector/enrich/pageurl"
	"github.com/journeyd/journeyd/event"
)

// ClickID is one kind of ad click id and the platform it implies.
type ClickID struct {
	Param  string // the query parameter, also stored as click_id_type
	Source string // the source it implies
}

// ClickIDs are the click ids journeyd knows, in order of preference.
var ClickIDs = []ClickID{
	{"gclid", "google"}, {"gbraid", "google"}, {"wbraid", "google"}, {"dclid", "google"},
	{"fbclid", "facebook"}, {"msclkid", "bing"}, {"yclid", "yandex"}, {"ttclid", "tiktok"},
	{"li_fat_id", "linkedin"},
}

// PaidMedium is the medium a click id implies.
const PaidMedium = "cpc"

// Tags are the campaign fields found in one query string.
type Tags struct {
	Source, Medium, Campaign, Term, Content string
	ClickIDType, ClickID                    string
}

// Parse reads the campaign tags of a query string (without the '?').
func Parse(query string) Tags {
	var t Tags
	best := len(ClickIDs)
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(pair, "=")
		if v == "" {
			continue
		}
		if len(k) > 4 && strings.EqualFold(k[:4], "utm_") {
			t.setUTM(k[4:], v)
			continue
		}
		for i := 0; i < best; i++ {
			if strings.EqualFold(k, ClickIDs[i].Param) {
				t.ClickIDType, t.ClickID, best = ClickIDs[i].Param, pageurl.Unescape(v), i
				break
			}
		}
	}
	return t
}

func (t *Tags) setUTM(name, v string) {
	var p *string
	switch strings.ToLower(name) {
	case "source":
		p = &t.Source
	case "medium":
		p = &t.Medium
	case "campaign":
		p = &t.Campaign
	case "term":
		p = &t.Term
	case "content":
		p = &t.Content
	default:
		return
	}
	if *p == "" {
		*p = strings.TrimSpace(pageurl.Unescape(v))
	}
}

// ImpliedSource returns the source a click id type implies, "" for an unknown one.
func ImpliedSource(clickIDType string) string {
	for _, c := range ClickIDs {
		if c.Param == clickIDType {
			return c.Source
		}
	}
	return ""
}

// Step fills the campaign fields of an event from its page URL.
type Step struct{}

// Enrich reads e.Query (or the query of e.URL) and fills the empty campaign fields of e.
func (Step) Enrich(e *event.Event, _ *enrich.Request) {
	query := e.Query
	if query == "" && e.URL != "" {
		query = pageurl.Split(e.URL).Query
	}
	if query != "" {
		t := Parse(query)
		fill(&e.Source, t.Source)
		fill(&e.Medium, t.Medium)
		fill(&e.Campaign, t.Campaign)
		fill(&e.Term, t.Term)
		fill(&e.Content, t.Content)
		if e.ClickIDType == "" {
			e.ClickIDType, e.ClickID = t.ClickIDType, t.ClickID
		}
	}
	if e.ClickIDType != "" {
		fill(&e.Source, ImpliedSource(e.ClickIDType))
		fill(&e.Medium, PaidMedium)
	}
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}
