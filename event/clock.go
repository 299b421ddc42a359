package event

import "time"

// Clock is the one source of time of every stage: what ages state out reads Now, what waits
// (a commit interval, a flush interval, a backoff) waits on After, so that tests drive time
// instead of sleeping. SystemClock is the real one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the Clock of the operating system.
var SystemClock Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time                         { return time.Now() }
func (systemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ClockFunc is a Clock whose Now is the function and whose After waits on the system clock:
// for a stage that only reads the time, and for tests that set it by hand.
type ClockFunc func() time.Time

// Now calls f.
func (f ClockFunc) Now() time.Time { return f() }

// After waits on the system clock.
func (f ClockFunc) After(d time.Duration) <-chan time.Time { return time.After(d) }
