package tasks

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"heartbeat/internal/jobs"
	"heartbeat/internal/schedule"
)

// TestNewAppliesThePolicy: a task's identity, queue, timeout and retries
// come from the job's spec and policy; the defaults are those Heartbeat
// always had (3 retries, max(30 s, 10 × interval)).
func TestNewAppliesThePolicy(t *testing.T) {
	t.Parallel()
	five := 5
	zero := 0
	slot := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name        string
		spec        jobs.Spec
		key         string
		wantID      string
		wantRetry   int
		wantTimeout time.Duration
	}{
		{"defaults, 1 s interval", jobs.Spec{Name: "a", Queue: "critical", Schedule: schedule.Spec{Every: time.Second}},
			"1:1795446000000", "a:1:1795446000000", 3, 30 * time.Second},
		{"defaults, 60 s interval", jobs.Spec{Name: "b", Queue: "default", Schedule: schedule.Spec{Every: time.Minute}},
			"all:1795446000000", "b:all:1795446000000", 3, 10 * time.Minute},
		{"defaults, at schedule", jobs.Spec{Name: "c", Queue: "default", Schedule: schedule.Spec{At: "XNYS.close+2m"}},
			"XNYS:2026-11-23", "c:XNYS:2026-11-23", 3, 30 * time.Second},
		{"policy", jobs.Spec{Name: "d", Queue: "default", Schedule: schedule.Spec{Every: time.Second},
			Policy: jobs.Policy{Timeout: 2 * time.Minute, MaxRetry: &five}}, "all:1", "d:all:1", 5, 2 * time.Minute},
		{"no retries", jobs.Spec{Name: "e", Queue: "default", Schedule: schedule.Spec{Every: time.Second},
			Policy: jobs.Policy{MaxRetry: &zero}}, "all:1", "e:all:1", 0, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := Payload{Job: tc.spec.Name, Slot: slot, Key: tc.key}
			_, opts, err := New(tc.spec, p, Options{Retention: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			got := map[asynq.OptionType]any{}
			for _, o := range opts {
				got[o.Type()] = o.Value()
			}
			if got[asynq.TaskIDOpt] != tc.wantID || got[asynq.QueueOpt] != tc.spec.Queue ||
				got[asynq.MaxRetryOpt] != tc.wantRetry || got[asynq.TimeoutOpt] != tc.wantTimeout {
				t.Fatalf("options %v, want ID %s queue %s retries %d timeout %s", got, tc.wantID, tc.spec.Queue, tc.wantRetry, tc.wantTimeout)
			}
		})
	}
}

// TestPayloadStartBy: the deadline a payload carries, else slot + interval
// (a task of an older scheduler).
func TestPayloadStartBy(t *testing.T) {
	t.Parallel()
	slot := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	old := Payload{Job: jobs.Intraday, Slot: slot, Interval: time.Second, Part: "2"}
	if got := old.StartBy(); !got.Equal(slot.Add(time.Second)) {
		t.Fatalf("StartBy without a deadline = %s", got)
	}
	if got := old.ID(); got != "intraday:2:1795446000000" {
		t.Fatalf("ID without a key = %s", got)
	}
	withDeadline := old
	withDeadline.Deadline = slot.Add(time.Minute)
	if got := withDeadline.StartBy(); !got.Equal(slot.Add(time.Minute)) {
		t.Fatalf("StartBy = %s, want the deadline", got)
	}
}
