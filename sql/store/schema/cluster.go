package schema

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// Sharded are the tables a cluster splits across its shards (DESIGN §11): each is a local
// table T_local on every node and a Distributed table T over them, so that journeyd, the
// views and the reports keep using the names of a single server. A visitor's events live
// on one shard (the sharding key is the site and the anonymous id), and so do the session
// and identity rows the materialized views make from them on that shard.
// The erasure tombstones are spread too, and read whole through their Distributed table.
var Sharded = []string{"events", "sessions", "session_states", "session_aggregates", "identities", "erasures", "touch_events"}

var (
	createTable  = regexp.MustCompile(`(?s)^(.*?)CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)\s*\n(.*)$`)
	dropTable    = regexp.MustCompile(`^DROP TABLE IF EXISTS \{db\}\.(\w+)$`)
	shardedTable = regexp.MustCompile(`\{db\}\.(` + strings.Join(Sharded, "|") + `)\b`)
	mergeEngine  = regexp.MustCompile(`(?m)^ENGINE = (\w*MergeTree)\((.*)\)$`)
	alterAdd     = regexp.MustCompile(`(?s)^ALTER TABLE \{db\}\.(\w+)\s+(ADD COLUMN .*)$`)
	addColumn    = regexp.MustCompile(`,?\s*ADD COLUMN\s+`)
	columnsEnd   = regexp.MustCompile(`\n\)\s*\nENGINE`)
	createView   = regexp.MustCompile(`^CREATE MATERIALIZED VIEW IF NOT EXISTS \{db\}\.(\w+) `)
)

// Cluster is the ClickHouse cluster a schema is laid over.
type Cluster struct {
	// Name is the cluster's name in the servers' remote_servers.
	Name string
	// Replicated makes the local tables Replicated*MergeTree, each at the ZooKeeper path
	// /clickhouse/tables/{shard}/DATABASE/TABLE with the replica name {replica}: the
	// servers need <zookeeper> and the <macros> shard and replica in their config, and
	// remote_servers <internal_replication>true</internal_replication>.
	Replicated bool
}

// ClusterScript returns the statements that make database on one node of cluster, for a
// server of version v: Script's, with every sharded table made local and a Distributed
// table of the same name over the cluster's locals, the materialized views (and backfills)
// reading and writing the locals, and joins of the events table made GLOBAL. Run it on
// every node; inserts into database.events on any node then reach the visitor's shard.
// The local tables keep the single-server engines unless c.Replicated.
func ClusterScript(database string, c Cluster, v clickhouse.Version) ([]string, error) {
	cluster := c.Name
	if !identRE.MatchString(cluster) || !identRE.MatchString(database) {
		return nil, fmt.Errorf("cannot write the cluster schema: cluster %q and database %q must be plain ClickHouse names", cluster, database)
	}
	stmts, err := script(v)
	if err != nil {
		return nil, err
	}
	stmts = foldColumns(stmts)
	var out []string
	for _, s := range stmts {
		if m := createTable.FindStringSubmatch(s); m != nil && slices.Contains(Sharded, m[2]) {
			key := "rand()"
			if m[2] == "events" || m[2] == "touch_events" { // a copy of some events, on their shard
				key = "cityHash64(site_id, anon_id)"
			}
			body := m[3]
			if c.Replicated {
				body = replicated(body, database, m[2]+"_local")
			}
			out = append(out,
				m[1]+"CREATE TABLE IF NOT EXISTS {db}."+m[2]+"_local\n"+body,
				fmt.Sprintf("CREATE TABLE IF NOT EXISTS {db}.%s AS {db}.%s_local\nENGINE = Distributed(%s, {db}, %s_local, %s)", m[2], m[2], cluster, m[2], key))
			continue
		}
		if m := dropTable.FindStringSubmatch(strings.TrimSpace(s)); m != nil && slices.Contains(Sharded, m[1]) {
			out = append(out, s, s+"_local")
			continue
		}
		if strings.Contains(s, "CREATE MATERIALIZED VIEW") || strings.HasPrefix(strings.TrimSpace(stripComments(s)), "INSERT INTO") {
			s = shardedTable.ReplaceAllString(s, "{db}.${1}_local")
		}
		s = strings.ReplaceAll(s, "FROM {db}.events\nANY LEFT JOIN", "FROM {db}.events\nGLOBAL ANY LEFT JOIN")
		out = append(out, s)
	}
	// Record the migrations as applied, so that a journeyd started with --migrate on a node
	// finds nothing to do instead of laying single-server tables over the cluster's.
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	var rows []string
	for _, m := range ms {
		if m.Requires.Admits(v) {
			rows = append(rows, fmt.Sprintf("SELECT %d, '%s', '%s', now()", m.Version, m.Name, v))
		}
	}
	out = append(out, "INSERT INTO {db}.schema_migrations (version, name, server_version, applied_at)\n"+strings.Join(rows, "\nUNION ALL "))
	for i := range out {
		out[i] = strings.ReplaceAll(out[i], "{db}", database)
	}
	return out, nil
}

// foldColumns returns stmts, the script of a new database, with each ALTER TABLE ... ADD
// COLUMN of a sharded table folded into the table's CREATE TABLE and every backfill (INSERT
// INTO ... SELECT) of a sharded table left out. On a cluster an ALTER would have to reach
// the local table and the Distributed one over it, and a Replicated table's replicas take
// an ALTER from each other, so running it on every node fails on the second replica; in a
// new database the tables can be made with their last columns instead, and the backfills,
// which read the empty events table, have nothing to copy (and an early one, naming no
// columns, would no longer match the table). A materialized view a later migration drops
// is left out too: it would see no insert (as 0025's session_touches_gap_mv, which notes
// the sessions inserted while an upgrade has no session view attached).
func foldColumns(stmts []string) []string {
	added := map[string][]string{}
	var kept []string
	for _, s := range stmts {
		if table, cols, ok := addedColumns(s); ok && slices.Contains(Sharded, table) {
			added[table] = append(added[table], cols...)
			continue
		}
		kept = append(kept, s)
	}
	var out []string
	for i, s := range kept {
		code := strings.TrimSpace(stripComments(s))
		if strings.HasPrefix(code, "INSERT INTO") && shardedTable.MatchString(strings.SplitN(code, "\n", 2)[0]) {
			continue
		}
		if m := createView.FindStringSubmatch(code); m != nil && droppedAfter(kept[i+1:], m[1]) {
			continue
		}
		if m := createTable.FindStringSubmatch(s); m != nil && len(added[m[2]]) > 0 {
			loc := columnsEnd.FindStringIndex(s)
			if loc != nil {
				s = s[:loc[0]] + ",\n    " + strings.Join(added[m[2]], ",\n    ") + s[loc[0]:]
			}
		}
		out = append(out, s)
	}
	return out
}

// addedColumns returns the table and the column definitions ("name Type") of stmt when it
// is an ALTER TABLE ... ADD COLUMN, and false otherwise.
func addedColumns(stmt string) (table string, cols []string, ok bool) {
	m := alterAdd.FindStringSubmatch(strings.TrimSpace(stripComments(stmt)))
	if m == nil {
		return "", nil, false
	}
	for _, col := range addColumn.Split(m[2], -1) {
		if col = strings.TrimSpace(col); col != "" {
			cols = append(cols, col)
		}
	}
	return m[1], cols, true
}

// droppedAfter reports whether one of stmts drops table.
func droppedAfter(stmts []string, table string) bool {
	for _, s := range stmts {
		if m := dropTable.FindStringSubmatch(strings.TrimSpace(stripComments(s))); m != nil && m[1] == table {
			return true
		}
	}
	return false
}

// replicated returns the body of a CREATE TABLE of table with its MergeTree engine made the
// Replicated one, at the table's ZooKeeper path in database.
func replicated(body, database, table string) string {
	return mergeEngine.ReplaceAllStringFunc(body, func(engine string) string {
		m := mergeEngine.FindStringSubmatch(engine)
		args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", database, table)
		if m[2] != "" {
			args += ", " + m[2]
		}
		return "ENGINE = Replicated" + m[1] + "(" + args + ")"
	})
}

// stripComments drops the "--" comment lines of a statement.
func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
