// Package schema owns journeyd's ClickHouse schema: the migrations in migrations/*.sql and
// the runner that applies them. It does not own queries (sql/analysis/queries, sql/analysis/journey) or the
// writer (sql/store/writer).
//
// A migration is a file migrations/NNNN_name.sql, applied in name order and recorded in
// {db}.schema_migrations, so that each version runs once per database. Its statements end
// with ';' at the end of a line; every statement names its tables as {db}.table, and the
// runner puts the database name there (the connection's own database does not matter).
// Statements should still be idempotent (IF NOT EXISTS): two nodes starting at once may
// both run a migration.
//
// Where Debian's ClickHouse 18.16 and current releases need different SQL, a file carries
// "-- requires: >=20.1" or "-- requires: <20.1" lines in its leading comment; two files
// may share a version number when their requirements exclude each other, and the runner
// applies the one the server admits (detected with sql/store/clickhouse.ServerVersion). A file
// the server does not admit is not recorded, so it runs after a server upgrade.
//
// Numbering: 0001-0009 events (storage), 0010-0019 sessions and identities (sessionizer),
// 0020 and up the analytics tables.
//
// The events table (0001) is ordered by (site_id, toDate(ts), anon_id, ts, event_id) and
// deduplicated by ReplacingMergeTree(received_at); the file explains why.
package schema

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

//go:embed bootstrap.sql
var bootstrapSQL string

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Migrations returns every embedded migration, in the order Migrate applies them.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("cannot list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, path := range names {
		text, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("cannot read migration %s: %w", path, err)
		}
		m, err := ParseMigration(strings.TrimPrefix(path, "migrations/"), string(text))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, checkVersions(out)
}

// checkVersions reports two migrations of one version unless both say which servers they
// require: two branches could otherwise each add a file with the next number, and only the
// first would ever run.
func checkVersions(ms []Migration) error {
	for i := 1; i < len(ms); i++ {
		a, b := ms[i-1], ms[i]
		if a.Version == b.Version && (a.Requires == Requirement{} || b.Requires == Requirement{}) {
			return fmt.Errorf("cannot use migrations %s and %s: they share version %d, which only files that require different server versions may", a.Name, b.Name, b.Version)
		}
	}
	return nil
}

// Migrate creates database if missing and applies the migrations it has not applied yet
// that the server's version admits.
func Migrate(ctx context.Context, conn driver.Conn, database string) error {
	if !identRE.MatchString(database) {
		return fmt.Errorf("cannot migrate database %q: want a name of letters, digits and '_'", database)
	}
	ms, err := Migrations()
	if err != nil {
		return err
	}
	version, err := clickhouse.ServerVersion(conn)
	if err != nil {
		return err
	}
	for _, stmt := range SplitStatements(bootstrapSQL) {
		if err := exec(ctx, conn, database, "bootstrap.sql", stmt); err != nil {
			return err
		}
	}
	applied, err := Applied(ctx, conn, database)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if applied[m.Version] || !m.Requires.Admits(version) {
			continue
		}
		if err := apply(ctx, conn, database, m, version); err != nil {
			return err
		}
		applied[m.Version] = true
	}
	return nil
}

// Script returns the statements Migrate runs on a new database for a server of version v,
// with database in place of {db}: the schema to apply by hand, or to check on a server
// journeyd cannot reach. It does not record the migrations in schema_migrations.
func Script(database string, v clickhouse.Version) ([]string, error) {
	if !identRE.MatchString(database) {
		return nil, fmt.Errorf("cannot write the schema of database %q: want a name of letters, digits and '_'", database)
	}
	stmts, err := script(v)
	for i := range stmts {
		stmts[i] = strings.ReplaceAll(stmts[i], "{db}", database)
	}
	return stmts, err
}

// script is Script with {db} left in place.
func script(v clickhouse.Version) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	out := SplitStatements(bootstrapSQL)
	for _, m := range ms {
		if m.Requires.Admits(v) {
			out = append(out, m.Statements...)
		}
	}
	return out, nil
}

// Applied returns the versions recorded in database.schema_migrations.
func Applied(ctx context.Context, conn driver.Conn, database string) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, "SELECT version FROM "+database+".schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("cannot read applied migrations of %s: %w", database, err)
	}
	defer rows.Close()
	out := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("cannot read applied migrations of %s: %w", database, err)
		}
		out[v] = true
	}
	return out, rows.Err()
}

func apply(ctx context.Context, conn driver.Conn, database string, m Migration, v clickhouse.Version) error {
	for _, stmt := range m.Statements {
		stmt, err := missingColumns(ctx, conn, database, m.Name, stmt)
		if err != nil {
			return err
		}
		if stmt == "" {
			continue
		}
		if err := exec(ctx, conn, database, m.Name, stmt); err != nil {
			return err
		}
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+database+".schema_migrations (version, name, server_version, applied_at)")
	if err != nil {
		return fmt.Errorf("cannot record migration %s in %s: %w", m.Name, database, err)
	}
	if err := b.Append(m.Version, m.Name, v.String(), time.Now()); err != nil {
		return fmt.Errorf("cannot record migration %s in %s: %w", m.Name, database, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot record migration %s in %s: %w", m.Name, database, err)
	}
	return nil
}

func exec(ctx context.Context, conn driver.Conn, database, file, stmt string) error {
	if err := conn.Exec(ctx, strings.ReplaceAll(stmt, "{db}", database)); err != nil {
		return fmt.Errorf("cannot apply %s to database %s: %w", file, database, err)
	}
	return nil
}

// missingColumns returns stmt, or when it is an ALTER TABLE ... ADD COLUMN, the statement
// adding only the columns the table does not have yet, and "" when it has them all. A
// migration is recorded only once all its statements ran, so one that failed after its
// ALTER (or whose record was lost) runs again, and 18.16 has no ADD COLUMN IF NOT EXISTS:
// without this the second run would fail for ever on the columns the first one added.
func missingColumns(ctx context.Context, conn driver.Conn, database, file, stmt string) (string, error) {
	table, cols, ok := addedColumns(stmt)
	if !ok {
		return stmt, nil
	}
	rows, err := conn.Query(ctx, "SELECT name FROM system.columns WHERE database = ? AND table = ?", database, table)
	if err != nil {
		return "", fmt.Errorf("cannot apply %s to database %s: cannot read the columns of %s: %w", file, database, table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return "", fmt.Errorf("cannot apply %s to database %s: cannot read the columns of %s: %w", file, database, table, err)
		}
		have[name] = true
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("cannot apply %s to database %s: cannot read the columns of %s: %w", file, database, table, err)
	}
	var add []string
	for _, col := range cols {
		if !have[strings.Fields(col)[0]] {
			add = append(add, "ADD COLUMN "+col)
		}
	}
	if len(add) == 0 {
		return "", nil
	}
	return "ALTER TABLE {db}." + table + "\n    " + strings.Join(add, ",\n    "), nil
}
