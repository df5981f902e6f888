package main

import (
	"context"
	"fmt"
	"io"

	"heartbeat/internal/bars"
	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/logging"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/redisconn"
)

// runRebuild restores, from the durable store, the state the jobs keep only
// in Redis (see marketdata.Engine.Rebuild), as of the wall clock.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return rebuild(ctx, args, stdout, stderr, clock.Real{})
}

// rebuild is runRebuild with the clock injected, for tests.
func rebuild(ctx context.Context, args []string, stdout, stderr io.Writer, clk clock.Clock) error {
	fs := cli.NewFlags("rebuild", stderr)
	common := cli.AddCommon(fs)
	dir := fs.String("store-dir", "", "CSV bar store directory (store.dir)")
	pg := fs.String("postgres-url", "", "PostgreSQL bar store postgres://... (store.postgres_url)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: scheduler rebuild [--config FILE] [--redis URL] [--store-dir DIR | --postgres-url URL]")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	cli.Visit(fs, map[string]func(){
		"store-dir":    func() { cfg.Store.Dir = *dir },
		"postgres-url": func() { cfg.Store.PostgresURL = *pg },
	})
	cfg, instruments, err := validConfig(cfg, nil)
	if err != nil {
		return err
	}
	set, err := marketdata.SettingsFrom(cfg)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	rdb, _, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	store, err := bars.Open(ctx, cfg.Store, bars.WithMarkets(instruments.MarketOf))
	if err != nil {
		return err
	}
	defer store.Close()
	eng, err := marketdata.New(set, marketdata.Deps{Redis: rdb, Instruments: instruments, Store: store, Log: logging.New(cfg.Log, stderr)})
	if err != nil {
		return err
	}
	now := clk.Now()
	stats, err := eng.Rebuild(ctx, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuild at %s: %d symbols, %d daily rows, %d minute bars, %d intraday states restored\n",
		now.UTC().Format("2006-01-02T15:04:05Z"), stats.Symbols, stats.DailyRows, stats.MinuteBars, stats.States)
	return nil
}
