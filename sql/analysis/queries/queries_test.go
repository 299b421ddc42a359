package queries

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestIncludesExpand checks that every query's includes are pasted in, indented as the
// include line was, and that the fragments are not listed as queries.
func TestIncludesExpand(t *testing.T) {
	for _, name := range Names() {
		text, err := Text(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), includeMark) {
				t.Errorf("%s: include %q is left unexpanded", name, line)
			}
		}
	}
	for _, name := range []string{"attribution", "paths", "time-to-convert"} {
		text, err := Text(name)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`\n {16,}GROUP BY person_hash\n`).MatchString(text) {
			t.Errorf("%s: journeys.sql is not pasted in at the include's indentation:\n%s", name, text)
		}
	}
	for _, name := range Names() {
		if name == "include" || name == "journeys" {
			t.Errorf("the fragment directory is listed as query %q", name)
		}
	}
}

// TestJoinedSubqueriesHaveAliases checks every .sql file of sql/: current ClickHouse releases
// refuse a joined subquery without an alias (joined_subquery_requires_alias), which 18.16
// does not mind, so only this test (and make compat-check) would notice one.
func TestJoinedSubqueriesHaveAliases(t *testing.T) {
	unnamed := regexp.MustCompile(`(?m)^\s*\)\s*(USING|\n\s*(ANY |ALL )?(LEFT |INNER |RIGHT |FULL )?JOIN)`)
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") {
			return err
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range unnamed.FindAllIndex(text, -1) {
			line := strings.Count(string(text[:m[0]]), "\n") + 1
			t.Errorf("%s:%d: a joined subquery without an alias (write ') AS name')", path, line)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
