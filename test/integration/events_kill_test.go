package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/events"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/scheduler"
	"heartbeat/test/procs"
)

// faultsBin is cmd/scheduler built with -tags faults (cmd/scheduler/faults.go):
// HEARTBEAT_FAULT_STEP stops a replica at a step of the events loop, and
// HEARTBEAT_FAULT_CLOCK_SHIFT shifts its clock. Built once, by the first
// test that needs it.
var faultsBin struct {
	once sync.Once
	path string
	err  error
}

// faultsScheduler returns the path of the scheduler built with -tags faults.
func faultsScheduler(t *testing.T) string {
	t.Helper()
	faultsBin.once.Do(func() {
		paths, err := procs.BuildTags(filepath.Join(bins.dir, "faults"), []string{"faults"}, "scheduler")
		faultsBin.path, faultsBin.err = paths["scheduler"], err
	})
	if faultsBin.err != nil {
		t.Fatal(faultsBin.err)
	}
	return faultsBin.path
}

// eventsLead is how long after the test begins the transition the leader
// is stopped at is due: the time two replicas take to start, with room.
// Runtime calendar entries are whole minutes, so the replicas' clock is
// shifted (by less than a minute) to put a minute's start eventsLead
// ahead. When the replicas take longer than that to start, the halt is
// entered a minute later instead (the test then takes a minute longer).
const eventsLead = 8 * time.Second

// TestProcessEventsLeaderKilled stops the leading scheduler process in the
// events loop at each fault step, at a runtime halt's halt_start on the
// ALWAYS market, and SIGKILLs it there: before Emit (the transition's
// instant has passed, nothing appended) and after Emit (appended, the
// cursor not yet moved). The standby, started after the halt was entered
// (so it resumes from the cursor the dead leader left, not from a calendar
// change), takes over once the lease expires, and the stream holds each
// transition from the stream's start to the cursor exactly once, in
// order: appended by the standby when the leader died before Emit, by the
// dead leader (its term; the standby's Emit a duplicate) when it died
// after. The two steps run in parallel, each on its own redis-server.
func TestProcessEventsLeaderKilled(t *testing.T) {
	bin := faultsScheduler(t)
	for _, step := range scheduler.FaultSteps() {
		t.Run(step, func(t *testing.T) {
			t.Parallel() // each on its own redis-server; they share only the wait for the transition
			eventsLeaderKilled(t, bin, step)
		})
	}
}

func eventsLeaderKilled(t *testing.T, bin, step string) {
	c := setup(t, clusterConfig{}) // a redis-server; the replicas are started below
	began := time.Now()
	at := began.Add(eventsLead).Truncate(time.Minute).Add(time.Minute).UTC()
	shift := at.Sub(began.Add(eventsLead))
	replicaNow := func() time.Time { return time.Now().Add(shift) } // the replicas' clock
	shiftEnv := "HEARTBEAT_FAULT_CLOCK_SHIFT=" + shift.String()

	leader := c.startSchedulerBin("s1", bin, []string{shiftEnv, "HEARTBEAT_FAULT_STEP=" + step})
	c.schedulers = append(c.schedulers, leader)
	if err := leader.proc.WaitServing(leader.http, 15*time.Second); err != nil {
		t.Fatalf("s1 did not serve /metrics: %v", err)
	}
	var term1 int64
	if err := procs.WaitFor(15*time.Second, func() (bool, error) {
		name, term, err := c.holder()
		term1 = term
		return name == leader.name, err
	}); err != nil {
		t.Fatalf("s1 did not take the lease: %v", err)
	}
	// The halt: [at, at+1m) on ALWAYS (UTC), entered with a margin of
	// three fast ticks for s1 to read it before it begins.
	if replicaNow().Add(3 * time.Second).After(at) {
		t.Logf("s1 took %s to start and lead, more than the lead of %s: the halt begins a minute later",
			time.Since(began).Round(time.Millisecond), eventsLead)
		at = at.Add(time.Minute)
	}
	halt := market.Override{Market: market.ALWAYS, Kind: market.KindHalt, Date: market.DateOf(at),
		From: market.TimeOfDay(at.Hour()*60 + at.Minute()), Name: "fault test",
		Source: market.Source{Origin: market.OriginRuntime}}
	halt.To = halt.From + 1
	args := append(append([]string{"calendar", "halt"}, c.redisArgs()...), "--market", string(halt.Market),
		"--date", halt.Date.String(), "--from", halt.From.String(), "--to", halt.To.String(), "--reason", halt.Name)
	if code, out, _ := runToExit(t, bins.scheduler, c.dir, args, nil, 30*time.Second); code != 0 {
		t.Fatalf("scheduler %s: exit %d:\n%s", strings.Join(args, " "), code, out)
	}
	// s2 starts with the halt in its calendar: when it leads, it finds the
	// halt_start from the cursor s1 left, not from a calendar change.
	standbyStarted := time.Now()
	standby := c.startSchedulerBin("s2", bin, []string{shiftEnv})
	c.schedulers = append(c.schedulers, standby)
	if err := standby.proc.WaitServing(standby.http, 15*time.Second); err != nil {
		t.Fatalf("s2 did not serve /metrics: %v", err)
	}
	c.waitReplica(standby, standbyStarted)

	// s1 reaches the step for the halt_start, says so and blocks there;
	// its lease loop still renews, so s2 stands by.
	marker := "FAULT " + step + " reached"
	if err := procs.WaitFor(time.Until(at.Add(-shift))+15*time.Second, func() (bool, error) {
		if !leader.proc.Alive() {
			return false, fmt.Errorf("s1 exited: %s", leader.proc.ExitState())
		}
		return strings.Contains(leader.proc.Log(), marker), nil
	}); err != nil {
		t.Fatalf("s1 never logged %q: %v", marker, err)
	}
	reached := replicaNow()
	due := fmt.Sprintf("ALWAYS halt_start %s", at.UTC().Format("15:04:05"))
	var leftBehind []string
	if step == scheduler.StepAfterEmit {
		leftBehind = []string{fmt.Sprintf("%s term %d", due, term1)}
	}
	if diff := cmp.Diff(leftBehind, eventLines(t, c)); diff != "" {
		t.Fatalf("stream with s1 stopped at %s (-want +got):\n%s", step, diff)
	}
	if name, term, err := c.holder(); err != nil || name != leader.name || term != term1 {
		t.Fatalf("with s1 stopped at %s the lease is %q term %d (%v), want s1's term %d", step, name, term, err, term1)
	}

	if err := leader.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL s1: %v", err)
	}
	if _, err := leader.proc.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	killed, killedAt := time.Now(), replicaNow()

	// s2 takes the lease once it expires, and its first pass moves the
	// cursor past the kill (s1, dead, writes nothing).
	var term2 int64
	var cursor time.Time
	if err := procs.WaitFor(leaseTTL+15*time.Second, func() (bool, error) {
		name, term, err := c.holder()
		if err != nil || name != standby.name {
			return false, err
		}
		term2 = term
		ms, err := c.rdb.Get(context.Background(), keys.EventsCursor()).Int64()
		cursor = time.UnixMilli(ms).UTC()
		return err == nil && !cursor.Before(killedAt), err
	}); err != nil {
		t.Fatalf("s2 did not lead and move the events cursor past the kill: %v", err)
	}
	passed := time.Since(killed)
	originMS, err := c.rdb.Get(context.Background(), keys.EventsOrigin()).Int64()
	if err != nil {
		t.Fatalf("read %s: %v", keys.EventsOrigin(), err)
	}
	origin := time.UnixMilli(originMS).UTC()

	// Every transition in (origin, cursor] of the calendar with the halt,
	// once, in order; the one s1 was stopped at by s1 or s2 as above.
	book, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if rejected := book.SetRuntime([]market.Override{halt}); len(rejected) > 0 {
		t.Fatalf("halt rejected: %v", rejected)
	}
	cal, err := book.Lookup(market.ALWAYS)
	if err != nil {
		t.Fatal(err)
	}
	due2, err := events.Between(cal, origin, cursor)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tr := range due2 {
		term := term2
		if tr.At.Equal(at) && tr.Kind == events.HaltStart && step == scheduler.StepAfterEmit {
			term = term1
		}
		want = append(want, fmt.Sprintf("%s %s %s term %d", tr.Market, tr.Kind, tr.At.Format("15:04:05"), term))
	}
	if len(want) != 1 || !strings.HasPrefix(want[0], due+" ") {
		t.Fatalf("transitions due in (%s, %s]: %v, want the halt_start at %s alone", origin, cursor, want, at)
	}
	if diff := cmp.Diff(want, eventLines(t, c)); diff != "" {
		t.Fatalf("events stream (-want +got):\n%s", diff)
	}
	m, err := procs.Scrape(standby.http)
	if err != nil {
		t.Fatalf("scrape s2: %v", err)
	}
	wantEmitted := 1.0 // s2 appended it
	if step == scheduler.StepAfterEmit {
		wantEmitted = 0 // s1 had; s2's Emit was a duplicate
	}
	if got := m.Sum("heartbeat_events_emitted_total", "kind", string(events.HaltStart), "market", string(market.ALWAYS)); got != wantEmitted {
		t.Errorf("s2's heartbeat_events_emitted_total{kind=halt_start} = %v, want %v", got, wantEmitted)
	}
	if !standby.proc.Alive() {
		t.Errorf("s2 exited: %s", standby.proc.ExitState())
	}
	t.Logf("%s: halt_start due %s (replica clock); s1 at the step %s after it; SIGKILL -> s2 leads (term %d) and passes the kill in %s; test %s",
		step, at.Format("15:04:05"), lagMS(reached.Sub(at)), term2, lagMS(passed), time.Since(began).Round(time.Millisecond))
}

// eventLines returns the market events stream as "MARKET KIND HH:MM:SS
// term N", instants in UTC.
func eventLines(t *testing.T, c *cluster) []string {
	t.Helper()
	evs, err := events.NewStream(c.rdb, 0).Read(context.Background(), "", 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s %s term %d", e.Market, e.Kind, e.At.UTC().Format("15:04:05"), e.Term))
	}
	return out
}
