package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/journeyd/journeyd/sql/event"
)

// BatchSize is how many events one POST /v1/batch carries.
const BatchSize = 200

// Sender posts events to a running collector's Segment-compatible server API.
type Sender struct {
	Target   string // base URL, e.g. http://127.0.0.1:8080
	WriteKey string
	Client   *http.Client
	Now      func() time.Time // the sentAt clock; nil means time.Now
}

// Send posts events in batches. Each event keeps its past timestamp; sentAt is now, so the
// collector's clock-skew correction leaves the timestamps as they are.
func (s *Sender) Send(ctx context.Context, events []event.Event) error {
	for start := 0; start < len(events); start += BatchSize {
		end := min(start+BatchSize, len(events))
		if err := s.post(ctx, events[start:end]); err != nil {
			return fmt.Errorf("cannot send events %d-%d of %d: %w", start, end, len(events), err)
		}
	}
	return nil
}

func (s *Sender) post(ctx context.Context, events []event.Event) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	body := batch{SentAt: now().UTC().Format(time.RFC3339Nano), Batch: make([]message, len(events))}
	for i := range events {
		body.Batch[i] = toMessage(&events[i])
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("cannot encode batch: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(s.Target, "/")+"/v1/batch", bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cannot make request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(s.WriteKey, "")
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("cannot post to %s: %w", req.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("collector answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

type batch struct {
	Batch  []message `json:"batch"`
	SentAt string    `json:"sentAt"`
}

type message struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	UserID      string         `json:"userId,omitempty"`
	PreviousID  string         `json:"previousId,omitempty"`
	Event       string         `json:"event,omitempty"`
	Name        string         `json:"name,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
	Timestamp   string         `json:"timestamp"`
	Context     msgContext     `json:"context"`
}

type msgContext struct {
	UserAgent string         `json:"userAgent,omitempty"`
	Page      map[string]any `json:"page,omitempty"`
	Campaign  map[string]any `json:"campaign,omitempty"`
	SessionID string         `json:"sessionId,omitempty"`
	Library   map[string]any `json:"library"`
}

// toMessage turns an event into a Segment message: pageviews into page calls, identify into
// identify calls, everything else (email touches included, named by their type) into track.
func toMessage(e *event.Event) message {
	m := message{MessageID: e.ID, AnonymousID: e.AnonID, UserID: e.UserID,
		Timestamp: e.TS.UTC().Format(time.RFC3339Nano),
		Context: msgContext{UserAgent: e.UserAgent, SessionID: e.SessionID,
			Library: map[string]any{"name": "journeyd-gen", "version": "1"}}}
	props := map[string]any{}
	for i, k := range e.PropKeys {
		props[k] = e.PropValues[i]
	}
	switch e.Type {
	case event.TypePageview:
		m.Type, m.Name = "page", e.Path
		m.Context.Page = map[string]any{"url": e.URL, "path": e.Path, "referrer": e.Referrer}
	case event.TypeIdentify:
		m.Type = "identify"
	case event.TypeEmailOpen, event.TypeEmailClick:
		m.Type, m.Event = "track", e.Type
		props["campaign"] = e.Campaign
		m.Context.Campaign = map[string]any{"source": e.Source, "medium": e.Medium, "name": e.Campaign}
	default:
		m.Type, m.Event = "track", e.Name
	}
	if e.Revenue != 0 {
		props["revenue"], props["currency"] = e.Revenue, e.Currency
	}
	if len(props) > 0 {
		m.Properties = props
	}
	return m
}
