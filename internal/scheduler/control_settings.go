package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"heartbeat/internal/jobs"
	"heartbeat/internal/settings"
)

// ErrInvalidSetting wraps a refused `scheduler set`: its *jobs.FieldError
// names the field.
var ErrInvalidSetting = errors.New("invalid setting")

// Effective returns a job's plan and config with its runtime settings
// applied, and those settings (nil when it runs on its config alone).
func (c *Controls) Effective(ctx context.Context, job jobs.Name) (JobPlan, *RuntimeSettings, error) {
	base, ok := c.base[job]
	if !ok {
		return JobPlan{}, nil, c.unknownJob(job)
	}
	all, _, err := ReadJobSettings(ctx, c.store)
	if err != nil {
		return JobPlan{}, nil, err
	}
	rs := all[job]
	cfg, _, err := effective(base, rs)
	if err != nil {
		return JobPlan{}, nil, err
	}
	plan, err := NewJobPlan(c.cfg, cfg.Spec, c.d.Instruments.Calendars(), c.d.Instruments.Book(), nil)
	return plan, rs, err
}

// Set changes a job's runtime settings on every replica: the fields given
// replace those set before (others stay; a schedule field replaces the
// whole schedule set before), the result is validated against
// the job's config as jobs.Apply and the plan would (a refused value is
// ErrInvalidSetting naming the field, nothing changes), stored in the
// settings store and audited. The leader applies it at the job's next
// slot boundary. The queue is fixed at start: a live change could run a
// slot twice, since asynq's task IDs are unique per queue.
func (c *Controls) Set(ctx context.Context, job jobs.Name, set jobs.Settings, note, actor string) (AuditEntry, error) {
	base, ok := c.base[job]
	if !ok {
		return AuditEntry{}, c.unknownJob(job)
	}
	if len(set) == 0 {
		return AuditEntry{}, fmt.Errorf("%w: set %s: no FIELD=VALUE given (fields: %s)", ErrInvalidSetting, job, strings.Join(jobs.Fields(), ", "))
	}
	if _, ok := set["queue"]; ok {
		return AuditEntry{}, fmt.Errorf("%w: %w", ErrInvalidSetting, &jobs.FieldError{Field: "queue",
			Reason: "fixed at start (asynq's task IDs are unique per queue, so a live change could run a slot twice); change it in the config"})
	}
	all, _, err := ReadJobSettings(ctx, c.store)
	if err != nil {
		return AuditEntry{}, err
	}
	merged := jobs.Settings{}
	if rs := all[job]; rs != nil {
		for k, v := range rs.Settings {
			merged[k] = v
		}
	}
	if set.SetsSchedule() {
		// A new schedule replaces the one set before, not merges with it.
		for _, k := range []string{"interval", "cron", "tz", "at", "within"} {
			delete(merged, k)
		}
	}
	for k, v := range set {
		merged[k] = v
	}
	cfg, _, err := jobs.Apply(base.Spec, base.Enabled, merged)
	if err == nil {
		if _, perr := NewJobPlan(c.cfg, cfg, c.d.Instruments.Calendars(), c.d.Instruments.Book(), nil); perr != nil {
			// "job NAME: at: unknown market XPAR": the field, then why.
			field, reason, _ := strings.Cut(strings.TrimPrefix(perr.Error(), "job "+string(job)+": "), ": ")
			err = &jobs.FieldError{Field: field, Reason: reason}
		}
	}
	if err != nil {
		return AuditEntry{}, fmt.Errorf("%w: set %s: %w", ErrInvalidSetting, job, err)
	}
	now := c.d.Clock.Now()
	value, err := json.Marshal(RuntimeSettings{Job: job, Settings: merged, Note: note})
	if err != nil {
		return AuditEntry{}, fmt.Errorf("set %s: %w", job, err)
	}
	if _, err := c.store.Put(ctx, settings.Entry{ID: jobSettingID(job), Kind: KindJob, Value: value, Actor: actor, At: now.UTC()}); err != nil {
		return AuditEntry{}, fmt.Errorf("set %s: %w", job, err)
	}
	return c.audit(ctx, AuditEntry{Action: ActionSet, Job: job, Actor: actor, Note: note,
		Result: "set " + describe(set) + "; runtime settings now " + describe(merged) + "; applied at the next slot boundary"})
}

// Reset removes a job's runtime settings: it returns to its config at its
// next slot boundary. Resetting a job without runtime settings changes
// nothing (and is still audited).
func (c *Controls) Reset(ctx context.Context, job jobs.Name, note, actor string) (AuditEntry, error) {
	if _, ok := c.base[job]; !ok {
		return AuditEntry{}, c.unknownJob(job)
	}
	result := "reset to the config; applied at the next slot boundary"
	if _, err := c.store.Delete(ctx, jobSettingID(job)); errors.Is(err, settings.ErrNotFound) {
		result = "had no runtime settings"
	} else if err != nil {
		return AuditEntry{}, fmt.Errorf("reset %s: %w", job, err)
	}
	return c.audit(ctx, AuditEntry{Action: ActionReset, Job: job, Actor: actor, Note: note, Result: result})
}

// describe writes settings as "a=1 b=2", sorted.
func describe(s jobs.Settings) string {
	parts := make([]string, 0, len(s))
	for k, v := range s {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// Request is one job control, as the CLI and the HTTP API take it.
type Request struct {
	Action   Action
	Job      jobs.Name
	Note     string
	Actor    string
	Settings jobs.Settings // ActionSet only
}

// Do carries out a job control: the one dispatch the CLI and the HTTP API
// share.
func (c *Controls) Do(ctx context.Context, r Request) (AuditEntry, error) {
	switch r.Action {
	case ActionPause:
		return c.Pause(ctx, r.Job, r.Note, r.Actor)
	case ActionResume:
		return c.Resume(ctx, r.Job, r.Note, r.Actor)
	case ActionTrigger:
		return c.Trigger(ctx, r.Job, r.Note, r.Actor)
	case ActionSet:
		return c.Set(ctx, r.Job, r.Settings, r.Note, r.Actor)
	case ActionReset:
		return c.Reset(ctx, r.Job, r.Note, r.Actor)
	}
	return AuditEntry{}, fmt.Errorf("unknown action %q (pause, resume, trigger, set, reset)", r.Action)
}
