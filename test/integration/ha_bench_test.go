package integration

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// BenchmarkHAFailover flags (after -args).
var haBenchKills = flag.Int("ha.kills", 5, "BenchmarkHAFailover: master kills per topology")

// BenchmarkHAFailover measures, per topology, the time from SIGKILL of a
// Redis master to the first Intraday enqueue on the new master: 2
// schedulers and 2 workers (2 shards, ALWAYS symbols, no feed) run on a
// Sentinel topology (a master, 2 replicas, 3 sentinels, down-after 1 s)
// and on a cluster (3 masters, 3 replicas, node timeout 2 s); -ha.kills
// times the master is SIGKILLed (Sentinel: the master; cluster: the
// master of the lease's slot) once Intraday runs on every shard, and
// rejoins as a replica before the next kill. From the run history it
// reports kill → promotion, kill → the first Intraday enqueue decided
// after the promotion, and kill → the start of the first Intraday run
// enqueued after the kill that started after the promotion (an upper
// bound of when the first enqueue landed on the new master), with the
// lease terms before and after. The target is down-after (or node
// timeout) + 3 s for that start.
//
//	go test ./test/integration -run '^$' -bench HAFailover -benchtime 1x -args -ha.kills 5
func BenchmarkHAFailover(b *testing.B) {
	fmt.Printf("machine: %d CPUs (%s), %s, redis-server %s, load average %s at start, %s\n", runtime.NumCPU(), cpuModel(),
		runtime.Version(), redisVersion(), loadAverage(), time.Now().UTC().Format(time.RFC3339))
	for _, tc := range []struct {
		topology string
		detect   time.Duration
	}{{config.RedisSentinel, testinfra.SentinelDownAfter}, {config.RedisCluster, testinfra.ClusterNodeTimeout}} {
		b.Run(tc.topology, func(b *testing.B) {
			r := benchFailover(b, tc.topology)
			bound := tc.detect + 3*time.Second
			promote, enqueue, start := procs.NewLagStats(r.promoted), procs.NewLagStats(r.enqueued), procs.NewLagStats(r.started)
			over := 0
			for _, d := range r.started {
				if d > bound {
					over++
				}
			}
			fmt.Printf("%s, %d kills (bound %s):\n| from the kill to | min | median | max |\n|---|---|---|---|\n"+
				"| replica promoted | %s | %s | %s |\n| first Intraday enqueue decided after the promotion | %s | %s | %s |\n| first Intraday run on the new master started | %s | %s | %s |\n"+
				"starts over the bound: %d of %d; per kill: %s\n",
				tc.topology, len(r.enqueued), bound,
				lagMS(slices.Min(r.promoted)), lagMS(promote.P50), lagMS(promote.Max),
				lagMS(slices.Min(r.enqueued)), lagMS(enqueue.P50), lagMS(enqueue.Max),
				lagMS(slices.Min(r.started)), lagMS(start.P50), lagMS(start.Max),
				over, len(r.enqueued), strings.Join(r.detail, "; "))
			b.ReportMetric(ms(enqueue.P50), "enqueue-p50-ms")
			b.ReportMetric(ms(start.P50), "start-p50-ms")
			b.ReportMetric(ms(start.Max), "start-max-ms")
			b.ReportMetric(ms(promote.P50), "promote-p50-ms")
			b.ReportMetric(float64(over), "over-bound")
		})
	}
}

type failoverTimes struct {
	promoted, enqueued, started []time.Duration
	detail                      []string
}

func benchFailover(b *testing.B, topology string) failoverTimes {
	c := setup(b, clusterConfig{schedulers: 2, workers: 2, topology: topology})
	_, term := c.waitLeader(0, 30*time.Second)
	var r failoverTimes
	for i := range *haBenchKills {
		// Steady before each kill: Intraday ran on every shard since the
		// previous recovery.
		steady := time.Now()
		c.waitRunsThrough(steady.Truncate(intraday).Add(2*intraday), 2*intraday+30*time.Second)
		var old string
		var killed, promoted time.Time
		switch topology {
		case config.RedisSentinel:
			old, killed = c.sentinel.KillMaster()
			_, promoted = c.sentinel.WaitPromoted(old, 30*time.Second)
		default:
			old, killed = c.redisCl.KillMasterOf(keys.Lease())
			_, promoted = c.redisCl.WaitPromoted(keys.Lease(), old, 30*time.Second)
		}
		// The first Intraday enqueue on the new master: a run enqueued
		// after the kill that started after the promotion (no task reached
		// the dead master; on a cluster, tasks enqueued while the lease was
		// still valid start before the promotion), and the first enqueue
		// decided after the promotion. enqueued_at is the scheduler's
		// decision instant: on Sentinel an enqueue decided while the master
		// is dead blocks in the client until the promotion, so the run's
		// start bounds when the enqueue landed.
		var first, decided runlog.Run
		if err := procs.WaitFor(30*time.Second, func() (bool, error) {
			runs, err := c.runs()
			if err != nil {
				return false, err
			}
			first, decided = runlog.Run{}, runlog.Run{}
			for _, run := range runs {
				if run.Job != "intraday" || !run.EnqueuedAt.After(killed) {
					continue
				}
				if run.StartedAt.After(promoted) && (first.StartedAt.IsZero() || run.StartedAt.Before(first.StartedAt)) {
					first = run
				}
				if run.EnqueuedAt.After(promoted) && (decided.EnqueuedAt.IsZero() || run.EnqueuedAt.Before(decided.EnqueuedAt)) {
					decided = run
				}
			}
			return !first.StartedAt.IsZero() && !decided.EnqueuedAt.IsZero(), nil
		}); err != nil {
			c.checkAlive()
			b.Fatalf("kill %d: no Intraday run enqueued after the kill started after the promotion: %v", i+1, err)
		}
		r.promoted = append(r.promoted, promoted.Sub(killed))
		r.enqueued = append(r.enqueued, decided.EnqueuedAt.Sub(killed))
		r.started = append(r.started, first.StartedAt.Sub(killed))
		r.detail = append(r.detail, fmt.Sprintf("#%d term %d→%d, promoted %s, enqueue %s, start %s", i+1, term, max(first.Term, decided.Term),
			lagMS(promoted.Sub(killed)), lagMS(decided.EnqueuedAt.Sub(killed)), lagMS(first.StartedAt.Sub(killed))))
		term = max(term, first.Term, decided.Term)
		switch topology {
		case config.RedisSentinel:
			c.sentinel.Rejoin(old, 60*time.Second)
		default:
			c.redisCl.Rejoin(old, 60*time.Second)
		}
	}
	c.checkAlive()
	return r
}
