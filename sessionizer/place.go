package sessionizer

import (
	"strconv"
	"strings"

	"github.com/journeyd/journeyd/event"
)

// place sets e's session id, gives e the session's source and the linked user id where it
// has none, and updates the visitor's state. It runs under s.mu.
func (s *Sessionizer) place(e *event.Event, now int64) {
	t := now
	if !e.TS.IsZero() {
		t = e.TS.UnixMilli()
	}
	kind, id := kindAnon, e.AnonID
	switch {
	case e.AnonID == "" && e.UserID != "":
		kind, id = kindUser, e.UserID
	case e.AnonID == "":
		if e.SessionID == "" && event.Visit(e.Type) {
			e.SessionID = sessionID(e.SiteID, kindNone, e.ID, t)
		}
		return
	}
	k, v := s.lookup(e, kind, id, t)
	switch {
	case e.SessionID != "":
		v = s.accept(v, k, e, t)
	case !event.Visit(e.Type):
		if v == nil && kind == kindAnon && e.UserID != "" {
			v = s.insert(k) // no session, but it holds the link an identify makes
		}
		s.join(v, e, t)
	default:
		v = s.assign(v, k, e, kind, id, t)
	}
	if v == nil {
		return
	}
	s.identify(v, e)
	v.seen = now
	s.table.touch(v)
}

// lookup returns the key and state of e's visitor. An event with a user id alone joins the
// device last linked to that user while that device's session is open at t.
func (s *Sessionizer) lookup(e *event.Event, kind byte, id string, t int64) (uint64, *visitor) {
	k := key(s.seed, e.SiteID, kind, id)
	if kind == kindUser {
		if dk, ok := s.table.users[k]; ok {
			if v := s.table.get(dk); v != nil && s.inside(v, t) {
				return dk, v
			}
		}
	}
	return k, s.table.get(k)
}

// inside reports whether an event at t falls into v's open session.
func (s *Sessionizer) inside(v *visitor, t int64) bool {
	return t >= v.start-s.timeoutMS && t <= v.last+s.timeoutMS &&
		max(v.last, t)-min(v.start, t) < s.maxLenMS
}

// assign places an event that comes without a session id by the session rules.
func (s *Sessionizer) assign(v *visitor, k uint64, e *event.Event, kind byte, id string, t int64) *visitor {
	if v == nil {
		v = s.insert(k)
		s.start(v, e, kind, id, t)
		return v
	}
	switch {
	case t >= v.last: // in order
		if t-v.last > s.timeoutMS || t-v.start >= s.maxLenMS || s.newTouch(v, e) {
			s.start(v, e, kind, id, t)
			return v
		}
		v.last = t
	case t >= v.start: // out of order, inside the session
	case v.start-t <= s.timeoutMS && v.last-t < s.maxLenMS: // the session began earlier
		v.start = t
		if hasTouch(e) {
			v.touch, v.source = touchHash(s.seed, e), s.sources.get(e)
		}
	default: // late: before the open session; a session of its own that is not kept
		e.SessionID = sessionID(e.SiteID, kind, id, t)
		s.m.late.Inc()
		return v
	}
	e.SessionID = v.session
	carrySource(e, v.source)
	return v
}

// newTouch reports whether e arrives from another source than v's session.
func (s *Sessionizer) newTouch(v *visitor, e *event.Event) bool {
	return hasTouch(e) && touchHash(s.seed, e) != v.touch
}

// start opens a new session in v with e as its first event.
func (s *Sessionizer) start(v *visitor, e *event.Event, kind byte, id string, t int64) {
	v.session = sessionID(e.SiteID, kind, id, t)
	s.begin(v, e, t)
	e.SessionID = v.session
}

// begin resets v's session to one that starts with e at t.
func (s *Sessionizer) begin(v *visitor, e *event.Event, t int64) {
	v.start, v.last = t, t
	v.touch, v.source = 0, nil
	if hasTouch(e) {
		v.touch, v.source = touchHash(s.seed, e), s.sources.get(e)
	}
	s.m.started.Inc()
}

// accept places an event that carries the snippet's session id: the id is kept; the state
// follows the snippet when it moves on to a new session.
func (s *Sessionizer) accept(v *visitor, k uint64, e *event.Event, t int64) *visitor {
	if v == nil {
		v = s.insert(k)
		v.session = strings.Clone(e.SessionID)
		s.begin(v, e, t)
		return v
	}
	if sameClientSession(v, e.SessionID) {
		if t >= v.last && t-v.start >= s.maxLenMS { // the snippet leaves the 24-hour cut to us
			v.part++
			v.session = e.SessionID + "." + strconv.Itoa(int(v.part))
			src := v.source
			s.begin(v, e, t)
			v.source = src
		}
		v.start, v.last = min(v.start, t), max(v.last, t)
		if v.source == nil && hasTouch(e) && t <= v.start {
			v.touch, v.source = touchHash(s.seed, e), s.sources.get(e)
		}
		e.SessionID = v.session
		carrySource(e, v.source)
		return v
	}
	if t >= v.last { // the snippet started a new session
		v.session, v.part = strings.Clone(e.SessionID), 0
		s.begin(v, e, t)
	}
	return v
}

// sameClientSession reports whether v's session is the snippet's session id, or a part of
// it cut at the maximum length (id.2, id.3, ...).
func sameClientSession(v *visitor, id string) bool {
	if v.part == 0 {
		return v.session == id
	}
	return len(v.session) > len(id) && v.session[len(id)] == '.' && v.session[:len(id)] == id
}

// join places an event that is not a visit (a server event, identify, alias, group, email
// open or ad impression): it joins v's open session when it falls inside it, taking the
// session's source when it has none of its own, and otherwise stays outside any session
// (no session id). It never starts, extends or re-sources a session (DESIGN §6).
func (s *Sessionizer) join(v *visitor, e *event.Event, t int64) {
	if v == nil || v.session == "" || !s.inside(v, t) {
		return
	}
	e.SessionID = v.session
	carrySource(e, v.source)
}

// insert adds a visitor for k, evicting the least recently seen one when the table is full.
func (s *Sessionizer) insert(k uint64) *visitor {
	if s.table.full() {
		s.table.remove(s.table.oldest())
		s.m.evictions.WithLabelValues("limit").Inc()
	}
	return s.table.add(k)
}

// identify links e's anonymous id to its user id (the first link wins; a different later
// one is counted, not applied) and fills the linked user id into an event without one.
func (s *Sessionizer) identify(v *visitor, e *event.Event) {
	if e.AnonID == "" {
		return
	}
	switch {
	case e.UserID == "":
		e.UserID = v.user
	case v.user == "":
		v.user = strings.Clone(e.UserID)
		v.userKey = key(s.seed, e.SiteID, kindUser, e.UserID)
		s.table.users[v.userKey] = v.key
	case v.user != e.UserID:
		s.m.conflicts.Inc()
	case s.table.users[v.userKey] != v.key: // the user is now on this device
		s.table.users[v.userKey] = v.key
	}
}
