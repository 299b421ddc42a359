package erase

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// insertErasures adds tombstones (PrepareBatch: one line, no comment before the INSERT).
const insertErasures = "INSERT INTO $db.erasures (site_id, kind, id, erased_ms)"

// The kinds of erased id a Tombstone names.
const (
	KindUser = "user"
	KindAnon = "anon"
)

// Tombstone says that an id of a site was erased at a time: the events of that id received
// before then must not be stored again, and no journeyd may keep the id's identity links.
type Tombstone struct {
	Site     string `ch:"site_id"`
	Kind     string `ch:"kind"` // KindUser or KindAnon
	ID       string `ch:"id"`
	ErasedMS uint64 `ch:"erased_ms"` // unix ms
}

// Tombstones returns the tombstones of p's ids, erased at at.
func (p *Plan) Tombstones(at time.Time) []Tombstone {
	ms := uint64(at.UnixMilli())
	out := make([]Tombstone, 0, len(p.UserIDs)+len(p.AnonIDs))
	for _, u := range p.UserIDs {
		out = append(out, Tombstone{Site: p.Site, Kind: KindUser, ID: u, ErasedMS: ms})
	}
	for _, a := range p.AnonIDs {
		out = append(out, Tombstone{Site: p.Site, Kind: KindAnon, ID: a, ErasedMS: ms})
	}
	return out
}

// Mark stores the tombstones of p, erased at at, in database db ("" for the connection's).
// Run it before the deletions: from then on every journeyd that has read them drops the
// person's earlier events on their way to ClickHouse (Guard).
func Mark(ctx context.Context, conn driver.Conn, db string, p *Plan, at time.Time) error {
	b, err := conn.PrepareBatch(ctx, clickhouse.InDatabase(insertErasures, db))
	if err != nil {
		return fmt.Errorf("cannot record the erasure of person %q on site %q (a schema older than this journeyd? journeyd migrate upgrades it): %w", p.Person, p.Site, err)
	}
	for _, t := range p.Tombstones(at) {
		if err := b.Append(t.Site, t.Kind, t.ID, t.ErasedMS); err != nil {
			b.Abort()
			return fmt.Errorf("cannot record the erasure of person %q on site %q: %w", p.Person, p.Site, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("cannot record the erasure of person %q on site %q: %w", p.Person, p.Site, err)
	}
	return nil
}

// Load returns every tombstone of database db ("" for the connection's), the latest
// erasure of each id.
func Load(ctx context.Context, conn driver.Conn, db string) ([]Tombstone, error) {
	var out []Tombstone
	if err := conn.Select(ctx, &out, clickhouse.InDatabase(erasuresSQL, db)); err != nil {
		return nil, fmt.Errorf("cannot read the erasures: %w", err)
	}
	return out, nil
}
