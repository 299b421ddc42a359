// Package emaillink owns journeyd's signed email and ad links: the token that carries a
// link's target URL and campaign fields under an HMAC-SHA256 signature, the keys that sign
// and verify it, and the endpoints that use it — the open pixel GET /o/<token>.gif, the
// click redirect GET /r/<token>, and POST /api/v1/links, which signs links for senders.
//
// A token is the base64url (unpadded) encoding of
//
//	version (1 byte, 1) | key id length (1 byte) | key id |
//	9 fields, each a uvarint length and its bytes: site id, target URL, source, medium,
//	campaign, content, term, anonymous id, user id |
//	HMAC-SHA256 of everything before it (32 bytes)
//
// A link with an expiry is signed as version 2: the same, with the expiry (a uvarint of
// unix seconds) after the nine fields. Version 1 tokens never expire, and stay valid.
//
// Tokens are signed with the newest key and verified with any configured key, so keys can
// be rotated: add a new key at the end of the list, and drop an old one once the links
// signed with it no longer matter. A target must be an absolute http or https URL: the
// redirect can only go where a key holder sent it, never to a URL a visitor made up.
package emaillink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Link is what a token carries: where the link goes and the touchpoint it records.
type Link struct {
	SiteID   string `json:"site"`
	URL      string `json:"url"` // the click target; absolute http or https
	Source   string `json:"source,omitempty"`
	Medium   string `json:"medium,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Content  string `json:"content,omitempty"`
	Term     string `json:"term,omitempty"`
	AnonID   string `json:"anon_id,omitempty"` // the recipient, when known
	UserID   string `json:"user_id,omitempty"`
	// ExpiresAt is when the link stops working, in unix seconds; 0 never. An expired click
	// link answers 410 and records nothing; an expired open pixel is not recorded.
	ExpiresAt int64 `json:"expires_at,omitempty"`
}

// Expired reports whether l's expiry has passed at now.
func (l *Link) Expired(now time.Time) bool {
	return l.ExpiresAt != 0 && now.Unix() >= l.ExpiresAt
}

// fields lists the fields of l in token order.
func (l *Link) fields() [9]*string {
	return [9]*string{&l.SiteID, &l.URL, &l.Source, &l.Medium, &l.Campaign, &l.Content, &l.Term, &l.AnonID, &l.UserID}
}

// Errors of Verify, for metrics and answers; compare with errors.Is.
var (
	ErrMalformed    = errors.New("malformed token")
	ErrUnknownKey   = errors.New("token signed with an unknown key")
	ErrBadSignature = errors.New("token signature does not match")
	ErrBadTarget    = errors.New("link target is not an absolute http or https URL")
	// ErrExpired is not returned by Verify, which does not know the time; the handlers use
	// it for an expired link (Link.Expired).
	ErrExpired = errors.New("link has expired")
)

const (
	version        = 1
	versionExpires = 2 // version with an expiry after the fields
	macLen         = sha256.Size
	// MaxTokenLen bounds the encoded token; longer ones are rejected unread.
	MaxTokenLen = 4096
	maxField    = 2048
)

// Signer signs and verifies tokens. It is read-only after NewSigner and safe for
// concurrent use.
type Signer struct {
	keys   []Key
	byID   map[string][]byte
	newest Key
}

// NewSigner returns a signer that signs with the last of keys and verifies with any.
func NewSigner(keys []Key) (*Signer, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("cannot create link signer: no keys (set JOURNEYD_LINK_KEYS=id:secret)")
	}
	s := &Signer{keys: keys, byID: make(map[string][]byte, len(keys)), newest: keys[len(keys)-1]}
	for _, k := range keys {
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("cannot create link signer: %w", err)
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("cannot create link signer: key id %q given twice", k.ID)
		}
		s.byID[k.ID] = k.Secret
	}
	return s, nil
}

// Sign returns the token for l.
func (s *Signer) Sign(l Link) (string, error) {
	if err := checkTarget(l.URL); err != nil {
		return "", fmt.Errorf("cannot sign link to %q: %w", l.URL, err)
	}
	if l.SiteID == "" {
		return "", fmt.Errorf("cannot sign link to %q: the site id is empty", l.URL)
	}
	v := byte(version)
	if l.ExpiresAt != 0 {
		v = versionExpires
	}
	b := []byte{v, byte(len(s.newest.ID))}
	b = append(b, s.newest.ID...)
	for _, f := range l.fields() {
		if len(*f) > maxField {
			return "", fmt.Errorf("cannot sign link: a field is longer than %d bytes", maxField)
		}
		b = binary.AppendUvarint(b, uint64(len(*f)))
		b = append(b, *f...)
	}
	if l.ExpiresAt != 0 {
		b = binary.AppendUvarint(b, uint64(l.ExpiresAt))
	}
	b = append(b, macOf(b, s.newest.Secret)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// macOf returns the HMAC-SHA256 of body under secret.
func macOf(body, secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks token and returns the link it carries. The error wraps ErrMalformed,
// ErrUnknownKey, ErrBadSignature or ErrBadTarget.
func (s *Signer) Verify(token string) (Link, error) {
	if len(token) == 0 || len(token) > MaxTokenLen {
		return Link{}, fmt.Errorf("cannot verify token of %d bytes: %w", len(token), ErrMalformed)
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 2+macLen || (b[0] != version && b[0] != versionExpires) || len(b) < 2+int(b[1])+macLen {
		return Link{}, fmt.Errorf("cannot decode token: %w", ErrMalformed)
	}
	keyID := string(b[2 : 2+int(b[1])])
	secret, ok := s.byID[keyID]
	if !ok {
		return Link{}, fmt.Errorf("cannot verify token with key %q: %w", keyID, ErrUnknownKey)
	}
	body, mac := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(mac, macOf(body, secret)) {
		return Link{}, fmt.Errorf("cannot verify token with key %q: %w", keyID, ErrBadSignature)
	}
	l, err := decodeFields(body[2+int(b[1]):], b[0] == versionExpires)
	if err != nil {
		return Link{}, err
	}
	if err := checkTarget(l.URL); err != nil {
		return Link{}, fmt.Errorf("cannot use token target %q: %w", l.URL, err)
	}
	return l, nil
}

// decodeFields reads the nine length-prefixed fields of a verified token body, and the
// expiry after them when expires is set.
func decodeFields(b []byte, expires bool) (Link, error) {
	var l Link
	for _, f := range l.fields() {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > maxField || n > uint64(len(b)-w) {
			return Link{}, fmt.Errorf("cannot decode token fields: %w", ErrMalformed)
		}
		*f, b = string(b[w:w+int(n)]), b[w+int(n):]
	}
	if expires {
		at, w := binary.Uvarint(b)
		if w <= 0 || at == 0 || at > 1<<40 {
			return Link{}, fmt.Errorf("cannot decode token expiry: %w", ErrMalformed)
		}
		l.ExpiresAt, b = int64(at), b[w:]
	}
	if len(b) != 0 {
		return Link{}, fmt.Errorf("cannot decode token: %d bytes after the fields: %w", len(b), ErrMalformed)
	}
	return l, nil
}

// checkTarget accepts absolute http and https URLs with a host.
func checkTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") ||
		strings.ContainsAny(target, "\r\n\\") {
		return ErrBadTarget
	}
	return nil
}
