// Package config owns Heartbeat's configuration: one typed Config with
// documented defaults, loaded from config.yaml and HEARTBEAT_* environment
// variables, and validated once, at start-up, with errors that name the
// field.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
)

// Config is everything Heartbeat's commands read.
type Config struct {
	Redis     Redis             `mapstructure:"redis"`
	Log       Log               `mapstructure:"log"`
	HTTP      HTTP              `mapstructure:"http"`
	Scheduler Scheduler         `mapstructure:"scheduler"`
	Worker    Worker            `mapstructure:"worker"`
	Jobs      map[jobs.Name]Job `mapstructure:"jobs"`
	// Registry is the jobs the config may name: nil is the built-in
	// eight (jobs.Builtin); a program that registers jobs of its own sets
	// it through LoadFor or DefaultFor.
	Registry    *jobs.Set         `mapstructure:"-"`
	Instruments []Instrument      `mapstructure:"instruments"`
	Calendars   Calendars         `mapstructure:"calendars"`
	Runs        Runs              `mapstructure:"runs"`
	Events      Events            `mapstructure:"events"`
	Markets     map[string]Market `mapstructure:"markets"`
	Ingest      Ingest            `mapstructure:"ingest"`
	Analytics   Analytics         `mapstructure:"analytics"`
	Store       Store             `mapstructure:"store"`
	Feed        Feed              `mapstructure:"feed"`
	Embedded    Embedded          `mapstructure:"embedded"`
}

// Redis says where the shared Redis is and how to reach it.
type Redis struct {
	// Mode is single, sentinel or cluster: how URL is read and which
	// client connects. Default single.
	Mode string `mapstructure:"mode"`
	// URL is go-redis's syntax for the mode: single
	// redis://[user:password@]host:port/db (redis.ParseURL); sentinel
	// redis://[sentinel-user:sentinel-password@]sentinel1:26379/db?master_name=NAME&addr=sentinel2:26379
	// (redis.ParseFailoverURL; the data nodes' credentials go in the
	// username and password query parameters); cluster
	// redis://[user:password@]node1:7000?addr=node2:7001 (redis.ParseClusterURL,
	// database 0 only). rediss:// turns TLS on. Default
	// redis://127.0.0.1:6379/0.
	URL string `mapstructure:"url"`
	// Username is the data nodes' user; empty takes it from URL. Default
	// empty.
	Username string `mapstructure:"username"`
	// PasswordFile holds the data nodes' password (read once at start-up,
	// trailing newline trimmed); empty takes it from URL. Default empty.
	PasswordFile string `mapstructure:"password_file"`
	// SentinelPasswordFile holds the sentinels' own password (sentinel
	// mode); empty takes it from URL's userinfo. Default empty.
	SentinelPasswordFile string `mapstructure:"sentinel_password_file"`
	// TLS configures rediss:// connections.
	TLS RedisTLS `mapstructure:"tls"`
	// DialTimeout bounds each connection attempt. Default 2s.
	DialTimeout time.Duration `mapstructure:"dial_timeout"`
}

// Redis connection modes.
const (
	RedisSingle   = "single"
	RedisSentinel = "sentinel"
	RedisCluster  = "cluster"
)

// RedisTLS configures TLS for a rediss:// URL; the server's certificate is
// always verified (against CAFile, or the system's roots when empty).
type RedisTLS struct {
	// CAFile is a PEM bundle of the CAs that sign the servers'
	// certificates; empty uses the system's. Default empty.
	CAFile string `mapstructure:"ca_file"`
	// CertFile is the client certificate (PEM), for servers that require
	// one; needs KeyFile. Default empty.
	CertFile string `mapstructure:"cert_file"`
	// KeyFile is CertFile's private key (PEM). Default empty.
	KeyFile string `mapstructure:"key_file"`
}

// Log configures the logger.
type Log struct {
	// Level is trace, debug, info, warn or error. Default info.
	Level string `mapstructure:"level"`
	// Format is json, console, or auto (console on a terminal, JSON
	// otherwise). Default auto.
	Format string `mapstructure:"format"`
}

// HTTP configures the operator endpoints.
type HTTP struct {
	// Token is the bearer token operator POSTs must carry; empty (and no
	// token_file or tokens) makes the HTTP API read-only. Prefer
	// token_file. Default empty.
	Token string `mapstructure:"token"`
	// TokenFile is a file holding the bearer token (a Docker secret).
	// Default empty.
	TokenFile string `mapstructure:"token_file"`
	// Tokens are named operator tokens, NAME: FILE, each file holding one
	// operator's token; the audit names who acted (http:NAME). Default
	// none.
	Tokens map[string]string `mapstructure:"tokens"`
	// TLSCertFile and TLSKeyFile make the status server (and the
	// worker's metrics) serve HTTPS. Both or neither. Default empty.
	TLSCertFile string `mapstructure:"tls_cert_file"`
	TLSKeyFile  string `mapstructure:"tls_key_file"`
}

// TLS reports whether the HTTP endpoints serve HTTPS.
func (h HTTP) TLS() bool { return h.TLSCertFile != "" }

// Scheduler configures cmd/scheduler.
type Scheduler struct {
	// HTTP is the address of metrics, health and the status page; empty
	// disables. Default :8080.
	HTTP string `mapstructure:"http"`
	// FastTick is how often, in seconds (or a Go duration such as 500ms), the scheduler re-reads pauses and
	// publishes its replica heartbeat, and the smallest job interval
	// allowed (gates are evaluated at every slot). Default 1.0.
	FastTick Seconds `mapstructure:"fast_tick"`
	// SlowTick is, in seconds (or a Go duration such as 1m), the cadence floor of a job while every
	// market it depends on is closed. Default 60.0.
	SlowTick Seconds `mapstructure:"slow_tick"`
	// Lock turns the Redis leader lease on; with it off every replica
	// enqueues (duplicates are still suppressed by task ID). Default true.
	Lock bool `mapstructure:"lock"`
	// LeaseTTL is how long a leader's lease lasts without renewal: after a
	// leader dies, a standby takes over within it. Default 1.5s.
	LeaseTTL time.Duration `mapstructure:"lease_ttl"`
	// RenewEvery is how often the leader renews, and a standby tries to
	// acquire, the lease (a standby also tries right after the holder's
	// lease would expire). Default 375ms.
	RenewEvery time.Duration `mapstructure:"renew_every"`
	// CatchUp is what a new leader does with slots missed while nobody
	// led: skip (count them missed) or latest (enqueue the latest one once
	// and count the rest missed). Default skip. Jobs may override.
	CatchUp string `mapstructure:"catch_up"`
	// LookBack bounds how far back a new leader looks for slots missed
	// while nobody led, for every schedule kind: older ones are neither
	// counted nor caught up. Default 24h.
	LookBack time.Duration `mapstructure:"look_back"`
	// Retention keeps a finished task's ID reserved so the same slot
	// cannot be enqueued again. Default 1h.
	Retention time.Duration `mapstructure:"retention"`
	// CloseGrace keeps jobs on their fast cadence (and gate-open jobs
	// running) this long after the last of their markets closed, so late
	// ticks and the session's last bars are processed; each job gets at
	// least twice its interval. Default 15s.
	CloseGrace time.Duration `mapstructure:"close_grace"`
	// EnqueueAhead is how long before its slot a task is enqueued; the
	// worker that picks it up starts it at the slot, so polling delay does
	// not become start lag. Must exceed worker.poll_interval. Default 100ms.
	EnqueueAhead time.Duration `mapstructure:"enqueue_ahead"`
	// Replica names this scheduler replica; empty uses host:pid. Default
	// empty.
	Replica string `mapstructure:"replica"`
}

// Worker configures cmd/worker.
type Worker struct {
	// HTTP is the address of metrics and health; empty disables. Default
	// :8081.
	HTTP string `mapstructure:"http"`
	// Concurrency is how many tasks one worker runs at once. Default 8.
	Concurrency int `mapstructure:"concurrency"`
	// ShutdownTimeout bounds how long in-flight tasks may finish after
	// SIGTERM; must be under 10s. Default 8s.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	// PollInterval is how often an idle worker asks for new tasks (asynq's
	// TaskCheckInterval, jittered ±50%); it must stay below
	// scheduler.enqueue_ahead so tasks are picked up before their slot.
	// Each idle worker costs about 6 Redis commands per poll. Default 50ms.
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Name names this worker in the run history; empty uses host:pid.
	// Default empty.
	Name string `mapstructure:"name"`
}

// Job overrides one registry entry. Setting any of interval, cron, at and
// within replaces the registry's schedule with the ones set (interval may
// accompany within as its slot grid); gate and tz apply to the result.
type Job struct {
	// Enabled turns the job on or off. Default true.
	Enabled bool `mapstructure:"enabled"`
	// Interval is a fixed slot interval, aligned to the epoch. Default:
	// the registry's schedule.
	Interval time.Duration `mapstructure:"interval"`
	// Cron is a cron expression with seconds ("0 */5 * * * *") or without
	// ("*/5 * * * *"), read in TZ. Default empty.
	Cron string `mapstructure:"cron"`
	// TZ is the IANA time zone of Cron. Default UTC.
	TZ string `mapstructure:"tz"`
	// At anchors one slot per session of a market: "XNYS.close+2m".
	// Default empty.
	At string `mapstructure:"at"`
	// Within gives each market of the job one slot per session inside a
	// window: "open-60s..open-1s" (on the interval's grid when interval
	// is set). Default empty.
	Within string `mapstructure:"within"`
	// Gate is open or always, for interval and cron schedules. Default:
	// the registry's.
	Gate string `mapstructure:"gate"`
	// CatchUp overrides scheduler.catch_up for this job; empty inherits.
	CatchUp string `mapstructure:"catch_up"`
	// Timeout bounds one run; zero: max(30s, 10 × interval).
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxRetry is how often a failed run is retried; -1: 3.
	MaxRetry int `mapstructure:"max_retry"`
	// StartDeadline is how long after its slot a task may still start;
	// zero: the schedule's (the next slot for an interval).
	StartDeadline time.Duration `mapstructure:"start_deadline"`
	// Overlap is skip (a slot whose previous run of the same part still
	// runs is skipped) or allow. Default skip.
	Overlap string `mapstructure:"overlap"`
	// Queue is the asynq queue (critical or default); empty: the
	// registry's. Fixed at start.
	Queue string `mapstructure:"queue"`
}

// schedule reports whether the override sets a schedule of its own.
func (j Job) schedule() bool { return j.Interval != 0 || j.Cron != "" || j.At != "" || j.Within != "" }

// Instrument maps a symbol to its market, with its weight in the market's
// composite (MarketMetrics).
type Instrument struct {
	Symbol string  `mapstructure:"symbol"`
	Market string  `mapstructure:"market"`
	Weight float64 `mapstructure:"weight"`
}

// Runs configures the run history (heartbeat:runs and one stream per job).
type Runs struct {
	// Retention is how long runs are kept (trimmed by age as runs are
	// appended). Default 24h.
	Retention time.Duration `mapstructure:"retention"`
}

// Events configures the market events stream (hb:{events}:market).
type Events struct {
	// Retention is how long market transition events, and the identities
	// that keep each one from being emitted twice, are kept; at least
	// scheduler.look_back. Default 7 days (168h).
	Retention time.Duration `mapstructure:"retention"`
}

// Calendars configures the exchange calendars beyond their built-in rules.
type Calendars struct {
	// Overrides is the path of a YAML file of calendar overrides
	// (holidays, early closes, late opens, halts, extra sessions,
	// covered_through per market; see docs/CALENDARS.md). Empty: none.
	// Default empty.
	Overrides string `mapstructure:"overrides"`
	// OnCoverageEnd is what a calendar answers past its coverage: closed
	// (the market stays closed, never a guess) or weekdays (regular hours
	// Monday to Friday, each such session marked assumed). Default closed.
	OnCoverageEnd string `mapstructure:"on_coverage_end"`
}

// Market defines a market in config (key: its code, ^[A-Z0-9]{2,12}$):
// either an alias of a built-in market under its own code (Like), or
// simple rules (zone, hours, weekdays, holidays, covered_through).
type Market struct {
	// Like makes the market the calendar of a built-in market (XNAS: {like: XNYS}).
	Like string `mapstructure:"like"`
	// Name is the display name. Default: the code.
	Name string `mapstructure:"name"`
	// Zone is the IANA time zone of the rules (Europe/Zurich).
	Zone string `mapstructure:"zone"`
	// Open and Close are the regular hours, HH:MM local.
	Open  string `mapstructure:"open"`
	Close string `mapstructure:"close"`
	// BreakStart and BreakEnd are an optional lunch break, HH:MM local.
	BreakStart string `mapstructure:"break_start"`
	BreakEnd   string `mapstructure:"break_end"`
	// Weekdays it trades (mon, tue, ...). Default mon..fri.
	Weekdays []string `mapstructure:"weekdays"`
	// Holidays closing a trading day.
	Holidays []MarketHoliday `mapstructure:"holidays"`
	// From is the first date of the calendar, YYYY-MM-DD. Default 2000-01-01.
	From string `mapstructure:"from"`
	// CoveredThrough is the last date the holidays are known for,
	// YYYY-MM-DD; required for a rule-defined market.
	CoveredThrough string `mapstructure:"covered_through"`
}

// MarketHoliday is one holiday of a rule-defined market.
type MarketHoliday struct {
	Date string `mapstructure:"date"`
	Name string `mapstructure:"name"`
}

// Ingest configures the tick streams.
type Ingest struct {
	// Shards is K, the number of tick streams symbols are hashed into.
	// Changing it re-shards: only do so with the streams drained. Default 4.
	Shards int `mapstructure:"shards"`
	// LateWindow is how long after its minute ends a tick may still amend
	// the minute's bar; later ticks are dead-lettered as late. Default 10s.
	LateWindow time.Duration `mapstructure:"late_window"`
	// MaxFuture is how far ahead of the processing time a tick's timestamp
	// may be before it is dead-lettered. Default 5s.
	MaxFuture time.Duration `mapstructure:"max_future"`
	// BatchSize is the most ticks one Intraday run reads from a shard.
	// Default 200000.
	BatchSize int `mapstructure:"batch_size"`
	// DeadLetterMaxLen caps the dead-letter stream (approximately).
	// Default 100000.
	DeadLetterMaxLen int64 `mapstructure:"dead_letter_max_len"`
	// WaitReplicas is how many replicas must acknowledge a write before it
	// counts as durable: the feed's tick writes and the computations'
	// commits are followed by WAIT WaitReplicas on the same connection.
	// A feed write that fewer replicas acknowledged is retried; a commit
	// is applied anyway and counted (heartbeat_wait_short_total). 0 waits
	// for none. WAIT narrows the window in which a failover loses
	// acknowledged writes; it does not close it (docs/ARCHITECTURE.md).
	// Default 0.
	WaitReplicas int `mapstructure:"wait_replicas"`
}

// Analytics configures the jobs' computations.
type Analytics struct {
	// VwapKeepDays is how many past sessions of minute VWAP series are kept
	// besides the current one. Default 5.
	VwapKeepDays int `mapstructure:"vwap_keep_days"`
	// BacktestSessions is N, how many past sessions the pre-open backtest
	// looks at. Default 60.
	BacktestSessions int `mapstructure:"backtest_sessions"`
	// BacktestTarget is the backtest's profit target from the entry, in
	// points ("2.5") or percent ("0.5%"). Default 0.5%.
	BacktestTarget string `mapstructure:"backtest_target"`
	// BacktestStop is the backtest's stop from the entry, in points or
	// percent. Default 0.25%.
	BacktestStop string `mapstructure:"backtest_stop"`
}

// Store configures the durable 1-minute bar store.
type Store struct {
	// PostgresURL selects PostgreSQL (postgres://...); empty selects CSV
	// files under Dir. Default empty.
	PostgresURL string `mapstructure:"postgres_url"`
	// PostgresPasswordFile holds the PostgreSQL password (a Docker
	// secret), used in place of the URL's. Default empty.
	PostgresPasswordFile string `mapstructure:"postgres_password_file"`
	// Dir is where CSV bar files go (one per market per day). Default
	// ./data/bars.
	Dir string `mapstructure:"dir"`
}

// Feed configures the built-in simulator (cmd/feed simulate).
type Feed struct {
	// Symbols to simulate; empty means every instrument. Default empty.
	Symbols []string `mapstructure:"symbols"`
	// Rate is ticks per second over all symbols. Default 50.
	Rate float64 `mapstructure:"rate"`
	// AllHours simulates even while a symbol's market is closed. Default
	// false.
	AllHours bool `mapstructure:"all_hours"`
	// Seed seeds the random walk; 0 picks one. Default 0.
	Seed int64 `mapstructure:"seed"`
}

// Embedded configures `scheduler --embedded`.
type Embedded struct {
	// Workers is how many in-process workers run. Default 2.
	Workers int `mapstructure:"workers"`
	// Feed runs the simulator in-process. Default true.
	Feed bool `mapstructure:"feed"`
}

// Default returns the configuration used when nothing is set, for the
// built-in jobs.
func Default() Config { return DefaultFor(nil) }

// DefaultFor returns the configuration used when nothing is set, with an
// entry for every job of set (nil: the built-in jobs).
func DefaultFor(set *jobs.Set) Config {
	c := Config{
		Redis:     Redis{Mode: RedisSingle, URL: "redis://127.0.0.1:6379/0", DialTimeout: 2 * time.Second},
		Log:       Log{Level: "info", Format: "auto"},
		Scheduler: Scheduler{HTTP: ":8080", FastTick: 1.0, SlowTick: 60.0, Lock: true, LeaseTTL: 1500 * time.Millisecond, RenewEvery: 375 * time.Millisecond, CatchUp: "skip", LookBack: 24 * time.Hour, Retention: time.Hour, EnqueueAhead: 100 * time.Millisecond, CloseGrace: 15 * time.Second},
		Worker:    Worker{HTTP: ":8081", Concurrency: 8, ShutdownTimeout: 8 * time.Second, PollInterval: 50 * time.Millisecond},
		Jobs:      map[jobs.Name]Job{},
		Ingest:    Ingest{Shards: 4, LateWindow: 10 * time.Second, MaxFuture: 5 * time.Second, BatchSize: 200000, DeadLetterMaxLen: 100000, WaitReplicas: 0},
		Analytics: Analytics{VwapKeepDays: 5, BacktestSessions: 60, BacktestTarget: "0.5%", BacktestStop: "0.25%"},
		Store:     Store{Dir: "./data/bars"},
		Feed:      Feed{Rate: 50},
		Embedded:  Embedded{Workers: 2, Feed: true},
		Calendars: Calendars{OnCoverageEnd: "closed"},
		Runs:      Runs{Retention: 24 * time.Hour},
		Events:    Events{Retention: 7 * 24 * time.Hour},
		HTTP:      HTTP{Tokens: map[string]string{}},
		Markets:   map[string]Market{},
	}
	c.Registry = set
	for _, name := range c.JobSet().Names() {
		c.Jobs[name] = Job{Enabled: true, MaxRetry: -1}
	}
	for _, sym := range []string{"ES", "NQ", "YM", "RTY", "CL", "GC", "SI", "HG", "ZB"} {
		c.Instruments = append(c.Instruments, Instrument{Symbol: sym, Market: string(market.CMES), Weight: 1})
	}
	c.Instruments = append(c.Instruments,
		Instrument{Symbol: "SPY", Market: string(market.XNYS), Weight: 1},
		Instrument{Symbol: "RY.TO", Market: string(market.XTSE), Weight: 1},
		Instrument{Symbol: "WALMEXV.MX", Market: string(market.XMEX), Weight: 1},
		Instrument{Symbol: "VOD.L", Market: string(market.XLON), Weight: 1},
		Instrument{Symbol: "SAP.DE", Market: string(market.XETR), Weight: 1},
		Instrument{Symbol: "7203.T", Market: string(market.XTKS), Weight: 1},
		Instrument{Symbol: "600519.SS", Market: string(market.XSHG), Weight: 1},
		Instrument{Symbol: "0700.HK", Market: string(market.XHKG), Weight: 1},
		Instrument{Symbol: "RELIANCE.BO", Market: string(market.XBOM), Weight: 1},
		Instrument{Symbol: "BHP.AX", Market: string(market.XASX), Weight: 1},
		Instrument{Symbol: "BTCUSD", Market: string(market.ALWAYS), Weight: 1},
		Instrument{Symbol: "ETHUSD", Market: string(market.ALWAYS), Weight: 1},
	)
	return c
}

// FieldError is a validation failure of one config field.
type FieldError struct {
	Field  string // dotted key, as in config.yaml
	Reason string
}

// Error returns "field: reason".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// ErrInvalid is wrapped by every validation error, so callers can map bad
// configuration to exit code 2.
var ErrInvalid = errors.New("invalid configuration")

// Validate checks every field and returns all problems, each naming its
// field; errors.Is(err, ErrInvalid) holds for the result.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, e := range c.Redis.validate() {
		errs = append(errs, e)
	}
	if c.Redis.DialTimeout <= 0 {
		bad("redis.dial_timeout", "must be > 0")
	}
	switch c.Log.Level {
	case "trace", "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be trace, debug, info, warn or error, got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "json", "console":
	default:
		bad("log.format", "must be auto, json or console, got %q", c.Log.Format)
	}
	s := c.Scheduler
	for _, a := range []struct {
		field string
		addr  string
	}{{"scheduler.http", s.HTTP}, {"worker.http", c.Worker.HTTP}} {
		if a.addr == "" {
			continue
		}
		if _, port, err := net.SplitHostPort(a.addr); err != nil {
			bad(a.field, "must be host:port or :port (empty disables), got %q", a.addr)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad(a.field, "port must be 0..65535, got %q", port)
		}
	}
	// Seconds as float64: NaN and infinities are not durations.
	const maxTick = 24 * 3600.0
	if !(s.FastTick > 0) || s.FastTick > maxTick {
		bad("scheduler.fast_tick", "must be > 0 and at most %g seconds, got %g", maxTick, s.FastTick)
	}
	if !(s.SlowTick > 0) || s.SlowTick > maxTick || (s.FastTick > 0 && s.SlowTick < s.FastTick) {
		bad("scheduler.slow_tick", "must be >= scheduler.fast_tick (%g) and at most %g seconds, got %g", s.FastTick, maxTick, s.SlowTick)
	}
	if s.LeaseTTL <= 0 {
		bad("scheduler.lease_ttl", "must be > 0")
	}
	if s.RenewEvery <= 0 || s.RenewEvery*2 > s.LeaseTTL {
		bad("scheduler.renew_every", "must be > 0 and at most half of scheduler.lease_ttl (%s)", s.LeaseTTL)
	}
	if s.LookBack <= 0 {
		bad("scheduler.look_back", "must be > 0")
	}
	if err := checkCatchUp(s.CatchUp); err != nil {
		bad("scheduler.catch_up", "%v", err)
	}
	if s.Retention < time.Minute {
		bad("scheduler.retention", "must be at least 1m")
	}
	if s.CloseGrace < 0 {
		bad("scheduler.close_grace", "must be >= 0")
	}
	if c.Worker.PollInterval <= 0 {
		bad("worker.poll_interval", "must be > 0")
	}
	if s.EnqueueAhead < 0 || (s.FastTick > 0 && s.EnqueueAhead >= s.FastTickDuration()) {
		bad("scheduler.enqueue_ahead", "must be >= 0 and < scheduler.fast_tick")
	} else if c.Worker.PollInterval > 0 && s.EnqueueAhead > 0 && c.Worker.PollInterval*3/2 >= s.EnqueueAhead {
		bad("worker.poll_interval", "must be under two thirds of scheduler.enqueue_ahead (%s), or tasks start late", s.EnqueueAhead)
	}
	if c.Worker.Concurrency < 1 {
		bad("worker.concurrency", "must be >= 1")
	}
	if c.Worker.ShutdownTimeout <= 0 || c.Worker.ShutdownTimeout >= 10*time.Second {
		bad("worker.shutdown_timeout", "must be > 0 and < 10s")
	}
	// The calendars are built (about 150 ms) only when a job anchors to a
	// market's session, the one check that needs them.
	calendars := sync.OnceValue(func() *market.Book {
		if in, err := c.MarketInstruments(); err == nil {
			return in.Book()
		}
		return nil
	})
	for name, j := range c.Jobs {
		_, ok := c.JobSet().Lookup(name)
		field := "jobs." + string(name)
		if !ok {
			bad(field, "unknown job (known: %v)", c.JobSet().Names())
			continue
		}
		if j.Interval != 0 && j.Interval < s.FastTickDuration() {
			bad(field+".interval", "must be >= scheduler.fast_tick (%gs)", s.FastTick)
		}
		base, _ := c.JobSet().Lookup(name)
		set := j.Settings()
		if j.CatchUp == "" {
			delete(set, "catch_up") // scheduler.catch_up, checked above
		}
		eff, _, err := jobs.Apply(base, j.Enabled, set)
		for _, e := range unjoin(err) {
			var fe *jobs.FieldError
			if errors.As(e, &fe) {
				bad(field+"."+fe.Field, "%s", fe.Reason)
			}
		}
		if err == nil && eff.Schedule.At != "" && calendars() != nil {
			if err := eff.Schedule.Validate(calendars()); err != nil {
				bad(field+".at", "%s", strings.TrimPrefix(err.Error(), "at: "))
			}
		}
		if j.MaxRetry < -1 {
			bad(field+".max_retry", "must be -1 (the default, 3) to 100, got %d", j.MaxRetry)
		}
	}
	if len(c.Instruments) == 0 {
		bad("instruments", "must list at least one instrument")
	}
	seen := map[string]bool{}
	for i, in := range c.Instruments {
		field := fmt.Sprintf("instruments[%d]", i)
		if in.Symbol == "" || strings.ContainsAny(in.Symbol, " ,=:{}") {
			bad(field+".symbol", "must be non-empty without spaces or ,=:{}, got %q", in.Symbol)
		}
		if seen[in.Symbol] {
			bad(field+".symbol", "duplicate symbol %q", in.Symbol)
		}
		seen[in.Symbol] = true
		if _, defined := c.Markets[in.Market]; !defined {
			if _, err := market.ParseCode(in.Market); err != nil {
				bad(field+".market", "%v (or define it under markets:)", err)
			}
		}
		if !(in.Weight >= 0) || math.IsInf(in.Weight, 0) {
			bad(field+".weight", "must be a finite number >= 0, got %g", in.Weight)
		}
	}
	in := c.Ingest
	if in.Shards < 1 || in.Shards > 1024 {
		bad("ingest.shards", "must be 1..1024")
	}
	if in.LateWindow < 0 {
		bad("ingest.late_window", "must be >= 0")
	}
	if in.MaxFuture < 0 {
		bad("ingest.max_future", "must be >= 0")
	}
	if in.BatchSize < 1 {
		bad("ingest.batch_size", "must be >= 1")
	}
	if in.DeadLetterMaxLen < 1 {
		bad("ingest.dead_letter_max_len", "must be >= 1")
	}
	if in.WaitReplicas < 0 {
		bad("ingest.wait_replicas", "must be >= 0")
	}
	a := c.Analytics
	if a.VwapKeepDays < 0 {
		bad("analytics.vwap_keep_days", "must be >= 0")
	}
	if a.BacktestSessions < 1 {
		bad("analytics.backtest_sessions", "must be >= 1")
	}
	if _, err := ParseDistance(a.BacktestTarget); err != nil {
		bad("analytics.backtest_target", "%v", err)
	}
	if _, err := ParseDistance(a.BacktestStop); err != nil {
		bad("analytics.backtest_stop", "%v", err)
	}
	if c.Store.PostgresURL == "" && c.Store.Dir == "" {
		bad("store.dir", "must be set when store.postgres_url is empty")
	}
	if c.Store.PostgresURL != "" && !strings.HasPrefix(c.Store.PostgresURL, "postgres://") && !strings.HasPrefix(c.Store.PostgresURL, "postgresql://") {
		bad("store.postgres_url", "must start with postgres://")
	}
	if !(c.Feed.Rate > 0) || c.Feed.Rate > 10_000_000 {
		bad("feed.rate", "must be > 0 and at most 10,000,000 ticks/s, got %g", c.Feed.Rate)
	}
	for i, sym := range c.Feed.Symbols {
		if !seen[sym] {
			bad(fmt.Sprintf("feed.symbols[%d]", i), "%q is not a configured instrument", sym)
		}
	}
	if c.Embedded.Workers < 1 {
		bad("embedded.workers", "must be >= 1")
	}
	for _, check := range []func() error{
		func() error { _, err := c.OperatorTokens(); return err },
		func() error { _, err := c.Store.PostgresDSN(); return err },
	} {
		var fe *FieldError
		if err := check(); errors.As(err, &fe) {
			errs = append(errs, fe)
		}
	}
	if (c.HTTP.TLSCertFile == "") != (c.HTTP.TLSKeyFile == "") {
		bad("http.tls_key_file", "http.tls_cert_file and http.tls_key_file go together")
	} else if c.HTTP.TLS() {
		if _, err := tls.LoadX509KeyPair(c.HTTP.TLSCertFile, c.HTTP.TLSKeyFile); err != nil {
			bad("http.tls_cert_file", "cannot load the certificate and key: %v", err)
		}
	}
	if c.Runs.Retention < time.Minute {
		bad("runs.retention", "must be at least 1m, got %s", c.Runs.Retention)
	}
	if c.Events.Retention < c.Scheduler.LookBack {
		bad("events.retention", "must be at least scheduler.look_back (%s), got %s: an event the next leader may still emit must be remembered", c.Scheduler.LookBack, c.Events.Retention)
	}
	switch c.Calendars.OnCoverageEnd {
	case "closed", "weekdays":
	default:
		bad("calendars.on_coverage_end", "must be closed or weekdays, got %q", c.Calendars.OnCoverageEnd)
	}
	if err := c.checkBook(); err != nil {
		var (
			fe *FieldError
			de *market.DefinitionError
		)
		switch {
		case errors.As(err, &fe):
			errs = append(errs, fe)
		case errors.As(err, &de):
			field := "markets." + string(de.Market)
			if de.Field != "" {
				field += "." + de.Field
			}
			bad(field, "%v", de.Err)
		default:
			bad("calendars.overrides", "%v", err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
}

func checkCatchUp(s string) error {
	if s != "skip" && s != "latest" {
		return fmt.Errorf("must be skip or latest, got %q", s)
	}
	return nil
}

// Distance is a price distance from an entry: points, or a percent of the
// entry price, kept exact.
type Distance struct {
	Value   decimal.Dec
	Percent bool
}

// From returns the distance in price units for an entry price: the points
// themselves, or entry × percent / 100 rounded half to even to the
// price's eight places.
func (d Distance) From(entry decimal.Dec) decimal.Dec {
	if !d.Percent {
		return d.Value
	}
	return decimal.MulDiv(entry, d.Value, decimal.FromInt(100))
}

// String writes the distance as configured: "2.5 points" or "0.5%".
func (d Distance) String() string {
	if d.Percent {
		return d.Value.String() + "%"
	}
	return d.Value.String() + " points"
}

// ParseDistance parses "2.5" (points) or "0.5%" (percent); it must be > 0.
func ParseDistance(s string) (Distance, error) {
	t := strings.TrimSpace(s)
	pct := strings.HasSuffix(t, "%")
	v, err := decimal.Parse(strings.TrimSuffix(t, "%"))
	if err != nil || v <= 0 || (pct && v >= decimal.FromInt(100)) {
		return Distance{}, fmt.Errorf("must be a positive number of points (2.5) or percent below 100 (0.5%%), got %q", s)
	}
	return Distance{Value: v, Percent: pct}, nil
}

// Job returns the effective settings of a job: the registry's with the
// config's override applied by jobs.Apply (scheduler.catch_up filling an
// empty catch_up). An override that does not apply leaves the registry's
// entry; Validate reports it.
func (c Config) Job(name jobs.Name) (jobs.Spec, Job) {
	spec, _ := c.JobSet().Lookup(name)
	j, ok := c.Jobs[name]
	if !ok {
		j = Job{Enabled: true, MaxRetry: -1}
	}
	if j.CatchUp == "" {
		j.CatchUp = c.Scheduler.CatchUp
	}
	if eff, _, err := jobs.Apply(spec, j.Enabled, j.Settings()); err == nil {
		spec = eff
	}
	return spec, j
}

// JobSet returns the jobs the config may name: Registry, or the built-in
// eight.
func (c Config) JobSet() *jobs.Set {
	if c.Registry != nil {
		return c.Registry
	}
	return builtinJobs
}

// builtinJobs is the Set of the built-in jobs every config without a
// Registry reads.
var builtinJobs = jobs.Builtin()

// Settings returns the override as jobs.Settings: its non-zero fields.
func (j Job) Settings() jobs.Settings {
	s := jobs.Settings{}
	put := func(k, v string) {
		if v != "" {
			s[k] = v
		}
	}
	dur := func(k string, d time.Duration) {
		if d != 0 {
			s[k] = d.String()
		}
	}
	dur("interval", j.Interval)
	put("cron", j.Cron)
	put("tz", j.TZ)
	put("at", j.At)
	put("within", j.Within)
	put("gate", j.Gate)
	put("catch_up", j.CatchUp)
	dur("timeout", j.Timeout)
	dur("start_deadline", j.StartDeadline)
	put("overlap", j.Overlap)
	put("queue", j.Queue)
	if j.MaxRetry >= 0 {
		s["max_retry"] = strconv.Itoa(j.MaxRetry)
	}
	return s
}

// FastTickDuration returns scheduler.fast_tick as a duration.
func (s Scheduler) FastTickDuration() time.Duration { return durationFromSeconds(float64(s.FastTick)) }

// SlowTickDuration returns scheduler.slow_tick as a duration.
func (s Scheduler) SlowTickDuration() time.Duration { return durationFromSeconds(float64(s.SlowTick)) }

// Seconds is a number of seconds: a config value written as a number (1.0,
// as the original command's flags take) or as a Go duration ("500ms",
// "1m").
type Seconds float64

// MarketInstruments builds the symbol -> market mapping of the configured
// instruments.
func (c Config) MarketInstruments() (*market.Instruments, error) {
	list := make([]market.Instrument, len(c.Instruments))
	for i, in := range c.Instruments {
		list[i] = market.Instrument{Symbol: in.Symbol, Market: market.Code(in.Market), Weight: in.Weight}
	}
	book, err := c.Book()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return market.NewInstruments(book, list)
}

// Book builds the calendars the configuration describes: the built-in
// markets, those defined under markets:, and the overrides file. Errors
// name the market, the entry, the field and the file's line.
func (c Config) Book() (*market.Book, error) {
	cfg := market.BookConfig{AssumeWeekdays: c.Calendars.OnCoverageEnd == "weekdays"}
	codes := make([]string, 0, len(c.Markets))
	for code := range c.Markets {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		d, err := c.Markets[code].definition(code)
		if err != nil {
			return nil, err
		}
		cfg.Markets = append(cfg.Markets, d)
	}
	if c.Calendars.Overrides != "" {
		f, err := market.LoadOverridesFile(c.Calendars.Overrides)
		if err != nil {
			return nil, err
		}
		cfg.File = f
	}
	return market.NewBook(cfg)
}

// builtinBooks remembers, per on_coverage_end (true: weekdays), that the
// built-in calendars alone build: they are code, so a config with no
// markets: and no overrides file is checked once per process, not at
// every Validate (about 150 ms each).
var builtinBooks sync.Map

// checkBook builds the calendars the configuration describes, for the
// errors only.
func (c Config) checkBook() error {
	builtin := len(c.Markets) == 0 && c.Calendars.Overrides == ""
	key := c.Calendars.OnCoverageEnd == "weekdays"
	if _, ok := builtinBooks.Load(key); builtin && ok {
		return nil
	}
	if _, err := c.Book(); err != nil {
		return err
	}
	if builtin {
		builtinBooks.Store(key, true)
	}
	return nil
}

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// definition turns a markets: entry into a market.Definition; errors are
// FieldErrors naming markets.CODE.field.
func (m Market) definition(code string) (market.Definition, error) {
	field := "markets." + code
	bad := func(f, format string, args ...any) error {
		return &FieldError{Field: field + f, Reason: fmt.Sprintf(format, args...)}
	}
	if err := market.CheckCodeSyntax(code); err != nil {
		return market.Definition{}, bad("", "%v", err)
	}
	d := market.Definition{Code: market.Code(code), Name: m.Name, Like: market.Code(m.Like), Zone: m.Zone}
	if m.Like != "" {
		if m.Zone != "" || m.Open != "" || m.Close != "" || len(m.Holidays) > 0 || m.CoveredThrough != "" {
			return d, bad(".like", "an alias takes only like and name")
		}
		if _, err := market.ParseCode(m.Like); err != nil {
			return d, bad(".like", "%v", err)
		}
		return d, nil
	}
	var err error
	times := []struct {
		name string
		s    string
		to   *market.TimeOfDay
		req  bool
	}{{".open", m.Open, &d.Open, true}, {".close", m.Close, &d.Close, true}, {".break_start", m.BreakStart, &d.BreakStart, false}, {".break_end", m.BreakEnd, &d.BreakEnd, false}}
	for _, x := range times {
		if x.s == "" && !x.req {
			continue
		}
		if *x.to, err = market.ParseTimeOfDay(x.s); err != nil {
			return d, bad(x.name, "%v", err)
		}
	}
	if (m.BreakStart == "") != (m.BreakEnd == "") {
		return d, bad(".break_end", "break_start and break_end go together")
	}
	for i, w := range m.Weekdays {
		wd, ok := weekdayNames[strings.ToLower(w)]
		if !ok {
			return d, bad(fmt.Sprintf(".weekdays[%d]", i), "must be mon, tue, wed, thu, fri, sat or sun, got %q", w)
		}
		d.Weekdays = append(d.Weekdays, wd)
	}
	for i, h := range m.Holidays {
		date, err := market.ParseDate(h.Date)
		if err != nil {
			return d, bad(fmt.Sprintf(".holidays[%d].date", i), "%v", err)
		}
		d.Holidays = append(d.Holidays, market.DatedName{Date: date, Name: h.Name})
	}
	if m.From != "" {
		if d.From, err = market.ParseDate(m.From); err != nil {
			return d, bad(".from", "%v", err)
		}
	}
	if m.CoveredThrough == "" {
		return d, bad(".covered_through", "is required: the last date its holidays are known for")
	}
	if d.CoveredThrough, err = market.ParseDate(m.CoveredThrough); err != nil {
		return d, bad(".covered_through", "%v", err)
	}
	return d, nil
}

// unjoin returns the errors an errors.Join combined, or err alone (none
// for nil).
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
