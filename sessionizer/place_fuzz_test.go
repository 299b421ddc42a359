package sessionizer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
)

// FuzzSessionize feeds arbitrary event sequences (each event decoded from 4 bytes: visitor,
// type and source, time step, snippet id) through a small Sessionizer and checks what must
// always hold: every event leaves with a session id, a snippet's id is kept (or cut into a
// part of it), and the state stays within its limit with its list and index in agreement.
func FuzzSessionize(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 0, 1, 200, 0, 1, 2, 5, 1, 2, 3, 250, 2})
	f.Add([]byte{5, 9, 1, 3, 5, 9, 255, 3, 6, 7, 128, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:min(len(data), 4*200)] // 200 events reach every state of 3 visitors
		now := t0
		s, err := New(discard, Config{MemoryLimit: 3 * VisitorBytes, MaxLength: 3 * time.Hour, Clock: event.ClockFunc(func() time.Time { return now })})
		if err != nil {
			t.Fatal(err)
		}
		for ; len(data) >= 4; data = data[4:] {
			e := fuzzEvent(data[:4], &now)
			snippet := e.SessionID
			es := []event.Event{e}
			if err := s.Write(context.Background(), es); err != nil {
				t.Fatal(err)
			}
			if es[0].SessionID == "" && event.Visit(es[0].Type) || snippet != "" && !strings.HasPrefix(es[0].SessionID, snippet) {
				t.Fatalf("event %+v left with session %q", e, es[0].SessionID)
			}
			checkTable(t, s.table)
		}
	})
}

func fuzzEvent(b []byte, now *time.Time) event.Event {
	anons := []string{"", "a", "b", "c", "d"}
	users := []string{"", "u1", "u2"}
	types := []string{event.TypePageview, event.TypeServer, event.TypeIdentify, event.TypeEmailOpen, event.TypeImpression}
	e := event.Event{SiteID: "shop", AnonID: anons[int(b[0])%len(anons)], UserID: users[int(b[0]/8)%len(users)],
		Type: types[int(b[1])%len(types)], ID: string(b)}
	switch b[1] / 8 % 4 {
	case 1:
		e.Campaign, e.Source = "spring", "newsletter"
	case 2:
		e.ReferrerKind, e.ReferrerHost = "search", "google.com"
	case 3:
		e.ReferrerKind = "internal"
	}
	*now = now.Add(time.Duration(int8(b[2])) * time.Minute)
	e.TS = *now
	if b[3]%4 == 1 {
		e.TS = now.Add(-time.Duration(b[3]) * time.Minute) // late
	}
	if b[3]%3 == 2 {
		e.SessionID = string('0' + b[3]%5)
	}
	return e
}

// checkTable checks that the recency list and the index hold the same visitors.
func checkTable(t *testing.T, tb *table) {
	t.Helper()
	n := 0
	var newer uint32
	for v := tb.at(tb.head); v != nil; v = tb.at(v.older) {
		if tb.index[v.key] != v.slot || v.newer != newer {
			t.Fatalf("visitor %d: list and index disagree", v.key)
		}
		newer = v.slot
		if n++; n > tb.len() {
			t.Fatalf("the recency list has a cycle or more than the %d indexed visitors", tb.len())
		}
	}
	if n != tb.len() || n > tb.max || tb.tail != newer {
		t.Fatalf("list holds %d visitors, index %d, max %d", n, tb.len(), tb.max)
	}
	for uk, vk := range tb.users {
		if v := tb.get(vk); v == nil || v.userKey != uk {
			t.Fatalf("user link %d points to a visitor without it", uk)
		}
	}
}
