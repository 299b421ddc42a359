package snowplow

import (
	"bytes"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/collector/clientclock"
	"github.com/journeyd/journeyd/collector/props"
	"github.com/journeyd/journeyd/event"
)

// The protocol fields read, as indexes of raw.f.
const (
	fE = iota
	fAID
	fEID
	fDUID
	fSID
	fUID
	fURL
	fRefr
	fPage
	fTV
	fTNA
	fUA
	fIP
	fDTM
	fSTM
	fTTM
	fCO
	fCX
	fUEPR
	fUEPX
	fSECA
	fSEAC
	fSELA
	fSEPR
	fSEVA
	fTRID
	fTRAF
	fTRTT
	fTRTX
	fTRSH
	fTRCI
	fTRST
	fTRCO
	fTRCU
	fTIID
	fTISK
	fTINM
	fTICA
	fTIPR
	fTIQU
	fTICU
	fPPMIX
	fPPMAX
	fPPMIY
	fPPMAY
	nFields
)

// fieldIndex maps a protocol key to its index in raw.f.
var fieldIndex = map[string]int{
	"e": fE, "aid": fAID, "eid": fEID, "duid": fDUID, "sid": fSID, "uid": fUID,
	"url": fURL, "refr": fRefr, "page": fPage, "tv": fTV, "tna": fTNA, "ua": fUA, "ip": fIP,
	"dtm": fDTM, "stm": fSTM, "ttm": fTTM, "co": fCO, "cx": fCX, "ue_pr": fUEPR, "ue_px": fUEPX,
	"se_ca": fSECA, "se_ac": fSEAC, "se_la": fSELA, "se_pr": fSEPR, "se_va": fSEVA,
	"tr_id": fTRID, "tr_af": fTRAF, "tr_tt": fTRTT, "tr_tx": fTRTX, "tr_sh": fTRSH,
	"tr_ci": fTRCI, "tr_st": fTRST, "tr_co": fTRCO, "tr_cu": fTRCU,
	"ti_id": fTIID, "ti_sk": fTISK, "ti_nm": fTINM, "ti_ca": fTICA, "ti_pr": fTIPR,
	"ti_qu": fTIQU, "ti_cu": fTICU,
	"pp_mix": fPPMIX, "pp_max": fPPMAX, "pp_miy": fPPMIY, "pp_may": fPPMAY,
}

// raw is one event's protocol fields, pointing into the request or the parsed body.
type raw struct {
	f [nFields][]byte
}

func (r *raw) reset() { clear(r.f[:]) }

// set records the field k; unknown keys are ignored, and the last of repeated ones wins.
func (r *raw) set(k, v []byte) {
	if i, ok := fieldIndex[string(k)]; ok {
		r.f[i] = v
	}
}

// setJSON records a member of a payload_data event; the protocol's values are strings, and
// a number or boolean is taken as its JSON text.
func (r *raw) setJSON(k []byte, v *fastjson.Value) {
	i, ok := fieldIndex[string(k)]
	if !ok {
		return
	}
	switch v.Type() {
	case fastjson.TypeString:
		r.f[i] = v.GetStringBytes()
	case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		r.f[i] = v.MarshalTo(nil)
	}
}

// ppProps, trProps and tiProps name the properties of page pings and transactions.
var (
	ppProps = [...]struct {
		f    int
		name string
	}{{fPPMIX, "pp_mix"}, {fPPMAX, "pp_max"}, {fPPMIY, "pp_miy"}, {fPPMAY, "pp_may"}}
	trProps = [...]struct {
		f    int
		name string
	}{{fTRID, "order_id"}, {fTRAF, "affiliation"}, {fTRTX, "tax"}, {fTRSH, "shipping"},
		{fTRCI, "city"}, {fTRST, "state"}, {fTRCO, "country"}}
	tiProps = [...]struct {
		f    int
		name string
	}{{fTIID, "order_id"}, {fTISK, "sku"}, {fTINM, "name"}, {fTICA, "category"},
		{fTIPR, "price"}, {fTIQU, "quantity"}}
	seProps = [...]struct {
		f    int
		name string
	}{{fSECA, "category"}, {fSEAC, "action"}, {fSELA, "label"}, {fSEPR, "property"}, {fSEVA, "value"}}
)

// event fills e from p.raw, received at now; false when the event type is unknown.
func (p *Parser) event(e *event.Event, now time.Time) bool {
	r := &p.raw
	p.transaction = false
	if !p.byType(e, r) {
		return false
	}
	e.ReceivedAt = now
	e.ID = string(r.f[fEID])
	e.AnonID, e.SessionID, e.UserID = string(r.f[fDUID]), string(r.f[fSID]), string(r.f[fUID])
	e.URL, e.Referrer, e.Title = string(r.f[fURL]), string(r.f[fRefr]), string(r.f[fPage])
	switch {
	case len(r.f[fTV]) > 0:
		e.Library = p.intern(r.f[fTV])
	case len(r.f[fTNA]) > 0:
		e.Library = p.intern(r.f[fTNA])
	default:
		e.Library = DefaultLibrary
	}
	p.contexts(e, r)
	setTime(e, r, now)
	return true
}

// byType fills what depends on the event type e.
func (p *Parser) byType(e *event.Event, r *raw) bool {
	switch string(r.f[fE]) {
	case "pv":
		e.Type = event.TypePageview
	case "pp":
		e.Type, e.Name, e.EngagedMS = event.TypeLeave, "page_ping", uint32(EngagedPerPing.Milliseconds())
		for _, pp := range ppProps {
			setProp(e, pp.name, r.f[pp.f])
		}
	case "se":
		e.Type, e.Name = event.TypeEvent, string(r.f[fSEAC])
		for _, se := range seProps {
			setProp(e, se.name, r.f[se.f])
		}
	case "ue":
		return p.selfDescribing(e, r)
	case "tr":
		e.Type, e.Name = event.TypeEvent, "purchase"
		e.Revenue, e.Currency = parseFloat(r.f[fTRTT]), string(r.f[fTRCU])
		for _, tr := range trProps {
			setProp(e, tr.name, r.f[tr.f])
		}
	case "ti":
		e.Type, e.Name, e.Currency = event.TypeEvent, "transaction_item", string(r.f[fTICU])
		for _, ti := range tiProps {
			setProp(e, ti.name, r.f[ti.f])
		}
	default:
		return false
	}
	return true
}

// selfDescribing fills a self-describing event from ue_pr or ue_px; false when it has none
// that can be read.
func (p *Parser) selfDescribing(e *event.Event, r *raw) bool {
	v := p.embedded(r.f[fUEPR], r.f[fUEPX])
	if v == nil {
		return false
	}
	inner := v.Get("data") // {"schema":"…/unstruct_event/…","data":{"schema":…,"data":{…}}}
	schema := inner.GetStringBytes("schema")
	if len(schema) == 0 {
		return false
	}
	e.Type, e.Name = event.TypeEvent, p.intern(schemaName(schema))
	data := inner.Get("data")
	switch e.Name {
	case "screen_view":
		e.Type, e.Name = event.TypeScreen, first(data.Get("name"))
	case "snowplow_ecommerce_action": // the ecommerce plugin's: named by its type
		if typ := first(data.Get("type")); typ == "transaction" {
			e.Name, p.transaction = "purchase", true
		} else if typ != "" {
			e.Name = typ
		}
	}
	e.SetProp("$schema", p.intern(schema))
	if data != nil && data.Type() == fastjson.TypeObject {
		o, _ := data.Object()
		p.fl.Object(e, "", o)
	}
	for _, key := range [...]string{"revenue", "total", "value"} {
		if f, ok := props.Float(data.Get(key)); ok {
			e.Revenue = f
			break
		}
	}
	if c, ok := props.String(data.Get("currency")); ok {
		e.Currency = c
	}
	return true
}

// contexts flattens the context entities of co or cx into properties under each entity's
// schema name, and takes the ids of a client_session entity where the event has none.
func (p *Parser) contexts(e *event.Event, r *raw) {
	v := p.embedded(r.f[fCO], r.f[fCX])
	if v == nil {
		return
	}
	for _, ent := range v.GetArray("data") {
		schema := ent.GetStringBytes("schema")
		data := ent.GetObject("data")
		if len(schema) == 0 || data == nil {
			continue
		}
		name := p.intern(schemaName(schema))
		if name == "transaction" && p.transaction {
			if f, ok := props.Float(ent.Get("data", "revenue")); ok {
				e.Revenue = f
			}
			e.Currency = first(ent.Get("data", "currency"))
		}
		if name == "client_session" {
			if e.AnonID == "" {
				e.AnonID = first(data.Get("userId"))
			}
			if e.SessionID == "" {
				e.SessionID = first(data.Get("sessionId"))
			}
		}
		p.fl.Object(e, name, data)
	}
}

// embedded parses the JSON of plain, else of the base64 enc, with p.sub; nil when neither
// holds a JSON object.
func (p *Parser) embedded(plain, enc []byte) *fastjson.Value {
	src := plain
	if len(src) == 0 {
		var ok bool
		if src, ok = p.decodeBase64(enc); !ok {
			return nil
		}
	}
	if len(src) == 0 {
		return nil
	}
	v, err := p.sub.ParseBytes(src)
	if err != nil || v.Type() != fastjson.TypeObject {
		return nil
	}
	return v
}

// schemaName returns the name part of an Iglu URI: iglu:vendor/name/format/version → name.
func schemaName(uri []byte) []byte {
	s := bytes.TrimPrefix(uri, []byte("iglu:"))
	if i := bytes.IndexByte(s, '/'); i >= 0 {
		name := s[i+1:]
		if j := bytes.IndexByte(name, '/'); j >= 0 {
			name = name[:j]
		}
		if len(name) > 0 {
			return name
		}
	}
	return s
}

// maxInterned bounds the strings a Parser keeps for reuse.
const maxInterned = 256

// intern returns b as a string, the same string for the same bytes while it is remembered:
// the tracker version, schemas and their names repeat in every event.
func (p *Parser) intern(b []byte) string {
	if s, ok := p.strs[string(b)]; ok {
		return s
	}
	if p.strs == nil || len(p.strs) >= maxInterned {
		p.strs = make(map[string]string)
	}
	s := string(b)
	p.strs[s] = s
	return s
}

// setTime sets e.TS from ttm, else dtm corrected by stm.
func setTime(e *event.Event, r *raw, now time.Time) {
	raw, sent := r.f[fTTM], time.Time{}
	if len(raw) == 0 {
		raw = r.f[fDTM]
		if ms, ok := millis(r.f[fSTM]); ok {
			sent = clientclock.FromMillis(ms)
		}
	}
	if len(raw) == 0 {
		e.TS = now
		return
	}
	ms, ok := millis(raw)
	if ok {
		e.TS, ok = clientclock.Correct(clientclock.FromMillis(ms), sent, now)
	}
	if !ok {
		e.TS = now
		e.SetProp(clientclock.ClampedProp, string(raw))
	}
}

// millis parses an epoch in milliseconds.
func millis(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n, err := fasthttp.ParseUint(b)
	if err != nil || n == 0 {
		return 0, false
	}
	return int64(n), true
}

// setProp sets a property when v is not empty.
func setProp(e *event.Event, key string, v []byte) {
	if len(v) > 0 {
		e.SetProp(key, string(v))
	}
}

// first returns v as a string when it is a non-empty scalar, else "".
func first(v *fastjson.Value) string {
	if v == nil || v.Type() == fastjson.TypeObject || v.Type() == fastjson.TypeArray {
		return ""
	}
	s, _ := props.String(v)
	return s
}

// parseFloat parses a decimal number, 0 when v is not one.
func parseFloat(v []byte) float64 {
	neg := len(v) > 0 && v[0] == '-'
	if neg {
		v = v[1:]
	}
	f, err := fasthttp.ParseUfloat(v)
	if err != nil || f > 1e300 {
		return 0
	}
	if neg {
		return -f
	}
	return f
}
