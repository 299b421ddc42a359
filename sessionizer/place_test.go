package sessionizer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// rig is a Sessionizer with a hand-moved clock and a sink that keeps what it gets.
type rig struct {
	s   *Sessionizer
	now time.Time
	got []event.Event
	reg *prometheus.Registry
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	r := &rig{now: t0, reg: prometheus.NewRegistry()}
	cfg.Clock = event.ClockFunc(func() time.Time { return r.now })
	cfg.Registerer = r.reg
	sink := event.SinkFunc(func(_ context.Context, es []event.Event) error {
		r.got = append(r.got, es...)
		return nil
	})
	s, err := New(sink, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}

// step is one event arriving: at is its event time and arrive the clock when it arrives,
// both in minutes after t0 (arrive defaults to at).
type step struct {
	at, arrive float64
	e          event.Event
}

func (r *rig) send(t *testing.T, st step) event.Event {
	t.Helper()
	e := st.e
	if e.SiteID == "" {
		e.SiteID = "shop"
	}
	if e.AnonID == "" && e.UserID == "" {
		e.AnonID = "anon-1"
	}
	if e.Type == "" {
		e.Type = event.TypePageview
	}
	e.TS = t0.Add(time.Duration(st.at * float64(time.Minute)))
	arrive := st.arrive
	if arrive == 0 {
		arrive = st.at
	}
	if a := t0.Add(time.Duration(arrive * float64(time.Minute))); a.After(r.now) {
		r.now = a
	}
	if err := r.s.Write(context.Background(), []event.Event{e}); err != nil {
		t.Fatal(err)
	}
	return r.got[len(r.got)-1]
}

// groups turns session ids into labels by first appearance: a, a, b -> 0, 0, 1.
func groups(events []event.Event) []int {
	seen := map[string]int{}
	out := make([]int, len(events))
	for i, e := range events {
		if _, ok := seen[e.SessionID]; !ok {
			seen[e.SessionID] = len(seen)
		}
		out[i] = seen[e.SessionID]
	}
	return out
}

var (
	google   = event.Event{Source: "google", Medium: "organic", Channel: "Organic Search", ReferrerKind: "search", ReferrerHost: "www.google.com"}
	internal = event.Event{ReferrerKind: "internal", ReferrerHost: "shop.example"}
	spring   = event.Event{Source: "newsletter", Medium: "email", Campaign: "spring", Channel: "Email"}
	autumn   = event.Event{Source: "newsletter", Medium: "email", Campaign: "autumn", Channel: "Email"}
	server   = event.Event{Type: event.TypeServer, Name: "order_paid"}
)

func with(e event.Event, f func(*event.Event)) event.Event {
	f(&e)
	return e
}

func TestSessionRules(t *testing.T) {
	f := func(name string, steps []step, want []int) {
		t.Helper()
		r := newRig(t, Config{})
		for _, st := range steps {
			r.send(t, st)
		}
		got := groups(r.got)
		if len(got) != len(want) {
			t.Fatalf("%s: got %d events, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: sessions %v, want %v", name, got, want)
			}
		}
	}
	f("idle gap over the timeout", []step{{at: 0}, {at: 10}, {at: 41}}, []int{0, 0, 1})
	f("gaps under the timeout", []step{{at: 0}, {at: 29}, {at: 58}, {at: 87.9}}, []int{0, 0, 0, 0})
	f("max length", maxLengthSteps(), append(make([]int, 58), 1))
	f("campaign change", []step{{at: 0, e: spring}, {at: 5, e: internal}, {at: 10, e: autumn}, {at: 12, e: autumn}}, []int{0, 0, 1, 1})
	f("same campaign again", []step{{at: 0, e: spring}, {at: 5, e: internal}, {at: 10, e: spring}}, []int{0, 0, 0})
	f("internal navigation and tab return", []step{{at: 0, e: google}, {at: 5, e: internal}, {at: 10, e: internal}, {at: 25}}, []int{0, 0, 0, 0})
	f("external referrer", []step{{at: 0}, {at: 5, e: internal}, {at: 8, e: google}}, []int{0, 0, 1})
	f("new click id", []step{
		{at: 0, e: event.Event{ClickIDType: "gclid", ClickID: "x1"}},
		{at: 3, e: event.Event{ClickIDType: "gclid", ClickID: "x1"}},
		{at: 6, e: event.Event{ClickIDType: "gclid", ClickID: "x2"}},
	}, []int{0, 0, 1})
	f("late event decided by event time", []step{{at: 0}, {at: 10, arrive: 70}, {at: 20, arrive: 71}}, []int{0, 0, 0})
	f("late event before the open session", []step{{at: 100}, {at: 0, arrive: 101}, {at: 110}}, []int{0, 1, 0})
	f("out of order inside the session", []step{{at: 0}, {at: 20}, {at: 10}, {at: 45}}, []int{0, 0, 0, 0})
	f("out of order just before the session", []step{{at: 10}, {at: 30}, {at: 0, arrive: 31}, {at: 59}}, []int{0, 0, 0, 0})
	// A server event joins the open session but does not extend it: the pageview at 45 is
	// 45 minutes after the session's last visit event (0), past the 30-minute timeout.
	f("server event joins the open session", []step{{at: 0}, {at: 20, e: server}, {at: 45}}, []int{0, 0, 1})
	f("server event after the timeout", []step{{at: 0}, {at: 31, e: server}}, []int{0, 1})
	f("other visitors apart", []step{{at: 0}, {at: 1, e: event.Event{AnonID: "anon-2"}}, {at: 2}}, []int{0, 1, 0})
	f("other sites apart", []step{{at: 0}, {at: 1, e: event.Event{SiteID: "blog"}}, {at: 2}}, []int{0, 1, 0})
	f("email open joins, never starts", []step{
		{at: 0}, {at: 5, e: with(spring, func(e *event.Event) { e.Type = event.TypeEmailOpen })},
		{at: 10, e: internal}, {at: 50, e: with(autumn, func(e *event.Event) { e.Type = event.TypeEmailOpen })},
		{at: 52},
	}, []int{0, 0, 0, 1, 2})
}

// maxLengthSteps is a visitor active every 25 minutes for more than 24 hours.
func maxLengthSteps() []step {
	var steps []step
	for m := 0.0; m <= 24*60+10; m += 25 {
		steps = append(steps, step{at: m})
	}
	return steps
}

func TestClientSessionID(t *testing.T) {
	r := newRig(t, Config{})
	snip := func(id string) event.Event { return event.Event{SessionID: id} }
	f := func(st step, want string) {
		t.Helper()
		if got := r.send(t, st).SessionID; got != want {
			t.Fatalf("event at %v: session %q, want %q", st.at, got, want)
		}
	}
	f(step{at: 0, e: with(spring, func(e *event.Event) { e.SessionID = "s1" })}, "s1")
	f(step{at: 3, e: snip("s1")}, "s1")
	f(step{at: 10, e: server}, "s1")
	f(step{at: 12, e: snip("s2")}, "s2")
	f(step{at: 11, e: snip("s1")}, "s1")
	f(step{at: 13, e: server}, "s2")
	// Snippet events without a source of their own get the session's (only s1 had one).
	if got := r.got[1]; got.Campaign != "spring" || got.Source != "newsletter" || got.Channel != "Email" {
		t.Fatalf("internal event of s1: source %q/%q/%q, want newsletter/email/spring", got.Source, got.Medium, got.Campaign)
	}
	if got := r.got[2]; got.Campaign != "spring" {
		t.Fatalf("server event in s1: campaign %q, want spring", got.Campaign)
	}
	if got := r.got[5]; got.Campaign != "" {
		t.Fatalf("server event in s2: campaign %q, want none", got.Campaign)
	}
}

func TestSessionSourceCarried(t *testing.T) {
	r := newRig(t, Config{})
	r.send(t, step{at: 10, e: internal})
	r.send(t, step{at: 0, arrive: 11, e: spring}) // the landing page, late: it started the session
	got := r.send(t, step{at: 12, e: internal})
	if got.Source != "newsletter" || got.Medium != "email" || got.Campaign != "spring" || got.Channel != "Email" {
		t.Fatalf("internal pageview: %q/%q/%q/%q, want newsletter/email/spring/Email", got.Source, got.Medium, got.Campaign, got.Channel)
	}
	if groups(r.got)[2] != 0 || groups(r.got)[1] != 0 {
		t.Fatalf("sessions %v, want one", groups(r.got))
	}
}

func TestIdentity(t *testing.T) {
	r := newRig(t, Config{})
	id := func(user string) event.Event {
		return event.Event{Type: event.TypeIdentify, AnonID: "anon-1", UserID: user}
	}
	r.send(t, step{at: 0})
	r.send(t, step{at: 1, e: id("u1")})
	if got := r.send(t, step{at: 2}); got.UserID != "u1" {
		t.Fatalf("event after identify: user %q, want u1", got.UserID)
	}
	if got := r.send(t, step{at: 3, e: id("u2")}); got.UserID != "u2" {
		t.Fatalf("conflicting identify: user %q, want its own u2", got.UserID)
	}
	if got := r.send(t, step{at: 4}); got.UserID != "u1" {
		t.Fatalf("event after a conflicting identify: user %q, want u1", got.UserID)
	}
	if n := testutil.ToFloat64(r.s.m.conflicts); n != 1 {
		t.Fatalf("conflicts %v, want 1", n)
	}
	// A server event with the user id alone joins the session of the linked device.
	srv := r.send(t, step{at: 20, e: with(server, func(e *event.Event) { e.UserID = "u1" })})
	if srv.SessionID != r.got[0].SessionID {
		t.Fatalf("server event of u1: session %q, want the device's %q", srv.SessionID, r.got[0].SessionID)
	}
	// A second device linked to u1 becomes the one server events join.
	r.send(t, step{at: 21, e: event.Event{AnonID: "phone", UserID: "u1", Type: event.TypeEmailClick}})
	srv = r.send(t, step{at: 22, e: with(server, func(e *event.Event) { e.UserID = "u1" })})
	if srv.SessionID != r.got[len(r.got)-2].SessionID {
		t.Fatalf("server event of u1: session %q, want the phone's %q", srv.SessionID, r.got[len(r.got)-2].SessionID)
	}
}

func TestDeterministicSessionIDs(t *testing.T) {
	a, b := newRig(t, Config{}), newRig(t, Config{})
	for _, r := range []*rig{a, b} {
		r.send(t, step{at: 0, e: google})
		r.send(t, step{at: 40})
	}
	for i := range a.got {
		if a.got[i].SessionID != b.got[i].SessionID || len(a.got[i].SessionID) != 32 {
			t.Fatalf("event %d: nodes gave %q and %q, want the same 32-digit id", i, a.got[i].SessionID, b.got[i].SessionID)
		}
	}
}

func TestClientSessionCutAtMaxLength(t *testing.T) {
	r := newRig(t, Config{MaxLength: 2 * time.Hour})
	var ids []string
	for m := 0.0; m <= 250; m += 25 {
		ids = append(ids, r.send(t, step{at: m, e: event.Event{SessionID: "tab"}}).SessionID)
	}
	ids = append(ids, r.send(t, step{at: 251, e: server}).SessionID)
	want := []string{"tab", "tab", "tab", "tab", "tab", "tab.1", "tab.1", "tab.1", "tab.1", "tab.1", "tab.2", "tab.2"}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("sessions %v, want %v", ids, want)
	}
}

// TestVisitsAndTheRest pins DESIGN §6: only a visit starts, extends or re-sources a session;
// everything else joins the open session or stays outside any session (no session id).
func TestVisitsAndTheRest(t *testing.T) {
	direct := event.Event{Source: "(direct)", Medium: "(none)", Channel: "Direct"}
	typed := func(typ string, e event.Event) event.Event { e.Type = typ; return e }
	sid := func(r *rig, i int) string { return r.got[i].SessionID }

	// A return to the tab: an email visit, then a pageview without any referrer ten
	// minutes later. Enrichment calls it (direct)/(none); it joins and takes Email.
	r := newRig(t, Config{})
	r.send(t, step{at: 0, e: spring})
	got := r.send(t, step{at: 10, e: direct})
	if got.SessionID != sid(r, 0) || got.Channel != "Email" || got.Campaign != "spring" {
		t.Fatalf("direct pageview inside an email session: session %q (want %q), channel %q campaign %q; want Email/spring",
			got.SessionID, sid(r, 0), got.Channel, got.Campaign)
	}

	// A server event two hours after the visit stays outside any session; so does an
	// identify or an email open of a visitor never seen.
	r = newRig(t, Config{})
	r.send(t, step{at: 0, e: spring})
	if got := r.send(t, step{at: 120, e: with(server, func(e *event.Event) { e.UserID = "u1" })}); got.SessionID != "" {
		t.Fatalf("server event after the session ended: session %q, want none", got.SessionID)
	}
	for _, typ := range []string{event.TypeIdentify, event.TypeAlias, event.TypeGroup, event.TypeEmailOpen, event.TypeImpression, event.TypeServer} {
		r := newRig(t, Config{})
		if got := r.send(t, step{at: 0, e: event.Event{Type: typ, AnonID: "new", UserID: "u9"}}); got.SessionID != "" {
			t.Fatalf("%s of a visitor without a session: session %q, want none", typ, got.SessionID)
		}
	}

	// One Segment SDK flush (identify, page, screen, group, alias within milliseconds):
	// the identify comes before any visit and stays outside; page starts the one session,
	// screen, group and alias join it. The identify's link still fills later events.
	r = newRig(t, Config{})
	flush := []event.Event{
		{Type: event.TypeIdentify, UserID: "u6"}, {Type: event.TypePageview}, {Type: event.TypeScreen},
		{Type: event.TypeGroup}, {Type: event.TypeAlias, UserID: "u6"},
	}
	for i, e := range flush {
		e.AnonID = "v6"
		r.send(t, step{at: float64(i) / 60000, e: e})
	}
	if sid(r, 0) != "" || sid(r, 1) == "" || sid(r, 2) != sid(r, 1) || sid(r, 3) != sid(r, 1) || sid(r, 4) != sid(r, 1) {
		t.Fatalf("segment flush sessions %q, want none for the identify and one for the rest", []string{sid(r, 0), sid(r, 1), sid(r, 2), sid(r, 3), sid(r, 4)})
	}
	if r.got[1].UserID != "u6" {
		t.Fatalf("page after the identify: user %q, want u6", r.got[1].UserID)
	}

	// A user-id-only server event inside the linked device's open session joins it, takes
	// its source and does not extend it.
	r = newRig(t, Config{})
	r.send(t, step{at: 0, e: with(google, func(e *event.Event) { e.AnonID = "v2" })})
	r.send(t, step{at: 1, e: typed(event.TypeIdentify, event.Event{AnonID: "v2", UserID: "u2"})})
	got = r.send(t, step{at: 10, e: with(server, func(e *event.Event) { e.UserID = "u2" })})
	if got.SessionID != sid(r, 0) || got.Channel != "Organic Search" {
		t.Fatalf("server purchase of u2 inside the open session: session %q channel %q, want %q Organic Search", got.SessionID, got.Channel, sid(r, 0))
	}
	if got := r.send(t, step{at: 35, e: event.Event{AnonID: "v2"}}); got.SessionID == sid(r, 0) {
		t.Fatalf("pageview 35 minutes after the last visit event joined the old session: the server event extended it")
	}
}
