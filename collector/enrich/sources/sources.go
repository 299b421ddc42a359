// Package sources knows the traffic sources by host and by name: which hosts and
// utm_source values are search engines, social networks, video sites, shopping sites and
// webmail, what source name each stands for, and where a search engine puts the search
// term. The lists are the embedded files lists/*.txt. It decides nothing about channels
// (package channel) nor reads requests (package referrer); both use it.
package sources

import (
	"bufio"
	"embed"
	"fmt"
	"strings"
)

// Kind is the class of a source; stored as referrer_kind for referrers.
type Kind = string

// The kinds of sources. Internal and Other are kinds of referrers that no list names.
const (
	Search   Kind = "search"
	Social   Kind = "social"
	Video    Kind = "video"
	Shopping Kind = "shopping"
	Email    Kind = "email"
	Internal Kind = "internal"
	Other    Kind = "other"
)

// Kinds are the kinds a List holds, in the order of the embedded files.
var Kinds = []Kind{Search, Social, Video, Shopping, Email}

// Entry is what a list says about one host or name.
type Entry struct {
	Kind   Kind
	Name   string   // the source name, e.g. "google", "vk", "gmail"
	Params []string // query parameters with the search term, for search engines
}

// List maps hosts and source names to entries. It is read-only once built and then safe
// for concurrent use.
type List struct {
	exact map[string]*Entry // hosts (matched with their subdomains) and aliases
	wild  map[string]*Entry // "google" for google.*: any country domain
}

// NewList returns an empty list.
func NewList() *List {
	return &List{exact: map[string]*Entry{}, wild: map[string]*Entry{}}
}

// Add adds host (a host, "name.*" for any country domain, or a utm_source alias) to l.
// A later Add of the same host replaces the earlier one.
func (l *List) Add(host string, e Entry) {
	host = strings.ToLower(strings.TrimSpace(host))
	if base, ok := strings.CutSuffix(host, ".*"); ok {
		l.wild[base] = &e
		return
	}
	l.exact[host] = &e
}

// Parse adds the lines of a list file of the given kind to l. Each line is
// "HOST NAME [?PARAM,...]"; blank lines and lines starting with '#' are skipped. Every
// NAME is also looked up as a utm_source value, unless a host of that name came first.
func (l *List) Parse(kind Kind, text string) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		e := Entry{Kind: kind}
		if last := fields[len(fields)-1]; strings.HasPrefix(last, "?") {
			e.Params = strings.Split(last[1:], ",")
			fields = fields[:len(fields)-1]
		}
		if len(fields) < 2 {
			return fmt.Errorf("cannot parse line %d %q of the %s list: want HOST NAME [?PARAM,...]", n, line, kind)
		}
		e.Name = strings.Join(fields[1:], " ")
		l.Add(fields[0], e)
		if _, ok := l.exact[e.Name]; !ok {
			l.exact[e.Name] = &e // the name is a utm_source value too
		}
	}
	return sc.Err()
}

// Lookup returns the entry for host or source name s (lower case; see LookupAny). The most
// specific host wins: mail.yandex.ru before yandex.*; subdomains match their parent
// (m.vk.com as vk.com); "name.*" matches name followed by a top-level domain or a
// second-level one such as co.uk or com.tr.
func (l *List) Lookup(s string) (*Entry, bool) {
	for h := s; h != ""; {
		if e, ok := l.exact[h]; ok {
			return e, true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			break
		}
		h = h[i+1:]
	}
	for start := 0; start < len(s); {
		end := strings.IndexByte(s[start:], '.')
		if end < 0 {
			break
		}
		end += start
		if isCountryDomain(s[end+1:]) {
			if e, ok := l.wild[s[start:end]]; ok {
				return e, true
			}
		}
		start = end + 1
	}
	return nil, false
}

// isCountryDomain reports whether s looks like what follows the name in a country domain
// of a global brand: "de", "com", "co.uk", "com.tr", "co.jp".
func isCountryDomain(s string) bool {
	first, second, two := strings.Cut(s, ".")
	if !two {
		return isLetters(first, 2, 6)
	}
	switch first {
	case "co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go", "gob":
		return isLetters(second, 2, 2)
	}
	return false
}

func isLetters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

//go:embed lists/*.txt
var listFiles embed.FS

// Default is the list built from the embedded files.
var Default = mustDefault()

func mustDefault() *List {
	l := NewList()
	for _, k := range Kinds {
		b, err := listFiles.ReadFile("lists/" + k + ".txt")
		if err == nil {
			err = l.Parse(k, string(b))
		}
		if err != nil {
			panic(fmt.Sprintf("cannot load the embedded %s list: %v", k, err))
		}
	}
	return l
}

// Lookup looks s up in the Default list, lower-casing it first when needed.
func Lookup(s string) (*Entry, bool) {
	return Default.Lookup(Lower(s))
}

// Lower is strings.ToLower that returns s itself, without allocating, when it has no
// upper-case letters.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
