package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/clock"
	"heartbeat/internal/jobs"
	"heartbeat/internal/live"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
	"heartbeat/internal/scheduler"
)

//go:embed templates/*.html static/*
var assets embed.FS

// JobStatuser is what the site asks the local scheduler replica:
// *scheduler.Scheduler.
type JobStatuser interface {
	Status(now time.Time) (leader bool, term int64, js []scheduler.JobStatus)
}

// SiteConfig configures the operator site.
type SiteConfig struct {
	// Replica is this scheduler replica's name.
	Replica string
	// Token is the bearer token POSTs must carry; empty refuses every
	// POST (read-only) unless Tokens has some.
	Token string
	// Tokens are named operator tokens (name -> token): a POST carrying
	// one is audited as http:NAME@ADDR.
	Tokens map[string]string
}

// readOnly reports whether no token is configured: every POST is refused.
func (c SiteConfig) readOnly() bool { return c.Token == "" && len(c.Tokens) == 0 }

// SiteDeps are what the site reads and acts on.
type SiteDeps struct {
	Redis redis.UniversalClient
	// ConnOpt is asynq's Redis connection, for the workers list and
	// asynqmon.
	ConnOpt   asynq.RedisConnOpt
	Scheduler JobStatuser
	Controls  *scheduler.Controls
	Engine    *marketdata.Engine
	// Store is the durable bar store; nil serves bars from Redis only.
	Store   bars.Store
	Metrics *metrics.Metrics // this replica's: the scheduler's slot counts
	// Live is the live figures hub behind GET /api/v1/stream; nil answers
	// it with 503.
	Live  *live.Hub
	Clock clock.Clock
	Log   zerolog.Logger
}

// Site is the operator site every scheduler replica serves: the status
// page at /, the JSON API under /api/v1/, the operator controls (POST
// under /api/v1/jobs/) and asynqmon under /monitoring.
type Site struct {
	cfg        SiteConfig
	d          SiteDeps
	inspector  *asynq.Inspector
	monitoring *Monitoring
	page       *template.Template
	static     http.Handler
	limits     clientLimits // control requests per client
	closeOnce  sync.Once
	closeErr   error
}

// NewSite returns the site; Mount adds its routes to a Server.
func NewSite(cfg SiteConfig, d SiteDeps) (*Site, error) {
	if d.Redis == nil || d.ConnOpt == nil || d.Scheduler == nil || d.Controls == nil || d.Engine == nil || d.Metrics == nil || d.Clock == nil {
		return nil, errors.New("web: site: Redis, ConnOpt, Scheduler, Controls, Engine, Metrics and Clock are required")
	}
	page, err := template.New("status.html").Funcs(funcs).ParseFS(assets, "templates/status.html")
	if err != nil {
		return nil, fmt.Errorf("web: status template: %w", err)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	d.Metrics.WatchCalendars(d.Engine.Instruments().Book())
	return &Site{
		cfg: cfg, d: d, page: page,
		inspector:  asynq.NewInspector(FixedConnOpt{d.ConnOpt}),
		monitoring: NewMonitoring(d.ConnOpt),
		static:     http.StripPrefix("/static/", http.FileServerFS(static)),
	}, nil
}

// Mount adds the site's routes to s.
func (site *Site) Mount(s *Server) {
	s.Handle("GET /{$}", http.HandlerFunc(site.serveStatus))
	s.Handle("GET /static/", site.static)
	s.Handle(MonitoringPath+"/", site.monitoring)
	site.mountAPI(s)
	site.mountControls(s)
}

// Close releases the site's Redis connections. Safe to call twice.
func (site *Site) Close() error {
	site.closeOnce.Do(func() {
		site.closeErr = errors.Join(site.inspector.Close(), site.monitoring.Close())
	})
	return site.closeErr
}

// statsWindow is how many of the newest runs the jobs table's durations,
// start lags and run outcomes are computed over.
const statsWindow = 2000

// staleAfter is how old a replica's heartbeat may be before the page marks
// it stale.
const staleAfter = 10 * time.Second

// MarketView is one market on the board, from the effective calendar.
type MarketView struct {
	// SessionBar draws the session (the page only).
	SessionBar template.HTML `json:"-"`
	Market     string        `json:"market"`
	Name       string        `json:"name"`
	Zone       string        `json:"zone"`
	LocalTime  time.Time     `json:"local_time"`
	Phase      string        `json:"phase"`             // open, break, halted or closed
	Session    string        `json:"session,omitempty"` // the session containing now, or the next one
	Open       time.Time     `json:"session_open,omitzero"`
	Close      time.Time     `json:"session_close,omitzero"`
	Halts      []HaltView    `json:"session_halts,omitempty"`
	// Assumed: the session is past the calendar's coverage and exists
	// only because calendars.on_coverage_end is weekdays.
	Assumed    bool       `json:"assumed,omitempty"`
	NextChange *time.Time `json:"next_change,omitempty"`
	NextPhase  string     `json:"next_phase,omitempty"`
	Countdown  string     `json:"countdown,omitempty"` // "opens in 2h 03m"
	Error      string     `json:"error,omitempty"`
	// CoveredThrough is the last date the calendar vouches for;
	// OnCoverageEnd what it answers after it: closed or weekdays
	// (assumed sessions).
	CoveredThrough string `json:"covered_through"`
	OnCoverageEnd  string `json:"on_coverage_end"`
	// CoverageWarning is set when the coverage ends within 30 days or has
	// ended.
	CoverageWarning string `json:"coverage_warning,omitempty"`
	// Overrides are the entries in force dated from today's session to 7
	// days ahead (the market's dates), by date; Rejected the runtime entries the
	// calendar could not apply, with why.
	Overrides []OverrideView `json:"overrides"`
	Rejected  []RejectedView `json:"rejected,omitempty"`
}

// PolicyView is a job's effective policy (see jobs.Policy).
type PolicyView struct {
	TimeoutSeconds       float64 `json:"timeout_s"`
	MaxRetry             int     `json:"max_retry"`
	StartDeadlineSeconds float64 `json:"start_deadline_s,omitempty"` // zero: the schedule's own (the next slot)
	Overlap              string  `json:"overlap"`
	CatchUp              string  `json:"catch_up"`
}

func policyView(spec jobs.Spec) PolicyView {
	p := spec.Policy
	v := PolicyView{TimeoutSeconds: p.RunTimeout(spec.Schedule).Seconds(), MaxRetry: p.Retries(),
		StartDeadlineSeconds: p.StartDeadline.Seconds(), Overlap: p.Overlap, CatchUp: p.CatchUp}
	if v.Overlap == "" {
		v.Overlap = jobs.OverlapSkip
	}
	if v.CatchUp == "" {
		v.CatchUp = jobs.CatchUpSkip
	}
	return v
}

// RuntimeView is a job's runtime settings: each field's value, who set
// them and when.
type RuntimeView struct {
	Settings map[string]string `json:"settings"`
	Actor    string            `json:"actor"`
	At       time.Time         `json:"at"`
	Note     string            `json:"note,omitempty"`
}

func runtimeView(rs *scheduler.RuntimeSettings) *RuntimeView {
	if rs == nil {
		return nil
	}
	return &RuntimeView{Settings: rs.Settings, Actor: rs.Actor, At: rs.At.UTC(), Note: rs.Note}
}

// JobView is one row of the jobs table.
type JobView struct {
	Job      jobs.Name `json:"job"`
	Title    string    `json:"title"`
	TaskType string    `json:"task_type"`
	Queue    string    `json:"queue"`
	Enabled  bool      `json:"enabled"`
	// Schedule is the schedule's canonical text: "every 1s, gate open",
	// `cron "0 30 9 * * 1-5" in America/New_York, gate open`,
	// "at XNYS.close+2m", "within open-1m..open-1s every 30s".
	Schedule        string     `json:"schedule"`
	IntervalSeconds float64    `json:"interval_s"` // zero for cron and at schedules
	Gate            string     `json:"gate"`       // open, always or empty (at, within)
	Policy          PolicyView `json:"policy"`
	// Runtime are the settings `scheduler set` changed, with who and
	// when; absent when the job runs on its config alone.
	Runtime        *RuntimeView       `json:"runtime,omitempty"`
	CadenceSeconds float64            `json:"cadence_s"` // effective now: the interval, or max(interval, slow tick) while markets are closed; zero for cron and at
	MarketsOpen    bool               `json:"markets_open"`
	LastSlot       *time.Time         `json:"last_slot,omitempty"`
	NextSlot       *time.Time         `json:"next_slot,omitempty"`
	NextDecision   string             `json:"next_decision,omitempty"`
	LastDurationMS *float64           `json:"last_duration_ms,omitempty"`
	StartLagP50MS  *float64           `json:"start_lag_p50_ms,omitempty"`
	StartLagP99MS  *float64           `json:"start_lag_p99_ms,omitempty"`
	Runs           int                `json:"runs"` // runs of the job among the newest statsWindow runs
	RunOutcomes    map[string]int     `json:"run_outcomes"`
	SlotOutcomes   map[string]float64 `json:"slot_outcomes"` // this replica's scheduler, since it started
	Paused         bool               `json:"paused"`
	PauseNote      string             `json:"pause_note,omitempty"`
	// PauseUnknown: Redis did not answer, so whether the job is paused is
	// not known.
	PauseUnknown bool `json:"pause_unknown,omitempty"`
	// RecentSlots are the job's last StripSlots slots with the outcome of
	// their runs, oldest first (from the job's own run stream).
	RecentSlots []SlotCell `json:"recent_slots,omitempty"`
	// Strip and Lag draw RecentSlots and the start lags (the page only).
	Strip template.HTML `json:"-"`
	Lag   template.HTML `json:"-"`
}

// ReplicaView is one scheduler replica.
type ReplicaView struct {
	scheduler.ReplicaInfo
	Self  bool `json:"self"`
	Stale bool `json:"stale"` // no heartbeat for staleAfter
}

// WorkerView is one asynq server (worker process).
type WorkerView struct {
	ID            string         `json:"id"`
	Host          string         `json:"host"`
	PID           int            `json:"pid"`
	Concurrency   int            `json:"concurrency"`
	Queues        map[string]int `json:"queues"`
	StrictQueues  bool           `json:"strict_priority"`
	Status        string         `json:"status"`
	Started       time.Time      `json:"started"`
	ActiveWorkers int            `json:"active"`
}

// RunView is one run of the run history.
type RunView struct {
	ID         string         `json:"id"`
	Job        string         `json:"job"`
	Slot       time.Time      `json:"slot"`
	Part       string         `json:"part,omitempty"`
	TaskID     string         `json:"task_id"`
	Term       int64          `json:"term"`
	Outcome    runlog.Outcome `json:"outcome"`
	Worker     string         `json:"worker"`
	StartedAt  time.Time      `json:"started_at"`
	StartLagMS float64        `json:"start_lag_ms"`
	DurationMS float64        `json:"duration_ms"`
	Error      string         `json:"error,omitempty"`
}

// DeadLetterView is one dead-letter reason's count.
type DeadLetterView struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
}

// Snapshot is everything the status page shows.
type Snapshot struct {
	Now      time.Time    `json:"now"`
	Replica  string       `json:"replica"`
	Leader   bool         `json:"leader"`
	Term     int64        `json:"term"`
	ReadOnly bool         `json:"read_only"` // no token: controls refused
	Markets  []MarketView `json:"markets"`
	// Warnings are the markets' coverage warnings, shown as a banner.
	Warnings    []string               `json:"warnings,omitempty"`
	Jobs        []JobView              `json:"jobs"`
	Replicas    []ReplicaView          `json:"replicas"`
	Workers     []WorkerView           `json:"workers"`
	Runs        []RunView              `json:"runs"`
	DeadLetters []DeadLetterView       `json:"dead_letters"`
	Audit       []scheduler.AuditEntry `json:"audit"`
	// Errors are the sections that could not be read (Redis down, say);
	// the rest of the page is still shown.
	Errors []string `json:"errors,omitempty"`
}

// book returns the calendars the site shows: those its instruments are
// mapped on, so the markets defined in config, the overrides file and the
// runtime entries all apply.
func (site *Site) book() *market.Book { return site.d.Engine.Instruments().Book() }

// snapshot gathers the page's data. A section whose source fails is left
// empty and named in Errors.
func (site *Site) snapshot(ctx context.Context) Snapshot {
	now := site.d.Clock.Now()
	snap := Snapshot{Now: now.UTC(), Replica: site.cfg.Replica, ReadOnly: site.cfg.readOnly()}
	fail := func(section string, err error) {
		snap.Errors = append(snap.Errors, section+": "+err.Error())
		site.d.Log.Debug().Err(err).Str("section", section).Msg("status page section unavailable")
	}
	snap.Markets, snap.Warnings = marketBoard(site.book(), now)
	var err error
	// One quick check first, so that with Redis down the page shows the
	// markets and this replica's plan at once instead of waiting for
	// every section's retries.
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	err = site.d.Redis.Ping(pctx).Err()
	cancel()
	if err != nil {
		fail("redis", err)
		snap.Leader, snap.Term, snap.Jobs, _ = site.jobs(ctx, now, nil, false)
		return snap
	}
	var recent []runlog.Run
	if recent, err = runlog.New(site.d.Redis, 0).Recent(ctx, "", statsWindow); err != nil {
		fail("runs", err)
	}
	var js []JobView
	snap.Leader, snap.Term, js, err = site.jobs(ctx, now, recent, true)
	if err != nil {
		fail("jobs", err)
	}
	snap.Jobs = js
	for _, r := range recent[:min(len(recent), 25)] {
		snap.Runs = append(snap.Runs, runView(r))
	}
	if snap.Replicas, err = site.replicas(ctx, now); err != nil {
		fail("replicas", err)
	}
	if snap.Workers, err = site.workers(); err != nil {
		fail("workers", err)
	}
	if snap.DeadLetters, err = site.deadLetters(ctx); err != nil {
		fail("dead letters", err)
	}
	if snap.Audit, err = scheduler.Audit(ctx, site.d.Redis, 10); err != nil {
		fail("audit", err)
	}
	return snap
}

// jobs returns the jobs table: every registry job, from the local
// scheduler's plan, the slots the leaders recorded in Redis, the pauses,
// the newest runs and this replica's slot counters. Without Redis, only
// what this replica knows.
func (site *Site) jobs(ctx context.Context, now time.Time, recent []runlog.Run, withRedis bool) (bool, int64, []JobView, error) {
	leader, term, statuses := site.d.Scheduler.Status(now)
	byName := map[jobs.Name]scheduler.JobStatus{}
	for _, st := range statuses {
		byName[st.Spec.Name] = st
	}
	var errs []error
	var paused map[jobs.Name]string
	var last map[jobs.Name]time.Time
	if withRedis {
		var err error
		paused, err = scheduler.Paused(ctx, site.d.Redis)
		errs = append(errs, err)
		last, err = scheduler.LastSlots(ctx, site.d.Redis)
		errs = append(errs, err)
	}
	counts := slotCounts(site.d.Metrics)
	runs := map[string][]runlog.Run{}
	for _, r := range recent {
		runs[r.Job] = append(runs[r.Job], r)
	}
	names := site.d.Controls.Jobs()
	out := make([]JobView, 0, len(names))
	for _, name := range names {
		plan, err := site.d.Controls.Plan(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st, known := byName[name]
		enabled := known && st.Enabled
		if known && st.Plan.Plan != nil {
			plan = st.Plan // with the runtime settings
		}
		spec := plan.Spec
		v := JobView{Job: name, Title: spec.Title, TaskType: spec.TaskType, Queue: spec.Queue, Enabled: enabled,
			Schedule: plan.String(), IntervalSeconds: spec.Schedule.Every.Seconds(), Gate: spec.Schedule.Gate,
			Policy: policyView(spec), Runtime: runtimeView(st.Runtime), RunOutcomes: map[string]int{}, SlotOutcomes: counts[string(name)]}
		if v.SlotOutcomes == nil {
			v.SlotOutcomes = map[string]float64{}
		}
		next := st.Next
		if !enabled || next.Slot.IsZero() {
			next = plan.Next(now)
		}
		v.MarketsOpen = next.Active
		v.CadenceSeconds = plan.Cadence(next).Seconds()
		if enabled {
			at := next.Slot.UTC()
			v.NextSlot, v.NextDecision = &at, next.Why
		}
		if t, ok := last[name]; ok {
			v.LastSlot = &t
		} else if !st.LastSlot.IsZero() {
			t := st.LastSlot.UTC()
			v.LastSlot = &t
		}
		v.PauseNote, v.Paused = paused[name]
		v.PauseUnknown = !withRedis
		if withRedis && v.LastSlot != nil {
			page, err := runlog.New(site.d.Redis, 0).Page(ctx, runlog.Query{Job: string(name), Limit: StripSlots * max(plan.Tasks(next), 1)})
			errs = append(errs, err)
			v.RecentSlots = jobStrip(page.Runs, spec.Schedule.Every, *v.LastSlot, StripSlots)
			v.Strip, v.Lag = stripSVG(v.RecentSlots), lagSVG(page.Runs)
		}
		jr := runs[string(name)]
		v.Runs = len(jr)
		var lags []float64
		for _, r := range jr {
			v.RunOutcomes[string(r.Outcome)]++
			if !r.StartedAt.IsZero() && (r.Outcome == runlog.OK || r.Outcome == runlog.Error) {
				lags = append(lags, ms(r.StartLag()))
			}
		}
		for _, r := range jr {
			if r.Outcome == runlog.OK || r.Outcome == runlog.Error {
				d := ms(r.Duration())
				v.LastDurationMS = &d
				break
			}
		}
		if len(lags) > 0 {
			slices.Sort(lags)
			p50, p99 := percentile(lags, 0.50), percentile(lags, 0.99)
			v.StartLagP50MS, v.StartLagP99MS = &p50, &p99
		}
		out = append(out, v)
	}
	return leader, term, out, errors.Join(errs...)
}

// percentile returns the nearest-rank q-quantile of sorted values.
func percentile(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms returns d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// slotCounts reads heartbeat_slots_total from the registry: job -> outcome
// -> count.
func slotCounts(m *metrics.Metrics) map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	mfs, err := m.Registry.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != "heartbeat_slots_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			var job, outcome string
			for _, l := range mt.GetLabel() {
				switch l.GetName() {
				case metrics.JobLabel:
					job = l.GetValue()
				case "outcome":
					outcome = l.GetValue()
				}
			}
			if out[job] == nil {
				out[job] = map[string]float64{}
			}
			out[job][outcome] = mt.GetCounter().GetValue()
		}
	}
	return out
}

func runView(r runlog.Run) RunView {
	v := RunView{ID: r.ID, Job: r.Job, Slot: r.Slot, Part: r.Part, TaskID: r.TaskID, Term: r.Term, Outcome: r.Outcome,
		Worker: r.Worker, StartedAt: r.StartedAt, Error: r.Error}
	if !r.StartedAt.IsZero() {
		v.StartLagMS = ms(r.StartLag())
	}
	if !r.FinishedAt.IsZero() && !r.StartedAt.IsZero() {
		v.DurationMS = ms(r.Duration())
	}
	return v
}

func (site *Site) replicas(ctx context.Context, now time.Time) ([]ReplicaView, error) {
	infos, err := scheduler.Replicas(ctx, site.d.Redis)
	if err != nil {
		return nil, err
	}
	out := make([]ReplicaView, 0, len(infos))
	for _, ri := range infos {
		out = append(out, ReplicaView{ReplicaInfo: ri, Self: ri.Replica == site.cfg.Replica, Stale: now.Sub(ri.Seen) > staleAfter})
	}
	// The leader first, then by name.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Leader && !out[j].Leader })
	return out, nil
}

func (site *Site) workers() ([]WorkerView, error) {
	servers, err := site.inspector.Servers()
	if err != nil {
		return nil, fmt.Errorf("asynq servers: %w", err)
	}
	out := make([]WorkerView, 0, len(servers))
	for _, s := range servers {
		out = append(out, WorkerView{ID: s.ID, Host: s.Host, PID: s.PID, Concurrency: s.Concurrency, Queues: s.Queues,
			StrictQueues: s.StrictPriority, Status: s.Status, Started: s.Started.UTC(), ActiveWorkers: len(s.ActiveWorkers)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Host != out[j].Host {
			return out[i].Host < out[j].Host
		}
		return out[i].PID < out[j].PID
	})
	return out, nil
}

func (site *Site) deadLetters(ctx context.Context) ([]DeadLetterView, error) {
	counts, err := site.d.Engine.DeadLetterCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetterView, 0, len(counts))
	for r, n := range counts {
		out = append(out, DeadLetterView{Reason: r, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Reason < out[j].Reason })
	return out, nil
}

// pageData is what the template renders.
type pageData struct {
	Snapshot
	RefreshSeconds int
	// Overrides and Rejected gather the markets' entries for the
	// calendar table.
	Overrides []OverrideView
	Rejected  []RejectedView
}

// defaultRefresh is how often the page refreshes itself, in seconds;
// ?refresh=N overrides it (1-3600).
const defaultRefresh = 5

func (site *Site) serveStatus(w http.ResponseWriter, r *http.Request) {
	refresh := defaultRefresh
	if s := r.URL.Query().Get("refresh"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3600 {
			http.Error(w, "refresh: want whole seconds 1-3600", http.StatusBadRequest)
			return
		}
		refresh = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	data := pageData{Snapshot: site.snapshot(ctx), RefreshSeconds: refresh}
	for _, m := range data.Markets {
		data.Overrides = append(data.Overrides, m.Overrides...)
		data.Rejected = append(data.Rejected, m.Rejected...)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := site.page.Execute(w, data); err != nil {
		site.d.Log.Error().Err(err).Msg("status page: render")
	}
}

// funcs are the template's helpers.
var funcs = template.FuncMap{
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("15:04:05.000Z")
	},
	"clockp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "–"
		}
		return t.UTC().Format("15:04:05.000Z")
	},
	"stamp": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"local": func(t time.Time) string { return t.Format("Mon 15:04:05 MST") },
	"unixms": func(t *time.Time) int64 {
		if t == nil {
			return 0
		}
		return t.UnixMilli()
	},
	"msp": func(v *float64) string {
		if v == nil {
			return "–"
		}
		return fmtMS(*v)
	},
	"ms":   fmtMS,
	"secs": func(s float64) string { return (time.Duration(s * float64(time.Second))).String() },
	"ago": func(now, t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return market.HumanDuration(now.Sub(t)) + " ago"
	},
	"outcomes": func(m map[string]int) []kv {
		out := make([]kv, 0, len(m))
		for k, v := range m {
			out = append(out, kv{k, strconv.Itoa(v)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
		return out
	},
	"counts": func(m map[string]float64) []kv {
		out := make([]kv, 0, len(m))
		for k, v := range m {
			if v > 0 {
				out = append(out, kv{k, strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
		return out
	},
	"queues": func(m map[string]int) string {
		names := make([]string, 0, len(m))
		for q := range m {
			names = append(names, q)
		}
		sort.Slice(names, func(i, j int) bool {
			return m[names[i]] > m[names[j]] || (m[names[i]] == m[names[j]] && names[i] < names[j])
		})
		s := ""
		for i, q := range names {
			if i > 0 {
				s += " "
			}
			s += q + ":" + strconv.Itoa(m[q])
		}
		return s
	},
}

// kv is a label and a value, for the template's small lists.
type kv struct{ K, V string }

func fmtMS(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
}
