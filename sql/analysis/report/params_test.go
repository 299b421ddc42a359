package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// unquote parses a ClickHouse string literal as quote writes it.
func unquote(t testing.TB, lit string) string {
	t.Helper()
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		t.Fatalf("%q is not a quoted literal", lit)
	}
	var b strings.Builder
	s := lit[1 : len(lit)-1]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			t.Fatalf("%q: unescaped quote inside the literal", lit)
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		case 'x':
			var v byte
			for _, h := range s[i+1 : i+3] {
				v = v<<4 | byte(strings.IndexRune("0123456789abcdef", h))
			}
			b.WriteByte(v)
			i += 2
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func TestString(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		if got := String(in).SQL(); got != want {
			t.Fatalf("String(%q) = %s, want %s", in, got, want)
		}
		if back := unquote(t, want); back != in {
			t.Fatalf("unquote(%s) = %q, want %q", want, back, in)
		}
	}
	f("demo", `'demo'`)
	f("", `''`)
	f("it's", `'it\'s'`)
	f(`a\b`, `'a\\b'`)
	f(`\'`, `'\\\''`)
	f("x\n--y", `'x\n--y'`)
	f("\x01", `'\x01'`)
}

func FuzzString(f *testing.F) {
	for _, s := range []string{"demo", "it's", `\`, "\n-- DROP", "\x00'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lit := String(s).SQL()
		if strings.ContainsAny(lit, "\n\r\x00") {
			t.Fatalf("literal %q keeps a raw control character", lit)
		}
		if got := unquote(t, lit); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
	})
}

func TestFill(t *testing.T) {
	f := func(query string, params map[string]Value, want string) {
		t.Helper()
		got, err := Fill(query, params)
		if err != nil {
			t.Fatalf("Fill(%q): %v", query, err)
		}
		if got != want {
			t.Fatalf("Fill(%q) = %q, want %q", query, got, want)
		}
	}
	site := map[string]Value{"site": String("o'k")}
	f("SELECT 1 WHERE site_id = $site", site, `SELECT 1 WHERE site_id = 'o\'k'`)
	f("-- replace $site with 'demo'\nSELECT $site", site, `SELECT 'o\'k'`)
	f("SELECT '$site', $site", site, `SELECT '$site', 'o\'k'`)
	f("SELECT 'it''s -- no comment', $site", site, `SELECT 'it''s -- no comment', 'o\'k'`)
	f("SELECT `$site`, $site", site, "SELECT `$site`, 'o\\'k'")
	f("SELECT $from", map[string]Value{"from": Time(time.Unix(1700000000, 0))}, "SELECT toDateTime(1700000000)")
	f("SELECT * FROM $db.events", map[string]Value{"db": Ident("my`db")}, "SELECT * FROM `my\\`db`.events")
}

func TestFillErrors(t *testing.T) {
	f := func(query string, params map[string]Value, want string) {
		t.Helper()
		_, err := Fill(query, params)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Fill(%q) error = %v, want one containing %q", query, err, want)
		}
	}
	f("SELECT $site", nil, "no value for placeholder $site")
	f("SELECT 1", map[string]Value{"site": String("x")}, "no placeholder $site")
	f("-- $site only in a comment\nSELECT 1", map[string]Value{"site": String("x")}, "no placeholder $site")
}

func FuzzFill(f *testing.F) {
	f.Add("SELECT $a, '$a' -- $a\n", "x'y")
	f.Fuzz(func(t *testing.T, query, value string) {
		out, err := Fill(query, map[string]Value{"a": String(value)})
		if err != nil {
			return
		}
		if strings.Count(out, "\n--") > strings.Count(query, "\n--") {
			t.Fatalf("filling %q with %q added a comment: %q", query, value, out)
		}
	})
}

func TestParseDuration(t *testing.T) {
	f := func(in string, want time.Duration, ok bool) {
		t.Helper()
		got, err := ParseDuration(in)
		if (err == nil) != ok || got != want {
			t.Fatalf("ParseDuration(%q) = %v, %v; want %v, ok %v", in, got, err, want, ok)
		}
	}
	f("7d", 7*24*time.Hour, true)
	f("1.5d", 36*time.Hour, true)
	f("12h", 12*time.Hour, true)
	f("30m", 30*time.Minute, true)
	f("0d", 0, false)
	f("-1h", 0, false)
	f("week", 0, false)
	f("99999d", 0, false)
	// days followed by a Go duration: 8 × 24 h + 12 h = 204 h; 24 h + 30 min
	f("8d12h", 204*time.Hour, true)
	f("1d30m", 24*time.Hour+30*time.Minute, true)
	f("0d12h", 12*time.Hour, true)
	f("d", 0, false)
	f("7d-1h", 0, false)
	f("7d12", 0, false)
	f("1e1d", 0, false)
}

func TestParseRequest(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := func(opts map[string]string, wantErr string) *Request {
		t.Helper()
		req, err := ParseRequest("demo", goal.Definitions{}, opts, now)
		if wantErr == "" && err != nil {
			t.Fatalf("ParseRequest(%v): %v", opts, err)
		}
		if wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)) {
			t.Fatalf("ParseRequest(%v) error = %v, want one containing %q", opts, err, wantErr)
		}
		var usage *UsageError
		if err != nil && !errors.As(err, &usage) {
			t.Fatalf("ParseRequest(%v) error = %v (%T), want a *UsageError: the API answers 400", opts, err, err)
		}
		return req
	}
	req := f(map[string]string{}, "")
	// The default end is the end of now's second: ts is stored in whole seconds.
	if end := now.Add(time.Second); !req.To.Equal(end) || !req.From.Equal(end.Add(-30*day)) || req.Window != 7*day || req.Top != 20 {
		t.Fatalf("defaults: %+v", req)
	}
	req = f(map[string]string{"from": "2026-01-01", "to": "2026-02-01", "by": "device,channel", "per": "session", "window": "2d"}, "")
	if req.From.Format(time.DateOnly) != "2026-01-01" || len(req.By) != 2 || !req.PerSession || req.Window != 2*day {
		t.Fatalf("parsed: %+v", req)
	}
	f(map[string]string{"from": "2026-03-01", "to": "2026-01-01"}, "is not before")
	f(map[string]string{"by": "ip"}, "unknown breakdown")
	f(map[string]string{"model": "magic"}, "unknown model")
	f(map[string]string{"top": "0"}, `top "0"`)
	f(map[string]string{"colour": "red"}, "unknown option")
	f(map[string]string{"steps": "event:a,,event:b"}, "step 2")
	f(map[string]string{"per": "visit"}, `per "visit"`)
	f(map[string]string{"strict": "maybe"}, `strict "maybe"`)
	// Errors name the option as it is written both on the command line and in the API:
	// "steps: ...", valid for --steps and ?steps=.
	f(map[string]string{"window": "soon"}, `window: cannot parse duration "soon"`)
	f(map[string]string{"cohort": "event:signup[plan"}, "cohort: ")
	f(map[string]string{"return": "event:x[a"}, "return: ")
	// 20 steps pass, 21 do not (MaxSteps); the same for exclusions.
	steps := func(n int) string { return strings.TrimSuffix(strings.Repeat("event:a,", n), ",") }
	if req := f(map[string]string{"steps": steps(20)}, ""); len(req.Steps) != 20 {
		t.Fatalf("20 steps parsed as %d", len(req.Steps))
	}
	f(map[string]string{"steps": steps(21)}, "steps: 21 steps given, at most 20")
	f(map[string]string{"steps": steps(500)}, "steps: 500 steps given, at most 20")
	f(map[string]string{"exclude": steps(21)}, "exclude: 21 steps given, at most 20")
	if req := f(map[string]string{"strict": "true"}, ""); !req.Strict {
		t.Fatal("--strict true not parsed")
	}
}

// TestParseWithins: within is one duration or several, comma-separated, each read by
// ParseDuration; the first is Within (dropped's time), all are Withins (retention's
// windows), and FormatDuration writes each back as ParseDuration reads it.
func TestParseWithins(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	parse := func(v string) (*Request, error) {
		return ParseRequest("demo", goal.Definitions{}, map[string]string{"within": v}, now)
	}
	req, err := parse("7d, 14d,8d12h")
	if err != nil {
		t.Fatal(err)
	}
	// 8 days and 12 hours are 204 hours.
	if want := []time.Duration{7 * day, 14 * day, 204 * time.Hour}; !slices.Equal(req.Withins, want) || req.Within != 7*day {
		t.Fatalf("within 7d,14d,8d12h: Withins %v, Within %v; want %v and 7d", req.Withins, req.Within, want)
	}
	if req, err := parse("36h"); err != nil || !slices.Equal(req.Withins, []time.Duration{36 * time.Hour}) || req.Within != 36*time.Hour {
		t.Fatalf("within 36h: %v, %v", req, err)
	}
	if req, err := ParseRequest("demo", goal.Definitions{}, map[string]string{}, now); err != nil || req.Withins != nil || req.Within != 7*day {
		t.Fatalf("no within: Withins %v, Within %v (%v); want none and the default 7d", req.Withins, req.Within, err)
	}
	for v, wantErr := range map[string]string{
		"7d,":                            `within: cannot parse duration ""`,
		"7d,soon":                        `within: cannot parse duration "soon"`,
		"7d,168h":                        `within: windows "7d" and "168h" are the same 7d`,
		strings.Repeat("1d,", 20) + "2d": "within: 21 windows given, at most 20",
	} {
		var usage *UsageError
		if _, err := parse(v); err == nil || !strings.Contains(err.Error(), wantErr) || !errors.As(err, &usage) {
			t.Errorf("within %q: error %v, want a usage error containing %q", v, err, wantErr)
		}
	}
	for d, want := range map[time.Duration]string{
		7 * day: "7d", 204 * time.Hour: "8d12h", 36 * time.Hour: "1d12h", 12 * time.Hour: "12h",
		90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 90 * time.Second: "1m30s",
		day + 30*time.Minute: "1d30m", day + time.Hour + 5*time.Second: "1d1h0m5s",
	} {
		got := FormatDuration(d)
		back, err := ParseDuration(got)
		if got != want || err != nil || back != d {
			t.Errorf("FormatDuration(%v) = %q, parsed back as %v (%v); want %q", d, got, back, err, want)
		}
	}
}
