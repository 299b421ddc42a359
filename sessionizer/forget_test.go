package sessionizer

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
)

// TestForget: user u1 signed in on devices a1 and a2, u2 on a3. Forgetting u1 and a1 (as an
// erasure of u1 does, having found a1 in ClickHouse; a2's link is not there yet) drops a1,
// a2 (linked to u1 here) and nothing of u2: 2 visitors. a1 and a2 then get no user id, a
// server event of u1 alone joins no device's session, and a3 keeps u2.
func TestForget(t *testing.T) {
	r := newRig(t, Config{})
	r.send(t, step{at: 0, e: event.Event{AnonID: "a1", UserID: "u1", Type: event.TypeIdentify}})
	r.send(t, step{at: 1, e: event.Event{AnonID: "a2", UserID: "u1", Type: event.TypeIdentify}})
	r.send(t, step{at: 1, e: event.Event{AnonID: "a3", UserID: "u2", Type: event.TypeIdentify}})
	a2 := r.send(t, step{at: 2, e: event.Event{AnonID: "a2"}})
	if a2.UserID != "u1" {
		t.Fatalf("before the erasure a2's pageview has user %q, want u1", a2.UserID)
	}
	if n := r.s.Forget("shop", []string{"u1"}, []string{"a1", "u1"}); n != 2 {
		t.Fatalf("forgot %d visitors, want 2 (a1, a2)", n)
	}
	if v := testutil.ToFloat64(r.s.m.evictions.WithLabelValues("erased")); v != 2 {
		t.Errorf("evictions{reason=erased} = %v, want 2", v)
	}
	for _, anon := range []string{"a1", "a2"} {
		if e := r.send(t, step{at: 3, e: event.Event{AnonID: anon}}); e.UserID != "" {
			t.Errorf("%s after the erasure: user %q, want none", anon, e.UserID)
		}
	}
	if e := r.send(t, step{at: 3, e: event.Event{UserID: "u1", Type: event.TypeServer}}); e.SessionID == a2.SessionID {
		t.Errorf("a server event of u1 joined a2's session %q after the erasure", e.SessionID)
	}
	if e := r.send(t, step{at: 3, e: event.Event{AnonID: "a3"}}); e.UserID != "u2" {
		t.Errorf("a3 lost its link to u2: user %q", e.UserID)
	}
}
