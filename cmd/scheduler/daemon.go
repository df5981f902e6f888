package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/embedded"
	"heartbeat/internal/logging"

	"github.com/rs/zerolog"
	"heartbeat/internal/metrics"
	"heartbeat/internal/node"
)

// stopTimeout bounds a graceful stop.
const stopTimeout = 9 * time.Second

// runDaemon runs a scheduler replica, or with --embedded the whole system
// on an in-memory Redis, until ctx is cancelled (SIGINT, SIGTERM).
func runDaemon(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := cli.NewFlags("scheduler", stderr)
	common := cli.AddCommon(fs)
	fast := fs.Float64("fast-tick", 0, "seconds: gate re-evaluation cadence and smallest job interval (default 1.0)")
	slow := fs.Float64("slow-tick", 0, "seconds: cadence floor of a job while its markets are closed (default 60.0)")
	noLock := fs.Bool("no-lock", false, "do not take the Redis leader lease: every replica enqueues (duplicates are suppressed)")
	httpAddr := fs.String("http", "", "address of the status page, API, metrics and health (default :8080; empty disables)")
	replica := fs.String("replica", "", "name of this replica (default host:pid)")
	emb := fs.Bool("embedded", false, "run everything in one process on an in-memory Redis: scheduler, workers, feed")
	workers := fs.Int("workers", 0, "with --embedded: number of in-process workers (default 2)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	cli.Visit(fs, map[string]func(){
		"fast-tick": func() { cfg.Scheduler.FastTick = *fast },
		"slow-tick": func() { cfg.Scheduler.SlowTick = *slow },
		"no-lock":   func() { cfg.Scheduler.Lock = !*noLock },
		"http":      func() { cfg.Scheduler.HTTP = *httpAddr },
		"replica":   func() { cfg.Scheduler.Replica = *replica },
		"workers":   func() { cfg.Embedded.Workers = *workers },
	})
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := logging.New(cfg.Log, stderr)
	node.RouteRedisLogs(log)
	if *emb {
		return runEmbedded(ctx, cfg, log)
	}
	return runScheduler(ctx, cfg, log)
}

type component interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// serve starts c, waits for ctx, and stops c within stopTimeout.
func serve(ctx context.Context, c component) error {
	if err := c.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	return c.Stop(sctx)
}

func runScheduler(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	rdb, opts, err := node.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	n, err := node.NewScheduler(cfg, node.SchedulerDeps{Redis: rdb, ConnOpt: node.ConnOpt{Options: opts}, Clock: clock.Real{}, Log: log, Metrics: metrics.New()})
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	return serve(ctx, n)
}

func runEmbedded(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return serve(ctx, embedded.New(cfg, log))
}
