package visitors

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// ErrEnough, returned by the fn of Recent, stops the reading early without an error.
var ErrEnough = errors.New("enough visitors")

//go:embed active_visitors.sql
var activeVisitorsSQL string

// Visitor is a visitor whose latest session was active recently, as stored in events.
type Visitor struct {
	SiteID string `ch:"site_id"`
	// AnonID is the visitor's anonymous id; empty for a visitor known by KeyUserID alone.
	AnonID    string `ch:"anon_id"`
	KeyUserID string `ch:"key_user_id"`
	SessionID string `ch:"last_session_id"`
	StartMS   uint64 `ch:"start_ms"` // event time of the session's first event, unix ms
	LastMS    uint64 `ch:"last_ms"`  // event time of the session's latest event, unix ms
	// The session's source: that of its first event.
	Source       string `ch:"source"`
	Medium       string `ch:"medium"`
	Campaign     string `ch:"campaign"`
	Term         string `ch:"term"`
	Content      string `ch:"content"`
	Channel      string `ch:"channel"`
	ClickID      string `ch:"click_id"`
	ReferrerHost string `ch:"referrer_host"`
	ReferrerKind string `ch:"referrer_kind"`
	// LinkedUserID is the user id the anonymous id is linked to (the first linked wins).
	LinkedUserID string `ch:"linked_user_id"`
}

// Active calls fn for every visitor whose latest session had an event at or after
// since, reading sessions back to since-maxLength so that a long session keeps its start.
// fn gets a Visitor it may keep. db is the database of the tables; empty means the
// connection's.
func Active(ctx context.Context, conn driver.Conn, db string, since time.Time, maxLength time.Duration, fn func(Visitor) error) error {
	return Recent(ctx, conn, db, since, maxLength, math.MaxInt64, fn)
}

// Recent is Active for at most limit visitors, the most recent first (by their latest
// event time). fn returns ErrEnough to stop early without an error.
func Recent(ctx context.Context, conn driver.Conn, db string, since time.Time, maxLength time.Duration, limit int64, fn func(Visitor) error) error {
	if limit <= 0 {
		return nil
	}
	from := since.Add(-maxLength)
	rows, err := conn.Query(ctx, clickhouse.InDatabase(activeVisitorsSQL, db), ch.Named("since", since.Unix()), ch.Named("from", from.Unix()), ch.Named("limit", limit))
	if err != nil {
		return fmt.Errorf("cannot query the visitors active since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	defer rows.Close()
	for rows.Next() {
		var v Visitor
		if err := rows.ScanStruct(&v); err != nil {
			return fmt.Errorf("cannot read an active visitor: %w", err)
		}
		if err := fn(v); err != nil {
			if errors.Is(err, ErrEnough) {
				return nil
			}
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot query the visitors active since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return nil
}
