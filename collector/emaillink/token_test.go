package emaillink

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func signer(t testing.TB, keys string) *Signer {
	t.Helper()
	k, err := ParseKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var sample = Link{SiteID: "shop", URL: "https://shop.example/cart?utm_content=x&id=1", Source: "trigger",
	Medium: "email", Campaign: "abandoned cart", Content: "button", Term: "sofa", AnonID: "a-1", UserID: "u-42"}

func TestSignVerify(t *testing.T) {
	s := signer(t, "k1:0123456789abcdef0123")
	token, err := s.Sign(sample)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(token, "+/=") {
		t.Fatalf("token %q is not unpadded base64url", token)
	}
	got, err := s.Verify(token)
	if err != nil || got != sample {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, sample)
	}
	minimal := Link{SiteID: "s", URL: "http://a.example"}
	token, _ = s.Sign(minimal)
	if got, err := s.Verify(token); err != nil || got != minimal {
		t.Fatalf("Verify(minimal) = %+v, %v", got, err)
	}
}

func TestKeyRotation(t *testing.T) {
	old := signer(t, "k1:0123456789abcdef0123")
	rotated := signer(t, "k1:0123456789abcdef0123,k2:fedcba9876543210fedc")
	retired := signer(t, "k2:fedcba9876543210fedc")
	oldToken, _ := old.Sign(sample)
	if _, err := rotated.Verify(oldToken); err != nil {
		t.Fatalf("a token of the old key fails after rotation: %v", err)
	}
	newToken, _ := rotated.Sign(sample)
	if _, err := old.Verify(newToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("new tokens must be signed with the newest key; old signer says %v", err)
	}
	if _, err := retired.Verify(oldToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a retired key still verifies: %v", err)
	}
	sameID := signer(t, "k1:another-secret-of-16+")
	if _, err := sameID.Verify(oldToken); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a token verified under another secret with the same key id: %v", err)
	}
}

func TestTamperedTokensFail(t *testing.T) {
	s := signer(t, "k1:0123456789abcdef0123")
	token, _ := s.Sign(sample)
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	for i := range raw {
		b := append([]byte(nil), raw...)
		b[i] ^= 0x20
		if _, err := s.Verify(base64.RawURLEncoding.EncodeToString(b)); err == nil {
			t.Fatalf("a token with byte %d changed verified", i)
		}
	}
	// A forged target under a recomputed body but the old signature.
	forged := strings.Replace(string(raw), "shop.example", "evil.example", 1)
	if _, err := s.Verify(base64.RawURLEncoding.EncodeToString([]byte(forged))); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged target: %v", err)
	}
	for _, bad := range []string{"", "!!!", "AQ", strings.Repeat("A", MaxTokenLen+1), token[:len(token)-4], token + "AA"} {
		if _, err := s.Verify(bad); err == nil {
			t.Fatalf("Verify(%.40q) succeeded", bad)
		}
	}
}

func TestSignRejectsBadTargets(t *testing.T) {
	s := signer(t, "k1:0123456789abcdef0123")
	for _, target := range []string{"javascript:alert(1)", "/relative", "//evil.example", "ftp://x.example/", "https://", "https://a.example/\r\nSet-Cookie: x", ""} {
		if _, err := s.Sign(Link{SiteID: "s", URL: target}); !errors.Is(err, ErrBadTarget) {
			t.Fatalf("Sign(%q) = %v, want ErrBadTarget", target, err)
		}
	}
	if _, err := s.Sign(Link{URL: "https://a.example"}); err == nil {
		t.Fatal("Sign accepted a link without a site")
	}
}

func TestParseKeys(t *testing.T) {
	keys, err := ParseKeys(" k1:0123456789abcdef , k2:fedcba9876543210fedc\n")
	if err != nil || len(keys) != 2 || keys[1].ID != "k2" || string(keys[0].Secret) != "0123456789abcdef" {
		t.Fatalf("ParseKeys = %+v, %v", keys, err)
	}
	for _, bad := range []string{"", "k1", "k1:short", ":0123456789abcdef", "k 1:0123456789abcdef"} {
		if _, err := ParseKeys(bad); err == nil {
			t.Fatalf("ParseKeys(%q) accepted it", bad)
		}
	}
	if _, err := NewSigner([]Key{{"a", []byte("0123456789abcdef")}, {"a", []byte("0123456789abcdeg")}}); err == nil {
		t.Fatal("NewSigner accepted a key id twice")
	}
}

func TestSignURLs(t *testing.T) {
	s := signer(t, "k1:0123456789abcdef0123")
	u, err := s.SignURLs("https://t.shop.example/", sample)
	if err != nil {
		t.Fatal(err)
	}
	if u.Click != "https://t.shop.example/r/"+u.Token || u.Open != "https://t.shop.example/o/"+u.Token+".gif" {
		t.Fatalf("SignURLs = %+v", u)
	}
}

func FuzzVerify(f *testing.F) {
	s := signer(f, "k1:0123456789abcdef0123")
	token, _ := s.Sign(sample)
	f.Add(token)
	f.Add("AQJrMQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		l, err := s.Verify(token)
		if err != nil {
			return
		}
		if checkTarget(l.URL) != nil {
			t.Fatalf("Verify(%q) accepted target %q", token, l.URL)
		}
		again, err := s.Sign(l)
		if err != nil {
			t.Fatalf("a verified link does not sign again: %v", err)
		}
		if l2, _ := s.Verify(again); l2 != l {
			t.Fatalf("round trip changed %+v into %+v", l, l2)
		}
	})
}

// TestExpiry: a link signed with an expiry carries it (version 2) and is expired from that
// second on; a link without one keeps the version 1 token of before, which never expires.
func TestExpiry(t *testing.T) {
	s := signer(t, "k1:0123456789abcdef0123")
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	l := sample
	l.ExpiresAt = at.Unix()
	token, err := s.Sign(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Verify(token)
	if err != nil || got != l {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, l)
	}
	if got.Expired(at.Add(-time.Second)) || !got.Expired(at) {
		t.Fatalf("a link expiring at %v: expired a second before %v, at it %v; want false, true", at, got.Expired(at.Add(-time.Second)), got.Expired(at))
	}
	plain, _ := s.Sign(sample)
	raw, _ := base64.RawURLEncoding.DecodeString(plain)
	if raw[0] != 1 {
		t.Fatalf("a link without expiry signed as version %d, want 1", raw[0])
	}
	if p, _ := s.Verify(plain); p.Expired(at.AddDate(100, 0, 0)) {
		t.Fatal("a link without expiry expired")
	}
	// The expiry is signed: changing it breaks the signature.
	b, _ := base64.RawURLEncoding.DecodeString(token)
	b[len(b)-macLen-1] ^= 1
	if _, err := s.Verify(base64.RawURLEncoding.EncodeToString(b)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a token with its expiry changed: %v, want ErrBadSignature", err)
	}
}
