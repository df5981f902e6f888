package main

import (
	"context"
	"flag"
	"io"
	"time"

	"heartbeat/internal/cli"
	"heartbeat/internal/config"
	"heartbeat/internal/embedded"
	"heartbeat/internal/logging"
	"heartbeat/internal/redisconn"

	"github.com/rs/zerolog"
	"heartbeat/internal/metrics"
	"heartbeat/internal/node"
)

// stopTimeout bounds a graceful stop.
const stopTimeout = 9 * time.Second

// runDaemon runs a scheduler replica, or with --embedded the whole system
// on an in-memory Redis, until ctx is cancelled (SIGINT, SIGTERM).
func runDaemon(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs, f := daemonFlags(stderr)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := f.common.Load(fs)
	if err != nil {
		return err
	}
	cli.Visit(fs, map[string]func(){
		"fast-tick": func() { cfg.Scheduler.FastTick = config.Seconds(*f.fast) },
		"slow-tick": func() { cfg.Scheduler.SlowTick = config.Seconds(*f.slow) },
		"no-lock":   func() { cfg.Scheduler.Lock = !*f.noLock },
		"http":      func() { cfg.Scheduler.HTTP = *f.httpAddr },
		"replica":   func() { cfg.Scheduler.Replica = *f.replica },
		"workers":   func() { cfg.Embedded.Workers = *f.workers },
	})
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := logging.New(cfg.Log, stderr)
	redisconn.RouteRedisLogs(log)
	if *f.embedded {
		return runEmbedded(ctx, cfg, log)
	}
	return runScheduler(ctx, cfg, log, stderr)
}

// replicaFlags are the flags of a scheduler replica.
type replicaFlags struct {
	common            cli.Common
	fast, slow        *float64
	noLock, embedded  *bool
	httpAddr, replica *string
	workers           *int
}

func daemonFlags(stderr io.Writer) (*flag.FlagSet, replicaFlags) {
	fs := cli.NewFlags("scheduler", stderr)
	f := replicaFlags{common: cli.AddCommon(fs)}
	f.fast = fs.Float64("fast-tick", 0, "seconds: gate re-evaluation cadence and smallest job interval (default 1.0)")
	f.slow = fs.Float64("slow-tick", 0, "seconds: cadence floor of a job while its markets are closed (default 60.0)")
	f.noLock = fs.Bool("no-lock", false, "do not take the Redis leader lease: every replica enqueues (duplicates are suppressed)")
	f.httpAddr = fs.String("http", "", "address of the status page, API, metrics and health (default :8080; empty disables)")
	f.replica = fs.String("replica", "", "name of this replica (default host:pid)")
	f.embedded = fs.Bool("embedded", false, "run everything in one process on an in-memory Redis: scheduler, workers, feed")
	f.workers = fs.Int("workers", 0, "with --embedded: number of in-process workers (default 2)")
	return fs, f
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

func runScheduler(ctx context.Context, cfg config.Config, log zerolog.Logger, stderr io.Writer) error {
	rdb, conn, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	clk, fault, err := faultInjection(stderr)
	if err != nil {
		return err
	}
	n, err := node.NewScheduler(cfg, node.SchedulerDeps{Redis: rdb, ConnOpt: conn, Clock: clk, Log: log, Metrics: metrics.New(), Fault: fault})
	if err != nil {
		return err
	}
	return serve(ctx, n)
}

func runEmbedded(ctx context.Context, cfg config.Config, log zerolog.Logger) error {
	return serve(ctx, embedded.New(cfg, log))
}
