// Package snowplow parses the Snowplow tracker protocol into events, so that Snowplow's
// browser tracker and its mobile trackers, which speak the same protocol, send to journeyd
// unchanged: the body of POST /com.snowplowanalytics.snowplow/tp2 (a payload_data
// self-describing JSON whose data is a batch of events) and the query of GET /i (one event,
// the tracker's GET mode and pixel). It owns the mapping from the protocol's fields to the
// event model; sites, origins, deduplication, the HTTP answers and enrichment belong to the
// collector.
//
// Mapping, per event (every value is a string, as the protocol sends it):
//
//	aid              the application id: the journeyd site id (App)
//	e                pv → pageview; pp → leave named page_ping, engaged_ms EngagedPerPing;
//	                 se → event named se_ac; ue → the self-describing event (below);
//	                 tr → event named purchase, revenue tr_tt, currency tr_cu;
//	                 ti → event named transaction_item
//	eid              event id
//	duid, sid, uid   anon_id, session_id, user_id (the tracker's domain user id and session
//	                 id are kept as the snippet's are: sessions stay whole across collectors)
//	url, refr, page  url, referrer, title
//	tv (else tna)    lib
//	ua, ip           the user agent and client address enrichment uses, when the tracker
//	                 sends them (mobile trackers); else the request's (Meta)
//	se_ca, se_la, se_pr, se_va
//	                 properties category, label, property, value (se_ac is the name, and
//	                 the property action too)
//	ue_pr, ue_px     a self-describing event: type event (screen for screen_view, named by
//	                 its data's name), named after the schema's name
//	                 (iglu:com.acme/add_to_cart/jsonschema/1-0-0 → add_to_cart), its data
//	                 flattened into properties, the schema URI in $schema; the ecommerce
//	                 plugin's snowplow_ecommerce_action is named by its type (add_to_cart,
//	                 checkout_step, ...), and its transaction is a purchase with the
//	                 revenue and currency of the transaction context entity
//	co, cx           contexts: each entity's data flattened into properties under its schema
//	                 name ("web_page.id"); a client_session entity (mobile trackers) gives
//	                 the anonymous and session id when duid and sid are absent
//	tr_id, tr_af, tr_tx, tr_sh, tr_ci, tr_st, tr_co
//	                 properties order_id, affiliation, tax, shipping, city, state, country
//	ti_id, ti_sk, ti_nm, ti_ca, ti_pr, ti_qu, ti_cu
//	                 properties order_id, sku, name, category, price, quantity; currency
//	pp_mix, pp_max, pp_miy, pp_may
//	                 properties of a page ping, the scroll offsets
//
// Base64 fields (cx, ue_px) are read in the URL-safe and the standard alphabet, padded or not.
//
// Times: the true timestamp ttm, when set, is the event time; otherwise the device's created
// timestamp dtm is corrected by its sent timestamp stm like Segment's sentAt,
// ts = receivedAt − (stm − dtm) (collector/clientclock). An absurd time is clamped to
// receivedAt and kept as sent in the property $ts_clamped.
//
// Engaged time: a page ping says that the visitor was active during the last heartbeat but
// not how long the heartbeat is. Each ping is stored as a leave of EngagedPerPing (10 s,
// the heartbeatDelay that Snowplow's documentation uses), so a page's engaged time is the
// sum over its pings, as in Snowplow's own data models.
//
// Errors: a body that is not a payload_data JSON with an array of events, a request without
// an application id, or one whose events name different application ids is refused whole
// (ErrInvalid). An event with an unknown e, or that is not an object, is dropped and counted;
// the rest is kept.
package snowplow

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/collector/props"
	"github.com/journeyd/journeyd/event"
)

// Paths of the protocol.
const (
	PostPath = "/com.snowplowanalytics.snowplow/tp2"
	GetPath  = "/i"
)

// EngagedPerPing is the engaged time a page ping stands for.
const EngagedPerPing = 10 * time.Second

// DefaultLibrary is the lib column of events that name no tracker version.
const DefaultLibrary = "snowplow"

// ErrInvalid is wrapped by the errors of a request that cannot be used.
var ErrInvalid = errors.New("invalid Snowplow payload")

// Meta is what an event says about its sender, for enrichment. The slices point into the
// Parser's memory or the request, valid until the Parser's next call.
type Meta struct {
	UserAgent []byte
	ClientIP  []byte
}

// Batch is a parsed request.
type Batch struct {
	// App is the application id of the events, the site id; it points into the Parser's
	// memory or the request.
	App []byte
	// Events are the accepted events, each owning its memory; Meta[i] belongs to Events[i].
	Events []event.Event
	Meta   []Meta
	// Dropped counts the events left out: not an object, or an unknown event type.
	Dropped int
}

// Parser parses tracker-protocol requests. It reuses its memory between calls: one Parser
// serves one goroutine at a time.
type Parser struct {
	body fastjson.Parser // the request body
	sub  fastjson.Parser // an embedded JSON: contexts, a self-describing event
	fl   props.Flattener
	raw  raw
	b64  []byte // base64 input in the standard alphabet
	dec  []byte // decoded base64
	strs map[string]string
	app  bool // the batch's application id is known: an event was read
	// transaction: the event being read is the ecommerce plugin's transaction, whose
	// revenue is in its transaction context entity.
	transaction bool
}

// ParsePost parses a tp2 body received at now, appending its events to dst[:0] and their
// Meta to meta[:0].
func (p *Parser) ParsePost(dst []event.Event, meta []Meta, body []byte, now time.Time) (Batch, error) {
	b := Batch{Events: dst[:0], Meta: meta[:0]}
	p.app = false
	v, err := p.body.ParseBytes(body)
	if err != nil {
		return b, fmt.Errorf("%w: cannot parse the body as JSON: %w", ErrInvalid, err)
	}
	schema := v.GetStringBytes("schema")
	if !strings.HasPrefix(string(schema), "iglu:com.snowplowanalytics.snowplow/payload_data/") {
		return b, fmt.Errorf(`%w: want {"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[events]}`, ErrInvalid)
	}
	data := v.Get("data")
	if data == nil || data.Type() != fastjson.TypeArray {
		return b, fmt.Errorf(`%w: "data" must be an array of events`, ErrInvalid)
	}
	arr, _ := data.Array()
	for _, ev := range arr {
		o, err := ev.Object()
		if err != nil {
			b.Dropped++
			continue
		}
		p.raw.reset()
		o.Visit(p.raw.setJSON)
		if err := p.add(&b, now); err != nil {
			return b, err
		}
	}
	return b, p.check(&b)
}

// ParseGet parses the query of a GET /i request received at now into one event, appended
// to dst[:0] (and its Meta to meta[:0]).
func (p *Parser) ParseGet(dst []event.Event, meta []Meta, args *fasthttp.Args, now time.Time) (Batch, error) {
	b := Batch{Events: dst[:0], Meta: meta[:0]}
	p.app = false
	p.raw.reset()
	for k, v := range args.All() {
		p.raw.set(k, v)
	}
	if err := p.add(&b, now); err != nil {
		return b, err
	}
	return b, p.check(&b)
}

// check refuses a batch without an application id or with nothing in it.
func (p *Parser) check(b *Batch) error {
	if len(b.App) == 0 && len(b.Events) > 0 {
		return fmt.Errorf("%w: the events have no application id (aid): set the tracker's appId to the journeyd site id", ErrInvalid)
	}
	if len(b.Events) == 0 && b.Dropped == 0 {
		return fmt.Errorf("%w: no events", ErrInvalid)
	}
	return nil
}

// add maps p.raw to an event of b, or counts it dropped.
func (p *Parser) add(b *Batch, now time.Time) error {
	r := &p.raw
	if !p.app {
		b.App, p.app = r.f[fAID], true
	} else if string(r.f[fAID]) != string(b.App) {
		return fmt.Errorf("%w: events of application ids %q and %q in one request: send each application's events in requests of their own", ErrInvalid, b.App, r.f[fAID])
	}
	b.Events = append(b.Events, event.Event{})
	b.Meta = append(b.Meta, Meta{})
	e, m := &b.Events[len(b.Events)-1], &b.Meta[len(b.Meta)-1]
	if !p.event(e, now) {
		clear(b.Events[len(b.Events)-1:])
		b.Events, b.Meta = b.Events[:len(b.Events)-1], b.Meta[:len(b.Meta)-1]
		b.Dropped++
		return nil
	}
	m.UserAgent, m.ClientIP = r.f[fUA], r.f[fIP]
	return nil
}

// decodeBase64 decodes Snowplow's base64 (URL-safe or standard, padded or not) into p.b64.
func (p *Parser) decodeBase64(s []byte) ([]byte, bool) {
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	p.b64 = append(p.b64[:0], s[:n]...)
	for i, c := range p.b64 {
		switch c {
		case '-':
			p.b64[i] = '+'
		case '_':
			p.b64[i] = '/'
		}
	}
	p.dec = append(p.dec[:0], make([]byte, base64.RawStdEncoding.DecodedLen(len(p.b64)))...)
	k, err := base64.RawStdEncoding.Decode(p.dec, p.b64)
	if err != nil {
		return nil, false
	}
	return p.dec[:k], true
}
