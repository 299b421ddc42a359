package journey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/journeyd/journeyd/event"
	"github.com/journeyd/journeyd/sessionizer"
	"github.com/journeyd/journeyd/sql/analysis/journey"
	"github.com/journeyd/journeyd/sql/analysis/journey/journeytest"
	"github.com/journeyd/journeyd/sql/store/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

var day1 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// crossDevice is a person's path: anonymous browsing on a laptop from a search, sign-up
// (identify), an anonymous phone visit, an email click on that phone that carries the user
// id, and a payment reported by the backend with the user id alone. Another visitor browses
// at the same time, and a second user signs in on the laptop later (a conflicting link).
func crossDevice() []event.Event {
	at := func(d time.Duration) time.Time { return day1.Add(d) }
	pv := func(id, anon, path string, ts time.Time) event.Event {
		return event.Event{ID: id, SiteID: "shop", Type: event.TypePageview, AnonID: anon, Path: path,
			Host: "shop.example", TS: ts, ReceivedAt: ts, ReferrerKind: "internal", Device: "desktop"}
	}
	landing := pv("e01", "laptop", "/", at(0))
	landing.ReferrerKind, landing.ReferrerHost = "search", "www.google.com"
	landing.Source, landing.Medium, landing.Channel = "google", "organic", "Organic Search"
	signup := event.Event{ID: "e04", SiteID: "shop", Type: event.TypeIdentify, AnonID: "laptop", UserID: "user-42", TS: at(6 * time.Minute)}
	phone1 := pv("e06", "phone", "/product/1", at(3*time.Hour))
	phone1.Device = "mobile"
	click := event.Event{ID: "e07", SiteID: "shop", Type: event.TypeEmailClick, AnonID: "phone", UserID: "user-42",
		TS: at(26 * time.Hour), Source: "newsletter", Medium: "email", Campaign: "spring", Channel: "Email", Device: "mobile"}
	phone2 := pv("e08", "phone", "/product/1", at(26*time.Hour+time.Minute))
	phone2.Device = "mobile"
	paid := event.Event{ID: "e09", SiteID: "shop", Type: event.TypeServer, Name: "order_paid", UserID: "user-42",
		TS: at(26*time.Hour + 9*time.Minute), Revenue: 99.5, Currency: "EUR"}
	other := pv("e10", "someone-else", "/", at(time.Minute))
	shared := event.Event{ID: "e11", SiteID: "shop", Type: event.TypeIdentify, AnonID: "laptop", UserID: "user-99", TS: at(50 * time.Hour)}
	return []event.Event{
		landing, pv("e02", "laptop", "/product/1", at(2*time.Minute)), other,
		pv("e03", "laptop", "/signup", at(5*time.Minute)), signup, pv("e05", "laptop", "/account", at(7*time.Minute)),
		phone1, click, phone2, paid, shared,
	}
}

// sessionize runs events through a real sessionizer, one at a time, the clock following.
func sessionize(t *testing.T, events []event.Event) []event.Event {
	t.Helper()
	var out []event.Event
	now := day1
	s, err := sessionizer.New(event.SinkFunc(func(_ context.Context, es []event.Event) error {
		out = append(out, es...)
		return nil
	}), sessionizer.Config{Clock: event.ClockFunc(func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		now = e.TS
		if err := s.Write(context.Background(), []event.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestCrossDeviceJourney(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, sessionize(t, crossDevice()))
	ctx := context.Background()
	for _, id := range []string{"user-42", "phone", "laptop"} {
		j, err := journey.Person(ctx, conn, db, "shop", id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Person != "user-42" {
			t.Fatalf("person of %q: %q, want user-42", id, j.Person)
		}
		var ids []string
		for _, tp := range j.Touchpoints {
			ids = append(ids, tp.EventID)
		}
		if got, want := strings.Join(ids, " "), "e01 e02 e03 e04 e05 e06 e07 e08 e09"; got != want {
			t.Fatalf("journey of %q: touchpoints %s, want %s", id, got, want)
		}
		checkSessions(t, j)
		if len(j.Conversions) != 1 || j.Conversions[0].EventID != "e09" || j.Conversions[0].Revenue != 99.5 {
			t.Fatalf("conversions %+v, want e09 with 99.5", j.Conversions)
		}
	}
}

// checkSessions wants three sessions: the laptop's from the search, the anonymous phone
// visit, and the phone's from the email that the payment joined.
func checkSessions(t *testing.T, j *journey.Journey) {
	t.Helper()
	var got []string
	for _, s := range j.Sessions {
		got = append(got, fmt.Sprintf("%s/%s/%s pv=%d ev=%d conv=%d rev=%.1f bounce=%v %s",
			s.Source, s.Medium, s.Channel, s.Pageviews, s.Events, s.Conversions, s.Revenue, s.Bounce, s.EntryPage))
	}
	want := []string{
		"google/organic/Organic Search pv=4 ev=5 conv=0 rev=0.0 bounce=false /",
		"//Direct pv=1 ev=1 conv=0 rev=0.0 bounce=true /product/1", // a visit without a source is Direct, as in sessions_v
		"newsletter/email/Email pv=1 ev=3 conv=1 rev=99.5 bounce=true /product/1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sessions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tp := j.Touchpoints
	if tp[8].SessionID != tp[7].SessionID || tp[7].SessionID == tp[5].SessionID {
		t.Fatalf("payment in session %q, want the email session %q", tp[8].SessionID, tp[7].SessionID)
	}
}

func TestJourneyJSON(t *testing.T) {
	conn, db := journeytest.Database(t)
	journeytest.Insert(t, conn, sessionize(t, crossDevice()))
	j, err := journey.Person(context.Background(), conn, db, "shop", "user-42")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := journey.Write(&buf, j, "json"); err != nil {
		t.Fatal(err)
	}
	var back journey.Journey
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Touchpoints) != 9 || len(back.Sessions) != 3 || strings.Join(back.AnonIDs, ",") != "laptop,phone" {
		t.Fatalf("JSON round trip: %d touchpoints, %d sessions, anon ids %v", len(back.Touchpoints), len(back.Sessions), back.AnonIDs)
	}
	buf.Reset()
	if err := journey.Write(&buf, j, "text"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Journey of user-42 on shop: 3 sessions, 9 touchpoints, 1 conversion", "google / organic [Organic Search]", "order_paid 99.50 EUR"} {
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("text output lacks %q:\n%s", want, buf.String())
		}
	}
}
