package gen

import (
	"encoding/base64"
	"time"

	"github.com/journeyd/journeyd/event"
)

type segmentBatch struct {
	Batch  []message `json:"batch"`
	SentAt string    `json:"sentAt"`
}

type message struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	UserID      string         `json:"userId,omitempty"`
	Event       string         `json:"event,omitempty"`
	Properties  map[string]any `json:"properties,omitempty"`
	Timestamp   string         `json:"timestamp"`
	Context     msgContext     `json:"context"`
}

type msgContext struct {
	SessionID string         `json:"sessionId,omitempty"`
	Library   map[string]any `json:"library"`
}

// toMessage turns a server event into a Segment track call.
func toMessage(e *event.Event) message {
	m := message{Type: "track", MessageID: e.ID, AnonymousID: e.AnonID, UserID: e.UserID, Event: e.Name,
		Timestamp: e.TS.UTC().Format(time.RFC3339Nano),
		Context:   msgContext{SessionID: e.SessionID, Library: map[string]any{"name": "journeyd-gen", "version": "1"}}}
	p := map[string]any{}
	for i, k := range e.PropKeys {
		p[k] = e.PropValues[i]
	}
	if e.Revenue != 0 {
		p["revenue"], p["currency"] = e.Revenue, e.Currency
	}
	if len(p) > 0 {
		m.Properties = p
	}
	return m
}

func basic(key string) string { return base64.StdEncoding.EncodeToString([]byte(key + ":")) }
