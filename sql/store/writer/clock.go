package writer

import "time"

// Clock is the writer's source of time: the flush interval and the retry backoff wait on
// it, so that tests drive time instead of sleeping.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
