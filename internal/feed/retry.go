package feed

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
)

// retrier runs writes with exponential backoff on the injected clock. It
// remembers the error kinds it has logged since the last success, so an
// outage is logged once per kind and its end once.
type retrier struct {
	clock       clock.Clock
	log         *zerolog.Logger
	maxAttempts int
	base, limit time.Duration
	errors      *atomic.Uint64 // counts every failed attempt

	backoff time.Duration
	logged  map[string]bool
	failing int // failed attempts since the last success
}

// do calls write until it succeeds, or maxAttempts attempts have failed,
// or one has failed after ctx is done; it returns the last error. ctx only
// stops the retries: the write in flight runs to its end. what and n
// describe the write in the log.
func (r *retrier) do(ctx context.Context, what string, n int, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil {
			if r.failing > 0 {
				r.log.Info().Int("errors", r.failing).Msg(what + " writes recovered")
			}
			r.backoff, r.logged, r.failing = 0, nil, 0
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		r.errors.Add(1)
		r.failing++
		if kind := ErrorKind(err); !r.logged[kind] {
			if r.logged == nil {
				r.logged = map[string]bool{}
			}
			r.logged[kind] = true
			r.log.Error().Err(err).Str("kind", kind).Int("count", n).Msg(what + " write failed; retrying with backoff")
		}
		if attempt >= r.maxAttempts {
			return err
		}
		r.backoff = min(max(2*r.backoff, r.base), r.limit)
		if serr := r.clock.SleepUntil(ctx, r.clock.Now().Add(r.backoff)); serr != nil {
			return err
		}
	}
}
