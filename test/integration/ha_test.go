package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
	"heartbeat/test/procs"
)

// The Redis HA tests run the system as separate processes on a Redis
// Sentinel topology and on a Redis Cluster that the tests start
// (internal/testinfra), in the connection mode of each.

// haShards spreads the tick shards over all three masters of the test
// cluster (docs/DEPLOY.md: K = 4 is the smallest K that does).
const haShards = 4

// clusterReload is the slot-map reload interval of Heartbeat's cluster
// client (internal/node clusterReloadInterval): after a master dies, the
// client finds the promoted replica within it.
const clusterReload = 2 * time.Second

// haSymbols trade around the clock and hash onto every one of the
// haShards shards (checked by haInstruments).
var haSymbols = []string{"BTCUSD", "ETHUSD", "SOLUSD", "XRPUSD", "ADAUSD", "DOTUSD", "LTCUSD", "BCHUSD"}

// haInstruments is the instruments YAML of haSymbols, all on the ALWAYS
// market; it fails the test if some shard gets no symbol.
func haInstruments(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	covered := map[int]bool{}
	for _, s := range haSymbols {
		fmt.Fprintf(&b, "\n  - {symbol: %s, market: ALWAYS, weight: 1}", s)
		covered[ticks.Shard(s, haShards)] = true
	}
	if len(covered) != haShards {
		t.Fatalf("haSymbols cover shards %v of %d", covered, haShards)
	}
	return b.String()
}

// checkFeedReachedShards checks every symbol's ticks went through
// Intraday into its shard's state, on whichever master holds the shard.
func (c *cluster) checkFeedReachedShards() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range haSymbols {
		n := ticks.Shard(s, haShards)
		if ok, err := c.rdb.HExists(ctx, keys.Intraday(n), s).Result(); err != nil || !ok {
			c.t.Errorf("%s: no intraday state in %s (%v): the feed's ticks did not reach shard %d", s, keys.Intraday(n), err, n)
		}
	}
}

// TestProcessHAClusterRuns runs 2 schedulers, 2 workers and the feed on a
// 3-master, 3-replica Redis Cluster in cluster mode: Intraday runs every
// slot of a window exactly once on every shard, the feed's ticks reach
// every shard, and the status page, the API and asynqmon answer.
func TestProcessHAClusterRuns(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 2, shards: haShards, topology: config.RedisCluster, feed: true, instruments: haInstruments(t)})
	leader, _ := c.waitLeader(0, 30*time.Second)
	from := time.Now().Truncate(intraday).Add(intraday)
	to := from.Add(6 * intraday)
	runs := c.waitRunsThrough(to, 6*intraday+15*time.Second)
	w := classify(runs, "intraday", intraday, from, to)
	t.Logf("window %s..%s: %s", from.Format("15:04:05"), to.Format("15:04:05"), w)
	if len(w.parts) != haShards {
		t.Fatalf("intraday ran on parts %v, want %d parts", w.parts, haShards)
	}
	if len(w.duplicated) > 0 || len(w.noRecord) > 0 {
		t.Errorf("window: %d slots ran more than once %v, %d slots have no run %v", len(w.duplicated), w.duplicated, len(w.noRecord), w.noRecord)
	}
	if dups := procs.Duplicates(runs, procs.Executed); len(dups) > 0 {
		t.Errorf("%d slots ran more than once:\n%s", len(dups), describeDuplicates(runs, dups))
	}

	c.checkFeedReachedShards()
	// The operator controls, as commands, in cluster mode: each changes
	// the pause hash and appends to the audit stream (two slots).
	for _, action := range []string{"pause", "resume", "trigger"} {
		code, out, _ := runToExit(t, bins.scheduler, c.dir, append([]string{action, "session_volume", "--note", "ha test"}, c.redisArgs()...), nil, 30*time.Second)
		if code != 0 {
			t.Fatalf("scheduler %s on the cluster exited %d:\n%s", action, code, out)
		}
	}
	var audit struct {
		Audit []struct {
			Action string `json:"action"`
			Job    string `json:"job"`
		} `json:"audit"`
	}
	if err := procs.GetJSON(leader.http, "/api/v1/audit", &audit); err != nil {
		t.Fatalf("GET /api/v1/audit: %v", err)
	}
	var actions []string
	for _, e := range audit.Audit {
		actions = append(actions, e.Action+" "+e.Job)
	}
	if got := strings.Join(actions, ", "); !strings.Contains(got, "pause session_volume") || !strings.Contains(got, "resume session_volume") || !strings.Contains(got, "trigger session_volume") {
		t.Errorf("audit after pause, resume, trigger on the cluster: %s", got)
	}
	// The operator site of the leader: status page, API, asynqmon (its
	// queue list runs asynq's memory usage script on the cluster).
	for _, path := range []string{"/", "/api/v1/status", "/api/v1/runs", "/api/v1/workers", "/api/v1/replicas",
		"/monitoring/", "/monitoring/api/queues", "/monitoring/api/queues/critical", "/monitoring/api/redis_info"} {
		code, body, err := httpGet(leader.http, path)
		if err != nil || code != http.StatusOK {
			t.Errorf("GET %s on %s = %d, %v: %.300s", path, leader.name, code, err, body)
		}
	}
	// Live figures: the replica's hub reads each shard's updates stream on
	// the node that holds it.
	checkLiveFigures(t, leader.http, haSymbols, 30*time.Second)
	c.checkAlive()
}

// TestProcessHASentinelFailover runs the system on a master, 2 replicas
// and 3 sentinels in sentinel mode, then SIGKILLs the master: every
// process stays up, runs resume within down-after + 3 s (+ slack) of the
// promotion, no slot runs twice, and every slot that did not run is
// counted missed.
func TestProcessHASentinelFailover(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 2, shards: haShards, topology: config.RedisSentinel, feed: true, instruments: haInstruments(t)})
	c.waitLeader(0, 30*time.Second)
	from := time.Now().Truncate(intraday).Add(intraday)
	c.waitRunsThrough(from.Add(2*intraday), 2*intraday+15*time.Second)

	old, killed := c.sentinel.KillMaster()
	promotedTo, promoted := c.sentinel.WaitPromoted(old, testinfra.SentinelDownAfter+testinfra.SentinelFailover+10*time.Second)
	bound := testinfra.SentinelDownAfter + 3*time.Second + slack
	resumed := c.waitResumed(killed, promoted, bound)
	t.Logf("master %s killed; %s promoted after %s; Intraday ran again on every shard %s after the promotion (bound %s), %s after the kill",
		old, promotedTo, lagMS(promoted.Sub(killed)), lagMS(resumed.Sub(promoted)), bound, lagMS(resumed.Sub(killed)))
	c.checkFailover(from, resumed)
}

// TestProcessHAClusterFailover runs the system on a 3-master, 3-replica
// cluster and SIGKILLs the master holding the lease's slot (with asynq's
// queue set and shard 0): its replica is promoted, runs resume unaided
// within the client's slot-map reload + 3 s (+ slack) of the promotion,
// no slot runs twice and every slot that did not run is counted missed.
func TestProcessHAClusterFailover(t *testing.T) {
	c := setup(t, clusterConfig{schedulers: 2, workers: 2, shards: haShards, topology: config.RedisCluster, feed: true, instruments: haInstruments(t)})
	c.waitLeader(0, 30*time.Second)
	from := time.Now().Truncate(intraday).Add(intraday)
	c.waitRunsThrough(from.Add(2*intraday), 2*intraday+15*time.Second)

	slot := keys.Slot(keys.Lease())
	old, killed := c.redisCl.KillMasterOf(keys.Lease())
	promotedTo, promoted := c.redisCl.WaitPromoted(keys.Lease(), old, testinfra.ClusterNodeTimeout+15*time.Second)
	bound := clusterReload + 3*time.Second + slack
	resumed := c.waitResumed(killed, promoted, bound)
	t.Logf("master %s of slot %d (%s) killed; %s promoted after %s; Intraday ran again on every shard %s after the promotion (bound %s), %s after the kill",
		old, slot, keys.Lease(), promotedTo, lagMS(promoted.Sub(killed)), lagMS(resumed.Sub(promoted)), bound, lagMS(resumed.Sub(killed)))
	c.checkFailover(from, resumed)
}

// waitResumed waits until Intraday has started a run of a slot after the
// kill on every shard, and fails the test if that came later than bound
// after the promotion; it returns when the last shard resumed.
func (c *cluster) waitResumed(killed, promoted time.Time, bound time.Duration) time.Time {
	c.t.Helper()
	var resumed time.Time
	err := procs.WaitFor(bound+10*time.Second, func() (bool, error) {
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		first := map[string]time.Time{}
		for _, r := range runs {
			if r.Job == "intraday" && r.Outcome == runlog.OK && r.Slot.After(killed) {
				if f, ok := first[r.Part]; !ok || r.StartedAt.Before(f) {
					first[r.Part] = r.StartedAt
				}
			}
		}
		if len(first) < c.cfg.shards {
			return false, nil
		}
		resumed = time.Time{}
		for _, f := range first {
			if f.After(resumed) {
				resumed = f
			}
		}
		return true, nil
	})
	if err != nil {
		c.checkAlive()
		c.t.Fatalf("Intraday did not resume on all %d shards after the failover: %v", c.cfg.shards, err)
	}
	if d := resumed.Sub(promoted); d > bound {
		c.t.Errorf("Intraday resumed on every shard %s after the promotion, want <= %s", d, bound)
	}
	return resumed
}

// checkFailover waits for a few slots after resumed, then checks every
// Intraday slot from from on: none ran twice, and each one that did not
// run has a run record saying why, is counted missed by a scheduler, or
// is still held by asynq (a task a worker took while its Redis died
// stays active until asynq's 30 s lease expires; then it is recovered
// and recorded). Every process is still up.
//
// A run attempt that failed because Redis was unreachable (recorded
// error, for instance "run lock: acquire lock ...: connection refused") and
// that asynq then retried successfully is a retry, not a second
// execution: duplicates are slots with more than one ok run. Retries are
// logged.
func (c *cluster) checkFailover(from, resumed time.Time) {
	c.t.Helper()
	to := resumed.Truncate(intraday).Add(3 * intraday)
	runs := c.waitRunsThrough(to, 3*intraday+15*time.Second)
	w := classify(runs, "intraday", intraday, from, to)
	var missed float64
	for _, s := range c.schedulers {
		m, err := procs.Scrape(s.http)
		if err != nil {
			c.t.Fatalf("scrape %s: %v", s.name, err)
		}
		missed += m.Sum(slotsTotal, "hb_job", "intraday", "outcome", "missed")
	}
	lost, held, desc := c.taskStates("intraday", w.noRecordIDs)
	c.t.Logf("slots %s..%s: %s; schedulers counted %g intraday slots missed; of the slots without a run, asynq holds %d (%v) and knows nothing of %d",
		from.Format("15:04:05"), to.Format("15:04:05"), w, missed, len(held), held, len(lost))
	if dups := procs.Duplicates(runs, func(r runlog.Run) bool { return r.Outcome == runlog.OK }); len(dups) > 0 {
		c.t.Errorf("%d slots ran ok more than once:\n%s", len(dups), describeDuplicates(runs, dups))
	}
	if retried := procs.Duplicates(runs, procs.Executed); len(retried) > 0 {
		c.t.Logf("%d slots were retried after a failed attempt (error, then ok):\n%s", len(retried), describeDuplicates(runs, retried))
	}
	if float64(len(lost)) > missed {
		c.t.Errorf("%d slots have no run and no task in asynq, but only %g were counted missed: %v\nasynq's view of the slots without a run:\n%s",
			len(lost), missed, lost, desc)
	}
	c.checkFeedReachedShards()
	c.checkAlive()
}

// waitRunsThrough waits until Intraday has run the slot at or after to on
// every shard, and returns the run history.
func (c *cluster) waitRunsThrough(to time.Time, timeout time.Duration) []runlog.Run {
	c.t.Helper()
	var runs []runlog.Run
	err := procs.WaitFor(timeout, func() (bool, error) {
		var err error
		if runs, err = c.runs(); err != nil {
			return false, err
		}
		last := map[string]time.Time{}
		for _, r := range runs {
			if r.Job == "intraday" && r.Slot.After(last[r.Part]) {
				last[r.Part] = r.Slot
			}
		}
		if len(last) < c.cfg.shards {
			return false, nil
		}
		for _, l := range last {
			if l.Before(to) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		c.checkAlive()
		c.t.Fatalf("Intraday did not run through %s on all %d shards: %v", to.Format("15:04:05"), c.cfg.shards, err)
	}
	return runs
}

// window is what happened to each slot of a job in [from, to).
type window struct {
	parts      []string
	slots      int      // part × slot pairs
	once       int      // ran ok exactly once
	duplicated []string // ran ok more than once
	notRun     []string // run records, none ok (expired, skipped_overlap, error)
	noRecord   []string // no run record at all
	// noRecordIDs are the asynq task IDs of noRecord's slots.
	noRecordIDs []string
}

func (w window) String() string {
	return fmt.Sprintf("%d part-slots: %d ran ok once, %d ok twice or more, %d recorded not ok %v, %d without a run %v",
		w.slots, w.once, len(w.duplicated), len(w.notRun), w.notRun, len(w.noRecord), w.noRecord)
}

// classify sorts every slot of job in [from, to) on every part seen in
// runs by what its runs say.
func classify(runs []runlog.Run, job string, interval time.Duration, from, to time.Time) window {
	type key struct {
		part string
		slot int64
	}
	executed, recorded := map[key]int{}, map[key]bool{}
	partSet := map[string]bool{}
	for _, r := range runs {
		if r.Job != job {
			continue
		}
		partSet[r.Part] = true
		k := key{r.Part, r.Slot.UnixMilli()}
		recorded[k] = true
		if r.Outcome == runlog.OK {
			executed[k]++
		}
	}
	var w window
	for p := range partSet {
		w.parts = append(w.parts, p)
	}
	sort.Strings(w.parts)
	for _, p := range w.parts {
		for s := from; s.Before(to); s = s.Add(interval) {
			k := key{p, s.UnixMilli()}
			name := p + "@" + s.UTC().Format("15:04:05")
			w.slots++
			switch n := executed[k]; {
			case n == 1:
				w.once++
			case n > 1:
				w.duplicated = append(w.duplicated, name)
			case recorded[k]:
				w.notRun = append(w.notRun, name)
			default:
				w.noRecord = append(w.noRecord, name)
				w.noRecordIDs = append(w.noRecordIDs, fmt.Sprintf("%s:%s:%d", job, p, s.UnixMilli()))
			}
		}
	}
	return w
}

// httpGet fetches path from addr.
func httpGet(addr, path string) (int, string, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// taskStates asks asynq about each task ID of job's queue: lost are the
// IDs asynq does not know (never enqueued, or lost), held the ones it
// still holds (active, pending, retry...); desc describes each.
func (c *cluster) taskStates(job string, ids []string) (lost, held []string, desc string) {
	c.t.Helper()
	spec, ok := jobs.Lookup(jobs.Name(job))
	if !ok {
		c.t.Fatalf("unknown job %s", job)
	}
	var conn asynq.RedisConnOpt
	switch c.redisMode {
	case config.RedisSentinel:
		conn = asynq.RedisFailoverClientOpt{MasterName: testinfra.MasterName, SentinelAddrs: sentinelAddrs(c.sentinel)}
	case config.RedisCluster:
		conn = asynq.RedisClusterClientOpt{Addrs: c.redisCl.Addrs()}
	default:
		conn = asynq.RedisClientOpt{Addr: c.redis.Addr()}
	}
	insp := asynq.NewInspector(conn)
	defer insp.Close()
	var b strings.Builder
	for _, id := range ids {
		info, err := insp.GetTaskInfo(spec.Queue, id)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound):
			lost = append(lost, id)
			fmt.Fprintf(&b, "  %s: not in asynq\n", id)
		case err != nil:
			c.t.Fatalf("inspect task %s: %v", id, err)
		default:
			held = append(held, id+" "+info.State.String())
			fmt.Fprintf(&b, "  %s: state %s, retried %d, last error %q\n", id, info.State, info.Retried, info.LastErr)
		}
	}
	return lost, held, b.String()
}

func sentinelAddrs(s *testinfra.Sentinel) []string {
	out := make([]string, len(s.Sentinels))
	for i, sen := range s.Sentinels {
		out[i] = sen.Addr()
	}
	return out
}
