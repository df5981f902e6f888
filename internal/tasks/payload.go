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
// part, enqueued under which leader term.
type Payload struct {
	Job        jobs.Name     `json:"job"`
	Slot       time.Time     `json:"slot"` // the slot's instant, UTC, millisecond precision
	Part       string        `json:"part"` // shard number, "MARKET:YYYY-MM-DD" for pre-open, "" for whole-job tasks
	Interval   time.Duration `json:"interval"`
	Term       int64         `json:"term"`
	EnqueuedAt time.Time     `json:"enqueued_at"`
}

// TaskID is a slot's deterministic identity: the same job, part and slot
// always give the same ID, so a second enqueue of a slot (another replica,
// a restart) is refused by asynq as a conflict. Pre-open tasks are
// identified by market and session instead of slot: one per session.
func TaskID(job jobs.Name, part string, slot time.Time) string {
	if job == jobs.PreOpenBacktest {
		return fmt.Sprintf("%s:%s", job, part)
	}
	if part == "" {
		part = "all"
	}
	return fmt.Sprintf("%s:%s:%d", job, part, slot.UnixMilli())
}

// ID returns the payload's TaskID.
func (p Payload) ID() string { return TaskID(p.Job, p.Part, p.Slot) }

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
// job's queue, the retention, a timeout, and MaxRetry retries.
func New(spec jobs.Spec, p Payload, o Options) (*asynq.Task, []asynq.Option, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, nil, fmt.Errorf("encode payload of %s: %w", p.ID(), err)
	}
	opts := []asynq.Option{
		asynq.TaskID(p.ID()),
		asynq.Queue(spec.Queue),
		asynq.Retention(o.Retention),
		asynq.MaxRetry(MaxRetry),
		asynq.Timeout(RunTimeout(spec.Interval)),
	}
	return asynq.NewTask(spec.TaskType, b), opts, nil
}

// RunTimeout is how long one run of a job with this interval may take.
func RunTimeout(interval time.Duration) time.Duration { return max(30*time.Second, 10*interval) }

// Decode reads a task's payload.
func Decode(t *asynq.Task) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %w", t.Type(), err)
	}
	return p, nil
}
