package segment

import (
	"errors"
	"time"

	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/collector/props"
	"github.com/journeyd/journeyd/event"
)

// DefaultLibrary is the lib column of messages that do not name their library.
const DefaultLibrary = "segment-api"

var types = [...]event.Type{
	Track: event.TypeServer, Identify: event.TypeIdentify, Page: event.TypePageview,
	Screen: event.TypeScreen, Group: event.TypeGroup, Alias: event.TypeAlias,
}

// message fills e and meta from the message m of kind k; batch is its batch, or nil.
func (p *Parser) message(e *event.Event, meta *Meta, k Kind, m, batch *fastjson.Value, now time.Time) error {
	e.Type, e.ReceivedAt = types[k], now
	e.ID, _ = props.String(m.Get("messageId"))
	e.UserID, _ = props.String(m.Get("userId"))
	e.AnonID, _ = props.String(m.Get("anonymousId"))
	if err := p.byKind(e, k, m); err != nil {
		return err
	}
	if e.UserID == "" && e.AnonID == "" {
		return errors.New("the message has neither userId nor anonymousId")
	}
	ctx := m.Get("context")
	meta.ClientIP = ctx.GetStringBytes("ip")
	meta.UserAgent = ctx.GetStringBytes("userAgent")
	pageFields(e, ctx.Get("page"))
	p.contextProps(e, k, m, ctx)
	campaign(e, ctx.GetObject("campaign"))
	if e.Library = first(ctx.Get("library", "name")); e.Library == "" {
		e.Library = p.batchLib
	}
	if e.Library == "" {
		e.Library = DefaultLibrary
	}
	e.SessionID = first(ctx.Get("session_id"), ctx.Get("sessionId"), m.Get("properties", "session_id"))
	setTime(e, m, batch, now)
	return nil
}

// byKind fills the fields that depend on the kind of call.
func (p *Parser) byKind(e *event.Event, k Kind, m *fastjson.Value) error {
	switch k {
	case Track:
		if e.Name, _ = props.String(m.Get("event")); e.Name == "" {
			return errors.New(`a track call needs "event", the event name`)
		}
	case Page, Screen:
		e.Name, _ = props.String(m.Get("name"))
		if k == Page {
			pageFields(e, m.Get("properties"))
		}
	case Identify:
		traits := m.GetObject("traits")
		if traits == nil {
			traits = m.GetObject("context", "traits")
		}
		p.fl.Object(e, "", traits)
	case Group:
		if id, ok := props.String(m.Get("groupId")); ok {
			e.SetProp("group_id", id)
		}
		p.fl.Object(e, "group", m.GetObject("traits"))
	case Alias:
		e.AnonID, _ = props.String(m.Get("previousId"))
		if e.AnonID == "" || e.UserID == "" {
			return errors.New(`an alias call needs "previousId" and "userId"`)
		}
	}
	p.properties(e, m.GetObject("properties"))
	return nil
}

// properties flattens the properties object o into e and fills revenue and currency.
func (p *Parser) properties(e *event.Event, o *fastjson.Object) {
	if o == nil {
		return
	}
	p.fl.Object(e, "", o)
	for _, key := range [...]string{"revenue", "total", "value"} {
		if f, ok := props.Float(o.Get(key)); ok {
			e.Revenue = f
			break
		}
	}
	if c, ok := props.String(o.Get("currency")); ok {
		e.Currency = c
	}
}

// contextProps keeps what the message's context says about the device and the user, which
// has no column of its own, as properties: context.os, context.app and context.traits
// flattened under their own names (context.os.name, context.app.version,
// context.traits.plan), context.locale and context.timezone as they are, and a page or
// screen call's top-level category (where the Python and RudderStack SDKs put it) as
// category, unless properties has one. context.os.name also fills the os column; the user
// agent, when it names an OS, wins at enrichment (collector/enrich/ua). An identify call
// whose traits came from context.traits does not store them twice.
func (p *Parser) contextProps(e *event.Event, k Kind, m, ctx *fastjson.Value) {
	if k == Page || k == Screen {
		if _, ok := e.Prop("category"); !ok {
			if c, ok := props.String(m.Get("category")); ok && c != "" {
				e.SetProp("category", c)
			}
		}
	}
	if ctx == nil || ctx.Type() != fastjson.TypeObject {
		return
	}
	e.OS = first(ctx.Get("os", "name"))
	p.fl.Object(e, "context.os", ctx.GetObject("os"))
	p.fl.Object(e, "context.app", ctx.GetObject("app"))
	for _, key := range [...]string{"locale", "timezone"} {
		if s := first(ctx.Get(key)); s != "" {
			e.SetProp("context."+key, s)
		}
	}
	if k != Identify || m.GetObject("traits") != nil {
		p.fl.Object(e, "context.traits", ctx.GetObject("traits"))
	}
}

// pageFields fills url, referrer and title from a page object (context.page or a page
// call's properties); fields already set win.
func pageFields(e *event.Event, page *fastjson.Value) {
	if page == nil || page.Type() != fastjson.TypeObject {
		return
	}
	if e.URL == "" {
		if e.URL = first(page.Get("url")); e.URL == "" {
			e.Path = first(page.Get("path"))
		}
	}
	if e.Referrer == "" {
		e.Referrer = first(page.Get("referrer"))
	}
	if e.Title == "" {
		e.Title = first(page.Get("title"))
	}
}

// campaign fills the campaign columns from context.campaign.
func campaign(e *event.Event, c *fastjson.Object) {
	if c == nil {
		return
	}
	e.Source, _ = props.String(c.Get("source"))
	e.Medium, _ = props.String(c.Get("medium"))
	e.Campaign, _ = props.String(c.Get("name"))
	e.Term, _ = props.String(c.Get("term"))
	e.Content, _ = props.String(c.Get("content"))
}

// first returns the first of vs that is a non-empty scalar, as a string.
func first(vs ...*fastjson.Value) string {
	for _, v := range vs {
		if v == nil || v.Type() == fastjson.TypeObject || v.Type() == fastjson.TypeArray {
			continue
		}
		if s, ok := props.String(v); ok && s != "" {
			return s
		}
	}
	return ""
}

// setTime sets e.TS from the message's timestamp, corrected by sentAt.
func setTime(e *event.Event, m, batch *fastjson.Value, now time.Time) {
	raw := m.Get("timestamp")
	if raw == nil {
		raw = m.Get("originalTimestamp")
	}
	sentV := m.Get("sentAt")
	if sentV == nil {
		sentV = batch.Get("sentAt")
	}
	ts, tsOK := parseTime(raw)
	sent, _ := parseTime(sentV)
	if raw == nil || raw.Type() == fastjson.TypeNull {
		e.TS = now
		return
	}
	ok := false
	if tsOK {
		e.TS, ok = clientclock.Correct(ts, sent, now)
	}
	if !ok {
		e.TS = now
		s, _ := props.String(raw)
		e.SetProp(clientclock.ClampedProp, s)
	}
}

// parseTime parses an ISO 8601 time as the SDKs send it.
func parseTime(v *fastjson.Value) (time.Time, bool) {
	if v == nil || v.Type() != fastjson.TypeString {
		return time.Time{}, false
	}
	b, _ := v.StringBytes()
	for _, layout := range [...]string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, string(b)); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
