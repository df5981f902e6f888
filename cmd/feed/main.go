// Command feed writes ticks into Heartbeat's ingest streams, as any
// external feed would: `simulate` random-walks prices for the configured
// instruments while their markets are open, and `replay` writes a CSV file
// of recorded trades.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/feed"
	"heartbeat/internal/logging"
	"heartbeat/internal/ticks"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // Redis unreachable or failing, an interrupted replay
	exitUsage = 2 // bad flags, configuration or input file header
)

// stopTimeout bounds the simulator's shutdown after SIGTERM.
const stopTimeout = 5 * time.Second

func main() {
	// go-redis logs its dial retries itself; route them into the command's
	// logger at debug level, since the command reports the error once.
	redis.SetLogger(redisLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"simulate", "write random-walk ticks for the configured instruments until stopped", runSimulate},
		{"replay", "write the trades of a CSV file (ts,symbol,price,size[,bid,ask])", runReplay},
	}
}

// run dispatches to a subcommand and maps its error to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(c.run(ctx, args[1:], stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "feed: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: feed <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun feed <command> -h for its flags.")
}

// usageError marks an error the user can fix by changing the command line,
// the configuration or the input file: it exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue), errors.Is(err, config.ErrInvalid):
		fmt.Fprintln(stderr, "feed:", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "feed:", err)
	return exitError
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, turning a parse failure into a usage error, and
// returns the names of the flags given.
func parse(fs *flag.FlagSet, args []string) (map[string]bool, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usagef("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set, nil
}

// loadConfig loads the configuration, lets edit apply the flags, and
// validates the result. Its errors wrap config.ErrInvalid.
func loadConfig(path string, edit func(*config.Config)) (config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return config.Config{}, err
	}
	edit(&cfg)
	if err := cfg.Validate(); err != nil {
		return config.Config{}, err
	}
	return cfg, nil
}

// connect returns a client of the configured Redis once it answers a
// PING, or an error after redis.dial_timeout.
func connect(ctx context.Context, cfg config.Redis) (*redis.Client, error) {
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, usagef("redis.url: %w", err)
	}
	opts.DialTimeout = cfg.DialTimeout
	rdb := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis at %s is not reachable (redis.dial_timeout %s): %w", opts.Addr, cfg.DialTimeout, err)
	}
	return rdb, nil
}

// cmdLog is the running command's logger, for redisLogger.
var cmdLog atomic.Pointer[zerolog.Logger]

// newLogger builds the command's logger and makes it the target of
// go-redis's own messages.
func newLogger(cfg config.Log, stderr io.Writer, cmd string) zerolog.Logger {
	log := logging.New(cfg, stderr).With().Str("cmd", cmd).Logger()
	cmdLog.Store(&log)
	return log
}

// redisLogger writes go-redis's messages to cmdLog at debug level.
type redisLogger struct{}

func (redisLogger) Printf(_ context.Context, format string, v ...any) {
	if l := cmdLog.Load(); l != nil {
		l.Debug().Str("component", "go-redis").Msgf(format, v...)
	}
}

// runSimulate runs the simulator until SIGTERM or --duration.
func runSimulate(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("simulate", stderr)
	cfgPath := fs.String("config", "", "config file (default ./config.yaml when it exists)")
	redisURL := fs.String("redis", "", "Redis URL, redis://host:port/db (redis.url)")
	rate := fs.Float64("rate", 0, "ticks per second over all symbols (feed.rate)")
	symbols := fs.String("symbols", "", "comma-separated symbols to simulate, e.g. ES,SPY (feed.symbols; default every instrument)")
	allHours := fs.Bool("all-hours", false, "simulate while the markets are closed (feed.all_hours)")
	seed := fs.Int64("seed", 0, "random seed; 0 picks one (feed.seed)")
	duration := fs.Duration("duration", 0, "how long to run; 0 runs until SIGTERM")
	quotes := fs.Bool("quotes", true, "give every tick a bid and ask")
	set, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *duration < 0 {
		return usagef("--duration: must be >= 0, got %s", *duration)
	}
	cfg, err := loadConfig(*cfgPath, func(c *config.Config) {
		if set["redis"] {
			c.Redis.URL = *redisURL
		}
		if set["rate"] {
			c.Feed.Rate = *rate
		}
		if set["symbols"] {
			c.Feed.Symbols = splitList(*symbols)
		}
		if set["all-hours"] {
			c.Feed.AllHours = *allHours
		}
		if set["seed"] {
			c.Feed.Seed = *seed
		}
	})
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr, "feed simulate")
	sc, err := feed.SimConfigFrom(cfg)
	if err != nil {
		return err
	}
	sc.NoQuotes = !*quotes

	rdb, err := connect(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	sim, err := feed.NewSimulator(sc, feed.SimDeps{
		Writer: ticks.NewWriter(rdb, cfg.Ingest.Shards), Clock: clock.Real{}, Logger: log,
	})
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	if *duration > 0 {
		_ = clock.Real{}.SleepUntil(ctx, time.Now().Add(*duration))
	} else {
		<-ctx.Done()
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	err = sim.Stop(stopCtx)
	st := sim.Stats()
	log.Info().Uint64("ticks", st.TicksWritten).Uint64("batches", st.Batches).Uint64("errors", st.Errors).
		Uint64("failed", st.TicksFailed).Uint64("skipped", st.TicksSkipped).Int64("seed", sim.Seed()).
		Msg("simulation finished")
	return err
}

// runReplay writes a trades CSV, paced by its timestamps or as fast as
// possible.
func runReplay(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("replay", stderr)
	cfgPath := fs.String("config", "", "config file (default ./config.yaml when it exists)")
	redisURL := fs.String("redis", "", "Redis URL, redis://host:port/db (redis.url)")
	file := fs.String("file", "", "trades CSV: header ts,symbol,price,size and optionally bid,ask,bid_size,ask_size (required)")
	speed := fs.Float64("speed", 1, "replay N times faster than recorded (1 = real time)")
	maxSpeed := fs.Bool("max", false, "replay as fast as possible (exclusive with --speed)")
	set, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *file == "":
		return usagef("replay: --file is required")
	case set["speed"] && *maxSpeed:
		return usagef("replay: --speed and --max are exclusive")
	case !*maxSpeed && !(*speed > 0):
		return usagef("replay: --speed must be > 0, got %g", *speed)
	}
	cfg, err := loadConfig(*cfgPath, func(c *config.Config) {
		if set["redis"] {
			c.Redis.URL = *redisURL
		}
	})
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr, "feed replay")
	ins, err := cfg.MarketInstruments()
	if err != nil {
		return usagef("instruments: %w", err)
	}
	f, err := os.Open(*file)
	if err != nil {
		return usagef("--file: %w", err)
	}
	defer f.Close()
	tr, err := feed.NewTradeReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return usagef("--file %s: %w", *file, err)
	}

	rdb, err := connect(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	began := time.Now()
	st, err := feed.Replay(ctx, tr, feed.ReplayConfig{
		Speed: *speed, Max: *maxSpeed,
		Validator: ticks.Validator{Known: ins.Known, MaxFuture: cfg.Ingest.MaxFuture},
	}, feed.ReplayDeps{Writer: ticks.NewWriter(rdb, cfg.Ingest.Shards), Clock: clock.Real{}, Logger: log})
	logReplay(log, st, time.Since(began))
	return err
}

func logReplay(log zerolog.Logger, st feed.ReplayStats, took time.Duration) {
	ev := log.Info().Uint64("rows", st.Rows).Uint64("ticks", st.Ticks).Uint64("raw", st.Raw).
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
