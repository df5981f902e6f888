// Package tasks owns the asynq tasks of the eight jobs as the scheduler
// enqueues them: their payload, their identity (TaskID), their enqueue
// options and the retry policy. It depends on no handler, no market-data
// engine and no store, so the scheduler imports it alone; the handlers
// that run the tasks are in package runner.
package tasks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"heartbeat/internal/jobs"
)

// Payload is what every task carries: which slot of which job, for which
// part, enqueued under which leader term, and until when it may start.
type Payload struct {
	Job  jobs.Name `json:"job"`
	Slot time.Time `json:"slot"` // the slot's instant, UTC, millisecond precision
	Part string    `json:"part"` // shard number, market, "MARKET:YYYY-MM-DD" for a session, "" for whole-job tasks
	// Key is the variable part of the task's identity, from the job's
	// schedule (schedule.Plan.TaskKey): "PART:UNIXMILLI" ("all" for a
	// whole-job part) or "MARKET:DATE" for a session schedule.
	Key string `json:"key,omitempty"`
	// Interval is the schedule's interval (zero for cron and at); the run
	// lock's TTL is derived from it.
	Interval time.Duration `json:"interval"`
	// Deadline is the latest instant the task may start; later it is
	// dropped, counted expired. Zero (a task of an older scheduler): slot
	// + interval.
	Deadline time.Time `json:"deadline,omitzero"`
	// Overlap is jobs.OverlapAllow when runs of the same job part may run
	// side by side; otherwise a run lock skips a slot whose part still
	// runs.
	Overlap    string    `json:"overlap,omitempty"`
	Term       int64     `json:"term"`
	EnqueuedAt time.Time `json:"enqueued_at"`
}

// TaskID is a slot's deterministic identity, JOB:KEY: the same job and
// key always give the same ID, so a second enqueue of a slot (another
// replica, a restart) is refused by asynq as a conflict.
func TaskID(job jobs.Name, key string) string { return string(job) + ":" + key }

// ID returns the payload's TaskID. A payload without a key (enqueued by an
// older scheduler) is identified as interval slots were: JOB:PART:MS.
func (p Payload) ID() string {
	if p.Key != "" {
		return TaskID(p.Job, p.Key)
	}
	part := p.Part
	if part == "" {
		part = "all"
	}
	return fmt.Sprintf("%s:%s:%d", p.Job, part, p.Slot.UnixMilli())
}

// StartBy returns the latest instant the task may start.
func (p Payload) StartBy() time.Time {
	if !p.Deadline.IsZero() {
		return p.Deadline
	}
	return p.Slot.Add(p.Interval)
}

// Shard returns the part as a shard number.
func (p Payload) Shard() (int, error) {
	n, err := strconv.Atoi(p.Part)
	if err != nil {
		return 0, Permanent(fmt.Errorf("task %s: part %q is not a shard: %w", p.ID(), p.Part, err))
	}
	return n, nil
}

// Options say how a slot's task is queued.
type Options struct {
	// Retention keeps a finished task's ID reserved this long.
	Retention time.Duration
}

// New builds the asynq task of a payload with its options: its TaskID, its
// job's queue, the retention, and the job's policy's timeout and retries
// (a task retried after its start deadline is dropped as expired anyway).
func New(spec jobs.Spec, p Payload, o Options) (*asynq.Task, []asynq.Option, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("encode payload of %s: %w", p.ID(), err)
	}
	opts := []asynq.Option{
		asynq.TaskID(p.ID()),
		asynq.Queue(spec.Queue),
		asynq.Retention(o.Retention),
		asynq.MaxRetry(spec.Policy.Retries()),
		asynq.Timeout(spec.Policy.RunTimeout(spec.Schedule)),
	}
	return asynq.NewTask(spec.TaskType, b), opts, nil
}

// Decode reads a task's payload.
func Decode(t *asynq.Task) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %w", t.Type(), err)
	}
	return p, nil
}
