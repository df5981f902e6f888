package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Fake is a clock that only moves when told to. Sleepers wake when Advance
// or Set moves the clock past their deadline. It is safe for concurrent use.
type Fake struct {
	mu       sync.Mutex
	now      time.Time
	sleepers []*sleeper
	changed  chan struct{} // closed and replaced whenever sleepers change
}

type sleeper struct {
	until time.Time
	wake  chan struct{}
}

// NewFake returns a fake clock showing start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake clock's time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// SleepUntil blocks until the fake clock reaches t or ctx is done.
func (f *Fake) SleepUntil(ctx context.Context, t time.Time) error {
	f.mu.Lock()
	if !t.After(f.now) {
		f.mu.Unlock()
		return ctx.Err()
	}
	s := &sleeper{until: t, wake: make(chan struct{})}
	f.sleepers = append(f.sleepers, s)
	f.notifyLocked()
	f.mu.Unlock()

	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		f.mu.Lock()
		for i, x := range f.sleepers {
			if x == s {
				f.sleepers = append(f.sleepers[:i], f.sleepers[i+1:]...)
				break
			}
		}
		f.notifyLocked()
		f.mu.Unlock()
		return ctx.Err()
	}
}

// Set moves the clock to t (which may be earlier than now) and wakes every
// sleeper whose deadline has been reached.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
	kept := f.sleepers[:0]
	for _, s := range f.sleepers {
		if !s.until.After(t) {
			close(s.wake)
			continue
		}
		kept = append(kept, s)
	}
	f.sleepers = kept
	f.notifyLocked()
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Sleepers returns the deadlines of the goroutines currently sleeping, in
// order.
func (f *Fake) Sleepers() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]time.Time, len(f.sleepers))
	for i, s := range f.sleepers {
		out[i] = s.until
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// WaitForSleepers blocks until at least n goroutines sleep on the clock, or
// ctx is done. Tests use it instead of time.Sleep to know a component has
// reached its wait.
func (f *Fake) WaitForSleepers(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, changed := len(f.sleepers), f.changed
		f.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// AdvanceToNextSleeper moves the clock to the earliest sleeper's deadline
// and returns it; ok is false when nobody sleeps.
func (f *Fake) AdvanceToNextSleeper() (t time.Time, ok bool) {
	s := f.Sleepers()
	if len(s) == 0 {
		return time.Time{}, false
	}
	f.Set(s[0])
	return s[0], true
}

func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}
