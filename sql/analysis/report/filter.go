package report

import (
	"fmt"
	"sort"
	"strings"
)

// FilterTerm is one condition of a filter: Key (a session dimension, page, entry_page,
// event, prop.NAME, visitor or trait.NAME) equal to Value, or not equal when Not is set.
type FilterTerm struct {
	Key, Value string
	Not        bool
}

// Filter narrows the events every report reads (the $filter placeholder of every query):
// all its terms hold. Terms on a session (a dimension of its first visit, a page viewed,
// an event or an event property in it) keep every event of the sessions that match and
// drop the events outside any session; visitor keeps the anonymous ids first seen in the
// period read (new) or seen before it (returning); trait.NAME keeps every event of the
// people whose latest identify call set the trait to the value.
type Filter []FilterTerm

// filterKeys documents the keys of a filter besides the session dimensions.
var filterKeys = map[string]string{
	"page":       "a page the session viewed (path, * is any text)",
	"entry_page": "the path of the session's first visit",
	"event":      "an event the session did, by name",
	"prop.NAME":  "an event of the session with property NAME",
	"visitor":    "new or returning (seen before the period)",
	"trait.NAME": "a person trait from identify, e.g. trait.plan=pro",
}

// FilterHelp describes the filter syntax, for the option's help.
func FilterHelp() string {
	dims := sortedKeys(dimensions)
	keys := make([]string, 0, len(filterKeys))
	for k := range filterKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "narrow every report: KEY=VALUE (or KEY!=VALUE) terms joined by ';', e.g. 'channel=Email;device=mobile'; keys: " +
		strings.Join(dims, ", ") + ", " + strings.Join(keys, ", ")
}

// ParseFilter parses terms KEY=VALUE or KEY!=VALUE separated by ';'. A value of a session
// dimension matches what the reports show: Direct for a visit without a channel, (none)
// for one without the dimension.
func ParseFilter(s string) (Filter, error) {
	var f Filter
	for _, part := range strings.Split(s, ";") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("cannot parse filter term %q: want KEY=VALUE or KEY!=VALUE", part)
		}
		t := FilterTerm{Key: strings.TrimSpace(key), Value: value}
		if strings.HasSuffix(t.Key, "!") {
			t.Key, t.Not = strings.TrimSpace(strings.TrimSuffix(t.Key, "!")), true
		}
		if err := t.check(); err != nil {
			return nil, err
		}
		f = append(f, t)
	}
	return f, nil
}

func (t FilterTerm) check() error {
	prefix, name, dotted := strings.Cut(t.Key, ".")
	_, dim := dimensions[t.Key]
	switch {
	case dim, t.Key == "page", t.Key == "entry_page", t.Key == "event":
	case dotted && (prefix == "prop" || prefix == "trait") && name != "":
	case t.Key == "visitor":
		if t.Value != "new" && t.Value != "returning" {
			return fmt.Errorf("filter visitor=%q: use new or returning", t.Value)
		}
	default:
		return fmt.Errorf("unknown filter key %q: use one of %s, page, entry_page, event, prop.NAME, visitor, trait.NAME",
			t.Key, strings.Join(sortedKeys(dimensions), ", "))
	}
	return nil
}

// String returns the filter as ParseFilter reads it.
func (f Filter) String() string {
	parts := make([]string, len(f))
	for i, t := range f {
		op := "="
		if t.Not {
			op = "!="
		}
		parts[i] = t.Key + op + t.Value
	}
	return strings.Join(parts, ";")
}

// visitTypes are the event types that are a visit (include/touches.sql).
const visitTypes = "type IN ('pageview', 'screen', 'event', 'leave')"

// SQL returns the filter as a condition on the events of site in db read over [from,
// until), where a returning visitor is one seen before current (SQL literals), or 1 for
// an empty filter. The period is stated on the days too (toDate(ts), the events' key):
// ClickHouse 18.16 does not narrow a read by a condition on ts alone.
func (f Filter) SQL(db, site, from, until, current string) string {
	period := fmt.Sprintf("site_id = %s AND toDate(ts) >= toDate(%s, 'UTC') AND toDate(ts) <= toDate(%s - 1, 'UTC') AND ts >= %s AND ts < %s AND is_bot = 0",
		site, from, until, from, until)
	var having, conds []string
	for _, t := range f {
		eq := "="
		if t.Not {
			eq = "!="
		}
		prefix, name, _ := strings.Cut(t.Key, ".")
		switch {
		case t.Key == "visitor":
			in := "IN"
			if t.Value == "new" {
				in = "NOT IN"
			}
			conds = append(conds, fmt.Sprintf("anon_id %s (SELECT anon_id FROM %s.events WHERE site_id = %s AND ts < %s AND is_bot = 0 AND anon_id != '')", in, db, site, current))
		case prefix == "trait":
			conds = append(conds, traitCond(db, site, until, name, t.Value, t.Not))
		default:
			having = append(having, sessionCond(t, prefix, name, eq))
		}
	}
	if len(having) > 0 {
		conds = append([]string{fmt.Sprintf("session_id IN (SELECT session_id FROM %s.events WHERE %s AND session_id != '' GROUP BY session_id HAVING %s)",
			db, period, strings.Join(having, " AND "))}, conds...)
	}
	if len(conds) == 0 {
		return "1"
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

// sessionCond is the HAVING condition of one session term.
func sessionCond(t FilterTerm, prefix, name, eq string) string {
	has := "= 1"
	if t.Not {
		has = "= 0"
	}
	switch {
	case t.Key == "page":
		return fmt.Sprintf("max(type = 'pageview' AND %s) %s", globCond("path", t.Value), has)
	case t.Key == "event":
		return fmt.Sprintf("max(name = %s) %s", quote(t.Value), has)
	case prefix == "prop":
		return fmt.Sprintf("max(`props.value`[indexOf(`props.key`, %s)] = %s) %s", quote(name), quote(t.Value), has)
	case t.Key == "entry_page":
		return fmt.Sprintf("argMinIf(path, ts, %s) %s %s", visitTypes, eq, quote(t.Value))
	}
	col := dimensions[t.Key]
	return fmt.Sprintf("argMinIf(if(%s = '', %s, %s), ts, %s) %s %s", col, quote(emptyKey(t.Key)), col, visitTypes, eq, quote(t.Value))
}

// traitCond keeps the events of the people whose latest identify call on the site before
// until gave trait name the value: their user ids and the ids linked to them.
func traitCond(db, site, until, name, value string, not bool) string {
	users := fmt.Sprintf("SELECT user_id FROM %s.events WHERE site_id = %s AND type = 'identify' AND user_id != '' AND ts < %s "+
		"GROUP BY user_id HAVING argMaxIf(`props.value`[indexOf(`props.key`, %s)], ts, has(`props.key`, %s)) = %s",
		db, site, until, quote(name), quote(name), quote(value))
	person := "if(user_id != '', user_id, anon_id)"
	linked := fmt.Sprintf("SELECT id FROM %s.person_links_v WHERE site_id = %s AND person_id IN (%s)", db, site, users)
	if not {
		return fmt.Sprintf("(%s NOT IN (%s) AND %s NOT IN (%s))", person, users, person, linked)
	}
	return fmt.Sprintf("(%s IN (%s) OR %s IN (%s))", person, users, person, linked)
}

// emptyKey is what the reports call a session without a value of dimension key.
func emptyKey(key string) string {
	if key == "channel" {
		return "Direct"
	}
	return "(none)"
}
