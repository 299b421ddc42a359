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

type durableKey struct{}

// WithDurable returns ctx asking the sink that its Write return only once the events are
// stored durably (fsynced by the spool): what the server API needs before it answers 200.
func WithDurable(ctx context.Context) context.Context {
	return context.WithValue(ctx, durableKey{}, true)
}

// Durable reports whether ctx asks for a durable Write (WithDurable).
func Durable(ctx context.Context) bool {
	v, _ := ctx.Value(durableKey{}).(bool)
	return v
}

// Ack is how a stage that keeps events until the next one has stored them (the spool) hears
// back: the next stage calls Stored with how many of the events handed to it with this Ack
// are stored, once they are, in one or several calls. Events it abandons (a shutdown that
// runs out of time) are never acknowledged: the stage before still holds them. An Ack is
// compared with == (the writer keeps one run of events per Ack): make it a pointer, not a
// func.
type Ack interface {
	Stored(n int)
}

// AckSink is a stage that takes events with an acknowledgement (the writer). WriteAcked is
// Write for events that ack stands for; it never calls ack from inside WriteAcked.
type AckSink interface {
	WriteAcked(ctx context.Context, events []Event, ack Ack) error
}
