package journey

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Write prints j to w as text (sessions with their sources, each with its touchpoints in
// order, then the conversions) or, with format "json", as one JSON document.
func Write(w io.Writer, j *Journey, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(j); err != nil {
			return fmt.Errorf("cannot write the journey of %q as JSON: %w", j.Person, err)
		}
		return nil
	case "text", "":
		return writeText(w, j)
	}
	return fmt.Errorf("cannot write a journey as %q: want text or json", format)
}

func writeText(w io.Writer, j *Journey) error {
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintf(tw, "Journey of %s on %s: %s, %s, %s\n", j.Person, j.Site,
		Count(len(j.Sessions), "session"), Count(len(j.Touchpoints), "touchpoint"), Count(len(j.Conversions), "conversion"))
	if len(j.AnonIDs) > 0 {
		fmt.Fprintf(tw, "Anonymous ids: %s\n", strings.Join(j.AnonIDs, ", "))
	}
	bySession := map[string][]Touchpoint{}
	for _, tp := range j.Touchpoints {
		bySession[tp.SessionID] = append(bySession[tp.SessionID], tp)
	}
	for _, s := range j.Sessions {
		fmt.Fprintf(tw, "\nSession %s  %s – %s (%s)  %s  %s  %s, %s",
			s.ID, s.Start.Format(time.DateTime), s.End.Format(time.TimeOnly),
			time.Duration(s.Duration)*time.Second, sourceText(s.Source, s.Medium, s.Campaign, s.Channel),
			strings.TrimSpace(s.Device+" "+s.Country), Count(int(s.Pageviews), "pageview"), Count(int(s.Events), "event"))
		if s.Conversions > 0 {
			fmt.Fprintf(tw, ", %s, revenue %.2f", Count(int(s.Conversions), "conversion"), s.Revenue)
		}
		fmt.Fprintln(tw)
		writeEvents(tw, bySession[s.ID])
	}
	if outside := bySession[""]; len(outside) > 0 {
		fmt.Fprintf(tw, "\nOutside any session (no visit: server events, sign-ins, email opens)\n")
		writeEvents(tw, outside)
	}
	if len(j.Conversions) > 0 {
		fmt.Fprintf(tw, "\nConversions:\n")
		for _, tp := range j.Conversions {
			where := "session " + tp.SessionID
			if tp.SessionID == "" {
				where = "outside any session"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%.2f %s\t%s\n", tp.TS.Format(time.DateTime), tp.Type, tp.Name,
				tp.Revenue, tp.Currency, where)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("cannot write the journey of %q: %w", j.Person, err)
	}
	return nil
}

// writeEvents writes one line per event: time, type, what, source and device.
func writeEvents(tw io.Writer, events []Touchpoint) {
	for _, tp := range events {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", tp.TS.Format(time.DateTime), tp.Type, what(tp),
			sourceText(tp.Source, tp.Medium, tp.Campaign, ""), device(tp))
	}
}

// Count is "1 noun" or "n nouns", as the text view writes its counts.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// sourceText is "source / medium / campaign [channel]", or "(direct)".
func sourceText(source, medium, campaign, channel string) string {
	var parts []string
	for _, p := range []string{source, medium, campaign} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	s := strings.Join(parts, " / ")
	if s == "" {
		s = "(direct)"
	}
	if channel != "" {
		s += " [" + channel + "]"
	}
	return s
}

func what(tp Touchpoint) string {
	switch {
	case tp.Type == "pageview" && tp.Name == "":
		return tp.Path
	case tp.Revenue != 0:
		return fmt.Sprintf("%s %.2f %s", tp.Name, tp.Revenue, tp.Currency)
	}
	return tp.Name
}

func device(tp Touchpoint) string {
	id := tp.AnonID
	if id == "" {
		id = "user " + tp.UserID
	}
	return strings.TrimSpace(tp.Device + " " + id)
}
