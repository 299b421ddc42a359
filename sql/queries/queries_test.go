package queries

import (
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
		if !strings.Contains(text, "\n        GROUP BY person\n") {
			t.Errorf("%s: journeys.sql is not pasted in at the include's indentation:\n%s", name, text)
		}
	}
	for _, name := range Names() {
		if name == "include" || name == "journeys" {
			t.Errorf("the fragment directory is listed as query %q", name)
		}
	}
}
