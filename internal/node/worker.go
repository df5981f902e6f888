package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/calendars"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
	"heartbeat/internal/runner"
	"heartbeat/internal/tasks"
	"heartbeat/internal/web"
)

// WorkerDeps are a worker's collaborators.
type WorkerDeps struct {
	Redis   redis.UniversalClient
	ConnOpt asynq.RedisConnOpt
	Clock   clock.Clock
	Log     zerolog.Logger
	Metrics *metrics.Metrics
	// Store is the durable bar store; nil opens the configured one (and
	// closes it on Stop).
	Store bars.Store
	// HTTP overrides cfg.Worker.HTTP when not nil ("" disables).
	HTTP *string
	// Handlers are the bodies of the program's own jobs (cfg.Registry
	// beyond the built-in eight).
	Handlers map[jobs.Name]runner.Func
}

// Worker runs the eight jobs' tasks.
type Worker struct {
	cfg       config.Config
	d         WorkerDeps
	name      string
	srv       *asynq.Server
	mux       *asynq.ServeMux
	web       *web.Server
	cal       *calendars.Watcher
	ownsStore bool
	stopOnce  sync.Once
	stopErr   error
}

// NewWorker builds a worker from a validated config.
func NewWorker(ctx context.Context, cfg config.Config, d WorkerDeps) (*Worker, error) {
	if d.Redis == nil || d.ConnOpt == nil || d.Clock == nil || d.Metrics == nil {
		return nil, errors.New("worker: Redis, ConnOpt, Clock and Metrics are required")
	}
	instruments, err := cfg.MarketInstruments()
	if err != nil {
		return nil, err
	}
	d.Metrics.WatchCalendars(instruments.Book()) // heartbeat_calendar_* gauges, read at scrape time
	d.Metrics.WatchRedis(func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() })
	w := &Worker{cfg: cfg, d: d, name: cfg.Worker.Name,
		cal: calendars.NewWatcher(calendars.New(d.Redis, instruments.Book()), d.Clock, cfg.Scheduler.FastTickDuration(), d.Log)}
	if w.name == "" {
		w.name = DefaultName()
	}
	if d.Store == nil {
		store, err := bars.Open(ctx, cfg.Store, bars.WithMarkets(instruments.MarketOf), bars.WithBook(instruments.Book()))
		if err != nil {
			return nil, fmt.Errorf("worker: bar store: %w", err)
		}
		w.d.Store, w.ownsStore = store, true
	}
	set, err := marketdata.SettingsFrom(cfg)
	if err != nil {
		return nil, err
	}
	log := d.Log.With().Str("component", "worker").Str("worker", w.name).Logger()
	eng, err := marketdata.New(set, marketdata.Deps{Redis: d.Redis, Instruments: instruments, Store: w.d.Store, Log: log,
		WaitShort: func(component string) { d.Metrics.WaitShort.WithLabelValues(component).Inc() }})
	if err != nil {
		return nil, err
	}
	d.Metrics.WatchTickBacklog(cfg.Ingest.Shards, func(ctx context.Context, shard int) (time.Duration, error) {
		return eng.TickBacklogAge(ctx, shard, d.Clock.Now())
	})
	h, err := runner.NewHandlers(runner.HandlerDeps{Engine: eng, Redis: d.Redis, Runs: runlog.New(d.Redis, cfg.Runs.Retention), Clock: d.Clock,
		Log: log, Metrics: d.Metrics, Worker: w.name})
	if err != nil {
		return nil, err
	}
	w.mux = asynq.NewServeMux()
	if err := h.Register(w.mux, cfg.JobSet(), d.Handlers); err != nil {
		return nil, err
	}
	w.srv = asynq.NewServer(d.ConnOpt, asynq.Config{
		Concurrency:              cfg.Worker.Concurrency,
		Queues:                   map[string]int{jobs.QueueCritical: 6, jobs.QueueDefault: 3},
		StrictPriority:           true,
		TaskCheckInterval:        cfg.Worker.PollInterval,
		DelayedTaskCheckInterval: time.Second,
		ShutdownTimeout:          cfg.Worker.ShutdownTimeout,
		RetryDelayFunc:           tasks.RetryDelay,
		IsFailure:                tasks.IsFailure,
		Logger:                   asynqLogger{log.With().Str("source", "asynq").Logger()},
		LogLevel:                 asynqLevel(log.GetLevel()),
	})
	addr := cfg.Worker.HTTP
	if d.HTTP != nil {
		addr = *d.HTTP
	}
	if addr != "" {
		w.web = web.New(addr, d.Metrics, func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() }, log)
		if cfg.HTTP.TLS() {
			w.web.ServeTLS(web.TLSFiles{CertFile: cfg.HTTP.TLSCertFile, KeyFile: cfg.HTTP.TLSKeyFile})
		}
	}
	return w, nil
}

// Name returns the worker's name in the run history.
func (w *Worker) Name() string { return w.name }

// Start applies the runtime calendar entries (workers label sessions, so
// they need them too) and keeps them applied, then starts the asynq
// server and the HTTP endpoints.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.cal.Start(ctx); err != nil {
		return err
	}
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("worker: start asynq server: %w", err)
	}
	if w.web != nil {
		if err := w.web.Start(ctx); err != nil {
			w.srv.Shutdown()
			return err
		}
	}
	w.d.Log.Info().Str("worker", w.name).Int("concurrency", w.cfg.Worker.Concurrency).Msg("worker started")
	return nil
}

// Stop stops taking tasks, lets in-flight ones finish within the shutdown
// timeout and hands the rest back to their queues. Safe to call twice.
func (w *Worker) Stop(ctx context.Context) error {
	w.stopOnce.Do(func() {
		var errs []error
		if w.web != nil {
			errs = append(errs, w.web.Stop(ctx))
		}
		w.srv.Shutdown()
		errs = append(errs, w.cal.Stop(ctx))
		if w.ownsStore {
			errs = append(errs, w.d.Store.Close())
		}
		w.stopErr = errors.Join(errs...)
		w.d.Log.Info().Str("worker", w.name).Msg("worker stopped")
	})
	return w.stopErr
}
