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
