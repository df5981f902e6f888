package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/testinfra"
)

// slowConfig is a replica's config for tests that run for days on the
// fake clock: no lease (the replica leads) and an hourly fast tick, so the
// loops wake a few times an hour rather than every second.
func slowConfig(js ...JobConfig) Config {
	cfg := testConfig("a", js...)
	cfg.Lock, cfg.FastTick = false, time.Hour
	return cfg
}

// ran returns the task IDs a replica enqueued with their slots, in order.
func ran(r *replica) []string {
	var out []string
	for _, e := range r.rec.enqueued() {
		out = append(out, e.ID+" @ "+e.Payload.Slot.UTC().Format(time.RFC3339))
	}
	return out
}

// TestSessionAnchoredJob runs a job at XNYS.close+2m from Wednesday
// 2026-11-25 to Tuesday 2026-12-01 on the fake clock: a normal close
// (16:00 ET), Thanksgiving (a holiday: no run), the early close of the
// day after (13:00 ET: the run moves with it), a runtime closure entered
// for Monday (no run) and a normal Tuesday. The slots are what the
// exchange's calendar implies, written out by hand.
func TestSessionAnchoredJob(t *testing.T) {
	t.Parallel()
	f := setup(t, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	book := privateBook(t, f)
	book.SetRuntime([]market.Override{rtEntry(market.KindHoliday, market.NewDate(2026, 11, 30), 0, 0)})
	report := JobConfig{Enabled: true, Spec: jobs.Spec{Name: "eod_report", TaskType: "example:eod_report", Queue: jobs.QueueDefault,
		Schedule: schedule.Spec{At: "XNYS.close+2m"}}}
	r := f.startWith(t, slowConfig(report), nil)
	f.runUntil(t, time.Date(2026, 12, 1, 23, 0, 0, 0, time.UTC))
	want := []string{
		"eod_report:XNYS:2026-11-25 @ 2026-11-25T21:02:00Z", // 16:00 EST + 2 min
		"eod_report:XNYS:2026-11-27 @ 2026-11-27T18:02:00Z", // early close 13:00 EST + 2 min
		"eod_report:XNYS:2026-12-01 @ 2026-12-01T21:02:00Z", // Monday closed by the desk
	}
	if diff := cmp.Diff(want, ran(r)); diff != "" {
		t.Fatalf("runs (-want +got):\n%s", diff)
	}
	for _, e := range r.rec.enqueued() {
		if d := e.Payload.Deadline.Sub(e.Payload.Slot); d != time.Minute {
			t.Errorf("%s: may start until %s after its slot, want a minute", e.ID, d)
		}
	}
}

// TestCronJobAcrossDST runs a weekday 09:30 New York cron job across the
// change to daylight saving time (Sunday 2027-03-14): 14:30 UTC on the
// Friday before (EST), 13:30 UTC on the Monday after (EDT), nothing on the
// weekend.
func TestCronJobAcrossDST(t *testing.T) {
	t.Parallel()
	f := setup(t, time.Date(2027, 3, 12, 12, 0, 0, 0, time.UTC))
	open := JobConfig{Enabled: true, Spec: jobs.Spec{Name: "ny_open", TaskType: "example:ny_open", Queue: jobs.QueueDefault,
		Schedule: schedule.Spec{Cron: "0 30 9 * * 1-5", TZ: "America/New_York", Gate: schedule.GateAlways}}}
	r := f.startWith(t, slowConfig(open), nil)
	f.runUntil(t, time.Date(2027, 3, 16, 0, 0, 0, 0, time.UTC))
	want := []string{
		"ny_open:all:1804861800000 @ 2027-03-12T14:30:00Z",
		"ny_open:all:1805117400000 @ 2027-03-15T13:30:00Z",
	}
	if diff := cmp.Diff(want, ran(r)); diff != "" {
		t.Fatalf("runs (-want +got):\n%s", diff)
	}
}

// TestPolicyInPayload: a job's start deadline policy replaces the
// schedule's (the next slot), and its overlap policy travels with the
// task to the worker.
func TestPolicyInPayload(t *testing.T) {
	t.Parallel()
	f := setup(t, mon(14, 59, 59, 500))
	j := job(t, jobs.SessionVolume)
	j.Spec.Policy = jobs.Policy{StartDeadline: 3 * time.Second, Overlap: jobs.OverlapAllow}
	r := f.startWith(t, testConfig("a", j), nil)
	f.runUntil(t, mon(15, 0, 0, 0))
	got := r.rec.enqueued()
	if len(got) != 1 {
		t.Fatalf("enqueued %d tasks, want 1", len(got))
	}
	p := got[0].Payload
	if !p.Deadline.Equal(mon(15, 0, 3, 0)) || p.Overlap != jobs.OverlapAllow {
		t.Fatalf("payload deadline %s overlap %q, want 15:00:03 and allow", p.Deadline, p.Overlap)
	}
}

// TestLiveSettings changes a running job's settings through the controls:
// interval=2s applies from the next slot boundary (no slot of the old
// cadence after the change, none twice), enabled=false stops it, and a
// reset returns it to its config's 1 s cadence from the next slot.
func TestLiveSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setup(t, mon(14, 59, 59, 500))
	intraday := job(t, jobs.Intraday)
	cfg := testConfig("a", intraday)
	r := f.startWith(t, cfg, nil)
	controls, err := NewControls(cfg, ControlDeps{Redis: f.rdb, Instruments: f.in, Clock: f.clk})
	testinfra.Must(t, err, "controls")
	step := func(at time.Time, do func() (AuditEntry, error)) {
		t.Helper()
		f.runUntil(t, at)
		if _, err := do(); err != nil {
			t.Fatal(err)
		}
	}
	step(mon(15, 0, 3, 200), func() (AuditEntry, error) {
		return controls.Set(ctx, jobs.Intraday, jobs.Settings{"interval": "2s"}, "calmer", "test")
	})
	step(mon(15, 0, 8, 200), func() (AuditEntry, error) {
		return controls.Set(ctx, jobs.Intraday, jobs.Settings{"enabled": "false"}, "", "test")
	})
	step(mon(15, 0, 20, 200), func() (AuditEntry, error) { return controls.Reset(ctx, jobs.Intraday, "", "test") })
	f.runUntil(t, mon(15, 0, 24, 0))
	var slots []string
	for _, e := range r.rec.enqueued() {
		if e.Payload.Part == "0" {
			slots = append(slots, e.Payload.Slot.Format("15:04:05"))
		}
	}
	want := []string{
		"15:00:00", "15:00:01", "15:00:02", "15:00:03", // 1 s
		"15:00:04", "15:00:06", "15:00:08", // 2 s from the next boundary
		// disabled from 15:00:08.2
		"15:00:21", "15:00:22", "15:00:23", "15:00:24", // reset at 15:00:20.2: 1 s from the next boundary
	}
	if diff := cmp.Diff(want, slots); diff != "" {
		t.Fatalf("slots (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]float64{string(runlog.Enqueued): float64(2 * len(want))}, r.counts(jobs.Intraday)); diff != "" {
		t.Fatalf("slot outcomes (-want +got):\n%s", diff)
	}
}
