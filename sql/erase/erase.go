// Package erase deletes a person's rows from journeyd's ClickHouse tables: the data-subject
// erasure of GDPR and Russia's 152-FZ (DESIGN §10). It owns the erasure queries (the .sql
// files beside this one, runnable in clickhouse-client after filling $db and the @names);
// the tables are sql/schema's.
//
// Find works out what an erasure takes: every user id and anonymous id of the person (see
// ids.sql), the sessions that hold their events, and how many events and identity links
// name them. Run deletes those rows with ALTER TABLE ... DELETE and waits until ClickHouse
// has rewritten every part (mutations run in the background). Events that arrive after Find
// are new data: erase when the person's requests have stopped, and again if more arrive.
// A deletion is a mutation that rewrites the table parts holding the person's rows, which
// on a large table takes a while: gather erasure requests and run them in batches.
// Rows already sent to the writer's dead-letter file are outside ClickHouse: delete them
// from that file by hand.
package erase

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/clickhouse"
)

var (
	//go:embed ids.sql
	idsSQL string
	//go:embed sessions.sql
	sessionsSQL string
	//go:embed count.sql
	countSQL string
	//go:embed delete_sessions.sql
	deleteSessionsSQL string
	//go:embed delete_events.sql
	deleteEventsSQL string
	//go:embed delete_identities.sql
	deleteIdentitiesSQL string
	//go:embed pending.sql
	pendingSQL string
)

// Plan is what erasing one person deletes.
type Plan struct {
	Site     string   `json:"site"`
	Person   string   `json:"person"`
	UserIDs  []string `json:"user_ids"`
	AnonIDs  []string `json:"anon_ids"`
	Sessions []string `json:"sessions"`
	Events   uint64   `json:"events"`
	Links    uint64   `json:"identity_links"`
}

// Find returns what erasing person (a user id or an anonymous id) on site deletes from
// database db ("" for the connection's database). It changes nothing.
func Find(ctx context.Context, conn driver.Conn, db, site, person string) (*Plan, error) {
	if site == "" || person == "" {
		return nil, fmt.Errorf("cannot plan an erasure: the site and the person are required")
	}
	p := &Plan{Site: site, Person: person}
	err := conn.QueryRow(ctx, clickhouse.InDatabase(idsSQL, db), ch.Named("site", site), ch.Named("person", person)).
		Scan(&p.UserIDs, &p.AnonIDs)
	if err != nil {
		return nil, fmt.Errorf("cannot find the ids of person %q on site %q: %w", person, site, err)
	}
	ids := p.args()
	if err := conn.QueryRow(ctx, clickhouse.InDatabase(sessionsSQL, db), ids...).Scan(&p.Sessions); err != nil {
		return nil, fmt.Errorf("cannot find the sessions of person %q on site %q: %w", person, site, err)
	}
	if err := conn.QueryRow(ctx, clickhouse.InDatabase(countSQL, db), ids...).Scan(&p.Events, &p.Links); err != nil {
		return nil, fmt.Errorf("cannot count the rows of person %q on site %q: %w", person, site, err)
	}
	return p, nil
}

func (p *Plan) args() []any {
	return []any{ch.Named("site", p.Site), ch.Named("users", p.UserIDs), ch.Named("anons", p.AnonIDs), ch.Named("sessions", p.Sessions)}
}

// Run deletes the rows of p from database db ("" for the connection's database) and waits,
// polling every poll, until ClickHouse has finished the deletions or ctx ends.
func Run(ctx context.Context, conn driver.Conn, db string, p *Plan, poll time.Duration) error {
	steps := []struct{ what, sql string }{
		{"sessions", deleteSessionsSQL},
		{"events", deleteEventsSQL},
		{"identity links", deleteIdentitiesSQL},
	}
	for _, s := range steps {
		if s.what == "sessions" && len(p.Sessions) == 0 {
			continue
		}
		if err := conn.Exec(ctx, clickhouse.InDatabase(s.sql, db), p.args()...); err != nil {
			return fmt.Errorf("cannot delete the %s of person %q on site %q (a schema older than this journeyd? journeyd migrate upgrades it): %w", s.what, p.Person, p.Site, err)
		}
	}
	return wait(ctx, conn, db, p, poll)
}

// wait polls system.mutations until the database has no unfinished one.
func wait(ctx context.Context, conn driver.Conn, db string, p *Plan, poll time.Duration) error {
	if db == "" {
		if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
			return fmt.Errorf("cannot name the database erased: %w", err)
		}
	}
	for {
		var pending uint64
		if err := conn.QueryRow(ctx, pendingSQL, ch.Named("db", db)).Scan(&pending); err != nil {
			return fmt.Errorf("cannot check the deletions of person %q: %w", p.Person, err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cannot confirm the erasure of person %q on site %q: %d deletions of database %s still running (they go on in ClickHouse; see system.mutations): %w", p.Person, p.Site, pending, db, ctx.Err())
		case <-time.After(poll):
		}
	}
}
