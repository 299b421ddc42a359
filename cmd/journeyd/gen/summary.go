package gen

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/journeyd/journeyd/event"
)

// Summary counts what a run produced, for the people who run it: events per type (and per
// name of the named ones), and the distinct sessions, anonymous ids and user ids.
type Summary struct {
	Events   int
	ByType   map[string]int
	ByName   map[string]map[string]int // type → name → events, for types whose events are named
	Sessions int
	AnonIDs  int
	UserIDs  int
	First    time.Time
	Last     time.Time
}

// Summarize counts events.
func Summarize(events []event.Event) Summary {
	s := Summary{Events: len(events), ByType: map[string]int{}, ByName: map[string]map[string]int{}}
	sessions, anons, users := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for i := range events {
		e := &events[i]
		s.ByType[e.Type]++
		if e.Name != "" && e.Type != event.TypePageview {
			if s.ByName[e.Type] == nil {
				s.ByName[e.Type] = map[string]int{}
			}
			s.ByName[e.Type][e.Name]++
		}
		if e.SessionID != "" {
			sessions[e.SessionID] = true
		}
		if e.AnonID != "" {
			anons[e.AnonID] = true
		}
		if e.UserID != "" {
			users[e.UserID] = true
		}
		if s.First.IsZero() || e.TS.Before(s.First) {
			s.First = e.TS
		}
		if e.TS.After(s.Last) {
			s.Last = e.TS
		}
	}
	s.Sessions, s.AnonIDs, s.UserIDs = len(sessions), len(anons), len(users)
	return s
}

// Write prints s in a few lines: totals, then one line per type, most events first, with
// its names.
func (s Summary) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events, %d sessions, %d anonymous ids, %d user ids", s.Events, s.Sessions, s.AnonIDs, s.UserIDs)
	if s.Events > 0 {
		fmt.Fprintf(&b, ", from %s to %s", s.First.UTC().Format("2006-01-02 15:04"), s.Last.UTC().Format("2006-01-02 15:04 UTC"))
	}
	b.WriteString("\n")
	for _, t := range sortedByCount(s.ByType) {
		fmt.Fprintf(&b, "  %-12s %7d", t, s.ByType[t])
		if names := s.ByName[t]; len(names) > 0 {
			parts := make([]string, 0, len(names))
			for _, n := range sortedByCount(names) {
				parts = append(parts, fmt.Sprintf("%s %d", n, names[n]))
			}
			fmt.Fprintf(&b, "  (%s)", strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sortedByCount returns the keys of m, largest count first, then by name.
func sortedByCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
