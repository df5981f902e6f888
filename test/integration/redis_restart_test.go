package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"heartbeat/internal/runlog"
	"heartbeat/test/procs"
)

// TestProcessRedisRestart kills redis-server and starts it again on the same port.
// Redis runs with the append-only file (fsync always), as production would:
// the term counter, the slot checkpoints and the reserved task IDs survive,
// so the test can check that terms keep growing and that the new leader
// counts the outage's slots as missed from the last checkpoint. (Without
// AOF the term counter restarts at 1 and the checkpoints are gone; the
// scheduler then falls back to the slot it remembers in memory.)
//
// Every process must recover on its own: runs resume, a leader exists
// again, both schedulers are ready, every worker runs tasks, nothing
// exited, and the leader's heartbeat_slots_total{outcome="missed"} grew.
func TestProcessRedisRestart(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 3, aof: true})
	_, term := c.waitLeader(0, 20*time.Second)
	before := map[string]procs.Metrics{}
	for _, n := range c.schedulers {
		m, err := procs.Scrape(n.http)
		if err != nil {
			t.Fatalf("scrape %s: %v", n.name, err)
		}
		before[n.name] = m
	}

	c.redis.Kill()
	down := time.Now()
	// Hold the outage until every scheduler has noticed it: not ready and
	// not leading.
	err := procs.WaitFor(15*time.Second, func() (bool, error) {
		for _, n := range c.schedulers {
			ok, err := ready(n.http)
			if err != nil || ok {
				return false, err
			}
			m, err := procs.Scrape(n.http)
			if err != nil || m["heartbeat_scheduler_leader"] != 0 {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("schedulers did not report the Redis outage: %v", err)
	}
	c.redis.Start()
	up := time.Now()
	t.Logf("Redis down for %s", lagMS(up.Sub(down)))

	leader, newTerm := c.waitLeader(term, 20*time.Second)
	resumed := time.Now()
	t.Logf("leader again: %s, term %d (was %d), %s after Redis came back", leader.name, newTerm, term, lagMS(resumed.Sub(up)))
	if err := procs.WaitFor(10*time.Second, func() (bool, error) {
		for _, n := range c.schedulers {
			ok, err := ready(n.http)
			if err != nil {
				return false, fmt.Errorf("%s: %w", n.name, err)
			}
			if !ok {
				return false, fmt.Errorf("%s not ready", n.name)
			}
		}
		return true, nil
	}); err != nil {
		t.Errorf("schedulers not ready after Redis came back: %v", err)
	}
	if err := procs.WaitFor(15*time.Second, func() (bool, error) {
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, r := range runs {
			if r.StartedAt.After(up) && procs.Executed(r) {
				seen[r.Worker] = true
			}
		}
		for _, n := range c.workers {
			if !seen[n.name] {
				return false, fmt.Errorf("%s has run nothing since Redis came back", n.name)
			}
		}
		return true, nil
	}); err != nil {
		t.Errorf("workers did not resume: %v", err)
	}

	// The leader counts the outage's slots as missed.
	var grown float64
	if err := procs.WaitFor(10*time.Second, func() (bool, error) {
		m, err := procs.Scrape(leader.http)
		if err != nil {
			return false, err
		}
		grown = m.Sum(slotsTotal, "outcome", "missed") - before[leader.name].Sum(slotsTotal, "outcome", "missed")
		return grown > 0, nil
	}); err != nil {
		t.Errorf("heartbeat_slots_total{outcome=\"missed\"} did not grow on the leader %s: %v", leader.name, err)
	}
	runs := c.mustRuns()
	var outage int
	for _, e := range edges(runs, "intraday", intraday, term, newTerm) {
		t.Logf("intraday part %s: last slot before the outage %s, first after %s: %d slots not run",
			e.part, e.lastOld.Format("15:04:05"), e.firstNew.Format("15:04:05"), e.missed)
		outage += e.missed
	}
	var total float64
	for _, n := range c.schedulers {
		m, err := procs.Scrape(n.http)
		if err != nil {
			t.Fatalf("scrape %s: %v", n.name, err)
		}
		d := m.Sum(slotsTotal, "hb_job", "intraday", "outcome", "missed") -
			before[n.name].Sum(slotsTotal, "hb_job", "intraday", "outcome", "missed")
		total += d
		t.Logf("%s: intraday missed +%g, all jobs missed +%g", n.name, d,
			m.Sum(slotsTotal, "outcome", "missed")-before[n.name].Sum(slotsTotal, "outcome", "missed"))
	}
	t.Logf("intraday: %d slot parts not run (history) vs %g counted missed (metrics, both schedulers)", outage, total)

	if dups := procs.Duplicates(runs, func(r runlog.Run) bool { return r.Outcome == runlog.OK }); len(dups) > 0 {
		t.Errorf("%d slots ran ok more than once:\n%s", len(dups), describeDuplicates(runs, dups))
	}
	if dups := procs.Duplicates(runs, procs.Executed); len(dups) > 0 {
		t.Logf("slots run more than once counting failed runs (retries of runs that failed while Redis was down):\n%s",
			describeDuplicates(runs, dups))
	}
	c.checkAlive()
}

// ready asks a process's /readyz.
func ready(addr string) (bool, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/readyz")
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusServiceUnavailable:
		return false, nil
	}
	return false, fmt.Errorf("GET /readyz: %s", resp.Status)
}
