// Package embedded runs the whole of Heartbeat in one process on an
// in-memory Redis (miniredis): a scheduler replica with the HTTP
// endpoints, N workers and the feed simulator, so a new user sees every
// job working with one command and nothing installed.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/feed"
	"heartbeat/internal/jobs"
	"heartbeat/internal/metrics"
	"heartbeat/internal/node"
	"heartbeat/internal/redisconn"
	"heartbeat/internal/runner"
	"heartbeat/internal/ticks"
)

// System is the embedded Heartbeat.
type System struct {
	cfg     config.Config
	log     zerolog.Logger
	clock   clock.Clock
	metrics *metrics.Metrics

	mr      *miniredis.Miniredis
	rdb     redis.UniversalClient
	sched   *node.Scheduler
	workers []*node.Worker
	sim     *feed.Simulator
	store   bars.Store

	handlers map[jobs.Name]runner.Func

	stopTTL  context.CancelFunc
	ttlDone  chan struct{}
	stopOnce sync.Once
	stopErr  error
}

// Option changes an embedded system.
type Option func(*System)

// WithClock runs the system on c (a fake clock in tests and examples).
func WithClock(c clock.Clock) Option { return func(s *System) { s.clock = c } }

// WithHandlers gives the workers the bodies of the program's own jobs
// (cfg.Registry beyond the built-in eight).
func WithHandlers(h map[jobs.Name]runner.Func) Option { return func(s *System) { s.handlers = h } }

// New prepares the system; nothing runs until Start.
func New(cfg config.Config, log zerolog.Logger, opts ...Option) *System {
	s := &System{cfg: cfg, log: log, clock: clock.Real{}, metrics: metrics.New()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Scheduler returns the scheduler replica (after Start).
func (s *System) Scheduler() *node.Scheduler { return s.sched }

// RedisAddr returns the in-memory Redis address (after Start).
func (s *System) RedisAddr() string { return s.mr.Addr() }

// Redis returns the in-memory Redis, so a test can make it fail for a
// while (SetError).
func (s *System) Redis() *miniredis.Miniredis { return s.mr }

// Start starts miniredis, the scheduler, the workers and the simulator. On
// error, what was started is stopped.
func (s *System) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = s.Stop(context.WithoutCancel(ctx))
		}
	}()
	s.mr = miniredis.NewMiniRedis()
	if err := s.mr.Start(); err != nil {
		return fmt.Errorf("embedded: start miniredis: %w", err)
	}
	// miniredis only ages TTLs when told; tell it as real time passes.
	ttlCtx, cancel := context.WithCancel(context.Background())
	s.stopTTL, s.ttlDone = cancel, make(chan struct{})
	go s.ageTTLs(ttlCtx)

	// The in-memory Redis is one node without credentials, whatever the
	// configured connection.
	s.cfg.Redis = config.Redis{Mode: config.RedisSingle, URL: "redis://" + s.mr.Addr() + "/0", DialTimeout: s.cfg.Redis.DialTimeout}
	rdb, conn, err := redisconn.Redis(ctx, s.cfg.Redis)
	if err != nil {
		return err
	}
	s.rdb = rdb
	s.log.Info().Str("redis", s.mr.Addr()).Int("workers", s.cfg.Embedded.Workers).Msg("embedded mode: in-memory Redis (miniredis), scheduler, workers and feed in one process")

	s.sched, err = node.NewScheduler(s.cfg, node.SchedulerDeps{Redis: rdb, ConnOpt: conn, Clock: s.clock, Log: s.log, Metrics: s.metrics})
	if err != nil {
		return err
	}
	// One bar store for every in-process worker: the file store
	// serialises its writers within one instance.
	instruments, err := s.cfg.MarketInstruments()
	if err != nil {
		return err
	}
	s.store, err = bars.Open(ctx, s.cfg.Store, bars.WithMarkets(instruments.MarketOf), bars.WithBook(instruments.Book()))
	if err != nil {
		return fmt.Errorf("embedded: bar store: %w", err)
	}
	noHTTP := ""
	for i := 1; i <= s.cfg.Embedded.Workers; i++ {
		wc := s.cfg
		wc.Worker.Name = fmt.Sprintf("embedded-worker-%d", i)
		w, err := node.NewWorker(ctx, wc, node.WorkerDeps{Redis: rdb, ConnOpt: conn, Clock: s.clock, Log: s.log, Metrics: s.metrics, HTTP: &noHTTP, Store: s.store,
			Handlers: s.handlers})
		if err != nil {
			return err
		}
		s.workers = append(s.workers, w)
		if err := w.Start(ctx); err != nil {
			return err
		}
	}
	if err := s.sched.Start(ctx); err != nil {
		return err
	}
	if s.cfg.Embedded.Feed {
		sc, err := feed.SimConfigFrom(s.cfg)
		if err != nil {
			return err
		}
		s.sim, err = feed.NewSimulator(sc, feed.SimDeps{Writer: ticks.NewWriter(rdb, s.cfg.Ingest.Shards, ticks.WaitReplicas(s.cfg.Ingest.WaitReplicas)), Clock: s.clock, Logger: s.log,
			OnWritten: func(n int) { s.metrics.FeedTicks.Add(float64(n)) }})
		if err != nil {
			return err
		}
		if err := s.sim.Start(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *System) ageTTLs(ctx context.Context) {
	defer close(s.ttlDone)
	last := s.clock.Now()
	for s.clock.SleepUntil(ctx, last.Add(250*time.Millisecond)) == nil {
		now := s.clock.Now()
		s.mr.FastForward(now.Sub(last))
		last = now
	}
}

// Stop stops everything in reverse order of start. Safe to call twice.
func (s *System) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		var errs []error
		if s.sim != nil {
			errs = append(errs, s.sim.Stop(ctx))
		}
		if s.sched != nil {
			errs = append(errs, s.sched.Stop(ctx))
		}
		var wg sync.WaitGroup
		werrs := make([]error, len(s.workers))
		for i, w := range s.workers {
			wg.Add(1)
			go func() { defer wg.Done(); werrs[i] = w.Stop(ctx) }()
		}
		wg.Wait()
		errs = append(errs, werrs...)
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		if s.rdb != nil {
			errs = append(errs, s.rdb.Close())
		}
		if s.stopTTL != nil {
			s.stopTTL()
			<-s.ttlDone
		}
		if s.mr != nil {
			s.mr.Close()
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}
