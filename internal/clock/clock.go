// Package clock provides the time source every waiting component takes, so
// that tests can drive days, DST changes and market opens without sleeping.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits for it.
type Clock interface {
	// Now returns the current instant.
	Now() time.Time
	// SleepUntil blocks until the clock reaches t or ctx is done, and
	// returns ctx.Err() in the latter case.
	SleepUntil(ctx context.Context, t time.Time) error
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// SleepUntil waits on a timer until t.
func (Real) SleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// Shifted is the wall clock moved by a fixed Shift: real waits, another
// date. The faults build of cmd/scheduler and the latency benchmarks use
// it to put a calendar transition a moment ahead.
type Shifted struct{ Shift time.Duration }

// Now returns the wall clock's time plus the shift.
func (c Shifted) Now() time.Time { return time.Now().Add(c.Shift) }

// SleepUntil waits until the shifted clock reaches t.
func (c Shifted) SleepUntil(ctx context.Context, t time.Time) error {
	return Real{}.SleepUntil(ctx, t.Add(-c.Shift))
}
