package event

import (
	"context"
	"errors"
)

// ErrFull is returned by a Sink that cannot take more events now (its queue or spool is at
// its limit). The server API answers it with 503 and Retry-After.
var ErrFull = errors.New("pipeline is full")

// Sink accepts events from the stage before it. Write takes ownership of the events (their
// strings and property slices); the caller may reuse the slice itself once Write returns.
// A Sink is safe for concurrent use.
type Sink interface {
	Write(ctx context.Context, events []Event) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, events []Event) error

// Write calls f.
func (f SinkFunc) Write(ctx context.Context, events []Event) error { return f(ctx, events) }
