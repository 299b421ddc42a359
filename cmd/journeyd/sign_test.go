package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/collector/emaillink"
)

func TestSign(t *testing.T) {
	t.Setenv("JOURNEYD_LINK_KEYS", "old:0123456789abcdef0123,new:fedcba9876543210fedc")
	var out, errOut bytes.Buffer
	err := sign([]string{"--site", "shop", "--url", "https://shop.example/cart", "--campaign", "cart",
		"--user-id", "u-1", "--base", "https://t.shop.example", "--json"}, &out, &errOut)
	if err != nil {
		t.Fatalf("sign: %v\n%s", err, errOut.String())
	}
	var urls emaillink.URLs
	if err := json.Unmarshal(out.Bytes(), &urls); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if !strings.HasPrefix(urls.Click, "https://t.shop.example/r/") || !strings.HasSuffix(urls.Open, ".gif") {
		t.Fatalf("urls %+v", urls)
	}
	keys, _ := emaillink.ParseKeys("new:fedcba9876543210fedc")
	s, _ := emaillink.NewSigner(keys)
	l, err := s.Verify(urls.Token)
	want := emaillink.Link{SiteID: "shop", URL: "https://shop.example/cart", Source: "email", Medium: "email", Campaign: "cart", UserID: "u-1"}
	if err != nil || l != want {
		t.Fatalf("the printed token carries %+v, %v; want %+v signed with the newest key", l, err, want)
	}
}

func TestSignRefuses(t *testing.T) {
	t.Setenv("JOURNEYD_LINK_KEYS", "k1:0123456789abcdef0123")
	f := func(args ...string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := sign(args, &out, &errOut); err == nil {
			t.Fatalf("sign %q succeeded: %s", args, out.String())
		}
	}
	f("--site", "shop", "--url", "https://shop.example/")
	f("--site", "shop", "--url", "javascript:alert(1)", "--campaign", "c")
	t.Setenv("JOURNEYD_LINK_KEYS", "")
	f("--site", "shop", "--url", "https://shop.example/", "--campaign", "c")
}
