package sessionizer

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"strings"

	"github.com/journeyd/journeyd/event"
)

// source is a session's source, shared by every visitor whose session came from it.
type source struct {
	channel, source, medium, campaign, term, content string
}

// hasTouch reports whether e brings a source of its own: utm values, a click id, or a
// referrer from another site. An internal referrer or none is no touch, and neither is the
// "(direct)" / "(none)" source that enrichment gives an arrival without any referrer: a
// return to the tab joins the open session (DESIGN §6).
func hasTouch(e *event.Event) bool {
	return (e.Source != "" && e.Source != directSource) || (e.Medium != "" && e.Medium != directMedium) ||
		e.Campaign != "" || e.ClickID != "" || (e.ReferrerKind != "" && e.ReferrerKind != "internal")
}

// The source and medium enrichment gives a direct arrival (collector/enrich/channel, as in
// GA4); spelled here because the sessionizer does not import the collector.
const (
	directSource = "(direct)"
	directMedium = "(none)"
)

// touchHash identifies e's touch: the same source, medium, campaign, term, content and click
// id hash alike, so a second arrival from the same touch keeps the session. It is never 0.
func touchHash(seed maphash.Seed, e *event.Event) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, s := range [...]string{e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickID} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	if e.Source == "" && e.Campaign == "" && e.ClickID == "" {
		h.WriteString(e.ReferrerHost) // a referral the enrichment could not name
	}
	if x := h.Sum64(); x != 0 {
		return x
	}
	return 1
}

// carrySource gives e the session's source when e has none of its own.
func carrySource(e *event.Event, src *source) {
	if src == nil || hasTouch(e) {
		return
	}
	e.Channel, e.Source, e.Medium = src.channel, src.source, src.medium
	e.Campaign, e.Term, e.Content = src.campaign, src.term, src.content
}

// internLimit bounds the distinct sources kept for sharing; past it the table restarts
// (visitors keep their sources, only the sharing of new ones starts over).
const internLimit = 1 << 16

// interner shares one copy of each distinct source between visitors, so a visitor costs a
// pointer, and a source never pins the buffer its strings were cut from.
type interner struct {
	m     map[source]*source
	limit int
}

func newInterner(limit int) *interner {
	return &interner{m: map[source]*source{}, limit: limit}
}

// get returns the shared copy of e's source, or nil when e has none.
func (in *interner) get(e *event.Event) *source {
	if !hasTouch(e) {
		return nil
	}
	k := source{e.Channel, e.Source, e.Medium, e.Campaign, e.Term, e.Content}
	return in.intern(k)
}

func (in *interner) intern(k source) *source {
	if p, ok := in.m[k]; ok {
		return p
	}
	if len(in.m) >= in.limit {
		clear(in.m)
	}
	p := &source{
		strings.Clone(k.channel), strings.Clone(k.source), strings.Clone(k.medium),
		strings.Clone(k.campaign), strings.Clone(k.term), strings.Clone(k.content),
	}
	in.m[*p] = p
	return p
}

// Key kinds keep anonymous ids and user ids apart in the visitor hash.
const (
	kindAnon byte = 'a'
	kindUser byte = 'u'
	kindNone byte = 'e' // no visitor: keyed by the event id
)

// key hashes a site and a visitor id of kind into the 64-bit key of the visitor table.
// Two visitors whose keys collide (about one pair in 2^64) would share a state.
func key(seed maphash.Seed, site string, kind byte, id string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(site)
	h.WriteByte(0)
	h.WriteByte(kind)
	h.WriteString(id)
	return h.Sum64()
}

// sessionID returns the session id journeyd assigns to the session of visitor id (an
// anonymous id, or a user id for kind 'u') on site that starts at startMS (unix ms): 32 hex
// digits of a SHA-256 of the three, the same on every node. It runs once a session.
func sessionID(site string, kind byte, id string, startMS int64) string {
	buf := make([]byte, 0, len(site)+len(id)+10)
	buf = append(append(buf, site...), 0, kind)
	buf = append(buf, id...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(startMS))
	sum := sha256.Sum256(buf)
	return hex.EncodeToString(sum[:16])
}
