package event

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// binaryVersion is the first byte of every encoded event; a decoder refuses other versions.
const binaryVersion = 1

// AppendBinary appends the compact binary encoding of e to b and returns the result: the
// form the spool keeps events in on disk. Strings are a length and their bytes; times are
// seconds and nanoseconds (the location is not kept: events are UTC). UnmarshalBinary
// reads it back.
func AppendBinary(b []byte, e *Event) []byte {
	b = append(b, binaryVersion)
	b = appendString(b, e.ID)
	b = appendString(b, e.SiteID)
	b = appendTime(b, e.TS)
	b = appendTime(b, e.ReceivedAt)
	for _, s := range [...]string{
		string(e.Type), e.Name, e.AnonID, e.UserID, e.SessionID,
		e.URL, e.Host, e.Path, e.Query, e.Title, e.Referrer, e.ReferrerHost, e.ReferrerKind, e.SearchTerm,
		e.Channel, e.Source, e.Medium, e.Campaign, e.Term, e.Content, e.ClickIDType, e.ClickID,
		e.Country, e.Region, e.City, e.Browser, e.BrowserVersion, e.OS, e.Device,
	} {
		b = appendString(b, s)
	}
	if e.IsBot {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, e.IP)
	b = appendString(b, e.UserAgent)
	b = appendStrings(b, e.PropKeys)
	b = appendStrings(b, e.PropValues)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e.Revenue))
	b = appendString(b, e.Currency)
	b = binary.AppendUvarint(b, uint64(e.EngagedMS))
	return appendString(b, e.Library)
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1) // 0 is nil, 1 is empty
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

func appendTime(b []byte, t time.Time) []byte {
	return binary.AppendUvarint(binary.AppendVarint(b, t.Unix()), uint64(t.Nanosecond()))
}

// errShort is a record that ends inside a field.
var errShort = errors.New("the record ends inside a field")

// UnmarshalBinary sets e from data, an encoding made by AppendBinary. The strings of e share
// one copy of data, so data may be reused afterwards.
func (e *Event) UnmarshalBinary(data []byte) error {
	if len(data) == 0 || data[0] != binaryVersion {
		return fmt.Errorf("cannot decode event: not an encoding of version %d", binaryVersion)
	}
	d := decoder{s: string(data[1:])}
	*e = Event{ID: d.str(), SiteID: d.str(), TS: d.time(), ReceivedAt: d.time(), Type: Type(d.str())}
	for _, p := range [...]*string{
		&e.Name, &e.AnonID, &e.UserID, &e.SessionID,
		&e.URL, &e.Host, &e.Path, &e.Query, &e.Title, &e.Referrer, &e.ReferrerHost, &e.ReferrerKind, &e.SearchTerm,
		&e.Channel, &e.Source, &e.Medium, &e.Campaign, &e.Term, &e.Content, &e.ClickIDType, &e.ClickID,
		&e.Country, &e.Region, &e.City, &e.Browser, &e.BrowserVersion, &e.OS, &e.Device,
	} {
		*p = d.str()
	}
	e.IsBot = d.byte() == 1
	e.IP, e.UserAgent = d.str(), d.str()
	e.PropKeys, e.PropValues = d.strs(), d.strs()
	e.Revenue = math.Float64frombits(d.uint64())
	e.Currency = d.str()
	e.EngagedMS = uint32(d.uvarint())
	e.Library = d.str()
	switch {
	case d.err != nil:
		return fmt.Errorf("cannot decode event: %w", d.err)
	case d.s != "":
		return fmt.Errorf("cannot decode event: %d bytes left after the last field", len(d.s))
	}
	return nil
}

// decoder reads fields off the front of s; after the first error it returns zero values.
type decoder struct {
	s   string
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			return v
		}
	}
	d.err = errShort
	return 0
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.s) < 1 {
		d.err = errShort
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *decoder) uint64() uint64 {
	if d.err != nil || len(d.s) < 8 {
		d.err = errShort
		return 0
	}
	v := binary.LittleEndian.Uint64([]byte(d.s[:8]))
	d.s = d.s[8:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)) {
		d.err = errShort
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

func (d *decoder) strs() []string {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n-1 > uint64(len(d.s)) { // every string takes at least one byte
		d.err = errShort
		return nil
	}
	ss := make([]string, n-1)
	for i := range ss {
		ss[i] = d.str()
	}
	return ss
}

func (d *decoder) time() time.Time {
	sec, nsec := d.varint(), d.uvarint()
	if d.err != nil || nsec >= 1e9 {
		d.err = errShort
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
