package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/journeyd/journeyd/event"
)

// BatchSize is how many events one POST /v1/batch or POST /e carries, at most.
const BatchSize = 200

// Sender sends events to a running collector the way real clients would: browser events
// (page views, events, identify) as the snippet's batches to POST /e, one visitor's session
// at a time; email opens and clicks and ad impressions as pixels, GET /p.gif; server events
// through the Segment-compatible POST /v1/batch with the site's write key. Past event times
// go as they are, with the send time now, so the collector's clock correction keeps them.
type Sender struct {
	Target   string // base URL, e.g. http://127.0.0.1:8080
	WriteKey string
	Client   *http.Client
	Now      func() time.Time // the send-time clock; nil means time.Now
	Progress func(sent int)   // when not nil, called after each request with the events sent so far
	sent     int
}

// done counts n more events sent and reports the progress.
func (s *Sender) done(n int) {
	s.sent += n
	if s.Progress != nil {
		s.Progress(s.sent)
	}
}

// Send sends events, in order within each endpoint.
func (s *Sender) Send(ctx context.Context, events []event.Event) error {
	var server []event.Event
	var order []string
	sessions := map[string][]event.Event{}
	for _, e := range events {
		switch e.Type {
		case event.TypeEmailOpen, event.TypeEmailClick, event.TypeImpression:
			if err := s.pixel(ctx, &e); err != nil {
				return err
			}
			s.done(1)
		case event.TypeServer:
			server = append(server, e)
		default:
			key := e.AnonID + "\x00" + e.SessionID
			if _, ok := sessions[key]; !ok {
				order = append(order, key)
			}
			sessions[key] = append(sessions[key], e)
		}
	}
	for _, key := range order {
		if err := chunks(sessions[key], func(c []event.Event) error { return s.counted(len(c), s.beacon(ctx, c)) }); err != nil {
			return err
		}
	}
	return chunks(server, func(c []event.Event) error { return s.counted(len(c), s.batch(ctx, c)) })
}

// counted counts n events sent unless err says they were not.
func (s *Sender) counted(n int, err error) error {
	if err == nil {
		s.done(n)
	}
	return err
}

func chunks(events []event.Event, send func([]event.Event) error) error {
	for start := 0; start < len(events); start += BatchSize {
		end := min(start+BatchSize, len(events))
		if err := send(events[start:end]); err != nil {
			return fmt.Errorf("cannot send events %d-%d of %d: %w", start, end, len(events), err)
		}
	}
	return nil
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// beacon posts one visitor session's browser events in the snippet's format.
func (s *Sender) beacon(ctx context.Context, events []event.Event) error {
	first := &events[0]
	b := beaconBatch{Site: first.SiteID, AID: first.AnonID, SID: first.SessionID, Sent: ms(s.now())}
	for i := range events {
		e := &events[i]
		if e.UserID != "" {
			b.UID = e.UserID
		}
		be := beaconEvent{ID: e.ID, Type: e.Type, Name: e.Name, TS: ms(e.TS), URL: e.URL, Ref: e.Referrer,
			Revenue: e.Revenue, Currency: e.Currency, Props: props(e)}
		if e.Type == event.TypeIdentify {
			be.UID = e.UserID
		}
		b.Events = append(b.Events, be)
	}
	origin := "https://" + first.Host
	return s.post(ctx, "/e", "text/plain", b, func(h http.Header) {
		h.Set("Origin", origin)
		h.Set("User-Agent", first.UserAgent)
	})
}

type beaconBatch struct {
	Site   string        `json:"site"`
	AID    string        `json:"aid"`
	SID    string        `json:"sid"`
	UID    string        `json:"uid,omitempty"`
	Sent   int64         `json:"sent"`
	Events []beaconEvent `json:"events"`
}

type beaconEvent struct {
	ID       string            `json:"id"`
	Type     string            `json:"type"`
	Name     string            `json:"name,omitempty"`
	TS       int64             `json:"ts"`
	URL      string            `json:"url,omitempty"`
	Ref      string            `json:"ref,omitempty"`
	Props    map[string]string `json:"props,omitempty"`
	Revenue  float64           `json:"revenue,omitempty"`
	Currency string            `json:"currency,omitempty"`
	UID      string            `json:"uid,omitempty"`
}

func props(e *event.Event) map[string]string {
	if len(e.PropKeys) == 0 {
		return nil
	}
	m := make(map[string]string, len(e.PropKeys))
	for i, k := range e.PropKeys {
		m[k] = e.PropValues[i]
	}
	return m
}

// pixel sends an email or ad touch as GET /p.gif.
func (s *Sender) pixel(ctx context.Context, e *event.Event) error {
	q := url.Values{"s": {e.SiteID}, "t": {e.Type}, "n": {e.Name}, "a": {e.AnonID}, "id": {e.ID},
		"ts": {strconv.FormatInt(ms(e.TS), 10)}, "utm_source": {e.Source}, "utm_medium": {e.Medium},
		"utm_campaign": {e.Campaign}}
	if e.UserID != "" {
		q.Set("uid", e.UserID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(s.Target, "/")+"/p.gif?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("cannot make pixel request: %w", err)
	}
	req.Header.Set("User-Agent", e.UserAgent)
	return s.do(req)
}

// batch posts server events to the Segment-compatible API.
func (s *Sender) batch(ctx context.Context, events []event.Event) error {
	body := segmentBatch{SentAt: s.now().UTC().Format(time.RFC3339Nano), Batch: make([]message, len(events))}
	for i := range events {
		body.Batch[i] = toMessage(&events[i])
	}
	return s.post(ctx, "/v1/batch", "application/json", body, func(h http.Header) {
		h.Set("Authorization", "Basic "+basic(s.WriteKey))
	})
}

func (s *Sender) post(ctx context.Context, path, contentType string, body any, headers func(http.Header)) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("cannot encode %s body: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.Target, "/")+path, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cannot make request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	headers(req.Header)
	return s.do(req)
}

func (s *Sender) do(req *http.Request) error {
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot send to %s: %w", req.URL.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 || resp.Header.Get(rejectHeader) != "" {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("collector answered %s to %s: %s %s", resp.Status, req.URL.Path, bytes.TrimSpace(msg), resp.Header.Get(rejectHeader))
	}
	return nil
}

// rejectHeader is the header in which the collector's pixel says why it dropped an event
// (collector.RejectHeader); the pixel's status is always 200.
const rejectHeader = "X-Journeyd-Reject"
