// Package jobs is the registry of Heartbeat's periodic jobs: each job's
// name, task type, schedule (internal/schedule), split, queue and
// policies. It is the single source of truth the config, the scheduler
// and the workers read; it holds no job's code.
package jobs

import (
	"fmt"
	"time"

	"heartbeat/internal/schedule"
)

// Name identifies a job in config, metrics, logs and the run history.
type Name string

// The eight built-in jobs.
const (
	Intraday          Name = "intraday"
	Week52Extremes    Name = "week52_extremes"
	SessionVolume     Name = "session_volume"
	MarketMetrics     Name = "market_metrics"
	TwentyFourHour    Name = "twenty_four_hour"
	PreOpenBacktest   Name = "pre_open_backtest"
	VwapMinuteCapture Name = "vwap_minute_capture"
	ClosedBarsFlush   Name = "closed_bars_flush"
)

// The asynq queues, by priority.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
)

// What a new leader does with the slots missed while no replica led.
const (
	// CatchUpSkip counts them missed.
	CatchUpSkip = "skip"
	// CatchUpLatest enqueues the latest one once, if its start deadline
	// has not passed, and counts the rest missed.
	CatchUpLatest = "latest"
)

// What a slot does when the previous run of the same job part is still
// running.
const (
	// OverlapSkip drops the slot, counted overlapping (a run lock per job
	// part).
	OverlapSkip = "skip"
	// OverlapAllow runs it beside the other (no run lock): for jobs whose
	// runs do not share state.
	OverlapAllow = "allow"
)

// DefaultMaxRetry is how often a failed task is retried unless a job says
// otherwise; a retry after the task's start deadline is dropped as
// expired anyway.
const DefaultMaxRetry = 3

// Policy says how a job's tasks are run. Zero values take the defaults,
// which are Heartbeat's behaviour before policies existed.
type Policy struct {
	// Timeout bounds one run. Zero: max(30 s, 10 × the interval), 30 s for
	// a schedule without an interval.
	Timeout time.Duration
	// MaxRetry is how often a failed run is retried; nil: DefaultMaxRetry.
	MaxRetry *int
	// StartDeadline is how long after its slot a task may still start;
	// later, it is dropped and counted expired. Zero: the schedule's own
	// deadline (the next slot for an interval, see schedule.Decision).
	StartDeadline time.Duration
	// Overlap is OverlapSkip (default) or OverlapAllow.
	Overlap string
	// CatchUp is CatchUpSkip (default) or CatchUpLatest.
	CatchUp string
}

// Retries returns the effective retry count.
func (p Policy) Retries() int {
	if p.MaxRetry == nil {
		return DefaultMaxRetry
	}
	return *p.MaxRetry
}

// RunTimeout returns the effective run timeout of a job with this
// schedule.
func (p Policy) RunTimeout(s schedule.Spec) time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return max(30*time.Second, 10*s.Every)
}

// Deadline returns the latest instant a task of a slot may start: the
// slot plus the policy's start deadline, or the schedule's own deadline.
func (p Policy) Deadline(slot, planned time.Time) time.Time {
	if p.StartDeadline > 0 {
		return slot.Add(p.StartDeadline)
	}
	return planned
}

// Validate checks the policy's values; errors name the policy's field as
// config spells it.
func (p Policy) Validate() error {
	switch {
	case p.Timeout < 0:
		return fmt.Errorf("timeout: must be >= 0, got %s", p.Timeout)
	case p.MaxRetry != nil && (*p.MaxRetry < 0 || *p.MaxRetry > 100):
		return fmt.Errorf("max_retry: must be 0 to 100, got %d", *p.MaxRetry)
	case p.StartDeadline < 0:
		return fmt.Errorf("start_deadline: must be >= 0, got %s", p.StartDeadline)
	case p.Overlap != "" && p.Overlap != OverlapSkip && p.Overlap != OverlapAllow:
		return fmt.Errorf("overlap: must be skip or allow, got %q", p.Overlap)
	case p.CatchUp != "" && p.CatchUp != CatchUpSkip && p.CatchUp != CatchUpLatest:
		return fmt.Errorf("catch_up: must be skip or latest, got %q", p.CatchUp)
	}
	return nil
}

// Spec describes one job.
type Spec struct {
	Name     Name
	Title    string // the original's class name, for logs
	TaskType string // the asynq task type
	// Schedule says when the job's slots are (interval, cron, at or
	// within) and its gate.
	Schedule schedule.Spec
	// Split says how an interval or cron slot splits into tasks; a
	// session schedule's parts are its markets' sessions.
	Split  schedule.Split
	Queue  string
	Policy Policy
	// Predicate, when set, is the gate of an interval or cron schedule:
	// a slot is enqueued when it returns true (Schedule.Gate stays
	// empty). A program's own jobs only; config cannot set it.
	Predicate func(slot time.Time) bool
}

// Registry lists the eight built-in jobs with the intervals of the system
// Heartbeat replaces. The pre-open backtest runs once per market and
// session, 1 to 60 seconds before the open, on a 30 s grid.
var Registry = []Spec{
	{Name: Intraday, Title: "IntradayJob", TaskType: "heartbeat:intraday", Queue: QueueCritical,
		Schedule: schedule.Spec{Every: time.Second, Gate: schedule.GateOpen}, Split: schedule.SplitShard},
	{Name: Week52Extremes, Title: "Week52ExtremesJob", TaskType: "heartbeat:week52_extremes", Queue: QueueCritical,
		Schedule: schedule.Spec{Every: 2 * time.Second, Gate: schedule.GateAlways}, Split: schedule.SplitShard},
	{Name: SessionVolume, Title: "SessionVolumeJob", TaskType: "heartbeat:session_volume", Queue: QueueDefault,
		Schedule: schedule.Spec{Every: 10 * time.Second, Gate: schedule.GateAlways}, Split: schedule.SplitOne},
	{Name: MarketMetrics, Title: "MarketMetricsJob", TaskType: "heartbeat:market_metrics", Queue: QueueDefault,
		Schedule: schedule.Spec{Every: 10 * time.Second, Gate: schedule.GateAlways}, Split: schedule.SplitOne},
	{Name: TwentyFourHour, Title: "TwentyFourHourJob", TaskType: "heartbeat:twenty_four_hour", Queue: QueueDefault,
		Schedule: schedule.Spec{Every: 30 * time.Second, Gate: schedule.GateAlways}, Split: schedule.SplitShard},
	{Name: PreOpenBacktest, Title: "PreOpenBacktestJob", TaskType: "heartbeat:pre_open_backtest", Queue: QueueDefault,
		Schedule: schedule.Spec{Every: 30 * time.Second, Within: "open-60s..open-1s"}, Split: schedule.SplitMarket},
	{Name: VwapMinuteCapture, Title: "VwapMinuteCaptureJob", TaskType: "heartbeat:vwap_minute_capture", Queue: QueueDefault,
		Schedule: schedule.Spec{Every: time.Minute, Gate: schedule.GateAlways}, Split: schedule.SplitShard},
	{Name: ClosedBarsFlush, Title: "ClosedBarsFlushJob", TaskType: "heartbeat:closed_bars_flush", Queue: QueueDefault,
		Schedule: schedule.Spec{Every: time.Minute, Gate: schedule.GateOpen}, Split: schedule.SplitShard},
}

// builtin is the Registry as a Set, for Lookup and Names.
var builtin = Builtin()

// Lookup returns the registry entry of a built-in job.
func Lookup(name Name) (Spec, bool) { return builtin.Lookup(name) }

// Names returns every built-in job's name in registry order.
func Names() []Name { return builtin.Names() }
