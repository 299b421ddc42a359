package emaillink

import "strings"

// The paths of the endpoints, followed by the token.
const (
	ClickPrefix = "/r/"
	OpenPrefix  = "/o/"
	OpenSuffix  = ".gif"
)

// URLs are the two links of one signed Link.
type URLs struct {
	Token string `json:"token"`
	Click string `json:"click_url"` // base/r/<token>: records email_click, redirects
	Open  string `json:"open_url"`  // base/o/<token>.gif: records email_open
}

// SignURLs signs l and returns its click and open links under base, the public URL of
// journeyd ("https://t.shop.example").
func (s *Signer) SignURLs(base string, l Link) (URLs, error) {
	token, err := s.Sign(l)
	if err != nil {
		return URLs{}, err
	}
	base = strings.TrimSuffix(base, "/")
	return URLs{Token: token, Click: base + ClickPrefix + token, Open: base + OpenPrefix + token + OpenSuffix}, nil
}
