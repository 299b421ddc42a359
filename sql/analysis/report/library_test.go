package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/analysis/queries"
)

// reportOptions are options that let every report run.
var reportOptions = map[string]string{
	"from": "2026-01-01", "to": "2026-02-01", "steps": "pageview:/product/*,event:add_to_cart,event:purchase",
	"after": "event:add_to_cart", "by": "device", "did": "event:add_to_cart", "not": "event:purchase",
}

// TestEveryReportFillsItsQueries runs every report in ShowSQL mode, without a store (--sql)
// and with one (--kept-sql): each library query it uses must get a value for every
// placeholder and keep no $ outside literals.
func TestEveryReportFillsItsQueries(t *testing.T) {
	for _, store := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("store %d", store), func(t *testing.T) { everyReportFillsItsQueries(t, store) })
	}
}

func everyReportFillsItsQueries(t *testing.T, store int64) {
	for _, name := range Names() {
		opts := reportOptions
		if name == "attribution" || name == "paths" || name == "time-to-convert" {
			opts = map[string]string{"from": "2026-01-01", "by": "campaign"}
		}
		req, err := ParseRequest("it's", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r := &Runner{DB: "journeyd", ShowSQL: &out, StoreBytes: store}
		if _, err := r.Run(context.Background(), name, req); err != nil {
			t.Fatalf("report %s: %v", name, err)
		}
		sql := out.String()
		if !strings.Contains(sql, `site_id = 'it\'s'`) {
			t.Fatalf("report %s: the site is not quoted into its query:\n%s", name, sql)
		}
		if m := regexp.MustCompile(`\$[a-z_]+`).FindString(stripLiterals(sql)); m != "" {
			t.Fatalf("report %s: placeholder %s left in its query", name, m)
		}
	}
}

// TestKeptSQL checks what a Runner with a store shows (journeyd report --kept-sql): a cold
// read of the kept days of each route, the days' prints, settled.sql and the day rows over
// the period, in the order it runs them, where the Runner without a store shows the
// period's query alone.
func TestKeptSQL(t *testing.T) {
	for _, c := range []struct {
		name string
		opts map[string]string
		want string // the names of the queries shown, in order
	}{
		// the days' prints of the month in two queries, each of about half its days
		// (readPrints), then
		// funnel_rows read through the store (with a breakdown as two reads, the step events
		// and the units' first events, each with its prints and settled), the links, then
		// funnel.sql, which answers on a server where an event matching two steps cannot be
		// counted by day (before 21.2)
		{"funnel", map[string]string{"by": "device"}, "day_prints day_prints settled funnel_rows day_prints day_prints settled funnel_rows person_links funnel"},
		{"funnel", map[string]string{"per": "session"}, "day_prints day_prints settled funnel_rows funnel"},
		{"retention", nil, "day_prints day_prints settled retention_rows person_links"},
		{"top", map[string]string{"dimension": "page"}, "day_prints day_prints settled page_rows person_links"},
		{"channels", nil, "person_links day_prints day_prints settled touch_rows:sessions touch_rows:events"},
		{"stages", nil, "person_links day_prints day_prints settled stage_rows stage_channels"},
	} {
		opts := map[string]string{"from": "2026-01-01", "to": "2026-02-01", "steps": "pageview:/product/*,event:add_to_cart,event:purchase"}
		for k, v := range c.opts {
			opts[k] = v
		}
		req, err := ParseRequest("s", goal.Definitions{}, opts, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r := &Runner{DB: "journeyd", ShowSQL: &out, StoreBytes: 1 << 20}
		if _, err := r.Run(context.Background(), c.name, req); err != nil {
			t.Fatalf("report %s %v: %v", c.name, c.opts, err)
		}
		var got []string
		for _, m := range regexp.MustCompile(`(?m)^-- (\S+)$`).FindAllStringSubmatch(out.String(), -1) {
			got = append(got, m[1])
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("report %s %v shows the queries %v, want %s", c.name, c.opts, got, c.want)
		}
	}
}

func stripLiterals(sql string) string {
	return regexp.MustCompile(`'(\\.|[^'\\])*'`).ReplaceAllString(sql, "''")
}

// TestLibraryFiles checks the promises every query file makes: a header that says what it
// answers and how to run it by hand, bots excluded, events deduplicated, no syntax that
// ClickHouse 18.16 lacks.
func TestLibraryFiles(t *testing.T) {
	forbidden := regexp.MustCompile(`(?i)\bOVER\s*\(|DateTime64|JSONExtract|toStartOfInterval|arrayZip|\{[a-z_]+:[A-Z]|arrayMin|arrayMax|arrayFold`)
	for _, name := range queries.Names() {
		text, err := queries.Text(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(text, "-- "+name+": ") {
			t.Errorf("%s.sql: the header must start with \"-- %s: <what it answers>\"", name, name)
		}
		for _, want := range []string{"Run by hand", "is_bot = 0", "counts once", "$site", "$db.events"} {
			if name == "person_links" && want != "Run by hand" && want != "$site" {
				continue // it reads the identity links, no event
			}
			if want == "$db.events" && strings.Contains(text, "$db.$touch_events") {
				continue // events, or their copy in touch_events (touchevents.go)
			}
			if !strings.Contains(text, want) {
				t.Errorf("%s.sql: missing %q", name, want)
			}
		}
		if m := forbidden.FindString(text); m != "" {
			t.Errorf("%s.sql: uses %q, which ClickHouse 18.16 does not have", name, m)
		}
		for _, p := range regexp.MustCompile(`\$[a-z_]+`).FindAllString(stripComments(text), -1) {
			if !regexp.MustCompile(regexp.QuoteMeta(p) + `\b`).MatchString(header(text)) {
				t.Errorf("%s.sql: placeholder %s is not documented in the header", name, p)
			}
		}
	}
}

func header(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "--") {
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func stripComments(text string) string {
	return regexp.MustCompile(`(?m)--.*$`).ReplaceAllString(text, "")
}

// TestPlaceholdersDoNotCollide checks that no placeholder name is a prefix of another
// anywhere in the library ($to beside $top was one): replacing placeholders by hand with a
// plain text substitution (sed s/\$to/.../g) must not cut into a longer name.
func TestPlaceholdersDoNotCollide(t *testing.T) {
	names := map[string]bool{}
	for _, name := range queries.Names() {
		text, err := queries.Text(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range regexp.MustCompile(`\$[A-Za-z0-9_]+`).FindAllString(text, -1) {
			names[p] = true
		}
	}
	if len(names) < 20 {
		t.Fatalf("found %d placeholders in the library, want the 20 or more its headers list", len(names))
	}
	for a := range names {
		for b := range names {
			if a != b && strings.HasPrefix(b, a) {
				t.Errorf("placeholder %s is a prefix of %s: a text substitution of %s breaks %s", a, b, a, b)
			}
		}
	}
}
