package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"heartbeat/internal/backfill"
	"heartbeat/internal/cli"
	"heartbeat/internal/config"
	"heartbeat/internal/logging"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
)

// marketFlags collects repeated --market SYMBOL=MARKET flags.
type marketFlags map[string]string

func (m marketFlags) String() string { return fmt.Sprint(map[string]string(m)) }

func (m marketFlags) Set(s string) error {
	sym, code, ok := strings.Cut(s, "=")
	if !ok || sym == "" {
		return fmt.Errorf("want SYMBOL=MARKET, got %q", s)
	}
	if _, err := market.ParseCode(code); err != nil {
		return err
	}
	m[sym] = code
	return nil
}

// runBackfill runs the ingest and job code over a trades file with a
// simulated clock on embedded miniredis, and writes the figures as CSV.
func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := cli.NewFlags("backfill", stderr)
	cfgPath := fs.String("config", "", "config file (default ./config.yaml if present)")
	tradesPath := fs.String("trades", "", "CSV of trades: ts,symbol,price,size[,bid,ask] (required)")
	outDir := fs.String("out", "", "directory for bars_1m.csv, vwap_1m.csv, session_volume.csv, rolling_24h.csv (required)")
	markets := marketFlags{}
	fs.Var(markets, "market", "SYMBOL=MARKET for a symbol of the file (repeatable); adds to or overrides config instruments")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *tradesPath == "" || *outDir == "" {
		return cli.Usagef("backfill: --trades and --out are required")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	for sym, code := range markets {
		found := false
		for i := range cfg.Instruments {
			if cfg.Instruments[i].Symbol == sym {
				cfg.Instruments[i].Market, found = code, true
			}
		}
		if !found {
			cfg.Instruments = append(cfg.Instruments, config.Instrument{Symbol: sym, Market: code, Weight: 1})
		}
	}
	if err := cfg.Validate(); err != nil {
		return cli.UsageError{Err: err}
	}
	instruments, err := cfg.MarketInstruments()
	if err != nil {
		return cli.UsageError{Err: err}
	}
	set, err := marketdata.SettingsFrom(cfg)
	if err != nil {
		return cli.UsageError{Err: err}
	}
	f, err := os.Open(*tradesPath)
	if err != nil {
		return cli.Usagef("--trades: %w", err)
	}
	defer f.Close()
	log := logging.New(cfg.Log, stderr)
	started := time.Now()
	sum, err := backfill.Run(ctx, backfill.Config{Trades: f, OutDir: *outDir, Instruments: instruments, Settings: set}, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backfill: %d rows (%s .. %s), %d ticks accepted (%d out of session), %d simulated minutes, in %s\n",
		sum.Rows, sum.First.Format(time.RFC3339), sum.Last.Format(time.RFC3339), sum.Accepted, sum.OutOfSession, sum.Minutes,
		time.Since(started).Round(time.Millisecond))
	fmt.Fprintf(stdout, "wrote %s: %d bars, %d VWAP points, %d session volumes, %d rolling 24h rows\n",
		*outDir, sum.Bars, sum.VwapPoints, sum.Sessions, sum.RollingRows)
	if len(sum.DeadLetters) > 0 {
		reasons := make([]string, 0, len(sum.DeadLetters))
		for r, n := range sum.DeadLetters {
			reasons = append(reasons, fmt.Sprintf("%s=%d", r, n))
		}
		sort.Strings(reasons)
		fmt.Fprintf(stdout, "dead letters: %s\n", strings.Join(reasons, " "))
	}
	return nil
}
