// Package heartbeat runs periodic jobs on exchange time: a program
// registers jobs — a name, a schedule (a fixed interval, a cron expression
// in a time zone, or anchored to each session of an exchange), how a slot
// splits into parts, a queue, policies and a function — and runs a
// scheduler replica, a worker, or the whole system in one process
// (embedded mode, on an in-memory Redis). Heartbeat's eight market-data
// jobs run beside them, on the same scheduler, with the same guarantees:
// one logical scheduler behind a fenced Redis lease, each slot run at
// most once, exchange calendars gating the slots.
//
// A minimal program:
//
//	app, err := heartbeat.New(heartbeat.Options{Mode: heartbeat.ModeEmbedded})
//	...
//	err = app.Register(heartbeat.Job{
//		Name:     "eod_report",
//		Schedule: heartbeat.At("XNYS.close+2m"),
//		Run: func(ctx context.Context, run heartbeat.Run) error {
//			run.Log.Info().Msg("the session closed two minutes ago")
//			return nil
//		},
//	})
//	...
//	err = app.Start(ctx)
//	...
//	defer app.Stop(context.Background())
//
// The configuration (config.yaml, HEARTBEAT_* variables; see the README)
// applies to registered jobs too: jobs.NAME.enabled, .interval, .cron,
// .max_retry, ... override what Register said, and `scheduler set NAME
// FIELD=VALUE` changes them at run time. docs/JOBS.md describes
// schedules, gates and policies.
package heartbeat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/embedded"
	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/node"
	"heartbeat/internal/redisconn"
	"heartbeat/internal/runner"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
)

// Schedule says when a job's slots are: exactly one of Every, Cron, At
// and Within (Every may accompany Within as its slot grid). Build one
// with Every, Cron, At or Within.
type Schedule struct {
	// Every is a fixed interval: slots are its multiples since the Unix
	// epoch, a whole number of milliseconds.
	Every time.Duration
	// Cron is a cron expression with seconds ("0 */5 * * * *") or without
	// ("*/5 * * * *"), read in TZ (an IANA zone, default UTC).
	Cron, TZ string
	// At anchors one slot to each session of a market: "XNYS.close+2m"
	// (events open, close, break_start, break_end; early closes, late
	// opens, holidays and runtime closures included).
	At string
	// Within gives each market of the instruments one slot per session
	// inside a window: "open-60s..open-1s".
	Within string
	// Gate decides an Every or Cron slot: GateOpen (default: enqueued
	// while a market of the instruments is open, or within the close
	// grace after) or GateAlways. At and Within have none.
	Gate string

	when func(slot time.Time) bool
}

// The gates of an Every or Cron schedule.
const (
	GateOpen   = schedule.GateOpen
	GateAlways = schedule.GateAlways
)

// Every returns a fixed-interval schedule, gate open.
func Every(d time.Duration) Schedule { return Schedule{Every: d} }

// Cron returns a cron schedule in the IANA time zone tz ("" is UTC), gate
// open.
func Cron(expr, tz string) Schedule { return Schedule{Cron: expr, TZ: tz} }

// At returns a schedule of one slot per session of a market, at an event
// of the session plus an offset: "XNYS.close+2m", "XTKS.open-5m".
func At(anchor string) Schedule { return Schedule{At: anchor} }

// Within returns a schedule of one slot per market and session inside a
// window around a session event ("open-60s..open-1s"), on a grid of step
// grid (0: the window's start).
func Within(window string, grid time.Duration) Schedule {
	return Schedule{Within: window, Every: grid}
}

// Gated returns s with the gate of an Every or Cron schedule.
func (s Schedule) Gated(gate string) Schedule {
	s.Gate, s.when = gate, nil
	return s
}

// When returns s (Every or Cron) gated by a function of the slot instead
// of the markets: a slot is enqueued when admit returns true. Every slot
// is decided (no slow cadence while markets are closed).
func (s Schedule) When(admit func(slot time.Time) bool) Schedule {
	s.Gate, s.when = "", admit
	return s
}

func (s Schedule) spec() schedule.Spec {
	gate := s.Gate
	if gate == "" && s.when == nil && s.At == "" && s.Within == "" {
		gate = GateOpen
	}
	return schedule.Spec{Every: s.Every, Cron: s.Cron, TZ: s.TZ, At: s.At, Within: s.Within, Gate: gate}
}

// Part is one task of a slot.
type Part struct {
	// Name identifies the part within its slot: it is part of the task's
	// identity ("" is the whole job).
	Name string
	// Market is the exchange of a per-market part (MIC, "XNYS").
	Market string
}

// Split says how an Every or Cron slot splits into tasks: One (the
// default), PerShard, PerMarket or PartsFunc. An At or Within slot's
// parts are its markets' sessions.
type Split struct{ s schedule.Split }

// The splits.
var (
	One       = Split{schedule.SplitOne}
	PerShard  = Split{schedule.SplitShard}
	PerMarket = Split{schedule.SplitMarket}
)

// PartsFunc splits each slot with fn, a pure function of the slot; give
// each part of a slot a distinct, stable name.
func PartsFunc(fn func(slot time.Time) []Part) Split {
	return Split{schedule.SplitFunc(func(slot time.Time) []schedule.Part {
		ps := fn(slot)
		out := make([]schedule.Part, len(ps))
		for i, p := range ps {
			out[i] = schedule.Part{Name: p.Name, Market: market.Code(p.Market)}
		}
		return out
	})}
}

// Policy says how a job's tasks run; zero values are the defaults.
type Policy struct {
	// Timeout bounds one run; 0: max(30 s, 10 × Every).
	Timeout time.Duration
	// MaxRetry is how often a failed run is retried; nil: 3.
	MaxRetry *int
	// StartDeadline is how long after its slot a task may still start
	// (later: dropped, counted expired); 0: the schedule's (the next slot
	// for Every).
	StartDeadline time.Duration
	// Overlap is "skip" (default: a slot whose previous run of the same
	// part still runs is skipped) or "allow".
	Overlap string
	// CatchUp is what a new leader does with slots missed while no
	// replica led: "skip" (default: count them) or "latest" (run the
	// latest once, if its start deadline has not passed).
	CatchUp string
}

// Run is one run of a job, as its function sees it.
type Run struct {
	Job  string
	Part string    // the part's name ("" for a whole-job task; "XNYS:2026-12-07" for a session's)
	Slot time.Time // the slot's instant, UTC
	// Started is when the run started, on Clock.
	Started time.Time
	// Term is the leader term that enqueued the slot.
	Term int64
	// Attempt counts from 1; above 1 the run is a retry.
	Attempt int
	// Log is the worker's logger with the job, part and slot.
	Log zerolog.Logger
	// Clock is the system's clock: use it, not time.Now, so tests with a
	// fake clock see the time the scheduler sees.
	Clock Clock
}

// Job is a periodic job.
type Job struct {
	// Name identifies the job in config (jobs.NAME), metrics, logs, task
	// IDs and the run history: [a-z][a-z0-9_]*, unique.
	Name     string
	Schedule Schedule
	Split    Split
	// Queue is "default" (the default) or "critical".
	Queue  string
	Policy Policy
	// Run is the job's work. An error is retried (Policy.MaxRetry) unless
	// it wraps ErrPermanent.
	Run func(ctx context.Context, run Run) error
}

// ErrPermanent marks an error retrying cannot fix: the run is recorded as
// an error and not retried.
var ErrPermanent = errors.New("permanent")

// Clock is the time source: the real clock, or a FakeClock.
type Clock interface {
	Now() time.Time
	// SleepUntil returns when the clock reaches t, or ctx's error.
	SleepUntil(ctx context.Context, t time.Time) error
}

// FakeClock is a Clock that moves only when told: for tests and examples.
type FakeClock struct{ f *clock.Fake }

// NewFakeClock returns a FakeClock at start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{clock.NewFake(start)} }

// Now returns the clock's time.
func (c *FakeClock) Now() time.Time { return c.f.Now() }

// SleepUntil returns once the clock is set at or after t.
func (c *FakeClock) SleepUntil(ctx context.Context, t time.Time) error { return c.f.SleepUntil(ctx, t) }

// Set moves the clock to t, waking every sleeper whose instant passed.
func (c *FakeClock) Set(t time.Time) { c.f.Set(t) }

// Advance moves the clock forward by d.
func (c *FakeClock) Advance(d time.Duration) { c.f.Advance(d) }

// Mode is what an App runs.
type Mode string

// The modes.
const (
	// ModeEmbedded runs the whole system in one process on an in-memory
	// Redis: a scheduler replica, Options.Workers workers and (by config)
	// the feed simulator.
	ModeEmbedded Mode = "embedded"
	// ModeScheduler runs one scheduler replica (with the status page and
	// API on scheduler.http) on the configured Redis.
	ModeScheduler Mode = "scheduler"
	// ModeWorker runs one worker on the configured Redis.
	ModeWorker Mode = "worker"
)

// Options configure an App.
type Options struct {
	// Mode is what the App runs; default ModeEmbedded.
	Mode Mode
	// ConfigFile is the configuration file; "" reads ./config.yaml if it
	// exists, else the defaults. HEARTBEAT_* variables apply on top.
	ConfigFile string
	// Set overrides configuration keys, by dotted name ("store.dir",
	// "scheduler.http"), over the file and the environment.
	Set map[string]string
	// Clock is the time source; nil is the real clock.
	Clock Clock
	// Log receives the logs; nil discards them.
	Log *zerolog.Logger
}

// App is a Heartbeat process with the program's jobs.
type App struct {
	opts     Options
	log      zerolog.Logger
	set      *jobs.Set
	handlers map[jobs.Name]runner.Func

	mu      sync.Mutex
	started bool
	stop    func(context.Context) error
}

// New returns an App with the eight built-in jobs; Register adds the
// program's own before Start.
func New(opts Options) (*App, error) {
	switch opts.Mode {
	case "":
		opts.Mode = ModeEmbedded
	case ModeEmbedded, ModeScheduler, ModeWorker:
	default:
		return nil, fmt.Errorf("heartbeat: unknown mode %q (embedded, scheduler, worker)", opts.Mode)
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	log := zerolog.Nop()
	if opts.Log != nil {
		log = *opts.Log
	}
	return &App{opts: opts, log: log, set: jobs.Builtin(), handlers: map[jobs.Name]runner.Func{}}, nil
}

// Register adds a job. It fails for a name already registered or not of
// the form [a-z][a-z0-9_]*, an invalid schedule or policy, no Run, or
// after Start.
func (a *App) Register(j Job) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return fmt.Errorf("heartbeat: register %s: the app has started", j.Name)
	}
	if j.Run == nil {
		return fmt.Errorf("heartbeat: register %s: Run is required", j.Name)
	}
	spec := jobs.Spec{Name: jobs.Name(j.Name), Schedule: j.Schedule.spec(), Split: j.Split.s, Queue: j.Queue,
		Predicate: j.Schedule.when, Policy: jobs.Policy{Timeout: j.Policy.Timeout, MaxRetry: j.Policy.MaxRetry,
			StartDeadline: j.Policy.StartDeadline, Overlap: j.Policy.Overlap, CatchUp: j.Policy.CatchUp}}
	if err := a.set.Add(spec); err != nil {
		return fmt.Errorf("heartbeat: register: %w", err)
	}
	a.handlers[spec.Name] = a.body(j)
	return nil
}

// body adapts a Job's Run to the worker's handler body.
func (a *App) body(j Job) runner.Func {
	return func(ctx context.Context, p tasks.Payload, now time.Time) error {
		attempt := 1
		if n, ok := asynq.GetRetryCount(ctx); ok {
			attempt = n + 1
		}
		run := Run{Job: j.Name, Part: p.Part, Slot: p.Slot, Started: now, Term: p.Term, Attempt: attempt, Clock: a.opts.Clock,
			Log: a.log.With().Str("job", j.Name).Str("part", p.Part).Time("slot", p.Slot).Logger()}
		err := j.Run(ctx, run)
		if errors.Is(err, ErrPermanent) {
			return tasks.Permanent(err)
		}
		return err
	}
}

// Start loads and validates the configuration (with the registered jobs)
// and starts the mode's components. It returns once they run.
func (a *App) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started {
		return errors.New("heartbeat: already started")
	}
	cfg, err := config.LoadFor(a.opts.ConfigFile, a.set, a.opts.Set)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	a.started = true
	switch a.opts.Mode {
	case ModeEmbedded:
		sys := embedded.New(cfg, a.log, embedded.WithClock(a.opts.Clock), embedded.WithHandlers(a.handlers))
		a.stop = sys.Stop
		return sys.Start(ctx)
	}
	rdb, conn, err := redisconn.Redis(ctx, cfg.Redis)
	if err != nil {
		return err
	}
	m := metrics.New()
	if a.opts.Mode == ModeScheduler {
		s, err := node.NewScheduler(cfg, node.SchedulerDeps{Redis: rdb, ConnOpt: conn, Clock: a.opts.Clock, Log: a.log, Metrics: m})
		if err != nil {
			rdb.Close()
			return err
		}
		a.stop = func(ctx context.Context) error { return errors.Join(s.Stop(ctx), rdb.Close()) }
		return s.Start(ctx)
	}
	w, err := node.NewWorker(ctx, cfg, node.WorkerDeps{Redis: rdb, ConnOpt: conn, Clock: a.opts.Clock, Log: a.log, Metrics: m,
		Handlers: a.handlers})
	if err != nil {
		rdb.Close()
		return err
	}
	a.stop = func(ctx context.Context) error { return errors.Join(w.Stop(ctx), rdb.Close()) }
	return w.Start(ctx)
}

// Stop stops what Start started, bounded by ctx. Safe to call twice, and
// before Start.
func (a *App) Stop(ctx context.Context) error {
	a.mu.Lock()
	stop := a.stop
	a.stop = nil
	a.mu.Unlock()
	if stop == nil {
		return nil
	}
	return stop(ctx)
}
