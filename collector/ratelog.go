package collector

import (
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// logInterval is how often one kind of problem is logged, at most.
const logInterval = time.Minute

// rateLog logs each kind of problem at most once per logInterval, with the number of
// occurrences it left out: one line per problem, never one per request.
type rateLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu    sync.Mutex
	kinds map[string]*logState
}

type logState struct {
	last       time.Time
	suppressed int
}

func newRateLog(logger *slog.Logger, now func() time.Time) *rateLog {
	return &rateLog{logger: logger, now: now, kinds: make(map[string]*logState)}
}

// warn logs msg at warning level unless kind was logged within logInterval.
func (l *rateLog) warn(kind, msg string, args ...any) {
	now := l.now()
	l.mu.Lock()
	st, ok := l.kinds[kind]
	if !ok {
		st = &logState{}
		l.kinds[kind] = st
	}
	if ok && now.Sub(st.last) < logInterval {
		st.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := st.suppressed
	st.last, st.suppressed = now, 0
	l.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	l.logger.Warn(msg, append(args, "kind", kind)...)
}

// fasthttpLogger routes fasthttp's own messages through the rate limit.
type fasthttpLogger struct{ l *rateLog }

// Printf logs a message from fasthttp.
func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.warn("fasthttp", fmt.Sprintf(format, args...))
}
