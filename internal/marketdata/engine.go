package marketdata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/config"
	"heartbeat/internal/market"
	"heartbeat/internal/ratelog"
	"heartbeat/internal/replication"
	"heartbeat/internal/ticks"
)

// ErrConflict is returned when a run's commit found its input checkpoint
// already moved by another run: that run's result stands, and this one
// changed nothing.
var ErrConflict = errors.New("checkpoint moved by a concurrent run; nothing committed")

// Settings are the computations' knobs, from config.
type Settings struct {
	Shards           int
	LateWindow       time.Duration
	MaxFuture        time.Duration
	BatchSize        int
	DeadLetterMaxLen int64
	VwapKeepDays     int
	BacktestSessions int
	BacktestTarget   config.Distance
	BacktestStop     config.Distance
	// WaitReplicas is ingest.wait_replicas: replicas that must acknowledge
	// each commit (see commit.run).
	WaitReplicas int
}

// SettingsFrom takes the computations' settings from a validated config.
func SettingsFrom(c config.Config) (Settings, error) {
	target, err := config.ParseDistance(c.Analytics.BacktestTarget)
	if err != nil {
		return Settings{}, fmt.Errorf("analytics.backtest_target: %w", err)
	}
	stop, err := config.ParseDistance(c.Analytics.BacktestStop)
	if err != nil {
		return Settings{}, fmt.Errorf("analytics.backtest_stop: %w", err)
	}
	return Settings{
		Shards: c.Ingest.Shards, LateWindow: c.Ingest.LateWindow, MaxFuture: c.Ingest.MaxFuture,
		BatchSize: c.Ingest.BatchSize, DeadLetterMaxLen: c.Ingest.DeadLetterMaxLen,
		VwapKeepDays: c.Analytics.VwapKeepDays, BacktestSessions: c.Analytics.BacktestSessions,
		BacktestTarget: target, BacktestStop: stop, WaitReplicas: c.Ingest.WaitReplicas,
	}, nil
}

// Deps are what the computations work on.
type Deps struct {
	Redis       redis.UniversalClient
	Instruments *market.Instruments
	// Store is the durable bar store; only the flush and the pre-open
	// backtest need it.
	Store bars.Store
	Log   zerolog.Logger
	// WaitShort, if set, is told each time a commit was acknowledged by
	// fewer replicas than Settings.WaitReplicas, with the computation
	// ("intraday", "vwap", "rebuild"): for heartbeat_wait_short_total.
	WaitShort func(component string)
}

// Engine runs the eight computations. It is safe for concurrent use by the
// handlers of one worker.
type Engine struct {
	rdb      redis.UniversalClient
	instr    *market.Instruments
	store    bars.Store
	log      zerolog.Logger
	set      Settings
	validate ticks.Validator
	byShard  [][]string      // configured symbols of each shard
	dlLog    *ratelog.Logger // rejected ticks, once a minute per reason
	calLog   *ratelog.Logger // calendars past their coverage, once an hour per market and message
	waitLog  *ratelog.Logger // commits fewer replicas acknowledged, once a minute per component
	wait     *replication.Waiter
	// onWaitShort is Deps.WaitShort.
	onWaitShort func(component string)
	rolling     rollingCache
	states      stateCache
	// page is how many stream entries Intraday reads at a time:
	// intradayPage; a test lowers it to cross a page with a few ticks.
	page int

	// fault, when set by a test, is called after each step of a run and
	// may fail it: how the exactly-once tests kill work at every step.
	fault func(step string) error
}

// New returns an Engine.
func New(set Settings, deps Deps) (*Engine, error) {
	if set.Shards < 1 {
		return nil, fmt.Errorf("marketdata: shards must be >= 1, got %d", set.Shards)
	}
	if deps.Redis == nil || deps.Instruments == nil {
		return nil, errors.New("marketdata: Redis and Instruments are required")
	}
	e := &Engine{
		rdb: deps.Redis, instr: deps.Instruments, store: deps.Store, log: deps.Log, set: set,
		validate: ticks.Validator{Known: deps.Instruments.Known, MaxFuture: set.MaxFuture},
		byShard:  make([][]string, set.Shards),
		page:     intradayPage,
		wait:     replication.NewWaiter(deps.Redis, set.WaitReplicas), onWaitShort: deps.WaitShort,
		dlLog: ratelog.New(deps.Log, time.Minute), calLog: ratelog.New(deps.Log, time.Hour), waitLog: ratelog.New(deps.Log, time.Minute),
	}
	for _, sym := range deps.Instruments.Symbols() {
		n := ticks.Shard(sym, set.Shards)
		e.byShard[n] = append(e.byShard[n], sym)
	}
	return e, nil
}

// Settings returns the engine's settings.
func (e *Engine) Settings() Settings { return e.set }

// Instruments returns the configured instruments.
func (e *Engine) Instruments() *market.Instruments { return e.instr }

func (e *Engine) step(name string) error {
	if e.fault == nil {
		return nil
	}
	return e.fault(name)
}

func (e *Engine) checkShard(shard int) error {
	if shard < 0 || shard >= e.set.Shards {
		return fmt.Errorf("shard %d out of range 0..%d", shard, e.set.Shards-1)
	}
	return nil
}

// calendarWarn logs a calendar that cannot answer (an instant beyond its
// coverage) at most once an hour per market and message: the jobs run
// every few seconds, and the condition lasts until the calendar's tables
// are extended.
func (e *Engine) calendarWarn(code market.Code, err error, now time.Time, msg string) {
	e.calLog.Warn(string(code)+"|"+msg, now).Err(err).Str("market", string(code)).Msg(msg + " (logged once an hour)")
}

// hmgetStrings returns the values of fields of a hash as strings, "" for a
// missing field.
func hmgetStrings(ctx context.Context, rdb redis.UniversalClient, key string, fields []string) ([]string, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	vals, err := rdb.HMGet(ctx, key, fields...).Result()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = s
		}
	}
	return out, nil
}
