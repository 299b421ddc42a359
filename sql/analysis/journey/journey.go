// Package journey runs the person-level queries of journeyd on ClickHouse: a person's
// journey (their sessions with sources, every touchpoint in order, the conversions), and the
// visitors active within the session timeout that the sessionizer restores on start.
//
// A person is the user id where one is known, else the anonymous id. Their journey holds the
// events with their user id and the anonymous events of every anonymous id linked to them
// (identities; the first user id linked to an anonymous id wins), before and after the link,
// on every device. The queries are the .sql files beside this one; they run as-is in
// clickhouse-client after replacing $db with the database and the @names with values. The
// tables are sql/store/schema's (events, sessions, identities); this package owns none.
package journey

import (
	"context"
	_ "embed"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

var (
	//go:embed resolve_person.sql
	resolvePersonSQL string
	//go:embed touchpoints.sql
	touchpointsSQL string
	//go:embed sessions.sql
	sessionsSQL string
)

// Touchpoint is one event of a journey.
type Touchpoint struct {
	TS           time.Time `json:"ts"`
	EventID      string    `json:"event_id"`
	Type         string    `json:"type"`
	Name         string    `json:"name,omitempty"`
	SessionID    string    `json:"session_id"`
	AnonID       string    `json:"anon_id,omitempty"`
	UserID       string    `json:"user_id,omitempty"`
	Host         string    `json:"host,omitempty"`
	Path         string    `json:"path,omitempty"`
	ReferrerHost string    `json:"referrer_host,omitempty"`
	Channel      string    `json:"channel,omitempty"`
	Source       string    `json:"source,omitempty"`
	Medium       string    `json:"medium,omitempty"`
	Campaign     string    `json:"campaign,omitempty"`
	ClickIDType  string    `json:"click_id_type,omitempty"`
	Device       string    `json:"device,omitempty"`
	Country      string    `json:"country,omitempty"`
	Revenue      float64   `json:"revenue,omitempty"`
	Currency     string    `json:"currency,omitempty"`
	Conversion   bool      `json:"conversion,omitempty"`
}

// Session is one session of a journey, as sessions_v gives it.
type Session struct {
	ID          string    `json:"session_id"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Duration    int64     `json:"duration_s"`
	EntryPage   string    `json:"entry_page,omitempty"`
	ExitPage    string    `json:"exit_page,omitempty"`
	Referrer    string    `json:"referrer,omitempty"`
	Source      string    `json:"source,omitempty"`
	Medium      string    `json:"medium,omitempty"`
	Campaign    string    `json:"campaign,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	Device      string    `json:"device,omitempty"`
	Country     string    `json:"country,omitempty"`
	Pageviews   uint64    `json:"pageviews"`
	Events      uint64    `json:"events"`
	Bounce      bool      `json:"bounce"`
	Conversions uint64    `json:"conversions"`
	Revenue     float64   `json:"revenue"`
}

// Journey is everything a person did on a site.
type Journey struct {
	Site        string       `json:"site"`
	Person      string       `json:"person"`
	AnonIDs     []string     `json:"anon_ids"`
	Sessions    []Session    `json:"sessions"`
	Touchpoints []Touchpoint `json:"touchpoints"`
	Conversions []Touchpoint `json:"conversions"`
}

// Person returns the journey of the person id belongs to on site: id may be a user id or
// an anonymous id (a linked anonymous id gives its user's journey).
// db is the database of the tables; empty means the connection's.
func Person(ctx context.Context, conn driver.Conn, db, site, id string) (*Journey, error) {
	person, err := resolve(ctx, conn, db, site, id)
	if err != nil {
		return nil, err
	}
	j := &Journey{Site: site, Person: person, AnonIDs: []string{}, Sessions: []Session{}, Conversions: []Touchpoint{}}
	if j.Touchpoints, err = touchpoints(ctx, conn, db, site, person); err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, tp := range j.Touchpoints {
		if tp.Conversion {
			j.Conversions = append(j.Conversions, tp)
		}
		if tp.SessionID != "" && !seen["s"+tp.SessionID] {
			seen["s"+tp.SessionID] = true
			ids = append(ids, tp.SessionID)
		}
		if tp.AnonID != "" && !seen["a"+tp.AnonID] {
			seen["a"+tp.AnonID] = true
			j.AnonIDs = append(j.AnonIDs, tp.AnonID)
		}
	}
	if len(ids) > 0 {
		if j.Sessions, err = sessions(ctx, conn, db, site, ids); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// resolve returns the person id belongs to: the user id it is linked to, followed once
// more when that user id was aliased to another (person_links_v follows the same hop).
func resolve(ctx context.Context, conn driver.Conn, db, site, id string) (string, error) {
	person, err := resolveOnce(ctx, conn, db, site, id)
	if err != nil || person == id {
		return person, err
	}
	return resolveOnce(ctx, conn, db, site, person)
}

// resolveOnce returns the user id id is first linked to, or id when it is linked to none.
func resolveOnce(ctx context.Context, conn driver.Conn, db, site, id string) (string, error) {
	rows, err := conn.Query(ctx, clickhouse.InDatabase(resolvePersonSQL, db), ch.Named("site", site), ch.Named("id", id))
	if err != nil {
		return "", fmt.Errorf("cannot resolve person %q of site %q: %w", id, site, err)
	}
	defer rows.Close()
	person := id
	for rows.Next() {
		var linked string
		if err := rows.Scan(&linked); err != nil {
			return "", fmt.Errorf("cannot read the person of %q: %w", id, err)
		}
		if linked != "" {
			person = linked
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("cannot resolve person %q of site %q: %w", id, site, err)
	}
	return person, nil
}
