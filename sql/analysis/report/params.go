package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A Value is the SQL text that replaces one $placeholder of a library query. Values are
// made only by the constructors below, which quote what they are given, or by this package
// from parsed, validated specifications; user input never reaches the SQL unquoted. A
// Time's value also keeps its time, from which the Runner reads a period's days (daystore.go).
type Value struct {
	sql  string
	at   time.Time
	text string // a String's text, unquoted (the empty value of a touch_rows reader's key, touchRowsParams)
}

// SQL returns the text of v as it goes into the query.
func (v Value) SQL() string { return v.sql }

// String returns v as a ClickHouse string literal: single quotes, with backslashes, quotes
// and control characters escaped.
func String(s string) Value { return Value{sql: quote(s), text: s} }

// Strings returns v as an array of string literals, ['a', 'b'].
func Strings(ss []string) Value {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return Value{sql: "[" + strings.Join(q, ", ") + "]"}
}

// Int returns an integer literal.
func Int(n int64) Value { return Value{sql: strconv.FormatInt(n, 10)} }

// Time returns a DateTime literal built from Unix seconds, independent of time zones.
func Time(t time.Time) Value { return Value{sql: fmt.Sprintf("toDateTime(%d)", t.Unix()), at: t} }

// Ident returns a back-quoted identifier, such as a database name.
func Ident(name string) Value {
	return Value{sql: "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(name) + "`"}
}

// fragment wraps SQL that this package generated from validated input.
func fragment(sql string) Value { return Value{sql: sql} }

func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case 0:
			b.WriteString(`\0`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\x%02x`, c)
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// Fill replaces every $name in query by params[name] and drops -- comments (their
// placeholders are documentation). A placeholder without a value, or a value without a
// placeholder, is an error: both mean the query and its caller disagree.
func Fill(query string, params map[string]Value) (string, error) {
	return fill(query, params, true)
}

// fill is Fill, which, unless strict, leaves the params without a placeholder unused.
func fill(query string, params map[string]Value, strict bool) (string, error) {
	var b strings.Builder
	used := make(map[string]bool, len(params))
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '`' || c == '"':
			j := skipQuoted(query, i)
			b.WriteString(query[i:j])
			i = j
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			for i < len(query) && query[i] != '\n' {
				i++
			}
		case c == '$':
			j := i + 1
			for j < len(query) && isNameByte(query[j]) {
				j++
			}
			name := query[i+1 : j]
			v, ok := params[name]
			if !ok {
				return "", fmt.Errorf("cannot fill query: no value for placeholder $%s", name)
			}
			used[name] = true
			b.WriteString(v.sql)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	for name := range params {
		if strict && !used[name] {
			return "", fmt.Errorf("cannot fill query: it has no placeholder $%s", name)
		}
	}
	return strings.TrimSpace(b.String()), nil
}

// skipQuoted returns the index just after the quoted literal or identifier starting at i.
func skipQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1
		}
	}
	return len(s)
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
