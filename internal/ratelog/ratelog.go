// Package ratelog is the one "warn once per period" of Heartbeat: a
// logger that lets a message of a given key through at most once per
// period, so a condition that lasts (a flood of bad ticks, a calendar
// past its coverage, replicas that do not acknowledge) is one line a
// period instead of one per tick or run. Time is a parameter: callers
// pass the instant of the event (a run's own time, or their clock's now),
// so the limiter reads no clock and tests drive it at exact instants.
package ratelog

import (
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Logger logs through a zerolog.Logger at most once per period per key.
// It is safe for concurrent use; the zero value is not usable (use New).
type Logger struct {
	log   zerolog.Logger
	every time.Duration

	mu   sync.Mutex
	last map[string]time.Time // when each key was last let through
}

// New returns a Logger letting each key through once per every; every <=
// 0 lets each key through once only.
func New(log zerolog.Logger, every time.Duration) *Logger {
	return &Logger{log: log, every: every, last: map[string]time.Time{}}
}

// Allow reports whether a message of key at now may be logged, and if so
// starts the key's period at now. A message is held back while now is in
// [last, last + every) of the key's last message; a now before the last
// one (a backfill replaying older trades) starts the period again.
func (l *Logger) Allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.last[key]; ok && !now.Before(last) && (l.every <= 0 || now.Sub(last) < l.every) {
		return false
	}
	l.last[key] = now
	return true
}

// Warn returns a warning event for key at now, or nil when key was let
// through less than a period before: zerolog's methods on a nil event do
// nothing, so the caller writes l.Warn(key, now).Err(err).Msg(...) either
// way.
func (l *Logger) Warn(key string, now time.Time) *zerolog.Event {
	if !l.Allow(key, now) {
		return nil
	}
	return l.log.Warn()
}
