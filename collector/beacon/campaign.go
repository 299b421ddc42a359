package beacon

import "strings"

// ClickIDs are the query parameters that carry an ad click id (DESIGN §4).
var ClickIDs = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "msclkid", "yclid", "ttclid", "li_fat_id"}

// HasCampaign reports whether the query string of rawURL carries campaign values: a utm_
// parameter or a click id. It does not allocate.
func HasCampaign(rawURL string) bool {
	q := rawURL
	if i := strings.IndexByte(q, '?'); i >= 0 {
		q = q[i+1:]
	} else {
		return false
	}
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "utm_") || isClickID(k) {
			return true
		}
	}
	return false
}

func isClickID(k string) bool {
	for _, c := range ClickIDs {
		if k == c {
			return true
		}
	}
	return false
}
