// Package jobs is the registry of Heartbeat's eight periodic jobs: their
// names, task types, default intervals, gates and queues. It is the single
// source of truth the config, the scheduler and the workers read.
package jobs

import (
	"fmt"
	"time"
)

// Name identifies a job in config, metrics, logs and the run history.
type Name string

// The eight jobs.
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

// Gate decides when a job's slots are enqueued.
type Gate string

// The gates.
const (
	// GateOpen enqueues at the job's interval while at least one of its
	// markets is open, and at max(interval, slow tick) otherwise.
	GateOpen Gate = "open"
	// GatePreOpen enqueues one task per market and session while that
	// market's next open is 1 to 60 seconds away.
	GatePreOpen Gate = "preopen"
	// GateAlways enqueues at the job's interval while any market is open,
	// and at max(interval, slow tick) otherwise, like GateOpen, but never
	// skips a slot.
	GateAlways Gate = "always"
)

// ParseGate checks a gate name.
func ParseGate(s string) (Gate, error) {
	switch g := Gate(s); g {
	case GateOpen, GatePreOpen, GateAlways:
		return g, nil
	}
	return "", fmt.Errorf("unknown gate %q (want open, preopen or always)", s)
}

// Partition says how a job's slot is split into tasks.
type Partition string

// The partitions.
const (
	// ByShard enqueues one task per tick shard.
	ByShard Partition = "shard"
	// ByMarket enqueues one task per market (the pre-open gate's markets).
	ByMarket Partition = "market"
	// Whole enqueues a single task.
	Whole Partition = ""
)

// The asynq queues, by priority.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
)

// Spec describes one job.
type Spec struct {
	Name      Name
	Title     string // the original's class name, for logs
	TaskType  string // the asynq task type
	Interval  time.Duration
	Gate      Gate
	Queue     string
	Partition Partition
}

// Registry lists the eight jobs with the intervals of the system Heartbeat
// replaces.
var Registry = []Spec{
	{Intraday, "IntradayJob", "heartbeat:intraday", time.Second, GateOpen, QueueCritical, ByShard},
	{Week52Extremes, "Week52ExtremesJob", "heartbeat:week52_extremes", 2 * time.Second, GateAlways, QueueCritical, ByShard},
	{SessionVolume, "SessionVolumeJob", "heartbeat:session_volume", 10 * time.Second, GateAlways, QueueDefault, Whole},
	{MarketMetrics, "MarketMetricsJob", "heartbeat:market_metrics", 10 * time.Second, GateAlways, QueueDefault, Whole},
	{TwentyFourHour, "TwentyFourHourJob", "heartbeat:twenty_four_hour", 30 * time.Second, GateAlways, QueueDefault, ByShard},
	{PreOpenBacktest, "PreOpenBacktestJob", "heartbeat:pre_open_backtest", 30 * time.Second, GatePreOpen, QueueDefault, ByMarket},
	{VwapMinuteCapture, "VwapMinuteCaptureJob", "heartbeat:vwap_minute_capture", time.Minute, GateAlways, QueueDefault, ByShard},
	{ClosedBarsFlush, "ClosedBarsFlushJob", "heartbeat:closed_bars_flush", time.Minute, GateOpen, QueueDefault, ByShard},
}

// Lookup returns the registry entry of a job.
func Lookup(name Name) (Spec, bool) {
	for _, s := range Registry {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}

// Names returns every job name in registry order.
func Names() []Name {
	out := make([]Name, len(Registry))
	for i, s := range Registry {
		out[i] = s.Name
	}
	return out
}
