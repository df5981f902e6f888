package scheduler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/tasks"
	"heartbeat/internal/testinfra"
)

type controlFixture struct {
	rdb      *redis.Client
	clock    *clock.Fake
	client   *asynq.Client
	controls *Controls
}

// setupControls returns Controls over miniredis for the default config's
// jobs and instruments, with an asynq client as the enqueuer.
func setupControls(t *testing.T, now time.Time) controlFixture {
	t.Helper()
	m, rdb := testinfra.Mini(t)
	cfg := config.Default()
	instruments, err := cfg.MarketInstruments()
	testinfra.Must(t, err, "instruments")
	sc := Config{SlowTick: time.Minute, Shards: cfg.Ingest.Shards, Retention: time.Hour}
	for _, name := range jobs.Names() {
		spec, j := cfg.Job(name)
		sc.Jobs = append(sc.Jobs, JobConfig{Spec: spec, Enabled: j.Enabled})
	}
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: m.Addr()})
	t.Cleanup(func() { client.Close() })
	fc := clock.NewFake(now)
	c, err := NewControls(sc, ControlDeps{Redis: rdb, Enqueuer: client, Instruments: instruments, Clock: fc})
	testinfra.Must(t, err, "controls")
	return controlFixture{rdb: rdb, clock: fc, client: client, controls: c}
}

func (f controlFixture) audit(t *testing.T) []AuditEntry {
	t.Helper()
	es, err := Audit(context.Background(), f.rdb, 100)
	testinfra.Must(t, err, "read audit")
	return es
}

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestControlsPauseResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := at(t, "2026-03-02T14:30:00Z")
	f := setupControls(t, now)
	steps := []struct {
		action      Action
		note, actor string
		wantResult  string
		wantPaused  map[string]string
	}{
		{ActionPause, "feed migration", "cli:ops@host", "paused", map[string]string{"intraday": "feed migration"}},
		{ActionPause, "longer", "http:10.0.0.1:5555", "already paused; note replaced", map[string]string{"intraday": "longer"}},
		{ActionResume, "", "cli:ops@host", "resumed", map[string]string{}},
		{ActionResume, "", "cli:ops@host", "was not paused", map[string]string{}},
	}
	for i, s := range steps {
		do := f.controls.Pause
		if s.action == ActionResume {
			do = f.controls.Resume
		}
		e, err := do(ctx, jobs.Intraday, s.note, s.actor)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if e.Result != s.wantResult || e.ID == "" || !e.Time.Equal(now) {
			t.Fatalf("step %d: entry %+v, want result %q with an ID at %s", i, e, s.wantResult, now)
		}
		got, err := Paused(ctx, f.rdb)
		testinfra.Must(t, err, "paused")
		want := map[jobs.Name]string{}
		for k, v := range s.wantPaused {
			want[jobs.Name(k)] = v
		}
		if !cmp.Equal(got, want) {
			t.Fatalf("step %d: paused hash %v, want %v", i, got, s.wantPaused)
		}
	}
	got := f.audit(t)
	want := []AuditEntry{
		{Time: now, Action: ActionResume, Job: jobs.Intraday, Actor: "cli:ops@host", Result: "was not paused"},
		{Time: now, Action: ActionResume, Job: jobs.Intraday, Actor: "cli:ops@host", Result: "resumed"},
		{Time: now, Action: ActionPause, Job: jobs.Intraday, Actor: "http:10.0.0.1:5555", Note: "longer", Result: "already paused; note replaced"},
		{Time: now, Action: ActionPause, Job: jobs.Intraday, Actor: "cli:ops@host", Note: "feed migration", Result: "paused"},
	}
	if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
}

func TestControlsUnknownJobChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := setupControls(t, at(t, "2026-03-02T14:30:00Z"))
	for name, do := range map[string]func() (AuditEntry, error){
		"pause":   func() (AuditEntry, error) { return f.controls.Pause(ctx, "nope", "", "cli") },
		"resume":  func() (AuditEntry, error) { return f.controls.Resume(ctx, "nope", "", "cli") },
		"trigger": func() (AuditEntry, error) { return f.controls.Trigger(ctx, "nope", "", "cli") },
	} {
		if _, err := do(); !errors.Is(err, ErrUnknownJob) {
			t.Fatalf("%s: err %v, want ErrUnknownJob", name, err)
		}
	}
	if n := f.rdb.Exists(ctx, keys.Settings(), keys.Audit).Val(); n != 0 {
		t.Fatalf("%d keys written for an unknown job", n)
	}
}

func TestControlsTrigger(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := at(t, "2026-03-02T14:30:00.2Z")
	slot := at(t, "2026-03-02T14:30:00Z")
	f := setupControls(t, now)
	spec, _ := config.Default().Job(jobs.Intraday)

	// The scheduler enqueued shard 2 of the slot already.
	task, opts, err := tasks.New(spec, tasks.Payload{Job: jobs.Intraday, Slot: slot, Part: "2", Interval: time.Second}, tasks.Options{Retention: time.Hour})
	testinfra.Must(t, err, "task")
	_, err = f.client.Enqueue(task, opts...)
	testinfra.Must(t, err, "enqueue")

	e, err := f.controls.Trigger(ctx, jobs.Intraday, "refill", "cli:ops@host")
	testinfra.Must(t, err, "trigger")
	wantTasks := []string{"intraday:0:1772461800000", "intraday:1:1772461800000", "intraday:2:1772461800000", "intraday:3:1772461800000"}
	want := AuditEntry{ID: e.ID, Time: now, Action: ActionTrigger, Job: jobs.Intraday, Actor: "cli:ops@host", Note: "refill",
		Result: "3 enqueued, 1 already enqueued", Slot: slot, Tasks: wantTasks}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Fatalf("trigger (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]AuditEntry{want}, f.audit(t)); diff != "" {
		t.Fatalf("audit (-want +got):\n%s", diff)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: f.rdb.Options().Addr})
	defer insp.Close()
	for _, id := range wantTasks {
		info, err := insp.GetTaskInfo(jobs.QueueCritical, id)
		if err != nil {
			t.Fatalf("task %s: %v", id, err)
		}
		p, err := tasks.Decode(asynq.NewTask(info.Type, info.Payload))
		testinfra.Must(t, err, "decode")
		if !p.Slot.Equal(slot) || p.Interval != time.Second || p.Job != jobs.Intraday {
			t.Fatalf("task %s payload %+v", id, p)
		}
	}

	// Again: every task is there, nothing is enqueued twice.
	e, err = f.controls.Trigger(ctx, jobs.Intraday, "", "cli:ops@host")
	testinfra.Must(t, err, "second trigger")
	if e.Result != "0 enqueued, 4 already enqueued" {
		t.Fatalf("second trigger: %q", e.Result)
	}
}

func TestControlsTriggerPreOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("outside the window", func(t *testing.T) {
		t.Parallel()
		f := setupControls(t, at(t, "2026-03-02T12:00:00Z"))
		if _, err := f.controls.Trigger(ctx, jobs.PreOpenBacktest, "", "cli"); !errors.Is(err, ErrNothingToTrigger) {
			t.Fatalf("err %v, want ErrNothingToTrigger", err)
		}
		if n := f.rdb.Exists(ctx, keys.Audit).Val(); n != 0 {
			t.Fatal("a refused trigger was audited")
		}
	})
	t.Run("30 s before New York, Toronto and Mexico open", func(t *testing.T) {
		t.Parallel()
		f := setupControls(t, at(t, "2026-03-02T14:29:30Z"))
		e, err := f.controls.Trigger(ctx, jobs.PreOpenBacktest, "", "cli")
		testinfra.Must(t, err, "trigger")
		want := []string{"pre_open_backtest:XNYS:2026-03-02", "pre_open_backtest:XTSE:2026-03-02", "pre_open_backtest:XMEX:2026-03-02"}
		if diff := cmp.Diff(want, e.Tasks); diff != "" {
			t.Fatalf("tasks (-want +got):\n%s", diff)
		}
	})
}

func TestControlsTriggerWithoutEnqueuer(t *testing.T) {
	t.Parallel()
	f := setupControls(t, at(t, "2026-03-02T14:30:00Z"))
	f.controls.d.Enqueuer = nil
	if _, err := f.controls.Trigger(context.Background(), jobs.Intraday, "", "cli"); !errors.Is(err, ErrNoEnqueuer) {
		t.Fatalf("err %v, want ErrNoEnqueuer", err)
	}
}

func TestPreviewAndExplain(t *testing.T) {
	t.Parallel()
	f := setupControls(t, at(t, "2026-03-02T14:30:00Z"))
	for _, tc := range []struct {
		name    string
		job     jobs.Name
		after   string
		n       int
		want    []string // slot and explanation
		cadence time.Duration
	}{
		{"intraday while crypto trades: every second", jobs.Intraday, "2026-03-02T14:29:58Z", 3, []string{
			"2026-03-02T14:29:59Z enqueue: open: XLON XETR CMES ALWAYS",
			"2026-03-02T14:30:00Z enqueue: open: XNYS XTSE XMEX XLON XETR CMES ALWAYS",
			"2026-03-02T14:30:01Z enqueue: open: XNYS XTSE XMEX XLON XETR CMES ALWAYS",
		}, time.Second},
		{"pre-open: one slot per session, the first of the grid in the window", jobs.PreOpenBacktest, "2026-03-02T14:28:59Z", 2, []string{
			"2026-03-02T14:29:00Z XNYS session 2026-03-02: open 09:30 America/New_York; XTSE session 2026-03-02: open 09:30 America/Toronto; " +
				"XMEX session 2026-03-02: open 08:30 America/Mexico_City: slot in window open-1m..open-1s on the 30s grid",
			"2026-03-02T22:59:00Z XASX session 2026-03-03: open 10:00 Australia/Sydney; CMES session 2026-03-03: open 17:00 America/Chicago: " +
				"slot in window open-1m..open-1s on the 30s grid",
		}, 30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := f.controls.Plan(tc.job)
			testinfra.Must(t, err, "plan")
			ds := Preview(p, at(t, tc.after), tc.n)
			got := make([]string, len(ds))
			for i, d := range ds {
				got[i] = d.Slot.UTC().Format(time.RFC3339) + " " + d.Why
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("preview (-want +got):\n%s", diff)
			}
			if c := p.Cadence(ds[0]); c != tc.cadence {
				t.Fatalf("cadence %s, want %s", c, tc.cadence)
			}
		})
	}
}

func TestPreviewClosedMarketsSlowCadence(t *testing.T) {
	t.Parallel()
	f := setupControls(t, at(t, "2026-03-02T14:30:00Z"))
	spec, _ := jobs.Lookup(jobs.ClosedBarsFlush)
	p := xnysPlan(t, f, spec, Config{SlowTick: 5 * time.Minute, Shards: 4})
	ds := Preview(p, at(t, "2026-03-07T12:00:00Z"), 3) // a Saturday
	for i, d := range ds {
		if d.Enqueue || d.Active {
			t.Fatalf("slot %d %s: enqueue %v active %v on a Saturday", i, d.Slot, d.Enqueue, d.Active)
		}
		if got := d.Why; !strings.HasPrefix(got, "skip (skipped_closed)") {
			t.Fatalf("explain %q", got)
		}
		if i > 0 && d.Slot.Sub(ds[i-1].Slot) != 5*time.Minute {
			t.Fatalf("slots %s then %s: want the slow tick between them", ds[i-1].Slot, d.Slot)
		}
	}
	if c := p.Cadence(ds[0]); c != 5*time.Minute {
		t.Fatalf("cadence %s, want 5m", c)
	}
}

func TestParseAuditRoundTrip(t *testing.T) {
	t.Parallel()
	e := AuditEntry{ID: "1-0", Time: at(t, "2026-03-02T14:30:00.123Z"), Action: ActionTrigger, Job: jobs.SessionVolume,
		Actor: "http:127.0.0.1:4000", Note: "a note", Result: "1 enqueued, 0 already enqueued",
		Slot: at(t, "2026-03-02T14:30:00Z"), Tasks: []string{"session_volume:all:1772461800000"}}
	f := e.fields()
	v := map[string]any{}
	for i := 0; i < len(f); i += 2 {
		v[f[i].(string)] = f[i+1]
	}
	got, err := ParseAudit("1-0", v)
	testinfra.Must(t, err, "parse")
	if diff := cmp.Diff(e, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	if _, err := ParseAudit("2-0", map[string]any{"time": "yesterday"}); err == nil {
		t.Fatal("bad time parsed")
	}
}

func TestExplainCloseGrace(t *testing.T) {
	t.Parallel()
	f := setupControls(t, at(t, "2026-03-02T21:00:00Z"))
	spec, _ := jobs.Lookup(jobs.Intraday)
	p := xnysPlan(t, f, spec, Config{SlowTick: time.Minute, Shards: 4, CloseGrace: 15 * time.Second}) // XNYS closes at 21:00 UTC
	got := []string{}
	for _, d := range Preview(p, at(t, "2026-03-02T21:00:13Z"), 3) {
		got = append(got, d.Slot.Format("15:04:05")+" "+d.Why)
	}
	want := []string{
		"21:00:14 enqueue: close grace: XNYS closed within 15s",
		"21:01:00 skip (skipped_closed): markets closed, slow cadence",
		"21:02:00 skip (skipped_closed): markets closed, slow cadence",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

// xnysPlan returns a job's plan with XNYS as its only market.
func xnysPlan(t *testing.T, f controlFixture, spec jobs.Spec, sc Config) JobPlan {
	t.Helper()
	cal, err := f.controls.d.Instruments.Book().Lookup(market.XNYS)
	testinfra.Must(t, err, "XNYS")
	p, err := NewJobPlan(sc, spec, market.Set{cal}, f.controls.d.Instruments.Book(), nil)
	testinfra.Must(t, err, "plan")
	return p
}

func FuzzParseAudit(f *testing.F) {
	f.Add("2026-03-02T14:30:00.123Z", "pause", "intraday", "cli:ops@host", "feed migration", "paused", "", "")
	f.Add("2026-03-02T14:30:00+14:00", "trigger", "session_volume", "http:[::1]:80", "", "1 enqueued", "2026-03-02T14:30:00Z", "a b  c")
	f.Add("yesterday", "", "", "", "", "", "soon", "")
	f.Fuzz(func(t *testing.T, tm, action, job, actor, note, result, slot, tasks string) {
		v := map[string]any{"time": tm, "action": action, "job": job, "actor": actor, "note": note, "result": result, "slot": slot, "tasks": tasks}
		e, err := ParseAudit("1-0", v)
		if err != nil {
			return
		}
		fs := e.fields()
		again := map[string]any{}
		for i := 0; i < len(fs); i += 2 {
			again[fs[i].(string)] = fs[i+1]
		}
		e2, err := ParseAudit("1-0", again)
		if err != nil {
			t.Fatalf("re-parse of %+v: %v", e, err)
		}
		if diff := cmp.Diff(e, e2); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}
