package calendars

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
)

// Watcher applies the runtime entries to its book every fast tick: the
// loop every scheduler replica and worker runs, so an entry made anywhere
// is in force everywhere within one tick (plus one Redis round trip).
type Watcher struct {
	rt    *Runtime
	clock clock.Clock
	every time.Duration
	log   zerolog.Logger

	mu      sync.Mutex
	rev     int64
	failing bool

	cancel context.CancelFunc
	done   chan struct{}
}

// NewWatcher returns a watcher syncing rt every interval.
func NewWatcher(rt *Runtime, c clock.Clock, every time.Duration, log zerolog.Logger) *Watcher {
	return &Watcher{rt: rt, clock: c, every: every, log: log.With().Str("component", "calendars").Logger(), rev: -1}
}

// Start applies the entries once, so a process starts with the calendar
// operators set (a Redis error is logged and retried each tick), and then
// keeps them applied until Stop.
func (w *Watcher) Start(ctx context.Context) error {
	_ = w.Sync(ctx)
	ctx, w.cancel = context.WithCancel(context.WithoutCancel(ctx))
	w.done = make(chan struct{})
	go w.loop(ctx)
	return nil
}

// Stop ends the loop; it is safe to call twice.
func (w *Watcher) Stop(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	for {
		if w.clock.SleepUntil(ctx, w.clock.Now().Add(w.every)) != nil {
			return
		}
		_ = w.Sync(ctx)
	}
}

// Revision returns the settings revision last applied (-1 before the
// first successful sync).
func (w *Watcher) Revision() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rev
}

// Sync applies the stored entries now if they changed. A Redis error is
// logged once when it starts and once when it ends; the calendars keep
// the entries last applied.
func (w *Watcher) Sync(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	changed, rejected, err := w.rt.Sync(ctx, &w.rev)
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		return err
	case err != nil:
		if !w.failing {
			w.failing = true
			w.log.Error().Err(err).Msg("runtime calendar entries unavailable: keeping those last applied")
		}
		return err
	case w.failing:
		w.failing = false
		w.log.Info().Msg("runtime calendar entries readable again")
	}
	if changed {
		w.log.Info().Int64("revision", w.rev).Int("entries", len(w.rt.Book().Runtime())).Msg("runtime calendar entries applied")
		for _, r := range rejected {
			w.log.Warn().Str("market", string(r.Override.Market)).Str("entry", r.Override.Source.Ref).Str("reason", r.Reason).
				Msg("runtime calendar entry not applied")
		}
	}
	return nil
}
