// Package beacon parses the batches that the browser snippet posts to POST /e into events.
// It owns the wire format agreed with the snippet; origin checks, the HTTP answer and
// enrichment belong to the collector.
//
// The body is one JSON object:
//
//	{"site":"shop","aid":"<anon id>","sid":"<session id>","uid":"<user id, optional>",
//	 "sent":<client ms epoch at send>,
//	 "utm":{"source":"","medium":"","campaign":"","term":"","content":""},
//	 "click":{"type":"yclid","id":"..."},
//	 "events":[{"id":"<event id>","type":"pageview|event|identify|leave","name":"",
//	            "ts":<client ms epoch>,"url":"","ref":"","title":"",
//	            "props":{"k":"v"},"engaged":<ms, leave only>,
//	            "revenue":0,"currency":"","uid":"<user id for identify>"}]}
//
// Event times are corrected for the client's clock skew and checked by collector/clientclock.
// The batch's utm and click are the session's campaign; they fill an event's campaign columns
// only when the event's own URL carries no utm_ parameter and no click id, so that the
// campaign in the URL wins. A malformed event (not an object, an unknown type) is dropped and
// counted; the rest of the batch is kept. Properties are flattened by collector/props.
package beacon

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/collector/props"
	"github.com/journeyd/journeyd/event"
)

// Library is the lib column of snippet events.
const Library = "journeyd.js"

// ErrNoSite is returned for a batch without a site.
var ErrNoSite = errors.New(`the batch has no "site": set data-site on the snippet's script tag`)

// Batch is a parsed batch.
type Batch struct {
	// Site is the site id; it points into the Parser's memory, valid until its next Parse.
	Site []byte
	// Events are the well-formed events, each owning its memory.
	Events []event.Event
	// Dropped counts the malformed events left out.
	Dropped int
}

// Parser parses batches. It reuses its memory between calls: one Parser serves one
// goroutine at a time.
type Parser struct {
	p  fastjson.Parser
	fl props.Flattener
}

// header is the batch-level fields every event shares.
type header struct {
	aid, sid, uid string
	sent, now     time.Time
	utm           *fastjson.Object
	click         *fastjson.Object
}

// Parse parses body, received at now, appending its events to dst[:0]. An error says what
// is wrong with the batch as a whole, in words meant for the snippet's developer.
func (p *Parser) Parse(dst []event.Event, body []byte, now time.Time) (Batch, error) {
	b := Batch{Events: dst[:0]}
	v, err := p.p.ParseBytes(body)
	if err != nil {
		return b, fmt.Errorf("cannot parse batch as JSON: %w", err)
	}
	if v.Type() != fastjson.TypeObject {
		return b, fmt.Errorf("cannot parse batch: want a JSON object, got %s", v.Type())
	}
	if b.Site = v.GetStringBytes("site"); len(b.Site) == 0 {
		return b, ErrNoSite
	}
	evs := v.Get("events")
	if evs == nil || evs.Type() != fastjson.TypeArray {
		return b, fmt.Errorf(`cannot parse batch: "events" must be an array`)
	}
	h := header{
		aid: str(v, "aid"), sid: str(v, "sid"), uid: str(v, "uid"), now: now,
		utm: v.GetObject("utm"), click: v.GetObject("click"),
	}
	if ms, ok := props.Millis(v.Get("sent")); ok {
		h.sent = clientclock.FromMillis(ms)
	}
	arr, _ := evs.Array()
	for _, ev := range arr {
		b.Events = append(b.Events, event.Event{})
		if !p.event(&b.Events[len(b.Events)-1], ev, &h) {
			b.Events = b.Events[:len(b.Events)-1]
			b.Dropped++
		}
	}
	return b, nil
}

// event fills e from the JSON event v; false means v is malformed.
func (p *Parser) event(e *event.Event, v *fastjson.Value, h *header) bool {
	if v.Type() != fastjson.TypeObject {
		return false
	}
	if e.Type = eventType(v.GetStringBytes("type")); e.Type == "" {
		return false
	}
	e.ID, e.Name, e.URL = str(v, "id"), str(v, "name"), str(v, "url")
	e.Referrer, e.Title, e.Currency = str(v, "ref"), str(v, "title"), str(v, "currency")
	e.AnonID, e.SessionID, e.UserID = h.aid, h.sid, h.uid
	if uid := str(v, "uid"); uid != "" {
		e.UserID = uid
	}
	e.Library, e.ReceivedAt = Library, h.now
	e.Revenue, _ = props.Float(v.Get("revenue"))
	if ms, ok := props.Millis(v.Get("engaged")); ok && e.Type == event.TypeLeave {
		e.EngagedMS = uint32(min(max(ms, 0), 1<<31))
	}
	p.fl.Object(e, "", v.GetObject("props"))
	setTime(e, v.Get("ts"), h)
	if !HasCampaign(e.URL) {
		setCampaign(e, h)
	}
	return true
}

// eventType returns the type constant for a snippet event type, or "" for an unknown one.
func eventType(b []byte) event.Type {
	switch string(b) {
	case event.TypePageview:
		return event.TypePageview
	case event.TypeEvent:
		return event.TypeEvent
	case event.TypeIdentify:
		return event.TypeIdentify
	case event.TypeLeave:
		return event.TypeLeave
	}
	return ""
}

// setTime sets e.TS from the event's ts, corrected by the batch's sent time.
func setTime(e *event.Event, ts *fastjson.Value, h *header) {
	ms, ok := props.Millis(ts)
	if !ok {
		if raw, present := props.String(ts); present {
			e.SetProp(clientclock.ClampedProp, raw)
		}
		e.TS = h.now
		return
	}
	if e.TS, ok = clientclock.Correct(clientclock.FromMillis(ms), h.sent, h.now); !ok {
		raw, _ := props.String(ts)
		e.SetProp(clientclock.ClampedProp, raw)
	}
}

// setCampaign copies the session's campaign and click id of the batch into e.
func setCampaign(e *event.Event, h *header) {
	if h.utm != nil {
		e.Source, e.Medium = objStr(h.utm, "source"), objStr(h.utm, "medium")
		e.Campaign, e.Term = objStr(h.utm, "campaign"), objStr(h.utm, "term")
		e.Content = objStr(h.utm, "content")
	}
	if h.click != nil {
		e.ClickIDType, e.ClickID = objStr(h.click, "type"), objStr(h.click, "id")
	}
}

// str returns the string member key of v as an owned string; "" when it is not a string.
func str(v *fastjson.Value, key string) string {
	return string(v.GetStringBytes(key))
}

func objStr(o *fastjson.Object, key string) string {
	v := o.Get(key)
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	b, _ := v.StringBytes()
	return string(b)
}
