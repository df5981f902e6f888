package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/metrics"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/web"
)

// SchedulerDeps are a scheduler replica's collaborators.
type SchedulerDeps struct {
	Redis   redis.UniversalClient
	ConnOpt asynq.RedisConnOpt
	Clock   clock.Clock
	Log     zerolog.Logger
	Metrics *metrics.Metrics
}

// Scheduler is one scheduler replica: the scheduler, its asynq client, and
// its HTTP endpoints.
type Scheduler struct {
	Sched    *scheduler.Scheduler
	client   *asynq.Client
	Web      *web.Server
	stopOnce sync.Once
	stopErr  error
}

// SchedulerConfig turns the config into the scheduler's.
func SchedulerConfig(cfg config.Config) scheduler.Config {
	sc := scheduler.Config{
		Replica: cfg.Scheduler.Replica, Lock: cfg.Scheduler.Lock, LeaseTTL: cfg.Scheduler.LeaseTTL, RenewEvery: cfg.Scheduler.RenewEvery,
		FastTick: cfg.Scheduler.FastTickDuration(), SlowTick: cfg.Scheduler.SlowTickDuration(), EnqueueAhead: cfg.Scheduler.EnqueueAhead,
		Retention: cfg.Scheduler.Retention, Shards: cfg.Ingest.Shards,
	}
	if sc.Replica == "" {
		sc.Replica = DefaultName()
	}
	for _, name := range jobs.Names() {
		spec, j := cfg.Job(name)
		sc.Jobs = append(sc.Jobs, scheduler.JobConfig{Spec: spec, Enabled: j.Enabled, CatchUp: j.CatchUp})
	}
	return sc
}

// NewScheduler builds a scheduler replica from a validated config.
func NewScheduler(cfg config.Config, d SchedulerDeps) (*Scheduler, error) {
	instruments, err := cfg.MarketInstruments()
	if err != nil {
		return nil, err
	}
	client := asynq.NewClient(d.ConnOpt)
	sched, err := scheduler.New(SchedulerConfig(cfg), scheduler.Deps{Redis: d.Redis, Enqueuer: client, Instruments: instruments,
		Clock: d.Clock, Log: d.Log, Metrics: d.Metrics})
	if err != nil {
		client.Close()
		return nil, err
	}
	n := &Scheduler{Sched: sched, client: client}
	if cfg.Scheduler.HTTP != "" {
		n.Web = web.New(cfg.Scheduler.HTTP, d.Metrics, func(ctx context.Context) error {
			if err := d.Redis.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
			return sched.Ready()
		}, d.Log)
	}
	return n, nil
}

// Start starts the scheduler and the HTTP endpoints.
func (n *Scheduler) Start(ctx context.Context) error {
	if n.Web != nil {
		if err := n.Web.Start(ctx); err != nil {
			return err
		}
	}
	return n.Sched.Start(ctx)
}

// Stop stops the scheduler (releasing the lease) and the endpoints. Safe
// to call twice.
func (n *Scheduler) Stop(ctx context.Context) error {
	n.stopOnce.Do(func() {
		var errs []error
		errs = append(errs, n.Sched.Stop(ctx))
		if n.Web != nil {
			errs = append(errs, n.Web.Stop(ctx))
		}
		errs = append(errs, n.client.Close())
		n.stopErr = errors.Join(errs...)
	})
	return n.stopErr
}
