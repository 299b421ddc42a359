package sessionizer

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sql/store/visitors"
)

// Reload restores from ClickHouse the visitors whose session had an event within the
// session timeout (by the clock), so that a restart does not split their sessions: the most
// recent first, until the state holds Config.MemoryLimit, where it stops (the older ones
// would only be evicted again). db is the database of the events table (empty: the
// connection's). It may run while events are written: a visitor already held is newer and
// stays, and a restored one is placed behind every visitor held, as the least recently
// seen. journeyd_sessionizer_visitors_reloaded_total counts the visitors restored.
func (s *Sessionizer) Reload(ctx context.Context, conn driver.Conn, db string) error {
	since := time.UnixMilli(s.clock().UnixMilli() - s.timeoutMS)
	maxLen := time.Duration(s.maxLenMS) * time.Millisecond
	s.mu.Lock()
	room := s.table.max - s.table.len()
	s.mu.Unlock()
	return visitors.Recent(ctx, conn, db, since, maxLen, int64(room), func(v visitors.Visitor) error {
		if !s.restore(v) {
			return visitors.ErrEnough
		}
		return nil
	})
}

// restore puts one visitor's state back, unless a later one is held already, as the least
// recently seen visitor. It reports false, restoring nothing, when the state is full.
func (s *Sessionizer) restore(r visitors.Visitor) bool {
	kind, id := kindAnon, r.AnonID
	if id == "" {
		kind, id = kindUser, r.KeyUserID
	}
	if id == "" || r.SessionID == "" {
		return true
	}
	now := s.clock().UnixMilli()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(s.seed, r.SiteID, kind, id)
	v := s.table.get(k)
	if v != nil && v.last >= int64(r.LastMS) {
		return true
	}
	if v == nil {
		if s.table.full() {
			return false
		}
		v = s.table.addOldest(k)
	}
	v.session, v.part = strings.Clone(r.SessionID), cutPart(r.SessionID)
	v.start, v.last, v.seen = int64(r.StartMS), int64(r.LastMS), now
	e := event.Event{Source: r.Source, Medium: r.Medium, Campaign: r.Campaign, Term: r.Term,
		Content: r.Content, Channel: r.Channel, ClickID: r.ClickID,
		ReferrerHost: r.ReferrerHost, ReferrerKind: r.ReferrerKind}
	v.touch, v.source = 0, nil
	if hasTouch(&e) {
		v.touch, v.source = touchHash(s.seed, &e), s.sources.get(&e)
	}
	if r.LinkedUserID != "" && kind == kindAnon && v.user == "" {
		v.user = strings.Clone(r.LinkedUserID)
		v.userKey = key(s.seed, r.SiteID, kindUser, r.LinkedUserID)
		if _, taken := s.table.users[v.userKey]; !taken {
			s.table.users[v.userKey] = v.key
		}
	}
	s.m.reloaded.Inc()
	s.m.visitors.Set(float64(s.table.len()))
	return true
}

// cutPart returns N of a session id id.N that the sessionizer cut from a snippet session at
// the maximum length (snippet ids are digits only), else 0.
func cutPart(id string) uint16 {
	i := strings.LastIndexByte(id, '.')
	if i < 0 {
		return 0
	}
	n, err := strconv.ParseUint(id[i+1:], 10, 16)
	if err != nil {
		return 0
	}
	return uint16(n)
}
