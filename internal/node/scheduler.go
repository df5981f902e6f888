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
	"heartbeat/internal/live"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
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
	// Fault is the scheduler's fault hook (scheduler.Deps.Fault): nil
	// but in a binary built with -tags faults.
	Fault func(step string)
	// Store is the durable bar store the API reads bars from; nil opens
	// the configured one (closed on Stop), and if that fails the API
	// serves bars from Redis only.
	Store bars.Store
}

// Scheduler is one scheduler replica: the scheduler, its asynq client, and
// its HTTP endpoints with the operator site (status page, API, controls,
// asynqmon).
type Scheduler struct {
	Sched    *scheduler.Scheduler
	cal      *calendars.Watcher
	client   *asynq.Client
	Web      *web.Server
	site     *web.Site
	live     *live.Hub  // the live figures behind the site's GET /api/v1/stream
	store    bars.Store // owned: opened here, closed on Stop
	stopOnce sync.Once
	stopErr  error
}

// SchedulerConfig turns the config into the scheduler's.
func SchedulerConfig(cfg config.Config) scheduler.Config {
	sc := scheduler.Config{
		Replica: cfg.Scheduler.Replica, Lock: cfg.Scheduler.Lock, LeaseTTL: cfg.Scheduler.LeaseTTL, RenewEvery: cfg.Scheduler.RenewEvery,
		FastTick: cfg.Scheduler.FastTickDuration(), SlowTick: cfg.Scheduler.SlowTickDuration(), CloseGrace: cfg.Scheduler.CloseGrace, EnqueueAhead: cfg.Scheduler.EnqueueAhead,
		Retention: cfg.Scheduler.Retention, Shards: cfg.Ingest.Shards, LookBack: cfg.Scheduler.LookBack, EventsRetention: cfg.Events.Retention,
	}
	if sc.Replica == "" {
		sc.Replica = DefaultName()
	}
	for _, name := range cfg.JobSet().Names() {
		spec, j := cfg.Job(name)
		sc.Jobs = append(sc.Jobs, scheduler.JobConfig{Spec: spec, Enabled: j.Enabled})
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
	sc := SchedulerConfig(cfg)
	sched, err := scheduler.New(sc, scheduler.Deps{Redis: d.Redis, Enqueuer: client, Instruments: instruments,
		Clock: d.Clock, Log: d.Log, Metrics: d.Metrics, Fault: d.Fault})
	if err != nil {
		client.Close()
		return nil, err
	}
	rt := calendars.New(d.Redis, instruments.Book())
	n := &Scheduler{Sched: sched, client: client, cal: calendars.NewWatcher(rt, d.Clock, sc.FastTick, d.Log)}
	if cfg.Scheduler.HTTP != "" {
		d.Metrics.WatchRedis(func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() })
		n.Web = web.New(cfg.Scheduler.HTTP, d.Metrics, func(ctx context.Context) error {
			if err := d.Redis.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
			return sched.Ready()
		}, d.Log)
		if cfg.HTTP.TLS() {
			n.Web.ServeTLS(web.TLSFiles{CertFile: cfg.HTTP.TLSCertFile, KeyFile: cfg.HTTP.TLSKeyFile})
		}
		if err := n.mountSite(cfg, sc, d, instruments, rt); err != nil {
			client.Close()
			return nil, err
		}
	}
	return n, nil
}

// mountSite builds the operator site on the replica's web server.
func (n *Scheduler) mountSite(cfg config.Config, sc scheduler.Config, d SchedulerDeps, instruments *market.Instruments, rt *calendars.Runtime) error {
	store := d.Store
	if store == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := bars.Open(ctx, cfg.Store, bars.WithMarkets(instruments.MarketOf), bars.WithBook(instruments.Book()))
		cancel()
		if err != nil {
			d.Log.Warn().Err(err).Msg("status API: bar store unavailable: bars are served from Redis only")
		} else {
			store, n.store = s, s
		}
	}
	set, err := marketdata.SettingsFrom(cfg)
	if err != nil {
		return err
	}
	eng, err := marketdata.New(set, marketdata.Deps{Redis: d.Redis, Instruments: instruments, Store: store, Log: d.Log,
		WaitShort: func(component string) { d.Metrics.WaitShort.WithLabelValues(component).Inc() }})
	if err != nil {
		return err
	}
	controls, err := scheduler.NewControls(sc, scheduler.ControlDeps{Redis: d.Redis, Enqueuer: n.client, Instruments: instruments, Clock: d.Clock, Calendars: rt})
	if err != nil {
		return err
	}
	n.live, err = live.New(live.Config{}, live.Deps{Source: eng, Render: web.RenderFigure, Clock: d.Clock,
		Log: d.Log.With().Str("component", "live").Logger(), Lag: d.Metrics.LiveLag.WithLabelValues("read")})
	if err != nil {
		return err
	}
	tokens, err := cfg.OperatorTokens()
	if err != nil {
		return err
	}
	unnamed := tokens[""]
	delete(tokens, "")
	n.site, err = web.NewSite(web.SiteConfig{Replica: sc.Replica, Token: unnamed, Tokens: tokens}, web.SiteDeps{
		Redis: d.Redis, ConnOpt: d.ConnOpt, Scheduler: n.Sched, Controls: controls, Engine: eng, Store: store,
		Metrics: d.Metrics, Live: n.live, Clock: d.Clock, Log: d.Log.With().Str("component", "web").Logger(),
	})
	if err != nil {
		if n.store != nil {
			n.store.Close()
		}
		return err
	}
	n.site.Mount(n.Web)
	return nil
}

// Start applies the runtime calendar entries and keeps them applied, then
// starts the scheduler and the HTTP endpoints.
func (n *Scheduler) Start(ctx context.Context) error {
	if err := n.cal.Start(ctx); err != nil {
		return err
	}
	if n.live != nil {
		if err := n.live.Start(ctx); err != nil {
			return err
		}
	}
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
		errs = append(errs, n.cal.Stop(ctx))
		if n.Web != nil {
			errs = append(errs, n.Web.Stop(ctx))
		}
		if n.live != nil {
			errs = append(errs, n.live.Stop(ctx))
		}
		if n.site != nil {
			errs = append(errs, n.site.Close())
		}
		if n.store != nil {
			errs = append(errs, n.store.Close())
		}
		errs = append(errs, n.client.Close())
		n.stopErr = errors.Join(errs...)
	})
	return n.stopErr
}
