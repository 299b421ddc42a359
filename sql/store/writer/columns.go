package writer

import (
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/event"
)

// definitions is the one place that maps an Event to the columns of events: the column
// names, in insert order, each with the value it takes from the event. Every call returns
// fresh column buffers; a worker keeps its own and reuses them batch after batch.
func definitions() []column {
	return []column{
		str("event_id", func(e *event.Event) string { return e.ID }),
		str("site_id", func(e *event.Event) string { return e.SiteID }),
		val("ts", func(e *event.Event) time.Time { return e.TS }),
		val("ts_ms", func(e *event.Event) uint16 { return uint16(e.TS.Nanosecond() / 1e6) }),
		val("received_at", func(e *event.Event) time.Time { return e.ReceivedAt }),
		str("type", func(e *event.Event) string { return e.Type }),
		str("name", func(e *event.Event) string { return e.Name }),
		str("anon_id", func(e *event.Event) string { return e.AnonID }),
		str("user_id", func(e *event.Event) string { return e.UserID }),
		str("session_id", func(e *event.Event) string { return e.SessionID }),
		str("url", func(e *event.Event) string { return e.URL }),
		str("host", func(e *event.Event) string { return e.Host }),
		str("path", func(e *event.Event) string { return e.Path }),
		str("query", func(e *event.Event) string { return e.Query }),
		str("title", func(e *event.Event) string { return e.Title }),
		str("referrer", func(e *event.Event) string { return e.Referrer }),
		str("referrer_host", func(e *event.Event) string { return e.ReferrerHost }),
		str("referrer_kind", func(e *event.Event) string { return e.ReferrerKind }),
		str("search_term", func(e *event.Event) string { return e.SearchTerm }),
		str("channel", func(e *event.Event) string { return e.Channel }),
		str("source", func(e *event.Event) string { return e.Source }),
		str("medium", func(e *event.Event) string { return e.Medium }),
		str("campaign", func(e *event.Event) string { return e.Campaign }),
		str("term", func(e *event.Event) string { return e.Term }),
		str("content", func(e *event.Event) string { return e.Content }),
		str("click_id_type", func(e *event.Event) string { return e.ClickIDType }),
		str("click_id", func(e *event.Event) string { return e.ClickID }),
		str("country", func(e *event.Event) string { return e.Country }),
		str("region", func(e *event.Event) string { return e.Region }),
		str("city", func(e *event.Event) string { return e.City }),
		str("browser", func(e *event.Event) string { return e.Browser }),
		str("browser_version", func(e *event.Event) string { return e.BrowserVersion }),
		str("os", func(e *event.Event) string { return e.OS }),
		str("device", func(e *event.Event) string { return e.Device }),
		val("is_bot", func(e *event.Event) uint8 { return boolByte(e.IsBot) }),
		str("ip", func(e *event.Event) string { return e.IP }),
		str("user_agent", func(e *event.Event) string { return e.UserAgent }),
		val("props.key", func(e *event.Event) []string { return nonNil(e.PropKeys) }),
		val("props.value", func(e *event.Event) []string { return nonNil(e.PropValues) }),
		val("revenue", func(e *event.Event) float64 { return e.Revenue }),
		str("currency", func(e *event.Event) string { return e.Currency }),
		val("engaged_ms", func(e *event.Event) uint32 { return e.EngagedMS }),
		str("lib", func(e *event.Event) string { return e.Library }),
	}
}

// Columns returns the column names of every insert, in order.
func Columns() []string {
	defs := definitions()
	names := make([]string, len(defs))
	for i, c := range defs {
		names[i] = c.name()
	}
	return names
}

// InsertQuery returns the INSERT statement of the writer for database db, naming every column.
func InsertQuery(db string) string {
	return "INSERT INTO " + db + ".events (" + strings.Join(Columns(), ", ") + ")"
}

// column is one column of a batch: it collects a typed value per event and hands the
// whole slice to the driver at once (columnar appends allocate per batch, not per row).
type column interface {
	name() string
	add(e *event.Event)
	appendTo(c driver.BatchColumn) error
	reset()
}

type typed[T any] struct {
	col    string
	get    func(*event.Event) T
	values []T
}

func val[T any](name string, get func(*event.Event) T) column {
	return &typed[T]{col: name, get: get}
}

// str is val for strings; it names the common case.
func str(name string, get func(*event.Event) string) column { return val(name, get) }

func (t *typed[T]) name() string       { return t.col }
func (t *typed[T]) add(e *event.Event) { t.values = append(t.values, t.get(e)) }
func (t *typed[T]) reset() {
	clear(t.values) // drop references to the batch's strings
	t.values = t.values[:0]
}

func (t *typed[T]) appendTo(c driver.BatchColumn) error {
	if err := c.Append(t.values); err != nil {
		return fmt.Errorf("cannot append %d values to column %s: %w", len(t.values), t.col, err)
	}
	return nil
}

// columnBlock is a worker's reusable set of column buffers.
type columnBlock []column

func (b columnBlock) fill(events []event.Event) {
	for _, c := range b {
		c.reset()
	}
	for i := range events {
		for _, c := range b {
			c.add(&events[i])
		}
	}
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
