package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFakeWakesSleepersInOrder(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC)
	f := NewFake(start)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	woke := make(chan time.Duration, 2)
	for _, d := range []time.Duration{2 * time.Second, time.Second} {
		go func() {
			if err := f.SleepUntil(ctx, start.Add(d)); err != nil {
				t.Errorf("sleep: %v", err)
			}
			woke <- d
		}()
	}
	if err := f.WaitForSleepers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got, ok := f.AdvanceToNextSleeper(); !ok || !got.Equal(start.Add(time.Second)) {
		t.Fatalf("AdvanceToNextSleeper = %v, %v; want %v", got, ok, start.Add(time.Second))
	}
	if d := <-woke; d != time.Second {
		t.Fatalf("first to wake slept %v, want 1s", d)
	}
	if n := len(f.Sleepers()); n != 1 {
		t.Fatalf("%d sleepers left, want 1", n)
	}
	f.Advance(time.Second)
	if d := <-woke; d != 2*time.Second {
		t.Fatalf("second to wake slept %v, want 2s", d)
	}
}

func TestFakeSleepHonoursContext(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Unix(0, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.SleepUntil(ctx, time.Unix(10, 0)) }()
	if err := f.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("SleepUntil = %v, want context.Canceled", err)
	}
	if n := len(f.Sleepers()); n != 0 {
		t.Fatalf("%d sleepers left after cancel, want 0", n)
	}
}

func TestPastDeadlineReturnsAtOnce(t *testing.T) {
	t.Parallel()
	for _, c := range []Clock{Real{}, NewFake(time.Now())} {
		if err := c.SleepUntil(context.Background(), c.Now().Add(-time.Second)); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
	}
}
