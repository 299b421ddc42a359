package journey_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/analysis/journey"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/store/schema"
)

// query returns the rows of q as tab-separated lines, every column read as a string.
func query(t *testing.T, conn driver.Conn, q string) string {
	t.Helper()
	rows, err := conn.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		cols := make([]string, len(rows.Columns()))
		ptrs := make([]any, len(cols))
		for i := range cols {
			ptrs[i] = &cols[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		lines = append(lines, strings.Join(cols, "\t"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return strings.Join(lines, "\n")
}

const sessionFigures = `SELECT session_id, anon_id, user_id, toString(session_start), toString(session_end),
	toString(duration), entry_page, exit_page, source, medium, campaign, channel, device,
	toString(pageviews), toString(events), toString(bounce), toString(conversions), toString(revenue)
FROM sessions_v ORDER BY session_start, session_id`

func TestDuplicateInsertChangesNoFigure(t *testing.T) {
	conn, db := journeytest.Database(t)
	events := sessionize(t, crossDevice())
	journeytest.Insert(t, conn, events)
	sessions := query(t, conn, sessionFigures)
	identities := query(t, conn, "SELECT anon_id, user_id, toString(first_seen), toString(last_seen), toString(links), toString(conflict) FROM identities_v ORDER BY anon_id, user_id")
	before, err := journey.Person(context.Background(), conn, db, "shop", "user-42")
	if err != nil {
		t.Fatal(err)
	}
	journeytest.Insert(t, conn, events)     // a replay of the whole batch
	journeytest.Insert(t, conn, events[7:]) // and of its tail
	if got := query(t, conn, "SELECT toString(count()) FROM events"); got != fmt.Sprint(2*len(events)+len(events[7:])) {
		t.Fatalf("events holds %s rows; the duplicates did not arrive", got)
	}
	if got := query(t, conn, sessionFigures); got != sessions {
		t.Fatalf("sessions changed after duplicates:\n%s\nwas:\n%s", got, sessions)
	}
	if got := query(t, conn, "SELECT anon_id, user_id, toString(first_seen), toString(last_seen), toString(links), toString(conflict) FROM identities_v ORDER BY anon_id, user_id"); got != identities {
		t.Fatalf("identities changed after duplicates:\n%s\nwas:\n%s", got, identities)
	}
	after, err := journey.Person(context.Background(), conn, db, "shop", "user-42")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("journey changed after duplicates:\n%v\nwas:\n%v", after, before)
	}
	// The sign-in of user-99 two days later is an identify with no open session: outside
	// any session (DESIGN §6), so no session of its own.
	if n := strings.Count(sessions, "\n") + 1; n != 4 {
		t.Fatalf("%d sessions, want 4 (three of user-42, one of someone-else):\n%s", n, sessions)
	}
}

func TestIdentityViews(t *testing.T) {
	conn, _ := journeytest.Database(t)
	journeytest.Insert(t, conn, sessionize(t, crossDevice()))
	f := func(q, want string) {
		t.Helper()
		if got := query(t, conn, q); got != want {
			t.Fatalf("%s:\n%s\nwant:\n%s", q, got, want)
		}
	}
	// Every event of laptop is user-42's but the later sign-in of user-99, which keeps its
	// own user id; that link is a conflict, recorded and not applied.
	f("SELECT anon_id, user_id, toString(conflict) FROM identities_v ORDER BY anon_id, user_id",
		"laptop\tuser-42\t0\nlaptop\tuser-99\t1\nphone\tuser-42\t0")
	f("SELECT anon_id, linked_user_id, toString(claimants) FROM identity_links_v ORDER BY anon_id",
		"laptop\tuser-42\t2\nphone\tuser-42\t1")
	f("SELECT person_id, arrayStringConcat(groupArray(event_id), ' ') FROM (SELECT person_id, event_id FROM events_person_v ORDER BY event_id) GROUP BY person_id ORDER BY person_id",
		"someone-else\te10\nuser-42\te01 e02 e03 e04 e05 e06 e07 e08 e09\nuser-99\te11")
}

// TestSessionsDecodeAsTheView: sessions.sql reads session_aggregates directly (so that it
// merges only the sessions asked for) and must decode every column as sessions_v does; each
// of its column lines is found, as written, in the latest migration that creates sessions_v.
func TestSessionsDecodeAsTheView(t *testing.T) {
	ms, err := schema.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	view := ""
	for _, m := range ms {
		for _, st := range m.Statements {
			if strings.Contains(st, "CREATE VIEW IF NOT EXISTS {db}.sessions_v") {
				view = st
			}
		}
	}
	if view == "" {
		t.Fatal("no migration creates sessions_v")
	}
	raw, err := os.ReadFile("sessions.sql")
	if err != nil {
		t.Fatal(err)
	}
	body := string(raw)
	n := 0
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSuffix(strings.TrimSpace(line), ",")
		if !strings.Contains(line, "Merge(") || strings.Contains(line, "_unix") {
			continue
		}
		n++
		if !strings.Contains(view, line) {
			t.Errorf("sessions.sql decodes %q unlike sessions_v:\n%s", line, view)
		}
	}
	if n < 14 { // all but anon_id, user_id, the times and is_bot, which the journey takes from its events
		t.Fatalf("found %d decoded columns in sessions.sql, want every one of sessions_v's", n)
	}
}
