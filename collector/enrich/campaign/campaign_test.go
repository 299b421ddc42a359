package campaign

import (
	"testing"

	"github.com/journeyd/journeyd/event"
)

func TestEnrich(t *testing.T) {
	f := func(in event.Event, want Tags) {
		t.Helper()
		e := in
		Step{}.Enrich(&e, nil)
		got := Tags{e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickIDType, e.ClickID}
		if got != want {
			t.Fatalf("Enrich(url %q query %q)\n got  %+v\n want %+v", in.URL, in.Query, got, want)
		}
	}
	f(event.Event{URL: "https://shop.example/?utm_source=vk&utm_medium=cpc&utm_campaign=spring%20sale&utm_term=sofa&utm_content=banner+2"},
		Tags{"vk", "cpc", "spring sale", "sofa", "banner 2", "", ""})
	f(event.Event{Query: "UTM_SOURCE=Newsletter&utm_medium=email"}, Tags{Source: "Newsletter", Medium: "email"})
	// Click ids imply a paid click of their platform; values keep their case.
	f(event.Event{Query: "gclid=Cj0KCQiA-AbC"}, Tags{"google", "cpc", "", "", "", "gclid", "Cj0KCQiA-AbC"})
	f(event.Event{Query: "gbraid=0AAAAA"}, Tags{"google", "cpc", "", "", "", "gbraid", "0AAAAA"})
	f(event.Event{Query: "wbraid=CjkKAbc"}, Tags{"google", "cpc", "", "", "", "wbraid", "CjkKAbc"})
	f(event.Event{Query: "dclid=CNaYz"}, Tags{"google", "cpc", "", "", "", "dclid", "CNaYz"})
	f(event.Event{Query: "fbclid=IwAR2xYz"}, Tags{"facebook", "cpc", "", "", "", "fbclid", "IwAR2xYz"})
	f(event.Event{Query: "msclkid=5f2c1e"}, Tags{"bing", "cpc", "", "", "", "msclkid", "5f2c1e"})
	f(event.Event{Query: "yclid=7263541"}, Tags{"yandex", "cpc", "", "", "", "yclid", "7263541"})
	f(event.Event{Query: "ttclid=E.C.P.abc"}, Tags{"tiktok", "cpc", "", "", "", "ttclid", "E.C.P.abc"})
	f(event.Event{Query: "li_fat_id=8a1b-2c"}, Tags{"linkedin", "cpc", "", "", "", "li_fat_id", "8a1b-2c"})
	// utm says otherwise: it wins over what the click id implies.
	f(event.Event{Query: "gclid=X&utm_source=google&utm_medium=display"}, Tags{"google", "display", "", "", "", "gclid", "X"})
	// The first click id of the list wins over one that comes earlier in the URL.
	f(event.Event{Query: "fbclid=F&gclid=G"}, Tags{"google", "cpc", "", "", "", "gclid", "G"})
	// What the event carries (a backend's context.campaign) is kept.
	f(event.Event{Query: "utm_source=vk&utm_campaign=x", Source: "crm", Campaign: "winback"}, Tags{Source: "crm", Campaign: "winback"})
	f(event.Event{URL: "https://shop.example/", ClickIDType: "yclid", ClickID: "1"}, Tags{"yandex", "cpc", "", "", "", "yclid", "1"})
	// Empty and odd parameters are ignored.
	f(event.Event{Query: "utm_source=&utm_medium&utm_=x&utm_foo=y&gclid="}, Tags{})
	f(event.Event{}, Tags{})
}

func FuzzParse(f *testing.F) {
	f.Add("utm_source=a%zz&gclid=Q&utm_medium=+x+")
	f.Add("&&==&utm_=&fbclid=%")
	f.Fuzz(func(t *testing.T, query string) {
		tags := Parse(query)
		if (tags.ClickIDType == "") != (tags.ClickID == "") {
			t.Fatalf("Parse(%q): click id type %q with value %q", query, tags.ClickIDType, tags.ClickID)
		}
		if tags.ClickIDType != "" && ImpliedSource(tags.ClickIDType) == "" {
			t.Fatalf("Parse(%q): click id type %q implies no source", query, tags.ClickIDType)
		}
	})
}
