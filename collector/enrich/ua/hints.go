package ua

import "bytes"

// knownBrands maps the brands of Sec-CH-UA to browser names. Brands not listed are ignored:
// the User-Agent string names them well enough, and an unknown brand may be GREASE.
var knownBrands = map[string]string{
	"Google Chrome":    "Chrome",
	"Microsoft Edge":   "Edge",
	"YaBrowser":        "Yandex Browser",
	"Yandex":           "Yandex Browser",
	"Opera":            "Opera",
	"Opera GX":         "Opera",
	"Brave":            "Brave",
	"Vivaldi":          "Vivaldi",
	"Samsung Internet": "Samsung Internet",
	"Atom":             "Atom",
}

// Brand returns the browser named by a Sec-CH-UA header such as
// `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`, and its major
// version, which points into header; "" when the header names none that is known.
func Brand(header []byte) (name string, version []byte) {
	for len(header) > 0 {
		var item []byte
		item, header = cutItem(header)
		brand, ver := brandItem(item)
		if n, ok := knownBrands[string(brand)]; ok {
			return n, ver
		}
	}
	return "", nil
}

// cutItem splits the first comma-separated item of a structured-header list from the rest,
// honouring commas inside quotes.
func cutItem(s []byte) (item, rest []byte) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case c == '\\' && quoted:
			i++ // the escaped character
		case c == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, nil
}

// brandItem parses one `"Brand";v="version"` item.
func brandItem(item []byte) (brand, version []byte) {
	item = bytes.TrimSpace(item)
	params := []byte(nil)
	if i := bytes.IndexByte(item, ';'); i >= 0 {
		item, params = item[:i], item[i+1:]
	}
	brand = bytes.Trim(bytes.TrimSpace(item), `"`)
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		k, v, _ := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if bytes.Equal(k, []byte("v")) {
			version = bytes.Trim(v, `"`)
		}
	}
	return brand, version
}
