// Package metrics defines Heartbeat's Prometheus metrics, in one registry a
// process (or the embedded mode's single process) serves at /metrics.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"heartbeat/internal/buildinfo"
	"heartbeat/internal/runlog"
)

// Metrics are the collectors every component updates.
type Metrics struct {
	Registry *prometheus.Registry

	// Scheduler.
	Slots    *prometheus.CounterVec // hb_job, outcome
	Leader   prometheus.Gauge
	Term     prometheus.Gauge
	Enqueues *prometheus.HistogramVec // hb_job: time to enqueue a slot's tasks
	// EventsEmitted counts market transition events appended to the
	// events stream (changed included); EventsMissed the transitions
	// older than the look-back when a leader reached them, not emitted.
	EventsEmitted *prometheus.CounterVec // kind, market
	EventsMissed  *prometheus.CounterVec // kind, market
	// SSEClients is the Server-Sent Events clients connected, by stream.
	SSEClients *prometheus.GaugeVec // stream
	// LiveLag is the live figures' fan-out lag: from Intraday's commit (the
	// updates entry's time) to the hub reading it (stage read) and to a
	// figure written to a client (stage sent).
	LiveLag *prometheus.HistogramVec // stage

	// Workers.
	StartLag    *prometheus.HistogramVec // hb_job: slot instant to handler start
	RunDuration *prometheus.HistogramVec // hb_job
	LastSuccess *prometheus.GaugeVec     // hb_job: Unix time of the last ok run

	// Market data.
	Ticks       *prometheus.CounterVec // result: in_session, out_of_session (disjoint)
	DeadLetters *prometheus.CounterVec // reason
	Bars        *prometheus.CounterVec // event: closed, amended, flushed
	WaitShort   *prometheus.CounterVec // component: commits fewer replicas acknowledged than ingest.wait_replicas

	// Feed.
	FeedTicks prometheus.Counter

	// BuildInfo is 1, labelled with the binary's version, VCS revision and
	// Go version.
	BuildInfo *prometheus.GaugeVec
}

// JobLabel is the label that names a Heartbeat job on every metric. It is
// not "job", which Prometheus gives the scrape target.
const JobLabel = "hb_job"

// lagBuckets resolve milliseconds: the scheduler aims at 2 ms of start lag.
var lagBuckets = []float64{0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// New returns the metrics registered in a fresh registry, with the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Slots: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_slots_total",
			Help: "Job slots by outcome: enqueued, duplicate_suppressed, skipped_closed, skipped_paused (scheduler); ok, error, skipped_overlap, expired (workers); missed."},
			[]string{JobLabel, "outcome"}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "heartbeat_scheduler_leader",
			Help: "1 while this scheduler replica holds the leader lease."}),
		Term: prometheus.NewGauge(prometheus.GaugeOpts{Name: "heartbeat_scheduler_term",
			Help: "Term of the lease this replica holds or last held."}),
		Enqueues: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_enqueue_seconds",
			Help: "Time to enqueue one slot's tasks.", Buckets: lagBuckets}, []string{JobLabel}),
		EventsEmitted: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_events_emitted_total",
			Help: "Market transition events this replica appended to the events stream, by kind (pre_open, open, break_start, break_end, halt_start, halt_end, close, changed) and market."},
			[]string{"kind", "market"}),
		EventsMissed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_events_missed_total",
			Help: "Market transitions older than scheduler.look_back when a leader reached them: counted, not emitted late."},
			[]string{"kind", "market"}),
		SSEClients: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "heartbeat_sse_clients",
			Help: "Server-Sent Events clients connected to this replica, by stream (events, figures)."}, []string{"stream"}),
		LiveLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_live_lag_seconds",
			Help:    "Live figures' fan-out lag from Intraday's commit: to this replica reading the announcement (stage read) and to a figure written to a client (stage sent).",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10}}, []string{"stage"}),
		StartLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_start_lag_seconds",
			Help: "From a slot's instant to its handler's start.", Buckets: lagBuckets}, []string{JobLabel}),
		RunDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "heartbeat_run_duration_seconds",
			Help: "Handler run time.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{JobLabel}),
		LastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "heartbeat_last_success_timestamp_seconds",
			Help: "Unix time at which a run of the job last finished ok on this worker."}, []string{JobLabel}),
		Ticks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_ticks_total",
			Help: "Ticks Intraday accepted, by result: in_session or out_of_session (disjoint; accepted is their sum)."}, []string{"result"}),
		DeadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_dead_letters_total",
			Help: "Rejected ticks parked in the dead-letter streams, by reason."}, []string{"reason"}),
		Bars: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_bars_total",
			Help: "1-minute bars closed, amended and flushed to the durable store."}, []string{"event"}),
		WaitShort: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "heartbeat_wait_short_total",
			Help: "Commits applied on the master that fewer replicas acknowledged than ingest.wait_replicas within the WAIT timeout, by component (intraday, vwap, rebuild): a failover before the replicas catch up may roll them back."}, []string{"component"}),
		FeedTicks: prometheus.NewCounter(prometheus.CounterOpts{Name: "heartbeat_feed_ticks_total",
			Help: "Ticks written by the built-in simulator (embedded mode; cmd/feed logs its totals)."}),
		BuildInfo: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "heartbeat_build_info",
			Help: "1, labelled with the version, VCS revision and Go version of the binary."}, []string{"version", "revision", "go_version"}),
	}
	b := buildinfo.Get()
	m.BuildInfo.WithLabelValues(b.Version, b.Revision, b.GoVersion).Set(1)
	m.Registry.MustRegister(m.Slots, m.Leader, m.Term, m.Enqueues, m.EventsEmitted, m.EventsMissed, m.SSEClients, m.LiveLag, m.StartLag, m.RunDuration, m.LastSuccess,
		m.Ticks, m.DeadLetters, m.Bars, m.WaitShort, m.FeedTicks, m.BuildInfo,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CountSlots adds n slots of job to heartbeat_slots_total under outcome.
func (m *Metrics) CountSlots(job string, outcome runlog.Outcome, n int) {
	m.Slots.WithLabelValues(job, string(outcome)).Add(float64(n))
}
