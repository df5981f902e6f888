// Package runlog owns the run history: the capped Redis stream
// heartbeat:runs that every task run appends to, and operators and outside
// checks read.
package runlog

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
)

// Outcome is how a run ended.
type Outcome string

// The outcomes.
const (
	OK             Outcome = "ok"
	Error          Outcome = "error"
	Expired        Outcome = "expired"         // picked up after its slot + interval: not run
	SkippedOverlap Outcome = "skipped_overlap" // its job's previous slot was still running
)

// Time layouts of the stream's fields.
const (
	SlotLayout = "2006-01-02T15:04:05.000Z07:00"    // RFC 3339 UTC, milliseconds
	TimeLayout = "2006-01-02T15:04:05.000000Z07:00" // RFC 3339 UTC, microseconds
)

// DefaultMaxLen caps the stream (approximately).
const DefaultMaxLen = 100_000

// Run is one entry of the run history.
type Run struct {
	ID         string // stream entry ID, set when read
	Job        string
	Slot       time.Time
	Part       string // shard or market; empty for whole-job tasks
	TaskID     string
	Term       int64
	EnqueuedAt time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    Outcome
	Worker     string
	Error      string
}

// Duration is how long the run took.
func (r Run) Duration() time.Duration { return r.FinishedAt.Sub(r.StartedAt) }

// StartLag is from the slot instant to the start.
func (r Run) StartLag() time.Duration { return r.StartedAt.Sub(r.Slot) }

func stamp(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// Fields returns the run as stream fields.
func (r Run) Fields() []any {
	return []any{
		"job", r.Job, "slot", stamp(r.Slot, SlotLayout), "part", r.Part, "task_id", r.TaskID,
		"term", strconv.FormatInt(r.Term, 10), "enqueued_at", stamp(r.EnqueuedAt, TimeLayout),
		"started_at", stamp(r.StartedAt, TimeLayout), "finished_at", stamp(r.FinishedAt, TimeLayout),
		"outcome", string(r.Outcome), "worker", r.Worker, "error", r.Error,
	}
}

// Parse reads a stream entry.
func Parse(id string, v map[string]any) (Run, error) {
	s := func(k string) string { x, _ := v[k].(string); return x }
	t := func(k string) (time.Time, error) {
		if s(k) == "" {
			return time.Time{}, nil
		}
		return time.Parse(time.RFC3339Nano, s(k))
	}
	r := Run{ID: id, Job: s("job"), Part: s("part"), TaskID: s("task_id"), Outcome: Outcome(s("outcome")), Worker: s("worker"), Error: s("error")}
	var err error
	if r.Term, err = strconv.ParseInt(s("term"), 10, 64); err != nil && s("term") != "" {
		return r, fmt.Errorf("run %s: term: %w", id, err)
	}
	for _, f := range []struct {
		k string
		d *time.Time
	}{{"slot", &r.Slot}, {"enqueued_at", &r.EnqueuedAt}, {"started_at", &r.StartedAt}, {"finished_at", &r.FinishedAt}} {
		if *f.d, err = t(f.k); err != nil {
			return r, fmt.Errorf("run %s: %s: %w", id, f.k, err)
		}
	}
	return r, nil
}

// Log appends to and reads the run history.
type Log struct {
	rdb    redis.UniversalClient
	maxLen int64
}

// New returns a Log capped at about maxLen entries (DefaultMaxLen if <= 0).
func New(rdb redis.UniversalClient, maxLen int64) *Log {
	if maxLen <= 0 {
		maxLen = DefaultMaxLen
	}
	return &Log{rdb: rdb, maxLen: maxLen}
}

// Append adds a run.
func (l *Log) Append(ctx context.Context, r Run) error {
	err := l.rdb.XAdd(ctx, &redis.XAddArgs{Stream: keys.Runs, MaxLen: l.maxLen, Approx: true, Values: r.Fields()}).Err()
	if err != nil {
		return fmt.Errorf("append run %s: %w", r.TaskID, err)
	}
	return nil
}

// Recent returns up to limit of the newest runs, newest first, of one job
// (all jobs when job is empty). It scans at most 10,000 entries.
func (l *Log) Recent(ctx context.Context, job string, limit int) ([]Run, error) {
	const page = 500
	var out []Run
	end := "+"
	for scanned := 0; len(out) < limit && scanned < 20*page; {
		msgs, err := l.rdb.XRevRangeN(ctx, keys.Runs, end, "-", page).Result()
		if err != nil {
			return nil, fmt.Errorf("read runs: %w", err)
		}
		for _, m := range msgs {
			r, err := Parse(m.ID, m.Values)
			if err != nil {
				return nil, err
			}
			if job == "" || r.Job == job {
				out = append(out, r)
				if len(out) == limit {
					break
				}
			}
		}
		scanned += len(msgs)
		if len(msgs) < page {
			break
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

// Range returns every run with an entry ID in [from, to] ("-" and "+" for
// the ends), oldest first.
func (l *Log) Range(ctx context.Context, from, to string) ([]Run, error) {
	msgs, err := l.rdb.XRange(ctx, keys.Runs, from, to).Result()
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	out := make([]Run, 0, len(msgs))
	for _, m := range msgs {
		r, err := Parse(m.ID, m.Values)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
