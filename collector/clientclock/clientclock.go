// Package clientclock corrects the event times that clients report, for every endpoint that
// accepts one (the snippet's batches, the Segment API, pixels). It owns the correction rule
// and the bounds of a believable time; it does not parse the wire formats.
//
// A client's clock may be wrong by minutes or years. When the client also says when it sent
// the request (Segment's sentAt, the snippet's sent), the skew is removed the way Segment
// does: ts = receivedAt − (sentAt − timestamp). The result is then checked: a time before
// 2000-01-01 or more than a day after receivedAt is absurd, and is clamped to receivedAt. The
// caller keeps the original value in the property $ts_clamped, so nothing is lost silently.
package clientclock

import "time"

// ClampedProp is the property that keeps a clamped timestamp as the client sent it.
const ClampedProp = "$ts_clamped"

// Bounds of a believable event time.
var (
	// Earliest is the earliest believable event time.
	Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	// MaxAhead is how far after receivedAt an event time may lie.
	MaxAhead = 24 * time.Hour
)

// Correct returns the event time for a client timestamp ts and send time sent (both zero
// when the client gave none), received at receivedAt. ok is false when the result was
// absurd and has been clamped to receivedAt. A zero ts means "now": receivedAt, ok.
func Correct(ts, sent, receivedAt time.Time) (t time.Time, ok bool) {
	if ts.IsZero() {
		return receivedAt, true
	}
	t = ts
	if !sent.IsZero() {
		t = receivedAt.Add(-sent.Sub(ts))
	}
	if t.Before(Earliest) || t.After(receivedAt.Add(MaxAhead)) {
		return receivedAt, false
	}
	return t, true
}

// FromMillis converts a client epoch in milliseconds to a time; 0 gives the zero time.
// Values beyond ±10^15 ms (year 33658) give a time that Correct will find absurd.
func FromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	const limit = 1_000_000_000_000_000
	if ms > limit || ms < -limit {
		return time.Unix(0, 0)
	}
	return time.UnixMilli(ms)
}
