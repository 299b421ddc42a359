// Package segment parses the bodies of the Segment HTTP Tracking API (POST /v1/track,
// /v1/identify, /v1/page, /v1/screen, /v1/group, /v1/alias, /v1/batch) into events, so that
// the Segment and RudderStack SDKs that backends already use work unchanged against
// journeyd. It owns the mapping from Segment messages to the event model; write-key checks,
// size limits on the whole body, deduplication and the HTTP answers belong to the collector.
//
// Mapping, per message:
//
//	type             track → server, page → pageview, screen → screen, identify, alias, group;
//	                 a screen is an app's page view: a visit like a page call for the
//	                 sessionizer, Direct without a referrer for the channel step, an
//	                 interaction in the sessions table, the funnel step screen:NAME
//	messageId        event id (the collector generates one when it is missing)
//	anonymousId      anon_id; for alias, previousId → anon_id
//	userId           user_id
//	event            name (track); name (page, screen); groupId → property group_id (group)
//	properties       flattened into props (collector/props); revenue, else total, else
//	                 value → revenue; currency → currency
//	traits           flattened into props (identify); group traits under "group." (group)
//	context.ip, context.userAgent
//	                 the client address and user agent enrichment uses (Meta)
//	context.page.{url,referrer,title,path}, for page calls properties.{url,referrer,title,path}
//	                 url, referrer, title (path only when there is no url)
//	context.campaign.{source,medium,name,term,content}
//	                 source, medium, campaign, term, content
//	context.os, context.app, context.traits
//	                 flattened into props under their own names: context.os.name,
//	                 context.app.version, context.traits.plan (identify: context.traits is
//	                 the traits when traits is absent, and then stored once, unprefixed)
//	context.os.name  also os, unless the user agent names one (collector/enrich/ua)
//	context.locale, context.timezone
//	                 props context.locale, context.timezone
//	category         (page, screen; top level, as the Python and RudderStack SDKs send it)
//	                 prop category, unless properties has one
//	context.library.name (or the batch's)
//	                 lib
//	context.session_id, context.sessionId, properties.session_id
//	                 session_id, in that order: journeyd's extension, so that a backend can
//	                 put a server event into the browser session it belongs to
//
// Times: ts = receivedAt − (sentAt − timestamp), with originalTimestamp when timestamp is
// absent and the batch's sentAt when the message has none. A timestamp that cannot be
// parsed, or that lands before 2000 or more than a day after receivedAt, is clamped to
// receivedAt and kept as sent in the property $ts_clamped (collector/clientclock).
//
// A message must have userId or anonymousId (alias: userId and previousId), and a track its
// event name. A single call that breaks these rules is an error; inside a batch the message
// is dropped and counted, as is a message larger than MaxEventBytes, and the rest is kept.
// Strings are stored as sent; the collector replaces invalid UTF-8 and truncates (event.Normalize).
//
// The context fields are properties, not columns: they describe the sender rather than the
// journey, few reports break down by them, a column costs a migration on every installed
// database (and the cluster DDL), and props.key/props.value already answer
// `props.value[indexOf(props.key, 'context.app.version')]`. The one with a column, the OS,
// fills it.
package segment

import (
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/collector/props"
	"github.com/journeyd/journeyd/event"
)

// Limits of the Segment API.
const (
	MaxEventBytes = 32 << 10  // one message
	MaxBatchBytes = 500 << 10 // one request, after decompression
)

// Kind is the call a request makes: the last element of its path.
type Kind uint8

// The calls of the API.
const (
	Track Kind = iota + 1
	Identify
	Page
	Screen
	Group
	Alias
	Batch
)

var kinds = map[string]Kind{
	"track": Track, "identify": Identify, "page": Page, "screen": Screen,
	"group": Group, "alias": Alias, "batch": Batch, "import": Batch,
}

// KindOf returns the Kind of a call name (track, ..., batch; import is batch).
func KindOf(name string) (Kind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// Errors of Parse; the message of each says what to change.
var (
	ErrTooLarge = fmt.Errorf("message larger than %d bytes", MaxEventBytes)
	ErrInvalid  = errors.New("invalid message")
)

// Meta is what a message says about its original sender, for enrichment. The slices point
// into the Parser's memory, valid until its next Parse.
type Meta struct {
	ClientIP  []byte
	UserAgent []byte
}

// Call is a parsed request.
type Call struct {
	// WriteKey is the body's writeKey, if any; it points into the Parser's memory.
	WriteKey []byte
	// Events are the accepted messages; Meta[i] belongs to Events[i].
	Events []event.Event
	Meta   []Meta
	// Invalid and Oversize count the messages of a batch that were dropped.
	Invalid, Oversize int
}

// Parser parses API bodies. It reuses its memory between calls: one Parser serves one
// goroutine at a time.
type Parser struct {
	p        fastjson.Parser
	fl       props.Flattener
	buf      []byte
	batchLib string // the batch's context.library.name
}

// Parse parses the body of a call of kind k received at now, appending its events to
// dst[:0] and their Meta to meta[:0]. It returns ErrTooLarge for a single call over
// MaxEventBytes, and an error wrapping ErrInvalid, in words meant for the developer, for a
// body that cannot be used.
func (p *Parser) Parse(k Kind, body []byte, now time.Time, dst []event.Event, meta []Meta) (Call, error) {
	c := Call{Events: dst[:0], Meta: meta[:0]}
	if k != Batch && len(body) > MaxEventBytes {
		return c, ErrTooLarge
	}
	v, err := p.p.ParseBytes(body)
	if err != nil {
		return c, fmt.Errorf("%w: cannot parse body as JSON: %w", ErrInvalid, err)
	}
	if v.Type() != fastjson.TypeObject {
		return c, fmt.Errorf("%w: want a JSON object, got %s", ErrInvalid, v.Type())
	}
	c.WriteKey = v.GetStringBytes("writeKey")
	p.batchLib = ""
	if k != Batch {
		if err := p.add(&c, k, v, nil, now); err != nil {
			return c, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return c, nil
	}
	return c, p.batch(&c, v, now)
}

// batch parses the messages of a /v1/batch body v into c.
func (p *Parser) batch(c *Call, v *fastjson.Value, now time.Time) error {
	msgs := v.Get("batch")
	if msgs == nil || msgs.Type() != fastjson.TypeArray {
		return fmt.Errorf(`%w: a batch needs "batch": [messages]`, ErrInvalid)
	}
	p.batchLib = first(v.Get("context", "library", "name"))
	arr, _ := msgs.Array()
	for _, m := range arr {
		if p.buf = m.MarshalTo(p.buf[:0]); len(p.buf) > MaxEventBytes {
			c.Oversize++
			continue
		}
		k, ok := KindOf(string(m.GetStringBytes("type")))
		if !ok || k == Batch || p.add(c, k, m, v, now) != nil {
			c.Invalid++
		}
	}
	return nil
}

// add appends the message m of kind k to c; batch is the enclosing batch, or nil.
func (p *Parser) add(c *Call, k Kind, m, batch *fastjson.Value, now time.Time) error {
	if m.Type() != fastjson.TypeObject {
		return fmt.Errorf("want a JSON object, got %s", m.Type())
	}
	c.Events = append(c.Events, event.Event{})
	c.Meta = append(c.Meta, Meta{})
	e, meta := &c.Events[len(c.Events)-1], &c.Meta[len(c.Meta)-1]
	if err := p.message(e, meta, k, m, batch, now); err != nil {
		c.Events, c.Meta = c.Events[:len(c.Events)-1], c.Meta[:len(c.Meta)-1]
		return err
	}
	return nil
}
