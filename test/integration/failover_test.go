package integration

import (
	"context"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"heartbeat/internal/config"
	"heartbeat/internal/scheduler"
	"heartbeat/test/procs"
)

// The scheduler settings these tests run with: the generated config sets
// none of them, so the processes use internal/config's defaults (the
// same as config.yaml's).
var (
	leaseTTL   = config.Default().Scheduler.LeaseTTL
	renewEvery = config.Default().Scheduler.RenewEvery
)

const (
	intraday = time.Second // Intraday's interval
	// slack absorbs a noisy 2-core machine in bounds the design sets.
	slack = 600 * time.Millisecond
)

// The cluster tests do not call t.Parallel: they time failovers to a few
// hundred milliseconds, and each runs six processes on a 2-core machine.

// TestProcessLeaderKilled kills the leading scheduler with SIGKILL: the standby
// takes the lease once it expires and enqueues from the next slot on, and
// no slot runs twice.
func TestProcessLeaderKilled(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 3})
	leader, term := c.waitLeader(0, 20*time.Second)
	standby := c.schedulers[0]
	if standby == leader {
		standby = c.schedulers[1]
	}

	// waitLeader returns just after a slot's runs: kill at a random instant
	// of the second instead, so that repeated runs sample every phase of
	// the slot and lease-renewal cycles.
	time.Sleep(rand.N(time.Second))
	watch := c.watchLease(term)
	killed := time.Now()
	if err := leader.proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", leader.name, err)
	}
	newLeader, newTerm := c.waitLeader(term, 10*time.Second)
	acquired := watch.stop()
	if acquired.IsZero() {
		t.Fatalf("the lease watch never saw term %d", newTerm)
	}
	if newLeader != standby {
		t.Fatalf("lease taken by %s (term %d), want the standby %s", newLeader.name, newTerm, standby.name)
	}
	c.waitSlots(newTerm, 3)
	runs := c.mustRuns()
	firstEnqueue, firstStart, _ := termRuns(runs, newTerm)

	takeover := acquired.Sub(killed)
	toEnqueue := firstEnqueue.Sub(killed)
	toStart := firstStart.Sub(killed)
	t.Logf("kill -> lease taken by %s: %s; -> first enqueue of term %d: %s; -> first run started: %s (target: enqueue within 3 s)",
		standby.name, lagMS(takeover), newTerm, lagMS(toEnqueue), lagMS(toStart))
	for _, e := range edges(runs, "intraday", intraday, term, newTerm) {
		t.Logf("intraday part %s: last slot of term %d %s, first of term %d %s: %d slots missed",
			e.part, term, e.lastOld.Format("15:04:05"), newTerm, e.firstNew.Format("15:04:05"), e.missed)
	}

	// The lease expires leaseTTL after the last renewal, at most renewEvery
	// before the kill; a standby whose attempt fails retries right after
	// the holder's remaining TTL, so it takes over as the lease expires.
	if takeover > leaseTTL+slack {
		t.Errorf("standby took the lease %s after the kill, want <= %s (lease TTL + slack)", takeover, leaseTTL+slack)
	}
	// A new leader enqueues the first slot whose enqueue instant (slot -
	// enqueue_ahead) follows its acquisition: at most one interval later.
	if d := firstEnqueue.Sub(acquired); d > intraday+slack {
		t.Errorf("new leader enqueued %s after taking the lease, want <= %s (one slot + slack)", d, intraday+slack)
	}
	if toEnqueue > 3*time.Second {
		// Worst case by design: lease TTL + 1 ms + one slot = 2.5 s with the
		// defaults. Checked above piece by piece; reported here.
		t.Logf("NOTE: kill -> first enqueue %s exceeds the 3 s target (design worst case %s)",
			lagMS(toEnqueue), lagMS(leaseTTL+time.Millisecond+intraday))
	}
	if dups := procs.Duplicates(runs, procs.Executed); len(dups) > 0 {
		t.Errorf("%d slots ran more than once:\n%s", len(dups), describeDuplicates(runs, dups))
	}
	for _, n := range c.nodes() {
		if n != leader && !n.proc.Alive() {
			t.Errorf("%s exited: %s", n.name, n.proc.ExitState())
		}
	}
}

// TestProcessLeaderStopped stops the leading scheduler with SIGTERM, twice: it
// releases the lease on the way out, the standby takes over at its next
// attempt, and at most one Intraday slot is missed per part.
func TestProcessLeaderStopped(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 3})
	leader, term := c.waitLeader(0, 20*time.Second)
	for round := 1; round <= 2; round++ {
		watch := c.watchLease(term)
		stopped := time.Now()
		c.stop(leader)
		exited := time.Now()
		if name, tm, err := c.holder(); err != nil {
			t.Fatalf("read lease: %v", err)
		} else if name == leader.name && tm == term {
			t.Fatalf("round %d: %s exited still holding the lease (term %d): not released", round, leader.name, term)
		}
		newLeader, newTerm := c.waitLeader(term, 10*time.Second)
		acquired := watch.stop()
		if acquired.IsZero() {
			t.Fatalf("round %d: the lease watch never saw term %d", round, newTerm)
		}
		c.waitSlots(newTerm, 2)
		runs := c.mustRuns()
		t.Logf("round %d: SIGTERM %s -> exit %s -> lease taken by %s (term %d) %s after the signal",
			round, leader.name, lagMS(exited.Sub(stopped)), newLeader.name, newTerm, lagMS(acquired.Sub(stopped)))
		es := edges(runs, "intraday", intraday, term, newTerm)
		if len(es) != c.cfg.shards {
			t.Fatalf("round %d: intraday runs on %d parts, want %d", round, len(es), c.cfg.shards)
		}
		for _, e := range es {
			t.Logf("round %d: intraday part %s: last slot of term %d %s, first of term %d %s: %d missed",
				round, e.part, term, e.lastOld.Format("15:04:05.000"), newTerm, e.firstNew.Format("15:04:05.000"), e.missed)
			if e.missed > 1 {
				t.Errorf("round %d: intraday part %s missed %d slots between terms %d and %d, want <= 1", round, e.part, e.missed, term, newTerm)
			}
		}
		c.restart(leader)
		leader, term = newLeader, newTerm
	}
	runs := c.mustRuns()
	if dups := procs.Duplicates(runs, procs.Executed); len(dups) > 0 {
		t.Errorf("%d slots ran more than once:\n%s", len(dups), describeDuplicates(runs, dups))
	}
	c.checkAlive()
}

// leaseWatch polls the lease in Redis to time a change of leader to a few
// milliseconds.
type leaseWatch struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	acquired time.Time // first instant a term above the old one was seen
}

// watchLease starts polling the lease every 5 ms until a term above old
// appears.
func (c *cluster) watchLease(old int64) *leaseWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &leaseWatch{cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			_, term, err := scheduler.Holder(ctx, c.rdb)
			if err == nil && term > old {
				w.acquired = time.Now()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	c.t.Cleanup(func() { w.stop() })
	return w
}

// stop ends the watch and returns when the new term was first seen (zero
// if never).
func (w *leaseWatch) stop() time.Time {
	w.cancel()
	w.wg.Wait()
	return w.acquired
}

// waitSlots waits until n Intraday slots of term have run on every part,
// so the history covers both sides of a change of leader.
func (c *cluster) waitSlots(term int64, n int) {
	c.t.Helper()
	err := procs.WaitFor(time.Duration(n+5)*time.Second, func() (bool, error) {
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		count := map[string]int{}
		for _, r := range runs {
			if r.Job == "intraday" && r.Term == term && procs.Executed(r) {
				count[r.Part]++
			}
		}
		if len(count) < c.cfg.shards {
			return false, nil
		}
		for _, k := range count {
			if k < n {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		c.t.Fatalf("term %d did not run %d intraday slots on every part: %v", term, n, err)
	}
}
