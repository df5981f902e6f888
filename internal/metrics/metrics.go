// Package metrics defines Heartbeat's Prometheus metrics, in one registry a
// process (or the embedded mode's single process) serves at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Slot outcomes counted by heartbeat_slots_total.
const (
	SlotEnqueued            = "enqueued"
	SlotDuplicateSuppressed = "duplicate_suppressed"
	SlotSkippedClosed       = "skipped_closed"
	SlotSkippedPaused       = "skipped_paused"
	SlotSkippedOverlap      = "skipped_overlap"
	SlotExpired             = "expired"
	SlotMissed              = "missed"
	SlotOK                  = "ok"
	SlotError               = "error"
)

// Metrics are the collectors every component updates.
type Metrics struct {
	Registry *prometheus.Registry

	// Scheduler.
	Slots    *prometheus.CounterVec // job, outcome
	Leader   prometheus.Gauge
	Term     prometheus.Gauge
	Enqueues *prometheus.HistogramVec // job: time to enqueue a slot's tasks

	// Workers.
	StartLag    *prometheus.HistogramVec // job: slot instant to handler start
	RunDuration *prometheus.HistogramVec // job
	Runs        *prometheus.CounterVec   // job, outcome

	// Market data.
	Ticks       *prometheus.CounterVec // result: accepted, out_of_session
	DeadLetters *prometheus.CounterVec // reason
	Bars        *prometheus.CounterVec // event: closed, amended, flushed

	// Feed.
	FeedTicks prometheus.Counter
}

// lagBuckets resolve milliseconds: the scheduler aims at 2 ms of start lag.
var lagBuckets = []float64{0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// New returns the metrics registered in a fresh registry, with the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Slots: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_slots_total",
			Help: "Job slots by outcome: enqueued, duplicate_suppressed, skipped_closed, skipped_paused (scheduler); ok, error, skipped_overlap, expired (workers); missed."},
			[]string{"job", "outcome"}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "heartbeat_scheduler_leader",
			Help: "1 while this scheduler replica holds the leader lease."}),
		Term: prometheus.NewGauge(prometheus.GaugeOpts{Name: "heartbeat_scheduler_term",
			Help: "Term of the lease this replica holds or last held."}),
		Enqueues: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_enqueue_seconds",
			Help: "Time to enqueue one slot's tasks.", Buckets: lagBuckets}, []string{"job"}),
		StartLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_start_lag_seconds",
			Help: "From a slot's instant to its handler's start.", Buckets: lagBuckets}, []string{"job"}),
		RunDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_run_duration_seconds",
			Help: "Handler run time.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"job"}),
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_runs_total",
			Help: "Task runs by outcome."}, []string{"job", "outcome"}),
		Ticks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_ticks_total",
			Help: "Ticks consumed by Intraday: accepted, and of those out_of_session."}, []string{"result"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_dead_letters_total",
			Help: "Rejected ticks parked in the dead-letter streams, by reason."}, []string{"reason"}),
		Bars: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_bars_total",
			Help: "1-minute bars closed, amended and flushed to the durable store."}, []string{"event"}),
		FeedTicks: prometheus.NewCounter(prometheus.CounterOpts{Name: "heartbeat_feed_ticks_total",
			Help: "Ticks written by the built-in simulator (embedded mode; cmd/feed logs its totals)."}),
	}
	m.Registry.MustRegister(m.Slots, m.Leader, m.Term, m.Enqueues, m.StartLag, m.RunDuration, m.Runs,
		m.Ticks, m.DeadLetters, m.Bars, m.FeedTicks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
