package integration

import (
	"slices"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/runlog"
	"heartbeat/test/procs"
)

// TestProcessLiveSettings changes Intraday's cadence on a running
// 2-replica system with `scheduler set intraday interval=2s` (and, for the
// failover, catch_up=latest with a 5 s start deadline), then stops the
// leader with SIGTERM. Every part's slots are consecutive on the 1 s grid
// before the change and on the 2 s grid after it, with no slot missed at
// the boundary or across the failover and none run twice; the new leader
// shows the runtime settings on its status API.
func TestProcessLiveSettings(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 2})
	leader, term := c.waitLeader(0, 20*time.Second)
	c.waitSlots(term, 3)

	args := append([]string{"set", "intraday", "interval=2s", "catch_up=latest", "start_deadline=5s", "--note", "live change"}, c.redisArgs()...)
	code, out, _ := runToExit(t, bins.scheduler, c.dir, args, nil, 15*time.Second)
	changed := time.Now()
	if code != 0 || !strings.Contains(out, "set intraday: set catch_up=latest interval=2s start_deadline=5s") {
		t.Fatalf("scheduler set exited %d:\n%s", code, out)
	}
	// The leader's settings loop reads the change within a fast tick (1 s)
	// and applies it from the next slot boundary: 2 s slots from then on.
	c.waitEvenSlots(changed.Add(2*time.Second), 3)

	c.stop(leader)
	newLeader, newTerm := c.waitLeader(term, 10*time.Second)
	c.waitSlots(newTerm, 3)
	runs := c.mustRuns()

	if dups := procs.Duplicates(runs, procs.Executed); len(dups) > 0 {
		t.Errorf("%d slots ran more than once:\n%s", len(dups), describeDuplicates(runs, dups))
	}
	for part, slots := range intradaySlots(runs) {
		for i := 1; i < len(slots); i++ {
			prev, s := slots[i-1], slots[i]
			gap := s.Sub(prev)
			switch {
			case s.Before(changed) && gap != time.Second:
				t.Errorf("part %s: slots %s then %s before the change: want 1 s apart", part, clock(prev), clock(s))
			case !prev.Before(changed.Add(2*time.Second)) && (gap != 2*time.Second || s.UnixMilli()%2000 != 0):
				t.Errorf("part %s: slots %s then %s after the change: want 2 s apart on the 2 s grid", part, clock(prev), clock(s))
			case gap > 2*time.Second:
				t.Errorf("part %s: slots %s then %s at the change: a slot was missed", part, clock(prev), clock(s))
			}
		}
	}
	var job struct {
		Schedule string `json:"schedule"`
		Runtime  *struct {
			Settings map[string]string `json:"settings"`
			Actor    string            `json:"actor"`
		} `json:"runtime"`
	}
	if err := procs.GetJSON(newLeader.http, "/api/v1/jobs/intraday", &job); err != nil {
		t.Fatalf("status API of %s: %v", newLeader.name, err)
	}
	if job.Schedule != "every 2s, gate open" || job.Runtime == nil || job.Runtime.Settings["interval"] != "2s" || !strings.HasPrefix(job.Runtime.Actor, "cli:") {
		t.Errorf("new leader %s shows intraday as %+v", newLeader.name, job)
	}
	c.restart(leader)
	c.checkAlive()
}

// waitEvenSlots waits until every part ran n Intraday slots on the 2 s
// grid at or after from.
func (c *cluster) waitEvenSlots(from time.Time, n int) {
	c.t.Helper()
	err := procs.WaitFor(time.Duration(2*n+8)*time.Second, func() (bool, error) {
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		all := intradaySlots(runs)
		if len(all) < c.cfg.shards {
			return false, nil
		}
		for _, slots := range all {
			k := 0
			for _, s := range slots {
				if !s.Before(from) && s.UnixMilli()%2000 == 0 {
					k++
				}
			}
			if k < n {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		c.t.Fatalf("no %d Intraday slots on the 2 s grid after %s: %v", n, clock(from), err)
	}
}

// intradaySlots returns the distinct slots of executed Intraday runs per
// part, in order.
func intradaySlots(runs []runlog.Run) map[string][]time.Time {
	out := map[string][]time.Time{}
	for _, r := range runs {
		if r.Job == "intraday" && procs.Executed(r) {
			out[r.Part] = append(out[r.Part], r.Slot)
		}
	}
	for part, slots := range out {
		slices.SortFunc(slots, func(a, b time.Time) int { return a.Compare(b) })
		out[part] = slices.CompactFunc(slots, func(a, b time.Time) bool { return a.Equal(b) })
	}
	return out
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }
