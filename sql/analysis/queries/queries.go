// Package queries is journeyd's query library for analysts: one .sql file per question
// (overview, top lists, funnels, barriers, channels, paths, retention, stages, attribution
// paths, drop-off lists), each readable and runnable by hand in clickhouse-client once its
// $placeholders are replaced, as the header of every file explains. A line
// `-- include: F.sql` stands for the shared fragment include/F.sql, pasted in its place
// (Text does it, and so can an analyst by hand). This package only embeds the files and
// expands the includes; sql/analysis/report fills the placeholders with safely quoted
// values, runs the queries and formats the results.
package queries

import (
	"embed"
	"fmt"
	"strings"
)

//go:embed *.sql include/*.sql
var files embed.FS

// includeMark starts a line that stands for a fragment of include/.
const includeMark = "-- include: "

// Text returns the SQL of the query file name (without ".sql"), its includes expanded.
func Text(name string) (string, error) {
	return TextWith(name, nil)
}

// TextWith returns the SQL of the query file name as Text does, with the fragments named
// by the keys of instead (e.g. "touches.sql") replaced by the fragments their values name
// (e.g. "session_touches.sql"): another way to the same rows, which the caller knows when
// to take.
func TextWith(name string, instead map[string]string) (string, error) {
	b, err := files.ReadFile(name + ".sql")
	if err != nil {
		return "", fmt.Errorf("cannot find query %q in the query library: %w", name, err)
	}
	var out strings.Builder
	if err := expand(&out, string(b), "", name, instead, 0); err != nil {
		return "", err
	}
	return out.String(), nil
}

// expand writes text to out with every line indented by indent and its include lines
// replaced by their fragments, expanded in turn (a fragment may include another).
func expand(out *strings.Builder, text, indent, name string, instead map[string]string, depth int) error {
	if depth > 4 {
		return fmt.Errorf("cannot expand query %q: includes nest deeper than 4", name)
	}
	for _, line := range strings.SplitAfter(strings.TrimRight(text, "\n")+"\n", "\n") {
		lead, frag, ok := strings.Cut(line, includeMark)
		if !ok || strings.TrimSpace(lead) != "" {
			out.WriteString(indent + line)
			continue
		}
		frag = strings.TrimSpace(frag)
		if other, ok := instead[frag]; ok {
			frag = other
		}
		inc, err := files.ReadFile("include/" + frag)
		if err != nil {
			return fmt.Errorf("cannot include %q in query %q: %w", frag, name, err)
		}
		if err := expand(out, string(inc), indent+lead, name, instead, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// Names lists the query files, without ".sql".
func Names() []string {
	entries, _ := files.ReadDir(".")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		out = append(out, e.Name()[:len(e.Name())-len(".sql")])
	}
	return out
}
