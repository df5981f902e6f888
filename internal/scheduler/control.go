package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	calrt "heartbeat/internal/calendars"
	"heartbeat/internal/clock"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/schedule"
	"heartbeat/internal/settings"
	"heartbeat/internal/tasks"
)

// Operator controls: pause, resume and trigger a job, from the command line
// or the HTTP API, which share Controls.
//
// A pause is an entry of the settings store (kind "pause", with the
// jobs' runtime settings and the calendar's runtime entries). Every
// replica re-reads the store when its revision changes, checked each fast
// tick, so a pause made anywhere is obeyed by whichever replica leads
// within a fast tick: its slots are counted skipped_paused instead of
// being enqueued. Pauses survive restarts; they end only with Resume.
//
// A trigger enqueues one slot of a job now, with the slot's normal task ID
// (see TriggerSlot), so it can never make a slot run twice: when the
// scheduler has enqueued, or later enqueues, the same slot, asynq refuses
// the second enqueue as a task ID conflict, and the job runs once. A
// trigger ignores the job's gate and its pause; it is what an operator
// uses to run a job whose markets are closed.
//
// Every action is appended to the stream keys.Audit with its time, action,
// job, actor, note and result.

// Errors of the controls.
var (
	// ErrUnknownJob is returned for a job name not in the registry.
	ErrUnknownJob = errors.New("unknown job")
	// ErrNothingToTrigger is returned when a job has no task to enqueue
	// at the trigger's instant: a window schedule (pre_open_backtest)
	// outside its window, an at schedule with no recent session.
	ErrNothingToTrigger = schedule.ErrNothingToTrigger
	// ErrNoEnqueuer is returned by Trigger on Controls built without an
	// Enqueuer.
	ErrNoEnqueuer = errors.New("controls: no enqueuer: trigger unavailable")
)

// Action is an operator control action.
type Action string

// The actions.
const (
	ActionPause   Action = "pause"
	ActionResume  Action = "resume"
	ActionTrigger Action = "trigger"
	// ActionSet and ActionReset change a job's runtime settings and
	// return it to its config (scheduler set).
	ActionSet   Action = "set"
	ActionReset Action = "reset"
	// ActionCalendarAdd and ActionCalendarRemove enter and remove a
	// runtime calendar entry (Market and Entry say which).
	ActionCalendarAdd    Action = "calendar_add"
	ActionCalendarRemove Action = "calendar_remove"
)

// AuditMaxLen caps the audit stream (approximately).
const AuditMaxLen = 10_000

// AuditEntry is one control action in the audit stream.
type AuditEntry struct {
	ID     string    `json:"id"` // stream entry ID, set when read or appended
	Time   time.Time `json:"time"`
	Action Action    `json:"action"`
	Job    jobs.Name `json:"job"`
	Actor  string    `json:"actor"` // "cli:user@host" or "http:addr:port"
	Note   string    `json:"note,omitempty"`
	Result string    `json:"result"`
	// Trigger only: the slot and the task IDs enqueued or found enqueued.
	Slot  time.Time `json:"slot,omitzero"`
	Tasks []string  `json:"tasks,omitempty"`
	// Calendar actions only: the market and the entry's ID.
	Market string `json:"market,omitempty"`
	Entry  string `json:"entry,omitempty"`
}

func (e AuditEntry) fields() []any {
	slot := ""
	if !e.Slot.IsZero() {
		slot = e.Slot.UTC().Format(time.RFC3339Nano)
	}
	return []any{"time", e.Time.UTC().Format(time.RFC3339Nano), "action", string(e.Action), "job", string(e.Job),
		"actor", e.Actor, "note", e.Note, "result", e.Result, "slot", slot, "tasks", strings.Join(e.Tasks, " "),
		"market", e.Market, "entry", e.Entry}
}

// ParseAudit reads an audit stream entry.
func ParseAudit(id string, v map[string]any) (AuditEntry, error) {
	s := func(k string) string { x, _ := v[k].(string); return x }
	e := AuditEntry{ID: id, Action: Action(s("action")), Job: jobs.Name(s("job")), Actor: s("actor"), Note: s("note"), Result: s("result"),
		Market: s("market"), Entry: s("entry")}
	var err error
	if e.Time, err = time.Parse(time.RFC3339Nano, s("time")); err != nil {
		return e, fmt.Errorf("audit %s: time: %w", id, err)
	}
	if s("slot") != "" {
		if e.Slot, err = time.Parse(time.RFC3339Nano, s("slot")); err != nil {
			return e, fmt.Errorf("audit %s: slot: %w", id, err)
		}
	}
	if ts := strings.Fields(s("tasks")); len(ts) > 0 {
		e.Tasks = ts
	}
	return e, nil
}

// ControlDeps are what Controls work on.
type ControlDeps struct {
	Redis redis.UniversalClient
	// Enqueuer enqueues triggered tasks; nil makes Trigger return
	// ErrNoEnqueuer.
	Enqueuer    Enqueuer
	Instruments *market.Instruments
	Clock       clock.Clock
	// Calendars are the runtime calendar entries; nil makes the calendar
	// actions return ErrNoCalendars.
	Calendars *calrt.Runtime
}

// Controls carries out operator actions. It is safe for concurrent use.
type Controls struct {
	d         ControlDeps
	cfg       Config
	names     []jobs.Name // in config order
	base      map[jobs.Name]JobConfig
	plans     map[jobs.Name]JobPlan
	store     *settings.Store
	retention time.Duration
}

// NewControls returns the controls of the jobs in cfg (enabled or not).
func NewControls(cfg Config, d ControlDeps) (*Controls, error) {
	if d.Redis == nil || d.Instruments == nil || d.Clock == nil {
		return nil, errors.New("controls: Redis, Instruments and Clock are required")
	}
	c := &Controls{d: d, cfg: cfg, base: map[jobs.Name]JobConfig{}, plans: map[jobs.Name]JobPlan{}, store: settings.New(d.Redis),
		retention: cfg.Retention}
	for _, jc := range cfg.Jobs {
		c.names = append(c.names, jc.Spec.Name)
		c.base[jc.Spec.Name] = jc
		p, err := NewJobPlan(cfg, jc.Spec, d.Instruments.Calendars(), d.Instruments.Book(), nil)
		if err != nil {
			return nil, fmt.Errorf("controls: %w", err)
		}
		c.plans[jc.Spec.Name] = p
	}
	return c, nil
}

// triggerHold is how long before its slot a triggered task becomes due.
const triggerHold = 2 * time.Second

// Plan returns a job's plan from its config (without runtime settings).
func (c *Controls) Plan(job jobs.Name) (JobPlan, error) {
	p, ok := c.plans[job]
	if !ok {
		return JobPlan{}, c.unknownJob(job)
	}
	return p, nil
}

// Jobs returns the names of the jobs the controls know, in config order.
func (c *Controls) Jobs() []jobs.Name { return append([]jobs.Name(nil), c.names...) }

// unknownJob is the error for a job the controls do not know.
func (c *Controls) unknownJob(job jobs.Name) error {
	names := make([]string, len(c.names))
	for i, n := range c.names {
		names[i] = string(n)
	}
	return fmt.Errorf("%w %q (known: %s)", ErrUnknownJob, job, strings.Join(names, ", "))
}

// Pause pauses a job: the leader stops enqueuing its slots (counting them
// skipped_paused) within a fast tick. Pausing a paused job replaces its
// note.
func (c *Controls) Pause(ctx context.Context, job jobs.Name, note, actor string) (AuditEntry, error) {
	if _, err := c.Plan(job); err != nil {
		return AuditEntry{}, err
	}
	e, err := pauseEntry(job, note, actor, c.d.Clock.Now())
	if err != nil {
		return AuditEntry{}, err
	}
	result := "paused"
	if _, err := c.store.Create(ctx, e); errors.Is(err, settings.ErrExists) {
		if _, err := c.store.Put(ctx, e); err != nil {
			return AuditEntry{}, fmt.Errorf("pause %s: %w", job, err)
		}
		result = "already paused; note replaced"
	} else if err != nil {
		return AuditEntry{}, fmt.Errorf("pause %s: %w", job, err)
	}
	return c.audit(ctx, AuditEntry{Action: ActionPause, Job: job, Actor: actor, Note: note, Result: result})
}

// Resume resumes a paused job; resuming a job that is not paused changes
// nothing (and is still audited).
func (c *Controls) Resume(ctx context.Context, job jobs.Name, note, actor string) (AuditEntry, error) {
	if _, err := c.Plan(job); err != nil {
		return AuditEntry{}, err
	}
	result := "resumed"
	if _, err := c.store.Delete(ctx, pauseID(job)); errors.Is(err, settings.ErrNotFound) {
		result = "was not paused"
	} else if err != nil {
		return AuditEntry{}, fmt.Errorf("resume %s: %w", job, err)
	}
	return c.audit(ctx, AuditEntry{Action: ActionResume, Job: job, Actor: actor, Note: note, Result: result})
}

// Trigger enqueues the tasks of the slot the job's schedule gives a
// trigger at now (schedule.Plan.Trigger: for an interval, the slot in
// progress or the next one; for a window schedule, the markets inside
// their window, else ErrNothingToTrigger) with their normal task IDs.
// Tasks the scheduler (or an earlier trigger) already enqueued are
// reported as such, not enqueued again.
func (c *Controls) Trigger(ctx context.Context, job jobs.Name, note, actor string) (AuditEntry, error) {
	p, _, err := c.Effective(ctx, job)
	if err != nil {
		return AuditEntry{}, err
	}
	if c.d.Enqueuer == nil {
		return AuditEntry{}, ErrNoEnqueuer
	}
	now := c.d.Clock.Now()
	d, err := p.Trigger(now)
	if err != nil {
		return AuditEntry{}, fmt.Errorf("trigger %s: %w", job, err)
	}
	slot := d.Slot
	e := AuditEntry{Action: ActionTrigger, Job: job, Actor: actor, Note: note, Slot: slot.UTC()}
	var enqueued, existing int
	var errs []error
	for _, part := range d.Parts {
		pl := p.Payload(d, part, 0, now)
		task, opts, err := tasks.New(p.Spec, pl, tasks.Options{Retention: c.retention})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A slot further ahead waits in asynq's scheduled set, not in a
		// worker holding a slot of its concurrency until then. Workers
		// move due tasks every second, so it is released two seconds
		// early.
		if slot.Sub(now) > triggerHold {
			opts = append(opts, asynq.ProcessAt(slot.Add(-triggerHold)))
		}
		_, err = c.d.Enqueuer.EnqueueContext(ctx, task, opts...)
		switch {
		case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
			existing++
		case err != nil:
			errs = append(errs, fmt.Errorf("enqueue %s: %w", pl.ID(), err))
			continue
		default:
			enqueued++
		}
		e.Tasks = append(e.Tasks, pl.ID())
	}
	e.Result = fmt.Sprintf("%d enqueued, %d already enqueued", enqueued, existing)
	if len(errs) > 0 {
		e.Result += fmt.Sprintf(", %d failed", len(errs))
	}
	if len(e.Tasks) == 0 {
		return AuditEntry{}, fmt.Errorf("trigger %s: %w", job, errors.Join(errs...))
	}
	e, err = c.audit(ctx, e)
	return e, errors.Join(append(errs, err)...)
}

// audit stamps an entry with the time and appends it to the audit stream.
// The action has already taken effect: an error here says only that it was
// not recorded.
func (c *Controls) audit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	e.Time = c.d.Clock.Now().UTC()
	id, err := c.d.Redis.XAdd(ctx, &redis.XAddArgs{Stream: keys.Audit, MaxLen: AuditMaxLen, Approx: true, Values: e.fields()}).Result()
	if err != nil {
		return e, fmt.Errorf("%s %s done, but not recorded in %s: %w", e.Action, e.Job, keys.Audit, err)
	}
	e.ID = id
	return e, nil
}

// Audit returns up to limit of the newest audit entries, newest first.
func Audit(ctx context.Context, rdb redis.UniversalClient, limit int) ([]AuditEntry, error) {
	entries, _, err := AuditPage(ctx, rdb, "", limit)
	return entries, err
}

// AuditPage returns up to limit audit entries older than the stream ID
// before ("" for the newest), newest first, and the before of the next
// page ("" when there is nothing older).
func AuditPage(ctx context.Context, rdb redis.UniversalClient, before string, limit int) ([]AuditEntry, string, error) {
	end := "+"
	if before != "" {
		end = "(" + before
	}
	msgs, err := rdb.XRevRangeN(ctx, keys.Audit, end, "-", int64(limit)+1).Result()
	if err != nil {
		return nil, "", fmt.Errorf("read audit: %w", err)
	}
	next := ""
	if len(msgs) > limit {
		msgs = msgs[:limit]
		next = msgs[len(msgs)-1].ID
	}
	out := make([]AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		e, err := ParseAudit(m.ID, m.Values)
		if err != nil {
			return nil, "", err
		}
		out = append(out, e)
	}
	return out, next, nil
}

// LastSlots returns the last slot the leaders decided for each job.
func LastSlots(ctx context.Context, rdb redis.UniversalClient) (map[jobs.Name]time.Time, error) {
	m, err := rdb.HGetAll(ctx, keys.LastSlots()).Result()
	if err != nil {
		return nil, fmt.Errorf("read last slots: %w", err)
	}
	out := make(map[jobs.Name]time.Time, len(m))
	for k, v := range m {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			out[jobs.Name(k)] = time.UnixMilli(ms).UTC()
		}
	}
	return out, nil
}

// Replicas returns the scheduler replicas' last heartbeats, by name.
func Replicas(ctx context.Context, rdb redis.UniversalClient) ([]ReplicaInfo, error) {
	m, err := rdb.HGetAll(ctx, keys.Standbys()).Result()
	if err != nil {
		return nil, fmt.Errorf("read replicas: %w", err)
	}
	out := make([]ReplicaInfo, 0, len(m))
	for name, raw := range m {
		var ri ReplicaInfo
		if err := json.Unmarshal([]byte(raw), &ri); err != nil {
			return nil, fmt.Errorf("decode replica %s: %w", name, err)
		}
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Replica < out[j].Replica })
	return out, nil
}
