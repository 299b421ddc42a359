package erase

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/chtest"
	"github.com/journeyd/journeyd/sql/store/schema"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// row is one event of the test data: id, anonymous id, user id, session.
type row struct{ id, anon, user, session string }

// data: user u1 on devices a1 and a2, and on a5, a device shared with user u2, who also
// has device a3.
var data = []row{
	{"e1", "a1", "", "s1"}, {"e2", "a1", "u1", "s1"},
	{"e3", "a2", "", "s2"}, {"e4", "a2", "u1", "s2"},
	{"e5", "a5", "", "s5"}, {"e6", "a5", "u1", "s5"},
	{"e7", "a5", "u2", "s6"},
	{"e8", "a3", "", "s3"}, {"e9", "a3", "u2", "s3"},
	{"e10", "", "u1", ""}, // a server event with the user id only
}

func setup(t *testing.T) (context.Context, driver.Conn) {
	t.Helper()
	srv := chtest.Shared(t)
	db, conn := srv.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	if err := schema.Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	b, err := conn.PrepareBatch(ctx, "INSERT INTO events (event_id, site_id, ts, received_at, type, name, anon_id, user_id, session_id)")
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, r := range data {
		at := ts.Add(time.Duration(i) * time.Minute)
		// a known user's events are purchases, which touch_events copies; the others views
		typ, name := "pageview", ""
		if r.user != "" {
			typ, name = "event", "purchase"
		}
		for _, site := range []string{"shop", "other"} { // the same ids on another site stay
			if err := b.Append(r.id, site, at, at, typ, name, r.anon, r.user, r.session); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	return ctx, conn
}

// column returns the values of query's one String column, sorted.
func column(t *testing.T, ctx context.Context, conn driver.Conn, query string) []string {
	t.Helper()
	out := chtest.Strings(t, ctx, conn, query)
	slices.Sort(out)
	return out
}

// TestEraseUser: erasing u1 deletes their events on every device they used, the anonymous
// events of those devices, their sessions and identity links; u2's events on the shared
// device, u2's other device and every row of the other site stay.
func TestEraseUser(t *testing.T) {
	ctx, conn := setup(t)
	p, err := Find(ctx, conn, "", "shop", "u1")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(p.AnonIDs)
	slices.Sort(p.Sessions)
	if !reflect.DeepEqual(p.UserIDs, []string{"u1"}) || !reflect.DeepEqual(p.AnonIDs, []string{"a1", "a2", "a5", "u1"}) {
		t.Fatalf("ids: users %v anons %v, want [u1] and [a1 a2 a5 u1]", p.UserIDs, p.AnonIDs)
	}
	if !reflect.DeepEqual(p.Sessions, []string{"s1", "s2", "s5"}) || p.Events != 7 || p.Links != 3 {
		t.Fatalf("plan: sessions %v, %d events, %d links; want [s1 s2 s5], 7 and 3", p.Sessions, p.Events, p.Links)
	}
	if err := Run(ctx, conn, "", p, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got, want := column(t, ctx, conn, "SELECT event_id FROM events WHERE site_id = 'shop'"), []string{"e7", "e8", "e9"}; !reflect.DeepEqual(got, want) {
		t.Errorf("events left %v, want %v", got, want)
	}
	// of the purchases (e2, e4, e6, e7, e9, e10) touch_events keeps, u2's
	if got, want := column(t, ctx, conn, "SELECT event_id FROM touch_events WHERE site_id = 'shop'"), []string{"e7", "e9"}; !reflect.DeepEqual(got, want) {
		t.Errorf("touch events left %v, want %v", got, want)
	}
	if got, want := column(t, ctx, conn, "SELECT session_id FROM sessions_v WHERE site_id = 'shop'"), []string{"s3", "s6"}; !reflect.DeepEqual(got, want) {
		t.Errorf("sessions left %v, want %v", got, want)
	}
	if got, want := column(t, ctx, conn, "SELECT concat(anon_id, '-', user_id) FROM identities WHERE site_id = 'shop'"), []string{"a3-u2", "a5-u2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("identity links left %v, want %v", got, want)
	}
	if got := column(t, ctx, conn, "SELECT event_id FROM events WHERE site_id = 'other'"); len(got) != len(data) {
		t.Errorf("the other site has %d events left, want all %d", len(got), len(data))
	}
	again, err := Find(ctx, conn, "", "shop", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if again.Events != 0 || again.Links != 0 || len(again.Sessions) != 0 {
		t.Errorf("after the erasure: %+v, want nothing left", again)
	}
}

// TestEraseAnonymousVisitor: an anonymous id never linked to a user is erased alone.
func TestEraseAnonymousVisitor(t *testing.T) {
	ctx, conn := setup(t)
	b, err := conn.PrepareBatch(ctx, "INSERT INTO events (event_id, site_id, ts, received_at, type, anon_id, session_id)")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	if err := b.Append("x1", "shop", at, at, "pageview", "anon-only", "sx"); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	p, err := Find(ctx, conn, "", "shop", "anon-only")
	if err != nil {
		t.Fatal(err)
	}
	if p.Events != 1 || p.Links != 0 || !reflect.DeepEqual(p.Sessions, []string{"sx"}) {
		t.Fatalf("plan %+v, want 1 event of session sx and no link", p)
	}
	if err := Run(ctx, conn, "", p, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := column(t, ctx, conn, "SELECT event_id FROM events WHERE site_id = 'shop'"); len(got) != len(data) || slices.Contains(got, "x1") {
		t.Errorf("events left %v, want the %d others and not x1", got, len(data))
	}
}

// TestFindNeedsSiteAndPerson: an empty site or person is refused before any query.
func TestFindNeedsSiteAndPerson(t *testing.T) {
	if _, err := Find(context.Background(), nil, "", "", "u1"); err == nil {
		t.Error("Find with no site: no error")
	}
	if _, err := Find(context.Background(), nil, "", "shop", ""); err == nil {
		t.Error("Find with no person: no error")
	}
}
