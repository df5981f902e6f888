package tasks

import (
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// The retry policy of every task, in one place: a job's max_retry quick
// retries (jobs.Policy, default jobs.DefaultMaxRetry; a task retried
// after its start deadline is dropped as expired anyway), none for a
// failure retrying cannot fix, and none, nor a failure counted, for a run
// another run of the same part superseded.

// Retry delays: the first retry waits firstRetryDelay, each next one twice
// as long, up to maxRetryDelay.
const (
	firstRetryDelay = 100 * time.Millisecond
	maxRetryDelay   = 2 * time.Second
)

// RetryDelay is the workers' asynq RetryDelayFunc: how long to wait before
// the n-th retry (n counts from 0).
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	if n >= 16 { // past the cap long before: keeps the shift in range
		return maxRetryDelay
	}
	return min(firstRetryDelay<<max(n, 0), maxRetryDelay)
}

// ErrSuperseded marks a run whose commit another run of the same part had
// already made (its checkpoint moved on): the task is done, not failed.
var ErrSuperseded = errors.New("superseded by another run")

// Permanent wraps err so the task is not retried: retrying cannot fix it
// (an undecodable payload, a part that names no shard or session).
func Permanent(err error) error { return fmt.Errorf("%w: %w", err, asynq.SkipRetry) }

// Superseded wraps err as ErrSuperseded: not retried, and not a failure in
// asynq's statistics (IsFailure).
func Superseded(err error) error {
	return fmt.Errorf("%w: %w: %w", err, ErrSuperseded, asynq.SkipRetry)
}

// IsFailure is the workers' asynq IsFailure: every error but a superseded
// run's.
func IsFailure(err error) bool { return !errors.Is(err, ErrSuperseded) }
