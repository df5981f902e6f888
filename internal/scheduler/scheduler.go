package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/schedule"
	"heartbeat/internal/tasks"
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
	// for every schedule kind. Default 24h.
	LookBack time.Duration
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
}

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
	paused     map[string]string
	started    time.Time

	redisDown sync.Mutex
	down      bool

	cancel   context.CancelFunc
	wg       sync.WaitGroup
	leaseMu  sync.Mutex // serialises use of lease
	stopOnce sync.Once
	stopErr  error
	lease    *Lease
}

// jobRunner is one job's loop state.
type jobRunner struct {
	cfg  JobConfig
	plan JobPlan

	mu           sync.Mutex
	lastSlot     time.Time         // last slot this replica decided as leader
	next         schedule.Decision // the slot the loop waits for
	lastOutcome  string
	calErrLogged time.Time
	// unrecorded counts the tasks not run (failed enqueue, stall) since
	// the last slot whose decision reached Redis. They are counted missed
	// once a later slot is recorded — or, if another replica leads first,
	// by its catch-up, which starts from the recorded slot: so each is
	// counted exactly once.
	unrecorded int
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
	s := &Scheduler{cfg: cfg, d: d, log: d.Log.With().Str("component", "scheduler").Str("replica", cfg.Replica).Logger(), paused: map[string]string{}}
	for _, jc := range cfg.Jobs {
		if !jc.Enabled {
			continue
		}
		j := &jobRunner{cfg: jc}
		plan, err := NewJobPlan(cfg, jc.Spec, d.Instruments.Calendars(), d.Instruments.Book(), func(err error) { s.calendarError(j, err) })
		if err != nil {
			return nil, &ConfigError{Field: "Jobs[" + string(jc.Spec.Name) + "].Spec.Schedule", Reason: err.Error()}
		}
		j.plan = plan
		s.jobs = append(s.jobs, j)
	}
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
	s.refreshPauses(ctx)
	// One attempt before the loops start, so a slot due right away is
	// already decided by a replica that knows whether it leads.
	first, cancelFirst := context.WithTimeout(ctx, s.cfg.LeaseTTL)
	s.tryLease(first, s.d.Clock.Now())
	cancelFirst()
	s.wg.Add(2)
	go s.leaseLoop(ctx)
	go s.pauseLoop(ctx)
	now := s.d.Clock.Now()
	for _, j := range s.jobs {
		d := j.plan.Next(now.Add(-s.cfg.EnqueueAhead))
		j.setNext(d)
		s.wg.Add(1)
		go s.jobLoop(ctx, j, now.Add(-s.cfg.EnqueueAhead))
	}
	s.warnCoverage(s.started)
	s.log.Info().Int("jobs", len(s.jobs)).Msgf("Heartbeat ready with %d jobs", len(s.jobs))
	for _, j := range s.jobs {
		d := j.Next()
		s.log.Info().Str("job", string(j.cfg.Spec.Name)).Str("schedule", j.plan.String()).
			Time("next_slot", d.Slot).Msg(j.cfg.Spec.Title + ": " + d.Why)
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

func (s *Scheduler) releaseLease(ctx context.Context) error {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	return s.lease.Release(ctx)
}

// leadership returns whether this replica may enqueue at now, the
// leadership generation and the term.
func (s *Scheduler) leadership(now time.Time) (bool, uint64, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leader && now.Before(s.validUntil), s.gen, s.term
}

// tryLease acquires or renews the lease once and publishes the outcome.
func (s *Scheduler) tryLease(ctx context.Context, now time.Time) {
	if s.lease == nil {
		return
	}
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	held, acquired, err := s.lease.Try(ctx, now)
	s.redisResult(err, "leader lease")
	s.mu.Lock()
	was := s.leader
	s.leader, s.validUntil = held, s.lease.ValidUntil()
	if acquired {
		s.term = s.lease.Term()
		s.gen++
	}
	s.mu.Unlock()
	switch {
	case acquired:
		s.d.Metrics.Leader.Set(1)
		s.d.Metrics.Term.Set(float64(s.lease.Term()))
		s.log.Info().Int64("term", s.lease.Term()).Msg("✓ Leader lock acquired")
	case held && !was:
		// Renewed after its validity lapsed (Redis was slow or
		// unreachable, but the key had not expired): same term.
		s.d.Metrics.Leader.Set(1)
		s.log.Info().Int64("term", s.lease.Term()).Msg("leader lock renewed after a lapse: leading again")
	case was && !held && ctx.Err() == nil:
		s.d.Metrics.Leader.Set(0)
		s.log.Warn().Int64("term", s.lease.Term()).Msg("leader lock lost: standing by")
	}
}

// leaseLoop acquires or renews the lease every renew interval and keeps the
// replica's heartbeat for the status page.
func (s *Scheduler) leaseLoop(ctx context.Context) {
	defer s.wg.Done()
	next := s.d.Clock.Now()
	lastBeat := time.Time{}
	for {
		now := s.d.Clock.Now()
		s.tryLease(ctx, now)
		if now.Sub(lastBeat) >= s.cfg.FastTick {
			s.heartbeat(ctx, now)
			lastBeat = now
		}
		every := s.cfg.RenewEvery
		if !s.cfg.Lock {
			every = s.cfg.FastTick
		}
		next = next.Add(every)
		n := s.d.Clock.Now()
		if next.Before(n) {
			next = n
		}
		// A standby tries again just after the holder's lease would
		// expire, if that is sooner than its next regular attempt.
		if s.lease != nil {
			if lead, _, _ := s.leadership(n); !lead {
				if in := s.lease.ExpiresIn(); in > 0 && n.Add(in+time.Millisecond).Before(next) {
					next = n.Add(in + time.Millisecond)
				}
			}
		}
		if s.d.Clock.SleepUntil(ctx, next) != nil {
			return
		}
	}
}

// ReplicaInfo is what a replica publishes about itself.
type ReplicaInfo struct {
	Replica    string    `json:"replica"`
	Leader     bool      `json:"leader"`
	Term       int64     `json:"term"`
	Seen       time.Time `json:"seen"`
	Started    time.Time `json:"started"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

func (s *Scheduler) heartbeat(ctx context.Context, now time.Time) {
	lead, _, term := s.leadership(now)
	s.mu.Lock()
	info := ReplicaInfo{Replica: s.cfg.Replica, Leader: lead, Term: term, Seen: now.UTC(), Started: s.started.UTC()}
	if lead && s.cfg.Lock {
		info.ValidUntil = s.validUntil.UTC()
	}
	s.mu.Unlock()
	b, _ := json.Marshal(info)
	s.redisResult(s.d.Redis.HSet(ctx, keys.Standbys(), s.cfg.Replica, b).Err(), "replica heartbeat")
}

// pauseLoop re-reads the paused jobs every fast tick.
func (s *Scheduler) pauseLoop(ctx context.Context) {
	defer s.wg.Done()
	for {
		if s.d.Clock.SleepUntil(ctx, s.d.Clock.Now().Add(s.cfg.FastTick)) != nil {
			return
		}
		s.refreshPauses(ctx)
	}
}

func (s *Scheduler) refreshPauses(ctx context.Context) {
	p, err := s.d.Redis.HGetAll(ctx, keys.Paused()).Result()
	s.redisResult(err, "paused jobs")
	if err != nil {
		return
	}
	s.mu.Lock()
	s.paused = p
	s.mu.Unlock()
}

func (s *Scheduler) isPaused(job jobs.Name) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.paused[string(job)]
	return ok
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

func (s *Scheduler) calendarError(j *jobRunner, err error) {
	now := s.d.Clock.Now()
	j.mu.Lock()
	defer j.mu.Unlock()
	if now.Sub(j.calErrLogged) < time.Hour {
		return
	}
	j.calErrLogged = now
	s.log.Warn().Err(err).Str("job", string(j.cfg.Spec.Name)).Msg("calendar cannot answer: the market counts as closed (logged once an hour)")
}

// jobLoop waits for each slot of one job and fires it while leading.
func (s *Scheduler) jobLoop(ctx context.Context, j *jobRunner, prev time.Time) {
	defer s.wg.Done()
	var servedGen uint64
	// passed: a slot went by while this replica did not lead. When it
	// leads again, with a new term or the same one renewed after a lapse,
	// the slots nobody enqueued are caught up.
	passed := false
	for {
		d, ok := s.waitForSlot(ctx, j, prev)
		if !ok {
			return
		}
		now := s.d.Clock.Now()
		lead, gen, term := s.leadership(now)
		if !lead {
			prev = d.Slot
			passed = true
			continue
		}
		if gen != servedGen || passed {
			s.catchUp(ctx, j, d.Slot, now, term)
			servedGen, passed = gen, false
		}
		if now.After(j.plan.StartBy(d)) {
			// The process stalled past the slot's life.
			if d.Enqueue {
				j.addUnrecorded(j.tasks(d))
			}
		} else {
			s.fire(ctx, j, d, term, now)
		}
		s.recordSlot(ctx, j, d.Slot)
		prev = d.Slot
	}
}

// waitForSlot decides the first slot after prev and sleeps until its
// enqueue instant. While it waits it looks at the calendars once a fast
// tick: when a runtime entry changed them (a closure, a halt, an extra
// session), it decides again from now, so the change applies from the
// next slot rather than after a long slow-cadence wait. ok is false when
// ctx ended.
func (s *Scheduler) waitForSlot(ctx context.Context, j *jobRunner, prev time.Time) (d schedule.Decision, ok bool) {
	book := s.d.Instruments.Book()
	version := book.Version()
	d = j.plan.Next(prev)
	j.setNext(d)
	for {
		target := d.Slot.Add(-s.cfg.EnqueueAhead)
		wake := target
		if now := s.d.Clock.Now(); wake.Sub(now) > s.cfg.FastTick {
			wake = now.Add(s.cfg.FastTick)
		}
		if s.d.Clock.SleepUntil(ctx, wake) != nil {
			return d, false
		}
		now := s.d.Clock.Now()
		if v := book.Version(); v != version {
			version = v
			d = j.plan.Next(maxTime(prev, now))
			j.setNext(d)
			continue
		}
		if !now.Before(target) {
			return d, true
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tasks is how many tasks a slot is (or would have been): one per part.
// heartbeat_slots_total counts tasks, so scheduler and worker outcomes add
// up.
func (j *jobRunner) tasks(d schedule.Decision) int { return j.plan.Tasks(d) }

func (j *jobRunner) setNext(d schedule.Decision) {
	j.mu.Lock()
	j.next = d
	j.mu.Unlock()
}

// Next returns the slot the job waits for.
func (j *jobRunner) Next() schedule.Decision {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.next
}

func (s *Scheduler) count(j *jobRunner, outcome string, n int) {
	s.d.Metrics.Slots.WithLabelValues(string(j.cfg.Spec.Name), outcome).Add(float64(n))
	j.mu.Lock()
	j.lastOutcome = outcome
	j.mu.Unlock()
}

// fire enqueues one slot's tasks, unless the job is paused or its gate is
// shut.
func (s *Scheduler) fire(ctx context.Context, j *jobRunner, d schedule.Decision, term int64, now time.Time) {
	spec := j.cfg.Spec
	switch {
	case s.isPaused(spec.Name):
		s.count(j, metrics.SlotSkippedPaused, j.tasks(d))
		return
	case !d.Enqueue:
		s.count(j, metrics.SlotSkippedClosed, j.tasks(d))
		return
	}
	began := s.d.Clock.Now()
	for _, part := range d.Parts {
		p := j.plan.Payload(d, part, term, now)
		outcome, err := s.enqueue(ctx, spec, p)
		if err != nil {
			s.redisResult(err, "enqueue")
			j.addUnrecorded(1)
			continue
		}
		s.redisResult(nil, "enqueue")
		s.count(j, outcome, 1)
	}
	s.d.Metrics.Enqueues.WithLabelValues(string(spec.Name)).Observe(s.d.Clock.Now().Sub(began).Seconds())
}

// enqueue enqueues one task; a task ID conflict means another replica (or
// an earlier run of this one) already enqueued the slot.
func (s *Scheduler) enqueue(ctx context.Context, spec jobs.Spec, p tasks.Payload) (string, error) {
	task, opts, err := tasks.New(spec, p, tasks.Options{Retention: s.cfg.Retention})
	if err != nil {
		return "", err
	}
	_, err = s.d.Enqueuer.EnqueueContext(ctx, task, opts...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return metrics.SlotDuplicateSuppressed, nil
	case err != nil:
		return "", fmt.Errorf("enqueue %s: %w", p.ID(), err)
	}
	return metrics.SlotEnqueued, nil
}

// recordSlot remembers the last slot decided, in Redis for the next leader.
func (s *Scheduler) recordSlot(ctx context.Context, j *jobRunner, slot time.Time) {
	j.mu.Lock()
	j.lastSlot = slot
	j.mu.Unlock()
	err := s.d.Redis.HSet(ctx, keys.LastSlots(), string(j.cfg.Spec.Name), slot.UnixMilli()).Err()
	s.redisResult(err, "record slot")
	if err != nil {
		return
	}
	j.mu.Lock()
	n := j.unrecorded
	j.unrecorded = 0
	j.mu.Unlock()
	if n > 0 {
		s.count(j, metrics.SlotMissed, n)
	}
}

func (j *jobRunner) addUnrecorded(n int) {
	j.mu.Lock()
	j.unrecorded += n
	j.mu.Unlock()
}

// catchUp runs when this replica has just become leader: the slots between
// the last one any leader decided and the current one were missed. They
// are counted; with the latest policy the most recent one is enqueued once
// if its start deadline has not passed. Only slots within the look-back
// are considered.
func (s *Scheduler) catchUp(ctx context.Context, j *jobRunner, current, now time.Time, term int64) {
	last := time.Time{}
	if v, err := s.d.Redis.HGet(ctx, keys.LastSlots(), string(j.cfg.Spec.Name)).Result(); err == nil {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			last = time.UnixMilli(ms).UTC()
		}
	}
	j.mu.Lock()
	ours := 0
	if j.lastSlot.After(last) {
		// This replica decided slots Redis does not know of (its records
		// failed, or Redis lost its data); no other leader counted its
		// failures since, so it counts them itself.
		last, ours = j.lastSlot, j.unrecorded
	}
	j.unrecorded = 0
	j.mu.Unlock()
	if ours > 0 {
		s.count(j, metrics.SlotMissed, ours)
	}
	if last.IsZero() || !last.Before(current) {
		return
	}
	if floor := current.Add(-s.cfg.LookBack); last.Before(floor) {
		last = floor
	}
	var missed []schedule.Decision
	for prev := last; ; {
		d := j.plan.Next(prev)
		if !d.Slot.Before(current) {
			break
		}
		if d.Enqueue {
			missed = append(missed, d)
		}
		prev = d.Slot
	}
	if len(missed) == 0 {
		return
	}
	if j.cfg.Spec.Policy.CatchUp == jobs.CatchUpLatest {
		latest := missed[len(missed)-1]
		if now.Before(j.plan.StartBy(latest)) && !s.isPaused(j.cfg.Spec.Name) {
			s.fire(ctx, j, latest, term, now)
			missed = missed[:len(missed)-1]
		}
	}
	if len(missed) > 0 {
		n := 0
		for _, d := range missed {
			n += j.tasks(d)
		}
		// A job paused now was (most likely) paused while nobody led:
		// its slots would not have run anyway.
		outcome := metrics.SlotMissed
		if s.isPaused(j.cfg.Spec.Name) {
			outcome = metrics.SlotSkippedPaused
		}
		s.count(j, outcome, n)
		s.log.Warn().Str("job", string(j.cfg.Spec.Name)).Int("missed", len(missed)).Time("from", missed[0].Slot).
			Time("to", missed[len(missed)-1].Slot).Msg("slots not run while no replica led")
	}
}

// JobStatus is one job as the status page shows it.
type JobStatus struct {
	Spec        jobs.Spec
	Plan        JobPlan
	Next        schedule.Decision
	LastSlot    time.Time
	LastOutcome string
}

// Status returns the leader state and each job's next slot.
func (s *Scheduler) Status(now time.Time) (leader bool, term int64, js []JobStatus) {
	leader, _, term = s.leadership(now)
	for _, j := range s.jobs {
		j.mu.Lock()
		js = append(js, JobStatus{Spec: j.cfg.Spec, Plan: j.plan, Next: j.next, LastSlot: j.lastSlot, LastOutcome: j.lastOutcome})
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
