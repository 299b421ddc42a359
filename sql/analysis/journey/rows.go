package journey

import (
	"context"
	"fmt"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/clickhouse"
)

// touchpointRow is one row of touchpoints.sql.
type touchpointRow struct {
	TSMS         uint64  `ch:"ts_unix_ms"`
	EventID      string  `ch:"event_id"`
	Type         string  `ch:"type"`
	Name         string  `ch:"name"`
	SessionID    string  `ch:"session_id"`
	AnonID       string  `ch:"anon_id"`
	UserID       string  `ch:"user_id"`
	Host         string  `ch:"host"`
	Path         string  `ch:"path"`
	ReferrerHost string  `ch:"referrer_host"`
	Channel      string  `ch:"channel"`
	Source       string  `ch:"source"`
	Medium       string  `ch:"medium"`
	Campaign     string  `ch:"campaign"`
	ClickIDType  string  `ch:"click_id_type"`
	Device       string  `ch:"device"`
	Country      string  `ch:"country"`
	Revenue      float64 `ch:"revenue_value"`
	Currency     string  `ch:"currency"`
	Conversion   uint8   `ch:"is_conversion"`
}

func touchpoints(ctx context.Context, conn driver.Conn, db, site, person string) ([]Touchpoint, error) {
	rows, err := conn.Query(ctx, clickhouse.InDatabase(touchpointsSQL, db), ch.Named("site", site), ch.Named("person", person))
	if err != nil {
		return nil, fmt.Errorf("cannot query the touchpoints of person %q on site %q: %w", person, site, err)
	}
	defer rows.Close()
	out := []Touchpoint{}
	for rows.Next() {
		var r touchpointRow
		if err := rows.ScanStruct(&r); err != nil {
			return nil, fmt.Errorf("cannot read a touchpoint of person %q: %w", person, err)
		}
		out = append(out, Touchpoint{
			TS: time.UnixMilli(int64(r.TSMS)).UTC(), EventID: r.EventID, Type: r.Type, Name: r.Name,
			SessionID: r.SessionID, AnonID: r.AnonID, UserID: r.UserID, Host: r.Host, Path: r.Path,
			ReferrerHost: r.ReferrerHost, Channel: r.Channel, Source: r.Source, Medium: r.Medium,
			Campaign: r.Campaign, ClickIDType: r.ClickIDType, Device: r.Device, Country: r.Country,
			Revenue: r.Revenue, Currency: r.Currency, Conversion: r.Conversion == 1,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot query the touchpoints of person %q on site %q: %w", person, site, err)
	}
	return out, nil
}

// sessionRow is one row of sessions.sql.
type sessionRow struct {
	ID          string  `ch:"session_id"`
	Start       uint64  `ch:"start_unix"`
	End         uint64  `ch:"end_unix"`
	EntryPage   string  `ch:"entry_page"`
	ExitPage    string  `ch:"exit_page"`
	Referrer    string  `ch:"referrer"`
	Source      string  `ch:"source"`
	Medium      string  `ch:"medium"`
	Campaign    string  `ch:"campaign"`
	Channel     string  `ch:"channel"`
	Device      string  `ch:"device"`
	Country     string  `ch:"country"`
	Pageviews   uint64  `ch:"pageviews"`
	Events      uint64  `ch:"events"`
	Bounce      uint8   `ch:"bounce"`
	Conversions uint64  `ch:"conversions"`
	Revenue     float64 `ch:"revenue"`
}

func sessions(ctx context.Context, conn driver.Conn, db, site string, ids []string) ([]Session, error) {
	rows, err := conn.Query(ctx, clickhouse.InDatabase(sessionsSQL, db), ch.Named("site", site), ch.Named("sessions", ids))
	if err != nil {
		return nil, fmt.Errorf("cannot query %d sessions of site %q: %w", len(ids), site, err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		var r sessionRow
		if err := rows.ScanStruct(&r); err != nil {
			return nil, fmt.Errorf("cannot read a session of site %q: %w", site, err)
		}
		out = append(out, Session{
			ID: r.ID, Start: time.Unix(int64(r.Start), 0).UTC(), End: time.Unix(int64(r.End), 0).UTC(),
			Duration: int64(r.End) - int64(r.Start), EntryPage: r.EntryPage, ExitPage: r.ExitPage,
			Referrer: r.Referrer, Source: r.Source, Medium: r.Medium, Campaign: r.Campaign,
			Channel: r.Channel, Device: r.Device, Country: r.Country, Pageviews: r.Pageviews,
			Events: r.Events, Bounce: r.Bounce == 1, Conversions: r.Conversions, Revenue: r.Revenue,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot query %d sessions of site %q: %w", len(ids), site, err)
	}
	return out, nil
}
