// Command worker runs Heartbeat's job tasks: an asynq server with the eight
// handlers. Run as many as you like; each slot runs once.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/logging"
	"heartbeat/internal/metrics"
	"heartbeat/internal/node"
	"heartbeat/internal/redisconn"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.ExitCode("worker", run(ctx, os.Args[1:], os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// run starts a worker and serves until ctx is done; SIGTERM stops taking
// tasks, lets in-flight ones finish within worker.shutdown_timeout and
// hands the rest back.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if cli.IsVersion(args, stdout) {
		return nil
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(ctx, args[1:], stderr)
	}
	fs := cli.NewFlags("worker", stderr)
	common := cli.AddCommon(fs)
	concurrency := fs.Int("concurrency", 0, "tasks run at once (default 8)")
	httpAddr := fs.String("http", "", "address of metrics and health (default :8081; empty disables)")
	name := fs.String("name", "", "name of this worker in the run history (default host:pid)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	cli.Visit(fs, map[string]func(){
		"concurrency": func() { cfg.Worker.Concurrency = *concurrency },
		"http":        func() { cfg.Worker.HTTP = *httpAddr },
		"name":        func() { cfg.Worker.Name = *name },
	})
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := logging.New(cfg.Log, stderr)
	redisconn.RouteRedisLogs(log)
	rdb, conn, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	w, err := node.NewWorker(ctx, cfg, node.WorkerDeps{Redis: rdb, ConnOpt: conn, Clock: clock.Real{}, Log: log, Metrics: metrics.New()})
	if err != nil {
		return err
	}
	if err := w.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Worker.ShutdownTimeout+time.Second)
	defer cancel()
	return w.Stop(sctx)
}

// runHealthcheck exits 0 when this host's worker says it is ready (GET
// /readyz on worker.http, or --addr): the image's HEALTHCHECK.
func runHealthcheck(ctx context.Context, args []string, stderr io.Writer) error {
	return cli.RunHealthcheck(ctx, "worker", args, stderr, func(c config.Config) string { return c.Worker.HTTP })
}
