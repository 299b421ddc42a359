// Package props turns the JSON values that clients send (Segment properties and traits, the
// snippet's props) into event properties and scalar columns. It owns the flattening rule;
// it does not know which fields an endpoint reads.
//
// Flattening: an object's members become properties; a nested object's members are named
// with dotted keys ("address.city"), down to MaxDepth levels, below which the rest of the
// object is kept as its JSON text. Values are stored as strings: a string as is, a number as
// its JSON text, true and false as "true" and "false", an array as its JSON text; null is
// skipped. At most event.MaxProps properties are kept; the rest are dropped.
package props

import (
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/journeyd/journeyd/event"
)

// MaxDepth is the number of object levels flattened into dotted keys.
const MaxDepth = 4

// Flattener flattens JSON objects into event properties. Its zero value is ready; it reuses
// a buffer for keys, so one Flattener serves one goroutine at a time.
type Flattener struct {
	buf []byte
}

// Object appends the members of o to the properties of e, with keys prefixed by prefix and
// a dot when prefix is not empty. A nil o appends nothing.
func (f *Flattener) Object(e *event.Event, prefix string, o *fastjson.Object) {
	if o == nil {
		return
	}
	if e.PropKeys == nil { // one allocation for the usual flat object, not one per growth
		n := min(o.Len(), event.MaxProps)
		e.PropKeys, e.PropValues = make([]string, 0, n), make([]string, 0, n)
	}
	f.buf = append(f.buf[:0], prefix...)
	f.object(e, o, 0)
}

// object appends the members of o under the key prefix held in f.buf.
func (f *Flattener) object(e *event.Event, o *fastjson.Object, depth int) {
	base := len(f.buf)
	o.Visit(func(k []byte, v *fastjson.Value) {
		if len(e.PropKeys) >= event.MaxProps {
			return
		}
		f.buf = f.buf[:base]
		if base > 0 {
			f.buf = append(f.buf, '.')
		}
		f.buf = append(f.buf, k...)
		if v.Type() == fastjson.TypeObject && depth+1 < MaxDepth {
			obj, _ := v.Object()
			f.object(e, obj, depth+1)
			return
		}
		if s, ok := String(v); ok {
			e.SetProp(string(f.buf), s)
		}
	})
	f.buf = f.buf[:base]
}

// String returns v as a property value: see the package doc. ok is false for null and for
// a missing value.
func String(v *fastjson.Value) (s string, ok bool) {
	if v == nil {
		return "", false
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b), true
	case fastjson.TypeTrue:
		return "true", true
	case fastjson.TypeFalse:
		return "false", true
	case fastjson.TypeNull:
		return "", false
	default: // number, array, object: the JSON text
		var buf [64]byte
		return string(v.MarshalTo(buf[:0])), true
	}
}

// Float returns v as a number: a JSON number, or a string that holds one ("19.90"). ok is
// false otherwise, and for NaN and infinities.
func Float(v *fastjson.Value) (f float64, ok bool) {
	if v == nil {
		return 0, false
	}
	var err error
	switch v.Type() {
	case fastjson.TypeNumber:
		f, err = v.Float64()
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		f, err = strconv.ParseFloat(string(b), 64)
	default:
		return 0, false
	}
	if err != nil || f != f || f > 1e300 || f < -1e300 {
		return 0, false
	}
	return f, true
}

// Millis returns v as an epoch in milliseconds, from a JSON number. ok is false otherwise.
func Millis(v *fastjson.Value) (ms int64, ok bool) {
	f, ok := Float(v)
	if !ok || v.Type() != fastjson.TypeNumber || f > 1e17 || f < -1e17 {
		return 0, false
	}
	return int64(f), true
}
