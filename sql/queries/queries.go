// Package queries is journeyd's query library for analysts: one .sql file per question
// (funnels, barriers, channels, paths, retention, stages, attribution paths), each readable
// and runnable by hand in clickhouse-client once its $placeholders are replaced, as the
// header of every file explains. This package only embeds the files; sql/report fills the
// placeholders with safely quoted values, runs the queries and formats the results.
package queries

import (
	"embed"
	"fmt"
)

//go:embed *.sql
var files embed.FS

// Text returns the SQL of the query file name (without ".sql").
func Text(name string) (string, error) {
	b, err := files.ReadFile(name + ".sql")
	if err != nil {
		return "", fmt.Errorf("cannot find query %q in the query library: %w", name, err)
	}
	return string(b), nil
}

// Names lists the query files, without ".sql".
func Names() []string {
	entries, _ := files.ReadDir(".")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name()[:len(e.Name())-len(".sql")])
	}
	return out
}
