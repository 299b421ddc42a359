// Package erase deletes a person's rows from journeyd's ClickHouse tables: the data-subject
// erasure of GDPR and Russia's 152-FZ (DESIGN §10). It owns the erasure queries (the .sql
// files beside this one, runnable in clickhouse-client after filling $db and the @names);
// the tables are sql/store/schema's.
//
// Find works out what an erasure takes: every user id and anonymous id of the person (see
// ids.sql), the sessions that hold their events, and how many events and identity links
// name them. Run deletes those rows with ALTER TABLE ... DELETE and waits until ClickHouse
// has rewritten every part (mutations run in the background). Events that arrive after Find
// are new data: erase when the person's requests have stopped, and again if more arrive.
// A deletion is a mutation that rewrites the table parts holding the person's rows, which
// on a large table takes a while: gather erasure requests and run them in batches.
// Rows already sent to the writer's dead-letter file are outside ClickHouse: journeyd
// replay leaves out those an erasure took, but delete them from that file too.
//
// On a cluster (deploy/cluster), Find reads through the Distributed tables of any node and
// RunCluster deletes from the local tables of every shard.
//
// An erasure is final (DESIGN §10): before deleting, Mark records a Tombstone of every id
// of the person in the erasures table, and every journeyd holds them in a Guard in front of
// its writer, which drops the events of those ids received before the erasure, and makes
// its sessionizer forget their links. Why a table and not only an admin endpoint of the
// running collectors: the tombstones must outlive the process. A journeyd killed after the
// erasure still has the person's events in its spool (a segment is freed only when it is
// full and stored), and the one that starts on that spool never heard of the erasure; a
// node added later, or one that was down, has not either. A table in ClickHouse reaches
// them all, and on a cluster it is spread like the events and read whole. The endpoint
// (POST /api/v1/erasures/sync, journeyd erase --collectors) only makes "at once" exact for
// the nodes named, and it answers only once the node's writer has stored the events that
// passed its guard before the tombstones (Guard.Flushed), so that the deletion finds them.
// The nodes not named read the table every --erasure-poll: an event of the person that one
// of them had in its writer's queue when the deletion ran is inserted after it; name every
// node in --collectors, or run the erasure again.
package erase

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
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
	//go:embed delete_touch_events.sql
	deleteTouchEventsSQL string
	//go:embed delete_events.sql
	deleteEventsSQL string
	//go:embed delete_identities.sql
	deleteIdentitiesSQL string
	//go:embed pending.sql
	pendingSQL string
	//go:embed nodes.sql
	nodesSQL string
	//go:embed erasures.sql
	erasuresSQL string

	// alterTable is the table a deletion names, which a cluster holds as TABLE_local.
	alterTable = regexp.MustCompile(`ALTER TABLE (\$db\.\w+)`)
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
	return run(ctx, conn, db, p, poll, false)
}

// run deletes the rows of p, from the local tables of a cluster node when local.
func run(ctx context.Context, conn driver.Conn, db string, p *Plan, poll time.Duration, local bool) error {
	steps := []struct{ what, sql string }{
		{"sessions", deleteSessionsSQL},
		{"touch events", deleteTouchEventsSQL},
		{"events", deleteEventsSQL},
		{"identity links", deleteIdentitiesSQL},
	}
	for _, s := range steps {
		if s.what == "sessions" && len(p.Sessions) == 0 {
			continue
		}
		query := s.sql
		if local {
			query = alterTable.ReplaceAllString(query, "ALTER TABLE ${1}_local")
		}
		if err := conn.Exec(ctx, clickhouse.InDatabase(query, db), p.args()...); err != nil {
			hint := "a schema older than this journeyd? journeyd migrate upgrades it; on a cluster, erase with --cluster"
			if local {
				hint = "a node without the cluster schema of deploy/cluster?"
			}
			return fmt.Errorf("cannot delete the %s of person %q on site %q (%s): %w", s.what, p.Person, p.Site, hint, err)
		}
	}
	return wait(ctx, conn, db, p, poll)
}

// Open connects to the cluster node at addr (host:port, native protocol), with the
// database, user and settings of the connection RunCluster was given.
type Open func(ctx context.Context, addr string) (driver.Conn, error)

// RunCluster deletes the rows of p (found through conn's Distributed tables) from the local
// tables of every shard of cluster, the name the servers' remote_servers give it, in
// database db ("" for the connection's database), connecting to the nodes with open, and
// waits as Run does. With Replicated tables it runs on the first replica of each shard that
// answers, and the other replicas apply the deletions when they replicate (a replica that
// is down applies them when it is back); without, it runs on every replica, and fails when
// one cannot be reached.
func RunCluster(ctx context.Context, conn driver.Conn, db, cluster string, p *Plan, poll time.Duration, open Open) error {
	if db == "" {
		if err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db); err != nil {
			return fmt.Errorf("cannot name the database erased: %w", err)
		}
	}
	rows, err := conn.Query(ctx, nodesSQL, ch.Named("cluster", cluster), ch.Named("db", db))
	if err != nil {
		return fmt.Errorf("cannot list the nodes of cluster %q: %w", cluster, err)
	}
	shards := map[uint32][]string{}
	var order []uint32
	var replicated uint64
	for rows.Next() {
		var shard uint32
		var addr string
		if err := rows.Scan(&shard, &addr, &replicated); err != nil {
			rows.Close()
			return fmt.Errorf("cannot list the nodes of cluster %q: %w", cluster, err)
		}
		if shards[shard] == nil {
			order = append(order, shard)
		}
		shards[shard] = append(shards[shard], addr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot list the nodes of cluster %q: %w", cluster, err)
	}
	if len(order) == 0 {
		return fmt.Errorf("cannot erase person %q on cluster %q: the server knows no such cluster (system.clusters)", p.Person, cluster)
	}
	for _, shard := range order {
		var unreachable []error
		for _, addr := range shards[shard] {
			node, err := open(ctx, addr)
			if err != nil {
				unreachable = append(unreachable, err)
				continue
			}
			err = run(ctx, node, db, p, poll, true)
			node.Close()
			if err != nil {
				return fmt.Errorf("on node %s of cluster %q: %w", addr, cluster, err)
			}
			if replicated > 0 {
				break
			}
		}
		if len(unreachable) == len(shards[shard]) || (replicated == 0 && len(unreachable) > 0) {
			return fmt.Errorf("cannot erase person %q on shard %d of cluster %q: %w", p.Person, shard, cluster, errors.Join(unreachable...))
		}
	}
	return nil
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
