package main

import (
	"context"
	"io"

	"heartbeat/internal/cli"
	"heartbeat/internal/config"
)

// runHealthcheck exits 0 when this host's scheduler says it is ready
// (GET /readyz on scheduler.http, or --addr).
func runHealthcheck(ctx context.Context, args []string, _, stderr io.Writer) error {
	return cli.RunHealthcheck(ctx, "scheduler", args, stderr, func(c config.Config) string { return c.Scheduler.HTTP })
}
