package schema

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// Migration is one file of migrations/: a version, a name and the statements it runs.
type Migration struct {
	Version    uint32
	Name       string // the file name, e.g. 0001_events.sql
	Requires   Requirement
	Statements []string // with {db} still in place
}

// Requirement limits a migration to a range of server versions; the zero value admits all.
type Requirement struct {
	Min, Below clickhouse.Version // Min inclusive, Below exclusive; zero means no bound
}

// Admits reports whether a server of version v runs the migration.
func (r Requirement) Admits(v clickhouse.Version) bool {
	zero := clickhouse.Version{}
	if r.Min != zero && !v.AtLeast(r.Min) {
		return false
	}
	return r.Below == zero || !v.AtLeast(r.Below)
}

// ParseMigration parses a migration file: its name starts with the version ("0001_"), its
// header may hold "-- requires: >=X.Y" and "-- requires: <X.Y" lines, and its statements end
// with ';' at the end of a line.
func ParseMigration(name, text string) (Migration, error) {
	m := Migration{Name: name}
	num, _, ok := strings.Cut(name, "_")
	v, err := strconv.ParseUint(num, 10, 32)
	if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
		return m, fmt.Errorf("cannot parse migration name %q: want NNNN_name.sql", name)
	}
	m.Version = uint32(v)
	if m.Requires, err = parseRequires(text); err != nil {
		return m, fmt.Errorf("cannot parse migration %s: %w", name, err)
	}
	m.Statements = SplitStatements(text)
	if len(m.Statements) == 0 {
		return m, fmt.Errorf("cannot parse migration %s: it has no statement", name)
	}
	for _, s := range m.Statements {
		if !strings.Contains(s, "{db}") {
			return m, fmt.Errorf("cannot use migration %s: statement %.60q does not name its database as {db}", name, s)
		}
	}
	return m, nil
}

// parseRequires reads the "-- requires:" lines of the leading comment block.
func parseRequires(text string) (Requirement, error) {
	var r Requirement
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "--") {
			break
		}
		spec, ok := strings.CutPrefix(strings.TrimSpace(line[2:]), "requires:")
		if !ok {
			continue
		}
		spec = strings.TrimSpace(spec)
		var err error
		switch {
		case strings.HasPrefix(spec, ">="):
			r.Min, err = clickhouse.ParseVersion(spec[2:])
		case strings.HasPrefix(spec, "<"):
			r.Below, err = clickhouse.ParseVersion(spec[1:])
		default:
			err = fmt.Errorf("requirement %q: want >=X.Y or <X.Y", spec)
		}
		if err != nil {
			return r, err
		}
	}
	return r, nil
}

// SplitStatements splits SQL text into statements at each ';' that ends a line. Comment
// lines and blank lines between statements are dropped; a statement keeps its inner text.
func SplitStatements(text string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.TrimRight(strings.TrimSpace(cur.String()), "; \t\r\n"); s != "" && !onlyComments(s) {
			out = append(out, s)
		}
		cur.Reset()
	}
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimRight(line, " \t\r")
		if strings.HasSuffix(trimmed, ";") && !strings.HasPrefix(strings.TrimSpace(trimmed), "--") {
			cur.WriteString(strings.TrimSuffix(trimmed, ";"))
			flush()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	return out
}

func onlyComments(s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			return false
		}
	}
	return true
}
