package report

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/event/goal"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
)

// patchTraffic is March 6 to 15, 2026 (the overview's previous period, the 6th to the
// 10th, and its current one, the 11th to the 15th, today):
//   - Q (qa): a Paid Search session from 23:50 on the 10th past midnight, buying for 30 at
//     00:20 on the 11th: one session, of the previous period (its first visit), whose
//     purchase is in the current one; its rows are on both sides of the boundary.
//   - R (ra): an Email session at 10:00 on the 8th.
//   - P (pa): an Organic Search session at 09:00 on the 12th.
//   - U (ua, signed in as uu): a Direct session at 12:00 on the 13th, buying for 20 at 12:10.
//   - V (va): a Referral session at 14:00 on the 14th.
func patchTraffic() []event.Event {
	return []event.Event{
		morningEvent("qa-1", 10, 23, 50, "pageview", "", "qa", "", "sQ", "Paid Search", 0),
		morningEvent("qa-2", 11, 0, 10, "pageview", "", "qa", "", "sQ", "Paid Search", 0),
		morningEvent("qa-3", 11, 0, 20, "track", "purchase", "qa", "", "sQ", "", 30),
		morningEvent("ra-1", 8, 10, 0, "pageview", "", "ra", "", "sR", "Email", 0),
		morningEvent("pa-1", 12, 9, 0, "pageview", "", "pa", "", "sP1", "Organic Search", 0),
		morningEvent("ua-1", 13, 12, 0, "pageview", "", "ua", "uu", "sU", "Direct", 0),
		morningEvent("ua-2", 13, 12, 10, "track", "purchase", "ua", "uu", "sU", "", 20),
		morningEvent("va-1", 14, 14, 0, "pageview", "", "va", "", "sV", "Referral", 0),
	}
}

// TestPatchedReads: a Runner with a store patches the groups it kept of each touch_rows read
// (the overview's over both periods; the channels', journey reports' and top's over the
// current one, one read whatever their keys, its batches kept for the channel and for the
// whole first visit) when a day changes (patchreads.go): only the
// persons the changed day or the changed links touch are made again, from every day's
// parts. Every report answers as a fresh Runner without a store does (JSON compared), and
// the overview's totals and channels are those worked out by hand below, which a patch that
// left a returning person's earlier groups out (the person twice), kept a person an
// identify moved (an old day's session under its old person), or merged only the changed
// day's part of a session crossing the periods' boundary (the session counted in the
// current period) would not give. The first run of each of the two reads after a change
// is patched (every key it kept), the runs after it take the kept groups as they are.
func TestPatchedReads(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, patchTraffic())
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := &Runner{Conn: conn, DB: db, StoreBytes: 1 << 24, Metrics: m}
	reports := []struct {
		name string
		opts map[string]string
	}{
		{"channels", map[string]string{}},
		{"overview", map[string]string{"interval": "day"}},
		{"top", map[string]string{"dimension": "channel,source"}},
		{"attribution", map[string]string{"model": "all"}},
		{"paths", map[string]string{}},
		{"time-to-convert", map[string]string{}},
	}
	step := func(name string, patched float64, channels, totals string) {
		t.Helper()
		p0 := testutil.ToFloat64(m.patchedReads)
		for _, rep := range reports {
			opts := map[string]string{"from": "2026-03-11", "to": "2026-03-16"}
			for k, v := range rep.opts {
				opts[k] = v
			}
			req, err := ParseRequest("morning", goal.Definitions{}, opts, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			got := reportJSON(t, stored, rep.name, req)
			if want := reportJSON(t, &Runner{Conn: conn, DB: db}, rep.name, req); got != want {
				t.Errorf("%s: %s through the store:\n%s\nfrom a fresh Runner:\n%s", name, rep.name, got, want)
			}
			res, err := stored.Run(context.Background(), rep.name, req) // the kept groups as they are now
			if err != nil {
				t.Fatal(err)
			}
			switch rep.name {
			case "channels":
				if got := fmt.Sprint(res.Tables[0].Rows); got != channels {
					t.Errorf("%s: channels %s, want %s", name, got, channels)
				}
			case "overview":
				if got := fmt.Sprint(res.Tables[0].Rows); got != totals {
					t.Errorf("%s: the overview's totals %s, want %s", name, got, totals)
				}
			}
		}
		if n := testutil.ToFloat64(m.patchedReads) - p0; n != patched {
			t.Errorf("%s: %v reads patched, want %v", name, n, patched)
		}
	}
	// Cold, nothing to patch. Channels over the 11th to the 15th (sessions, people,
	// conversions, revenue), by sessions then name: Q's session has only its part of the
	// 11th in this period (its visit at 00:10, its purchase of 30): a Paid Search session.
	// The overview's totals (metric, value, previous, change): current, the sessions that
	// began in it: P's, U's and V's, 3 of 3 visitors; conversions Q's 30 (at 00:20 on the
	// 11th) and U's 20: 2, by 2 converters of 3 visitors (0.6667), revenue 50. Previous: Q's
	// session (first visit 23:50 on the 10th) and R's, 2 visitors, nothing bought.
	const coldChannels = "[[Direct 1 1 1 20] [Organic Search 1 1 0 0] [Paid Search 1 1 1 30] [Referral 1 1 0 0]]"
	const coldTotals = "[[visitors 3 2 0.5] [sessions 3 2 0.5] [conversions 2 0 <nil>] [conversion_rate 0.6667 0 <nil>] [revenue 50 0 <nil>]]"
	step("cold", 0, coldChannels, coldTotals)

	// Today, the 15th: P comes back from Paid Search at 08:00 and buys for 15 at 08:05; W
	// (wa) comes in Direct at 09:00; V signs in as uu at 09:30 (V and U are one person, uu,
	// V's session of the 14th, a day not read again, included). Current: 5 sessions (P's
	// two, U's, V's, W's) of 3 visitors (P, uu, W), 3 conversions (Q's 30, uu's 20, P's
	// 15) by 3 converters (1.0), revenue 65. Channels: Paid Search Q's and P's new session, 2
	// people, 2 conversions, 45; Direct U's and W's sessions, people uu and W.
	journeytest.Insert(t, conn, []event.Event{
		morningEvent("pa-2", 15, 8, 0, "pageview", "", "pa", "", "sP2", "Paid Search", 0),
		morningEvent("pa-3", 15, 8, 5, "track", "purchase", "pa", "", "sP2", "", 15),
		morningEvent("wa-1", 15, 9, 0, "pageview", "", "wa", "", "sW", "Direct", 0),
		morningEvent("va-2", 15, 9, 30, "identify", "", "va", "uu", "", "", 0),
	})
	morningChannels := "[[Direct 2 2 1 20] [Paid Search 2 2 2 45] [Organic Search 1 1 0 0] [Referral 1 1 0 0]]"
	morningTotals := "[[visitors 3 2 0.5] [sessions 5 2 1.5] [conversions 3 0 <nil>] [conversion_rate 1 0 <nil>] [revenue 65 0 <nil>]]"
	step("today changed, an identify", 2, morningChannels, morningTotals)

	// A late purchase on the boundary's first day: Q buys for 12 at 00:30 on the 11th in
	// its session (received today). Only the 11th is read again; Q's session is merged
	// from its part of the 10th (kept) and the 11th's: still a session of the previous
	// period, with a third conversion of the current one. Current: 4 conversions, 77,
	// converters unchanged (Q bought already); sessions and visitors as before. Channels
	// (the current period alone): Paid Search 3 conversions, 57.
	late := morningEvent("qa-4", 11, 0, 30, "track", "purchase", "qa", "", "sQ", "", 12)
	late.ReceivedAt = time.Date(2026, 3, 15, 10, 0, 0, 0, time.UTC)
	journeytest.Insert(t, conn, []event.Event{late})
	lateChannels := "[[Direct 2 2 1 20] [Paid Search 2 2 3 57] [Organic Search 1 1 0 0] [Referral 1 1 0 0]]"
	lateTotals := "[[visitors 3 2 0.5] [sessions 5 2 1.5] [conversions 4 0 <nil>] [conversion_rate 1 0 <nil>] [revenue 77 0 <nil>]]"
	step("a late purchase across the boundary", 2, lateChannels, lateTotals)
}
