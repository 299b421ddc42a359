package schema

import (
	"context"
	"testing"
	"time"

	"github.com/journeyd/journeyd/sql/store/chtest"
)

// TestTouchEventsUpgrade: a database at 0026 with events of every type, migrated to the
// latest schema, then given more events. touch_events holds a copy of every event that is
// not a page view, screen view or leave without a name, those stored before 0027 (its
// backfill) and after it (its view) alike, a bot's too, with the columns the reports read;
// a replay is a second copy, as in events.
func TestTouchEventsUpgrade(t *testing.T) {
	db, conn := chtest.Shared(t).NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	migrateBefore(t, ctx, conn, db, 27)
	// id, session, time, type, name, anon, user, path, referrer, source, medium, campaign, channel, device, country, browser, revenue, currency, bot
	before := []touchEvent{
		{"v1", "s1", "2026-05-04 10:00:00", "pageview", "", "a1", "", "/", "", "google", "cpc", "spring", "Paid Search", "mobile", "FR", "Safari", 0, "", 0},
		{"p1", "s1", "2026-05-04 10:05:00", "event", "purchase", "a1", "u1", "/thanks", "", "", "", "", "", "mobile", "FR", "Safari", 30, "EUR", 0},
		{"o1", "", "2026-05-04 09:00:00", "email_open", "", "m1", "u1", "", "", "newsletter", "email", "may", "Email", "desktop", "NL", "Gmail", 0, "", 0},
		{"c1", "", "2026-05-04 09:01:00", "email_click", "", "m1", "u1", "", "", "newsletter", "email", "may", "Email", "desktop", "NL", "Gmail", 0, "", 0},
		{"l1", "s1", "2026-05-04 10:06:00", "leave", "", "a1", "", "/thanks", "", "", "", "", "", "mobile", "FR", "Safari", 0, "", 0},
		{"n1", "s1", "2026-05-04 10:01:00", "pageview", "Pricing", "a1", "", "/pricing", "", "", "", "", "", "mobile", "FR", "Safari", 0, "", 0},
		{"b1", "s9", "2026-05-04 11:00:00", "event", "signup", "a9", "", "/", "", "", "", "", "", "bot", "US", "Bot", 0, "", 1},
		{"i1", "s1", "2026-05-04 10:07:00", "identify", "", "a1", "u1", "", "", "", "", "", "", "mobile", "FR", "Safari", 0, "", 0},
	}
	if err := insertTouchEvents(t, ctx, conn, db, before...); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, conn, db); err != nil {
		t.Fatal(err)
	}
	rows := func() []string {
		return chtest.Strings(t, ctx, conn, `SELECT concat(event_id, ' ', type, ' ', name, ' ', session_id, ' ', anon_id, ' ', user_id, ' ',
			channel, '|', source, '|', medium, '|', campaign, ' ', toString(revenue), ' ', toString(is_bot), ' ', toString(ts))
			FROM `+db+`.touch_events ORDER BY event_id, received_at`)
	}
	// Left out: v1 (a view without a name) and l1 (a leave). Kept: the purchase, the open
	// and the click, the named view n1, the bot's event b1 and the identify.
	want := []string{
		"b1 event signup s9 a9  ||| 0 1 2026-05-04 11:00:00",
		"c1 email_click   m1 u1 Email|newsletter|email|may 0 0 2026-05-04 09:01:00",
		"i1 identify  s1 a1 u1 ||| 0 0 2026-05-04 10:07:00",
		"n1 pageview Pricing s1 a1  ||| 0 0 2026-05-04 10:01:00",
		"o1 email_open   m1 u1 Email|newsletter|email|may 0 0 2026-05-04 09:00:00",
		"p1 event purchase s1 a1 u1 ||| 30 0 2026-05-04 10:05:00",
	}
	diffRows(t, "touch_events after the upgrade", rows(), want)

	// Through the view: a server event, a screen view without a name (left out) and one
	// with, an impression, and the purchase p1 replayed (a second copy, as in events).
	more := []touchEvent{
		{"s2", "", "2026-05-05 08:00:00", "server", "order_paid", "", "u1", "", "", "", "", "", "", "", "", "", 30, "EUR", 0},
		{"sc1", "s3", "2026-05-05 08:10:00", "screen", "", "a3", "", "", "", "", "", "", "", "mobile", "DE", "App", 0, "", 0},
		{"sc2", "s3", "2026-05-05 08:11:00", "screen", "Checkout", "a3", "", "", "", "", "", "", "", "mobile", "DE", "App", 0, "", 0},
		{"im1", "", "2026-05-05 07:00:00", "impression", "", "a3", "", "", "", "display", "banner", "q2", "Display", "mobile", "DE", "App", 0, "", 0},
		before[1],
	}
	if err := insertTouchEvents(t, ctx, conn, db, more...); err != nil {
		t.Fatal(err)
	}
	want = []string{
		want[0], want[1], want[2],
		"im1 impression   a3  Display|display|banner|q2 0 0 2026-05-05 07:00:00",
		want[3], want[4],
		want[5], want[5],
		"s2 server order_paid   u1 ||| 30 0 2026-05-05 08:00:00",
		"sc2 screen Checkout s3 a3  ||| 0 0 2026-05-05 08:11:00",
	}
	diffRows(t, "touch_events after more events", rows(), want)
}
