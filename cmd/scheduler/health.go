package main

import (
	"context"
	"io"
	"time"

	"heartbeat/internal/cli"
)

// runHealthcheck exits 0 when this host's scheduler says it is ready
// (GET /readyz on scheduler.http, or --addr).
func runHealthcheck(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := cli.NewFlags("healthcheck", stderr)
	common := cli.AddCommon(fs)
	addr := fs.String("addr", "", "host:port of the scheduler's HTTP endpoint (default scheduler.http)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	if *addr == "" {
		*addr = cfg.Scheduler.HTTP
	}
	return cli.Healthcheck(ctx, *addr, cfg.HTTP.TLS(), *timeout)
}
