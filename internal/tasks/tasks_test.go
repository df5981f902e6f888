package tasks

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"heartbeat/internal/jobs"
)

func TestTaskID(t *testing.T) {
	t.Parallel()
	slot := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		job  jobs.Name
		key  string
		want string
	}{
		{jobs.Intraday, fmt.Sprintf("3:%d", slot.UnixMilli()), fmt.Sprintf("intraday:3:%d", slot.UnixMilli())},
		{jobs.SessionVolume, fmt.Sprintf("all:%d", slot.UnixMilli()), fmt.Sprintf("%s:all:%d", jobs.SessionVolume, slot.UnixMilli())},
		{jobs.PreOpenBacktest, "XNYS:2026-11-23", fmt.Sprintf("%s:XNYS:2026-11-23", jobs.PreOpenBacktest)},
	} {
		if got := TaskID(tc.job, tc.key); got != tc.want {
			t.Errorf("TaskID(%s, %q) = %q, want %q", tc.job, tc.key, got, tc.want)
		}
	}
}

func TestNewRoundTrip(t *testing.T) {
	t.Parallel()
	spec, ok := jobs.Lookup(jobs.Intraday)
	if !ok {
		t.Fatal("no intraday job")
	}
	slot := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	p := Payload{Job: jobs.Intraday, Slot: slot, Part: "1", Interval: time.Second, Term: 7, EnqueuedAt: slot.Add(-100 * time.Millisecond)}
	task, opts, err := New(spec, p, Options{Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != spec.TaskType {
		t.Fatalf("type %q, want %q", task.Type(), spec.TaskType)
	}
	got, err := Decode(task)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Fatalf("decoded payload (-want +got):\n%s", diff)
	}
	want := map[asynq.OptionType]any{
		asynq.TaskIDOpt: p.ID(), asynq.QueueOpt: spec.Queue, asynq.RetentionOpt: time.Hour,
		asynq.MaxRetryOpt: jobs.DefaultMaxRetry, asynq.TimeoutOpt: 30 * time.Second,
	}
	have := map[asynq.OptionType]any{}
	for _, o := range opts {
		have[o.Type()] = o.Value()
	}
	if diff := cmp.Diff(want, have); diff != "" {
		t.Fatalf("options (-want +got):\n%s", diff)
	}
}

func TestShardIsPermanent(t *testing.T) {
	t.Parallel()
	_, err := Payload{Job: jobs.Intraday, Part: "x"}.Shard()
	if !errors.Is(err, asynq.SkipRetry) {
		t.Fatalf("Shard of part x: %v, want a SkipRetry error", err)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, 100 * time.Millisecond}, {1, 200 * time.Millisecond}, {2, 400 * time.Millisecond},
		{4, 1600 * time.Millisecond}, {5, 2 * time.Second}, {40, 2 * time.Second},
	} {
		if got := RetryDelay(tc.n, nil, nil); got != tc.want {
			t.Errorf("RetryDelay(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestRetryClasses(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name               string
		err                error
		skipRetry, failure bool
	}{
		{"plain", boom, false, true},
		{"permanent", Permanent(boom), true, true},
		{"superseded", Superseded(boom), true, false},
		{"wrapped superseded", fmt.Errorf("run: %w", Superseded(boom)), true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !errors.Is(tc.err, boom) {
				t.Errorf("%v lost its cause", tc.err)
			}
			if got := errors.Is(tc.err, asynq.SkipRetry); got != tc.skipRetry {
				t.Errorf("SkipRetry = %v, want %v", got, tc.skipRetry)
			}
			if got := IsFailure(tc.err); got != tc.failure {
				t.Errorf("IsFailure = %v, want %v", got, tc.failure)
			}
		})
	}
}
