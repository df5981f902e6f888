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

// Outcome is what became of a slot's task: the one list of the outcome
// label of heartbeat_slots_total (package metrics) and of the run
// history's outcome field. The workers' outcomes are recorded in both;
// the scheduler's are counted only.
type Outcome string

// The workers' outcomes: how a run ended, recorded in the run history.
const (
	OK             Outcome = "ok"
	Error          Outcome = "error"
	Expired        Outcome = "expired"         // picked up after its slot + interval: not run
	SkippedOverlap Outcome = "skipped_overlap" // its job's previous slot was still running
)

// The scheduler's outcomes: what it did with a slot, counted in
// heartbeat_slots_total; the run history has no entry for them.
const (
	Enqueued            Outcome = "enqueued"
	DuplicateSuppressed Outcome = "duplicate_suppressed" // the slot's TaskID was already queued
	SkippedClosed       Outcome = "skipped_closed"       // every market of the job was closed
	SkippedPaused       Outcome = "skipped_paused"       // the job was paused
	Missed              Outcome = "missed"               // its slot passed while no replica could enqueue
)

// Recorded reports whether o is a workers' outcome, one the run history
// records.
func (o Outcome) Recorded() bool {
	switch o {
	case OK, Error, Expired, SkippedOverlap:
		return true
	}
	return false
}

// Time layouts of the stream's fields.
const (
	SlotLayout = "2006-01-02T15:04:05.000Z07:00"    // RFC 3339 UTC, milliseconds
	TimeLayout = "2006-01-02T15:04:05.000000Z07:00" // RFC 3339 UTC, microseconds
)

// DefaultRetention is how long runs are kept when none is configured.
const DefaultRetention = 24 * time.Hour

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

// Log appends to and reads the run history: the stream keys.Runs of
// every run and one stream per job (keys.JobRuns), both trimmed by age.
type Log struct {
	rdb       redis.UniversalClient
	retention time.Duration
}

// New returns a Log keeping runs for retention (DefaultRetention if <= 0).
func New(rdb redis.UniversalClient, retention time.Duration) *Log {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &Log{rdb: rdb, retention: retention}
}

// Append adds a run to the history and to its job's stream, and trims
// both of entries older than the retention (XTRIM MINID, approximate:
// Redis trims whole nodes, so a few older entries may stay a little
// longer). The run's finish time dates the trim, so no clock is read.
func (l *Log) Append(ctx context.Context, r Run) error {
	minID := ""
	if !r.FinishedAt.IsZero() {
		minID = strconv.FormatInt(r.FinishedAt.Add(-l.retention).UnixMilli(), 10)
	}
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, stream := range []string{keys.Runs, keys.JobRuns(r.Job)} {
			p.XAdd(ctx, &redis.XAddArgs{Stream: stream, MinID: minID, Approx: minID != "", Values: r.Fields()})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append run %s: %w", r.TaskID, err)
	}
	return nil
}

// Query selects runs for Page. Zero fields select everything.
type Query struct {
	Job, Part string
	Outcome   Outcome
	From, To  time.Time // entries appended in [From, To]
	// Before continues a previous page: only entries older than this
	// stream ID (the previous page's Next).
	Before string
	Limit  int
}

// MaxScan bounds the entries one Page reads, whatever its filters match,
// so a request costs a bounded amount of Redis time.
const MaxScan = 5000

// Page is one page of runs, newest first, and where the next page starts.
type Page struct {
	Runs []Run
	// Next is the Before of the next page; empty when the history has
	// nothing older to scan.
	Next string
	// Scanned is how many entries this page read.
	Scanned int
}

// Page returns up to q.Limit runs matching q, newest first, reading at
// most MaxScan entries: from the job's own stream when q.Job is set, else
// the history of every run. A page that ran out of scan budget before
// filling returns what it found and a Next to continue from.
func (l *Log) Page(ctx context.Context, q Query) (Page, error) {
	stream := keys.Runs
	if q.Job != "" {
		stream = keys.JobRuns(q.Job)
	}
	end, start := "+", "-"
	if !q.To.IsZero() {
		end = strconv.FormatInt(q.To.UnixMilli(), 10)
	}
	if q.Before != "" {
		end = "(" + q.Before
	}
	if !q.From.IsZero() {
		start = strconv.FormatInt(q.From.UnixMilli(), 10)
	}
	limit := max(q.Limit, 1)
	var page Page
	for page.Scanned < MaxScan {
		n := min(int64(MaxScan-page.Scanned), 500)
		msgs, err := l.rdb.XRevRangeN(ctx, stream, end, start, n).Result()
		if err != nil {
			return page, fmt.Errorf("read runs: %w", err)
		}
		for i, m := range msgs {
			page.Scanned++
			r, err := Parse(m.ID, m.Values)
			if err != nil {
				return page, err
			}
			if (q.Part == "" || r.Part == q.Part) && (q.Outcome == "" || r.Outcome == q.Outcome) && (q.Job == "" || r.Job == q.Job) {
				page.Runs = append(page.Runs, r)
				if len(page.Runs) == limit {
					if i < len(msgs)-1 || int64(len(msgs)) == n {
						page.Next = m.ID
					}
					return page, nil
				}
			}
		}
		if int64(len(msgs)) < n {
			page.Next = "" // the start of the range: nothing older
			return page, nil
		}
		end = "(" + msgs[len(msgs)-1].ID
		page.Next = msgs[len(msgs)-1].ID
	}
	return page, nil
}

// Recent returns up to limit of the newest runs, newest first, of one job
// (all jobs when job is empty): the first Page.
func (l *Log) Recent(ctx context.Context, job string, limit int) ([]Run, error) {
	p, err := l.Page(ctx, Query{Job: job, Limit: limit})
	return p.Runs, err
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
