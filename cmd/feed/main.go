// Command feed writes ticks into Heartbeat's ingest streams, as any
// external feed would: `simulate` random-walks prices for the configured
// instruments while their markets are open, and `replay` writes a CSV file
// of recorded trades.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/feed"
	"heartbeat/internal/logging"
	"heartbeat/internal/redisconn"
	"heartbeat/internal/ticks"
)

// stopTimeout bounds the simulator's shutdown after SIGTERM.
const stopTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, clock.Real{}, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// commands are the subcommands, on clk: the simulator's and the replay's
// pacing and the simulation's --duration are measured on it.
func commands(clk clock.Clock) []cli.Command {
	return []cli.Command{
		{Name: "simulate", Summary: "write random-walk ticks for the configured instruments until stopped",
			Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runSimulate(ctx, clk, args, stdout, stderr)
			}},
		{Name: "replay", Summary: "write the trades of a CSV file (ts,symbol,price,size[,bid,ask])",
			Run: func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
				return runReplay(ctx, clk, args, stdout, stderr)
			}},
	}
}

// run dispatches to a subcommand and maps its error to an exit code: 1 for
// Redis unreachable or failing and an interrupted replay, 2 for bad flags,
// configuration or input file header.
func run(ctx context.Context, clk clock.Clock, args []string, stdout, stderr io.Writer) int {
	if cli.IsVersion(args, stdout) {
		return cli.ExitOK
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return cli.ExitUsage
		}
		return cli.ExitOK
	}
	if c, ok := cli.Find(commands(clk), args[0]); ok {
		return cli.ExitCode("feed", c.Run(ctx, args[1:], stdout, stderr), stderr)
	}
	fmt.Fprintf(stderr, "feed: unknown command %q\n", args[0])
	usage(stderr)
	return cli.ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: feed <command> [flags]")
	cli.PrintCommands(w, commands(nil))
	fmt.Fprintln(w, "\nRun feed <command> -h for its flags.")
}

// setup validates the configuration, builds the logger and connects to
// Redis (a PING within redis.dial_timeout, else a clear error).
func setup(ctx context.Context, cfg config.Config, stderr io.Writer, cmd string) (zerolog.Logger, redis.UniversalClient, error) {
	if err := cfg.Validate(); err != nil {
		return zerolog.Logger{}, nil, err
	}
	log := logging.New(cfg.Log, stderr).With().Str("cmd", cmd).Logger()
	redisconn.RouteRedisLogs(log)
	rdb, _, err := redisconn.Redis(ctx, cfg.Redis)
	return log, rdb, err
}

// runSimulate runs the simulator until SIGTERM or --duration.
func runSimulate(ctx context.Context, clk clock.Clock, args []string, _, stderr io.Writer) error {
	fs := cli.NewFlags("simulate", stderr)
	common := cli.AddCommon(fs)
	rate := fs.Float64("rate", 0, "ticks per second over all symbols (feed.rate)")
	symbols := fs.String("symbols", "", "comma-separated symbols to simulate, e.g. ES,SPY (feed.symbols; default every instrument)")
	allHours := fs.Bool("all-hours", false, "simulate while the markets are closed (feed.all_hours)")
	seed := fs.Int64("seed", 0, "random seed; 0 picks one (feed.seed)")
	duration := fs.Duration("duration", 0, "how long to run; 0 runs until SIGTERM")
	quotes := fs.Bool("quotes", true, "give every tick a bid and ask")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if *duration < 0 {
		return cli.Usagef("--duration: must be >= 0, got %s", *duration)
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	cli.Visit(fs, map[string]func(){
		"rate":      func() { cfg.Feed.Rate = *rate },
		"symbols":   func() { cfg.Feed.Symbols = splitList(*symbols) },
		"all-hours": func() { cfg.Feed.AllHours = *allHours },
		"seed":      func() { cfg.Feed.Seed = *seed },
	})
	if err := cfg.Validate(); err != nil {
		return err
	}
	sc, err := feed.SimConfigFrom(cfg)
	if err != nil {
		return err
	}
	sc.NoQuotes = !*quotes
	log, rdb, err := setup(ctx, cfg, stderr, "feed simulate")
	if err != nil {
		return err
	}
	defer rdb.Close()
	writer := ticks.NewWriter(rdb, cfg.Ingest.Shards, ticks.WaitReplicas(cfg.Ingest.WaitReplicas))
	sim, err := feed.NewSimulator(sc, feed.SimDeps{Writer: writer, Clock: clk, Logger: log})
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	if *duration > 0 {
		_ = clk.SleepUntil(ctx, clk.Now().Add(*duration))
	} else {
		<-ctx.Done()
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	err = sim.Stop(stopCtx)
	st, ws := sim.Stats(), writer.Stats()
	log.Info().Uint64("ticks", st.TicksWritten).Uint64("duplicates", ws.Duplicates).Uint64("stale", ws.Stale).Uint64("reassigned", ws.Reassigned).Uint64("batches", st.Batches).Uint64("errors", st.Errors).
		Uint64("failed", st.TicksFailed).Uint64("skipped", st.TicksSkipped).Int64("seed", sim.Seed()).
		Msg("simulation finished")
	return err
}

// runReplay writes a trades CSV, paced by its timestamps or as fast as
// possible.
func runReplay(ctx context.Context, clk clock.Clock, args []string, _, stderr io.Writer) error {
	fs := cli.NewFlags("replay", stderr)
	common := cli.AddCommon(fs)
	file := fs.String("file", "", "trades CSV: header ts,symbol,price,size and optionally bid,ask,bid_size,ask_size (required)")
	speed := fs.Float64("speed", 1, "replay N times faster than recorded (1 = real time)")
	maxSpeed := fs.Bool("max", false, "replay as fast as possible (exclusive with --speed)")
	attempts := fs.Int("max-attempts", feed.DefaultMaxAttempts, "tries of one write before the replay fails (backoff 50ms doubling to 2s; 20 rides out a failover)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	speedSet := false
	cli.Visit(fs, map[string]func(){"speed": func() { speedSet = true }})
	switch {
	case *file == "":
		return cli.Usagef("replay: --file is required")
	case speedSet && *maxSpeed:
		return cli.Usagef("replay: --speed and --max are exclusive")
	case !*maxSpeed && !(*speed > 0):
		return cli.Usagef("replay: --speed must be > 0, got %g", *speed)
	case *attempts < 1:
		return cli.Usagef("replay: --max-attempts must be >= 1, got %d", *attempts)
	}
	cfg, err := common.Load(fs)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	ins, err := cfg.MarketInstruments()
	if err != nil {
		return cli.Usagef("instruments: %w", err)
	}
	f, err := os.Open(*file)
	if err != nil {
		return cli.Usagef("--file: %w", err)
	}
	defer f.Close()
	tr, err := feed.NewTradeReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return cli.Usagef("--file %s: %w", *file, err)
	}
	log, rdb, err := setup(ctx, cfg, stderr, "feed replay")
	if err != nil {
		return err
	}
	defer rdb.Close()
	began := clk.Now()
	writer := ticks.NewWriter(rdb, cfg.Ingest.Shards, ticks.WaitReplicas(cfg.Ingest.WaitReplicas))
	st, err := feed.Replay(ctx, tr, feed.ReplayConfig{
		Speed: *speed, Max: *maxSpeed, MaxAttempts: *attempts,
		Validator: ticks.Validator{Known: ins.Known, MaxFuture: cfg.Ingest.MaxFuture},
	}, feed.ReplayDeps{Writer: writer, Clock: clk, Logger: log})
	logReplay(log, st, writer.Stats(), clk.Now().Sub(began))
	return err
}

func logReplay(log zerolog.Logger, st feed.ReplayStats, ws ticks.WriterStats, took time.Duration) {
	ev := log.Info().Uint64("rows", st.Rows).Uint64("ticks", st.Ticks).Uint64("raw", st.Raw).
		Uint64("duplicates", ws.Duplicates).Uint64("stale", ws.Stale).Uint64("reassigned", ws.Reassigned).
		Uint64("batches", st.Batches).Uint64("errors", st.Errors).Int64("dur_ms", took.Milliseconds())
	if s := took.Seconds(); s > 0 {
		ev = ev.Float64("rows_per_s", float64(st.Ticks+st.Raw)/s)
	}
	ev.Msg("replay finished")
}

// splitList splits "A, B,,C" into [A B C].
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
