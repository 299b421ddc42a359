package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// TestSignFindsMakeRunKeys: with JOURNEYD_LINK_KEYS unset, sign reads the file that
// JOURNEYD_LINK_KEYS_FILE names (make run's var/link-keys, through var/journeyd.env); with
// neither, its error names the variable to set.
func TestSignFindsMakeRunKeys(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "link-keys")
	if err := os.WriteFile(keyFile, []byte("dev:00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNEYD_LINK_KEYS", "")
	t.Setenv("JOURNEYD_LINK_KEYS_FILE", keyFile)
	var out, errOut bytes.Buffer
	if err := sign([]string{"--site", "demo", "--url", "https://shop.example/", "--campaign", "c", "--json"}, &out, &errOut); err != nil {
		t.Fatalf("sign with JOURNEYD_LINK_KEYS_FILE: %v", err)
	}
	var urls emaillink.URLs
	if err := json.Unmarshal(out.Bytes(), &urls); err != nil {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	keys, _ := emaillink.ParseKeys("dev:00112233445566778899aabbccddeeff")
	s, _ := emaillink.NewSigner(keys)
	if l, err := s.Verify(urls.Token); err != nil || l.Campaign != "c" {
		t.Fatalf("the token is not signed with the file's key: %+v, %v", l, err)
	}
	t.Setenv("JOURNEYD_LINK_KEYS_FILE", "")
	err := sign([]string{"--site", "demo", "--url", "https://shop.example/", "--campaign", "c"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "JOURNEYD_LINK_KEYS") {
		t.Fatalf("sign without keys: error %v, want one naming JOURNEYD_LINK_KEYS", err)
	}
}

// TestSignExpires: --expires 8d12h signs links that stop working 8.5 days from now.
func TestSignExpires(t *testing.T) {
	t.Setenv("JOURNEYD_LINK_KEYS", "k1:0123456789abcdef0123")
	var out, errOut bytes.Buffer
	before := time.Now()
	if err := sign([]string{"--site", "shop", "--url", "https://shop.example/", "--campaign", "c", "--expires", "8d12h", "--json"}, &out, &errOut); err != nil {
		t.Fatalf("sign: %v\n%s", err, errOut.String())
	}
	var urls emaillink.URLs
	if err := json.Unmarshal(out.Bytes(), &urls); err != nil {
		t.Fatal(err)
	}
	keys, _ := emaillink.ParseKeys("k1:0123456789abcdef0123")
	s, _ := emaillink.NewSigner(keys)
	l, err := s.Verify(urls.Token)
	want := before.Add(8*24*time.Hour + 12*time.Hour)
	if err != nil || l.ExpiresAt < want.Unix()-1 || l.ExpiresAt > want.Unix()+60 || !l.Expired(want.Add(time.Minute)) || l.Expired(before) {
		t.Fatalf("link expiring at %d (%v), want about %d", l.ExpiresAt, err, want.Unix())
	}
}
