package channel

import (
	"testing"

	"github.com/journeyd/journeyd/event"
)

func TestGroup(t *testing.T) {
	f := func(in Input, want string) {
		t.Helper()
		if got := Group(in, nil); got != want {
			t.Fatalf("Group(%+v) = %q, want %q", in, got, want)
		}
	}
	f(Input{Source: "(direct)", Medium: "(none)"}, Direct)
	f(Input{Source: "google", Medium: "cpc", Campaign: "PMax Cross-Network Spring"}, CrossNetwork)
	f(Input{Source: "google", Medium: "cpc", Campaign: "spring_shopping"}, PaidShopping)
	f(Input{Source: "yandex market", Medium: "cpc"}, PaidShopping)
	f(Input{Source: "ozon", Medium: "paid"}, PaidShopping)
	f(Input{Source: "google", Medium: "cpc", ClickIDType: "gclid"}, PaidSearch)
	f(Input{Source: "yandex", Medium: "cpc"}, PaidSearch)
	f(Input{Source: "Bing", Medium: "PPC"}, PaidSearch)
	f(Input{Medium: "cpc", ReferrerKind: "search"}, PaidSearch)
	f(Input{Source: "vk", Medium: "cpc"}, PaidSocial)
	f(Input{Source: "facebook", ClickIDType: "fbclid"}, PaidSocial)
	f(Input{Source: "tg", Medium: "paid_social"}, PaidSocial)
	f(Input{Source: "youtube", Medium: "cpv"}, PaidVideo)
	f(Input{Source: "rutube", Medium: "retargeting"}, PaidVideo)
	f(Input{Source: "adfox", Medium: "banner"}, Display)
	f(Input{Source: "criteo", Medium: "display"}, Display)
	f(Input{Source: "partner-network", Medium: "cpa"}, PaidOther)
	f(Input{Source: "aliexpress", Medium: "referral"}, OrganicShopping)
	f(Input{Source: "newsletter", Medium: "post", Campaign: "shop-week"}, OrganicShopping)
	f(Input{Source: "vk", Medium: "referral"}, OrganicSocial)
	f(Input{Source: "blogger", Medium: "social"}, OrganicSocial)
	f(Input{Source: "dzen", Medium: "referral"}, OrganicSocial)
	f(Input{Source: "youtube", Medium: "referral"}, OrganicVideo)
	f(Input{Source: "stream", Medium: "video_review"}, OrganicVideo)
	f(Input{Source: "google", Medium: "organic"}, OrganicSearch)
	f(Input{Source: "mail.ru", Medium: "organic"}, OrganicSearch)
	f(Input{Source: "blog.example", Medium: "referral"}, Referral)
	f(Input{Source: "newsletter", Medium: "email"}, Email)
	f(Input{Source: "gmail", Medium: "email"}, Email)
	f(Input{Source: "e-mail", Medium: "trigger"}, Email)
	f(Input{Source: "admitad", Medium: "affiliate"}, Affiliates)
	f(Input{Source: "podcast", Medium: "audio"}, Audio)
	f(Input{Source: "sms", Medium: "reminder"}, SMS)
	f(Input{Source: "app", Medium: "push"}, MobilePush)
	f(Input{Source: "firebase", Medium: "x"}, MobilePush)
	f(Input{Source: "offline", Medium: "flyer"}, Unassigned)
	f(Input{Campaign: "spring"}, Unassigned)
}

func TestShoppingCampaign(t *testing.T) {
	for c, want := range map[string]bool{"shop": true, "e-shop": true, "eshop": true, "workshop": false, "shopping": true, "my_shop": true, "bishop": false, "summer": false} {
		if got := isShoppingCampaign(c); got != want {
			t.Fatalf("isShoppingCampaign(%q) = %v, want %v", c, got, want)
		}
	}
}

func TestAssign(t *testing.T) {
	f := func(in event.Event, wantSource, wantMedium, wantChannel string) {
		t.Helper()
		e := in
		Assign(&e, nil)
		if e.Source != wantSource || e.Medium != wantMedium || e.Channel != wantChannel {
			t.Fatalf("Assign(%+v) = %q / %q / %q; want %q / %q / %q", in, e.Source, e.Medium, e.Channel, wantSource, wantMedium, wantChannel)
		}
	}
	f(event.Event{Type: event.TypePageview, URL: "https://shop.example/"}, DirectSource, DirectMedium, Direct)
	f(event.Event{Type: event.TypeScreen}, DirectSource, DirectMedium, Direct)
	// Internal navigation and events without source information: left to the sessionizer.
	f(event.Event{Type: event.TypePageview, Referrer: "https://shop.example/a", ReferrerKind: "internal"}, "", "", "")
	f(event.Event{Type: event.TypeEvent, URL: "https://shop.example/"}, "", "", "")
	f(event.Event{Type: event.TypeServer, Name: "order_paid"}, "", "", "")
	f(event.Event{Type: event.TypeEmailClick, Source: "trigger", Medium: "email", Campaign: "cart"}, "trigger", "email", Email)
	f(event.Event{Type: event.TypePageview, Source: "x", Channel: "Partners"}, "x", "", "Partners")
}

func TestOverrides(t *testing.T) {
	ov := &Overrides{
		Sources: map[string][]string{"search": {"search.example"}, "social": {"club.example", "myclub"}},
		Rules: []Rule{
			{Channel: "Partners", Medium: []string{"partner-*"}},
			{Channel: "Yandex Direct", ClickID: []string{"yclid"}},
			{Channel: "Promo Social", Source: []string{"VK"}, CampaignContains: []string{"Promo"}},
		},
	}
	if err := ov.Validate(); err != nil {
		t.Fatal(err)
	}
	f := func(in Input, want string) {
		t.Helper()
		if got := Group(in, ov); got != want {
			t.Fatalf("Group(%+v) = %q, want %q", in, got, want)
		}
	}
	f(Input{Source: "acme", Medium: "partner-feed"}, "Partners")
	f(Input{Source: "yandex", Medium: "cpc", ClickIDType: "yclid"}, "Yandex Direct")
	f(Input{Source: "vk", Medium: "cpc", Campaign: "spring_promo"}, "Promo Social")
	f(Input{Source: "vk", Medium: "cpc", Campaign: "spring"}, PaidSocial)
	f(Input{Source: "www.search.example", Medium: "organic"}, OrganicSearch)
	f(Input{Source: "myclub", Medium: "referral"}, OrganicSocial)
	f(Input{Source: "google", Medium: "cpc"}, PaidSearch)
}

func TestOverridesValidate(t *testing.T) {
	for _, ov := range []*Overrides{
		{Sources: map[string][]string{"podcasts": {"x"}}},
		{Rules: []Rule{{Medium: []string{"x"}}}},
		{Rules: []Rule{{Channel: "Everything"}}},
	} {
		if err := ov.Validate(); err == nil {
			t.Fatalf("Validate(%+v) accepted it", ov)
		}
	}
}

func TestGroupDoesNotAllocate(t *testing.T) {
	in := Input{Source: "google", Medium: "organic", ReferrerKind: "search"}
	if n := testing.AllocsPerRun(100, func() { Group(in, nil) }); n != 0 {
		t.Fatalf("Group allocates %v times, want 0", n)
	}
}

func FuzzGroup(f *testing.F) {
	f.Add("google", "cpc", "shop", "gclid", "search")
	f.Add("", "", "", "", "")
	f.Add("(direct)", "(none)", "cross-network", "", "")
	f.Fuzz(func(t *testing.T, src, med, camp, click, kind string) {
		if Group(Input{src, med, camp, click, kind}, nil) == "" {
			t.Fatalf("no channel for %q %q %q %q %q", src, med, camp, click, kind)
		}
	})
}
