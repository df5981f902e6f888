package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/events"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/ratelog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/settings"
)

// JobConfig is one job as the scheduler runs it.
type JobConfig struct {
	Spec    jobs.Spec // effective: schedule, split, queue and policy
	Enabled bool
}

// Config configures a Scheduler.
type Config struct {
	Replica      string // this replica's name, unique among replicas
	Lock         bool   // false: every replica enqueues (duplicates are still suppressed)
	LeaseTTL     time.Duration
	RenewEvery   time.Duration
	FastTick     time.Duration // pause refresh and replica heartbeat cadence
	SlowTick     time.Duration
	CloseGrace   time.Duration // see schedule.Env.CloseGrace; each interval job gets at least twice its interval
	EnqueueAhead time.Duration // tasks are enqueued this long before their slot; workers start them at the slot
	Retention    time.Duration
	Shards       int
	Jobs         []JobConfig
	// LookBack bounds how far back a new leader looks for missed slots,
	// for every schedule kind, and for market transitions not emitted.
	// Default 24h.
	LookBack time.Duration
	// EventsRetention is how long the market events stream keeps events
	// (events.retention). Default 7 days.
	EventsRetention time.Duration
}

// Enqueuer enqueues asynq tasks; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Deps are the scheduler's collaborators.
type Deps struct {
	Redis       redis.UniversalClient
	Enqueuer    Enqueuer
	Instruments *market.Instruments
	Clock       clock.Clock
	Log         zerolog.Logger
	Metrics     *metrics.Metrics
	// Fault, when set, is called on the events loop's goroutine at each
	// of its named steps (StepBeforeEmit, StepAfterEmit), as the market
	// data engine's fault hook is: a test makes it block or crash the
	// replica there, the way a process killed at that instant stops.
	// Nil in production (a binary built without -tags faults), where a
	// step costs one nil check.
	Fault func(step string)
}

// The steps of the events loop at which Deps.Fault is called.
const (
	// StepBeforeEmit: a transition's instant has passed and the leader
	// is about to append it (events.Stream.Emit).
	StepBeforeEmit = "events.before_emit"
	// StepAfterEmit: Emit returned, the transition is in the stream (or
	// was already), and the cursor has not yet moved past it
	// (events.Stream.Advance).
	StepAfterEmit = "events.after_emit"
)

// FaultSteps returns the steps Deps.Fault is called at.
func FaultSteps() []string { return []string{StepBeforeEmit, StepAfterEmit} }

// Scheduler enqueues the jobs' slots while this replica leads.
type Scheduler struct {
	cfg  Config
	d    Deps
	log  zerolog.Logger
	jobs []*jobRunner

	mu         sync.Mutex
	leader     bool
	term       int64
	gen        uint64 // incremented at each acquisition
	validUntil time.Time
	paused     map[jobs.Name]string
	started    time.Time

	redisDown sync.Mutex
	down      bool

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	leaseMu  sync.Mutex // serialises use of lease
	stopOnce sync.Once
	stopErr  error
	lease    *Lease
	store    *settings.Store
	events   *events.Stream
	// calendarLog warns of calendar errors once an hour per job.
	calendarLog *ratelog.Logger
	// settingsRev is the settings-store revision the jobs' runtime
	// settings were last read at (settings loop only).
	settingsRev  int64
	settingsRead bool
}

// ConfigError is New's error: it names the field of Config, or of Deps,
// that is missing or out of range.
type ConfigError struct {
	Field  string // "LeaseTTL", "Deps.Clock", "Jobs[intraday].Spec.Schedule"
	Reason string
}

// Error reads "scheduler: FIELD: REASON".
func (e *ConfigError) Error() string { return "scheduler: " + e.Field + ": " + e.Reason }

// New returns a Scheduler, or a *ConfigError naming the first field that
// is missing or out of range.
func New(cfg Config, d Deps) (*Scheduler, error) {
	required := []struct {
		field   string
		missing bool
	}{
		{"Deps.Redis", d.Redis == nil}, {"Deps.Enqueuer", d.Enqueuer == nil}, {"Deps.Instruments", d.Instruments == nil},
		{"Deps.Clock", d.Clock == nil}, {"Deps.Metrics", d.Metrics == nil}, {"Replica", cfg.Replica == ""},
	}
	for _, r := range required {
		if r.missing {
			return nil, &ConfigError{Field: r.field, Reason: "required"}
		}
	}
	positive := []struct {
		field string
		ok    bool
	}{
		{"LeaseTTL", !cfg.Lock || cfg.LeaseTTL > 0}, {"RenewEvery", !cfg.Lock || cfg.RenewEvery > 0},
		{"FastTick", cfg.FastTick > 0}, {"Shards", cfg.Shards >= 1},
	}
	for _, p := range positive {
		if !p.ok {
			return nil, &ConfigError{Field: p.field, Reason: "must be > 0"}
		}
	}
	if cfg.LookBack <= 0 {
		cfg.LookBack = 24 * time.Hour
	}
	s := &Scheduler{cfg: cfg, d: d, log: d.Log.With().Str("component", "scheduler").Str("replica", cfg.Replica).Logger(), paused: map[jobs.Name]string{}}
	for _, jc := range cfg.Jobs {
		j := &jobRunner{name: jc.Spec.Name, base: jc, cfg: jc}
		plan, err := NewJobPlan(cfg, jc.Spec, d.Instruments.Calendars(), d.Instruments.Book(), func(err error) { s.calendarError(j, err) })
		if err != nil && jc.Enabled {
			return nil, &ConfigError{Field: "Jobs[" + string(jc.Spec.Name) + "].Spec.Schedule", Reason: err.Error()}
		}
		j.plan = plan
		s.jobs = append(s.jobs, j)
	}
	s.store = settings.New(d.Redis)
	s.events = events.NewStream(d.Redis, cfg.EventsRetention)
	s.calendarLog = ratelog.New(s.log, time.Hour)
	if cfg.Lock {
		s.lease = NewLease(d.Redis, cfg.Replica, cfg.LeaseTTL)
	}
	return s, nil
}

// Start launches the lease, pause and job loops. It returns at once.
func (s *Scheduler) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.started = s.d.Clock.Now()
	lock := "off"
	if s.cfg.Lock {
		lock = "on"
	}
	s.log.Info().Float64("fast_tick", s.cfg.FastTick.Seconds()).Float64("slow_tick", s.cfg.SlowTick.Seconds()).
		Str("leader_lock", lock).Msg("scheduler starting")
	if !s.cfg.Lock {
		s.mu.Lock()
		s.leader, s.gen, s.validUntil = true, 1, time.Unix(1<<62, 0)
		s.mu.Unlock()
		s.d.Metrics.Leader.Set(1)
		s.log.Info().Msg("leader lock off: this replica enqueues every slot; duplicates are suppressed by task ID")
	}
	if n, err := migratePauses(ctx, s.d.Redis, s.store, s.d.Clock.Now()); err != nil {
		s.log.Error().Err(err).Msg("pauses of an earlier version not moved to the settings store")
	} else if n > 0 {
		s.log.Info().Int("pauses", n).Msg("pauses of an earlier version moved to the settings store")
	}
	s.refreshSettings(ctx)
	// One attempt before the loops start, so a slot due right away is
	// already decided by a replica that knows whether it leads.
	first, cancelFirst := context.WithTimeout(ctx, s.cfg.LeaseTTL)
	s.tryLease(first, s.d.Clock.Now())
	cancelFirst()
	s.wg.Add(3)
	go s.leaseLoop(ctx)
	go s.settingsLoop(ctx)
	go s.eventsLoop(ctx)
	now := s.d.Clock.Now()
	for _, j := range s.jobs {
		if cfg, plan, _ := j.snapshot(); cfg.Enabled {
			j.setNext(plan.Next(now.Add(-s.cfg.EnqueueAhead)))
		}
		s.wg.Add(1)
		go s.jobLoop(ctx, j, now.Add(-s.cfg.EnqueueAhead))
	}
	s.warnCoverage(s.started)
	s.log.Info().Int("jobs", len(s.jobs)).Msgf("Heartbeat ready with %d jobs", len(s.jobs))
	for _, j := range s.jobs {
		cfg, plan, _ := j.snapshot()
		if !cfg.Enabled {
			s.log.Info().Str("job", string(j.name)).Msg(cfg.Spec.Title + ": disabled")
			continue
		}
		d := j.Next()
		s.log.Info().Str("job", string(j.name)).Str("schedule", plan.String()).
			Time("next_slot", d.Slot).Msg(cfg.Spec.Title + ": " + d.Why)
	}
	return nil
}

// coverageNotice is how long before a calendar's coverage ends start-up
// warns about it.
const coverageNotice = 60 * 24 * time.Hour

// warnCoverage warns about the markets whose calendar ends soon: past its
// last date a market counts as closed (its holidays are announced by the
// exchange and need a table update).
// The start-up warnings about a calendar's coverage.
const (
	MsgCoverageEndsSoon = "calendar coverage ends soon: after it the market counts as closed; set covered_through in calendars.overrides"
	MsgCoverageEnded    = "calendar coverage has ended: the market counts as closed unless calendars.on_coverage_end is weekdays; set covered_through in calendars.overrides"
)

func (s *Scheduler) warnCoverage(now time.Time) {
	for _, cal := range s.d.Instruments.Calendars() {
		_, last := cal.Coverage()
		end := last.AddDays(1).At(cal.Location(), 0)
		if left := end.Sub(now); left < coverageNotice {
			msg := MsgCoverageEndsSoon
			if left <= 0 {
				msg = MsgCoverageEnded
			}
			s.log.Warn().Str("market", string(cal.Code())).Str("covered_through", last.String()).
				Int("days_left", int(left.Hours()/24)).Msg(msg)
		}
	}
}

// Stop stops the loops, waits for them (bounded by ctx) and releases the
// lease so a standby takes over at once. It is safe to call twice.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		var errs []error
		stopped := true
		select {
		case <-done:
		case <-ctx.Done():
			stopped = false
			errs = append(errs, fmt.Errorf("scheduler: loops did not stop: %w", ctx.Err()))
		}
		// Release on a context of its own: the caller's may be the one
		// that just ran out, and a standby should not wait a whole TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if s.lease != nil && stopped {
			if err := s.releaseLease(rctx); err != nil {
				errs = append(errs, err)
			} else {
				s.log.Info().Int64("term", s.lease.Term()).Msg("leader lock released")
			}
		}
		s.d.Metrics.Leader.Set(0)
		if err := s.d.Redis.HDel(rctx, keys.Standbys(), s.cfg.Replica).Err(); err != nil {
			errs = append(errs, fmt.Errorf("scheduler: unregister replica: %w", err))
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// redisResult logs a Redis outage once when it starts and once when it
// ends, whichever loop sees it.
func (s *Scheduler) redisResult(err error, what string) {
	if errors.Is(err, context.Canceled) {
		return
	}
	s.redisDown.Lock()
	defer s.redisDown.Unlock()
	switch {
	case err != nil && !s.down:
		s.down = true
		s.log.Error().Err(err).Str("during", what).Msg("redis unavailable: not enqueuing; retrying")
	case err == nil && s.down:
		s.down = false
		s.log.Info().Msg("redis reachable again")
	}
}

// step calls the fault hook, if any, at the named step.
func (s *Scheduler) step(name string) {
	if s.d.Fault != nil {
		s.d.Fault(name)
	}
}

func (s *Scheduler) calendarError(j *jobRunner, err error) {
	s.calendarLog.Warn(string(j.name), s.d.Clock.Now()).Err(err).Str("job", string(j.name)).
		Msg("calendar cannot answer: the market counts as closed (logged once an hour)")
}

// JobStatus is one job as the status page shows it.
type JobStatus struct {
	Spec    jobs.Spec // effective: config and runtime settings applied
	Plan    JobPlan
	Enabled bool
	// Runtime are the job's runtime settings (scheduler set), nil when it
	// runs on its config alone.
	Runtime     *RuntimeSettings
	Next        schedule.Decision
	LastSlot    time.Time
	LastOutcome string
}

// Status returns the leader state and each job's next slot and effective
// settings.
func (s *Scheduler) Status(now time.Time) (leader bool, term int64, js []JobStatus) {
	leader, _, term = s.leadership(now)
	for _, j := range s.jobs {
		j.mu.Lock()
		js = append(js, JobStatus{Spec: j.cfg.Spec, Plan: j.plan, Enabled: j.cfg.Enabled, Runtime: j.runtime, Next: j.next,
			LastSlot: j.lastSlot, LastOutcome: j.lastOutcome})
		j.mu.Unlock()
	}
	return leader, term, js
}

// Ready reports whether the scheduler is in good standing: Redis answered
// its last command, and it is leader or standby with the loops running.
func (s *Scheduler) Ready() error {
	s.redisDown.Lock()
	defer s.redisDown.Unlock()
	if s.down {
		return errors.New("redis unavailable")
	}
	return nil
}
