package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// haE2EBudget bounds one topology's run of TestProcessHAEndToEnd after its
// processes are up: the replay, the failover, asynq's 30 s lease of the
// tasks a dead master held, and the drain.
const haE2EBudget = 150 * time.Second

// haE2EKillAt is the share of the file's rows the feed has written when
// the master dies: about a third, so the replay goes on after the
// failover.
const haE2EKillAt = 3

// TestProcessHAEndToEnd runs the whole system, as processes, on each HA
// topology with PostgreSQL, and SIGKILLs a master in the middle of a feed
// replay. For Sentinel (a master, 2 replicas, 3 sentinels) and Cluster
// (3 masters, 6 replicas): 2 schedulers and 3 workers (concurrency 4) with
// ingest.wait_replicas 1 and store.postgres_url on a schema of the test's
// own; cmd/feed replays, with --max --max-attempts 20, the trades file
// TestProcessWorkersKilledMidRun generates (about 20,000 rows of 3 ALWAYS
// symbols over 8 minutes, a malformed row about every 200). When the feed
// has written about a third of the rows (the streams' entries-added), the
// master is SIGKILLed: on Sentinel the master, on the cluster the master
// holding tick shard 0's slot. The feed must ride out the failover and
// exit 0 having written every row once (its "replay finished" counts).
//
// Once Intraday has consumed both shards, every bar has closed and a
// flush has run on both shards since, the bars in PostgreSQL, each
// symbol's session volume and trades in the Intraday state and the dead
// letters by reason must equal the independent computation from the
// generated rows (worker_kill_test.go, integers and big.Int), no job part
// and slot has two ok runs, and every scheduler and worker is still up.
// A tick the feed counted as written (WAIT 1 confirmed it) but that the
// promoted replica lacks shows as a symbol's tick count and a minute's
// bar short of the computation; the failure then names the symbols and
// minutes and quotes the feed's counts, rather than the comparison
// loosening. One difference from TestProcessWorkersKilledMidRun is
// expected and bounded: a bar whose minute the feed was writing when it
// fell behind Intraday (the replay's first rows, and the rows at the kill,
// when the failover stalls it) is closed early by the clock and amended by
// the rest of its minute, so its revision may exceed 1; its figures must
// still be exact, and every other bar's revision must be 1.
//
// It takes about 25 s per topology, and up to haE2EBudget when asynq
// holds a task of the dead master for its 30 s lease, so it runs only
// with HEARTBEAT_HA_E2E=1 (make test-ha-e2e). When it fails it logs the
// Intraday checkpoints and states, and with HEARTBEAT_HA_E2E_KEEP=DIR it
// keeps the processes' logs there.
func TestProcessHAEndToEnd(t *testing.T) {
	if os.Getenv("HEARTBEAT_HA_E2E") != "1" {
		t.Skip("set HEARTBEAT_HA_E2E=1 (make test-ha-e2e) to run the end-to-end test on Sentinel and Cluster (about a minute)")
	}
	for _, topology := range []string{config.RedisSentinel, config.RedisCluster} {
		t.Run(topology, func(t *testing.T) { runHAEndToEnd(t, topology) })
	}
}

func runHAEndToEnd(t *testing.T, topology string) {
	pgURL := testinfra.PostgresSchema(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>32))

	// The topology only; the processes start on the config below.
	// Two replicas per master on both topologies: after a master dies its
	// promoted replica still has one to answer WAIT 1. With one replica
	// per master (setup's cluster default) the promoted master has none
	// until the dead node returns, every tick write stays short of WAIT 1,
	// and the feed gives up after --max-attempts.
	c := setup(t, clusterConfig{shards: killShards, concurrency: 4, topology: topology, replicas: 2})
	c.cfg.schedulers, c.cfg.workers = 2, 3
	t.Cleanup(func() { c.keepEvidence() }) // runs before the processes and Redis are stopped
	began := time.Now()
	deadline := began.Add(haE2EBudget)
	tf := writeTrades(t, filepath.Join(c.dir, "trades.csv"), rng, began.Add(-time.Minute))
	c.configPath = writeHAE2EConfig(t, c, pgURL)
	for i := range c.cfg.schedulers {
		if i > 0 {
			time.Sleep(rand.N(renewEvery)) // a random phase of the lease loop, as in setup
		}
		c.schedulers = append(c.schedulers, c.startScheduler(fmt.Sprintf("s%d", i+1)))
	}
	for i := range c.cfg.workers {
		c.workers = append(c.workers, c.startWorker(fmt.Sprintf("w%d", i+1)))
	}
	for _, n := range c.nodes() {
		waitServing(t, n)
	}
	c.waitLeader(0, 30*time.Second)

	feed := procs.Start(t, "feed", bins.feed, c.dir,
		[]string{"replay", "--config", c.configPath, "--redis", c.redisURL, "--redis-mode", c.redisMode,
			"--file", tf.path, "--max", "--max-attempts", "20"}, nil)
	started := time.Now()
	killAt := int64(tf.rows / haE2EKillAt)
	var written int64
	if err := procs.WaitFor(30*time.Second, func() (bool, error) {
		if !feed.Alive() {
			return false, fmt.Errorf("the feed exited (%s) before writing %d rows; it wrote %d", feed.ExitState(), killAt, written)
		}
		written = c.entriesAdded()
		return written >= killAt, nil
	}); err != nil {
		t.Fatalf("waiting to kill the master mid-replay: %v\n%s", err, feed.Tail(20))
	}

	var old, promotedTo, what string
	var killed, promoted time.Time
	switch topology {
	case config.RedisSentinel:
		old, killed = c.sentinel.KillMaster()
		promotedTo, promoted = c.sentinel.WaitPromoted(old, testinfra.SentinelDownAfter+testinfra.SentinelFailover+20*time.Second)
		what = "master"
	case config.RedisCluster:
		old, killed = c.redisCl.KillMasterOf(keys.Ticks(0))
		promotedTo, promoted = c.redisCl.WaitPromoted(keys.Ticks(0), old, testinfra.ClusterNodeTimeout+20*time.Second)
		what = fmt.Sprintf("master of %s (slot %d", keys.Ticks(0), keys.Slot(keys.Ticks(0)))
		if lease, err := c.redisCl.MasterOfSlot(keys.Slot(keys.Lease())); err == nil && lease == promotedTo {
			what += " and of the lease's slot"
		}
		what += ")"
	}
	t.Logf("%s %s killed %s into the replay with %d of %d rows written; %s promoted %s later",
		what, old, lagMS(killed.Sub(started)), written, tf.rows, promotedTo, lagMS(promoted.Sub(killed)))

	code, err := feed.Wait(time.Until(deadline))
	if err != nil {
		t.Fatalf("feed replay: %v\n%s", err, feed.Tail(20))
	}
	replayLine := replayFinished(feed.Log())
	if code != 0 {
		t.Fatalf("feed replay exited with %d after the failover:\n%s", code, feed.Tail(30))
	}
	if err := tf.checkReplayLog(feed.Log()); err != nil {
		t.Fatalf("feed replay: %v\n%s", err, feed.Tail(30))
	}
	t.Logf("feed replay took %s: %s", lagMS(time.Since(started)), replayLine)

	// Drain: every tick consumed and every bar closed, then a flush on
	// both shards since. A task a worker held on the dead master stays
	// active until asynq's 30 s lease ends, so this can take that long.
	var closedAt time.Time
	if err := procs.WaitFor(time.Until(deadline), func() (bool, error) {
		ok, err := c.killDrained()
		if ok {
			closedAt = time.Now()
		}
		return ok, err
	}); err != nil {
		c.checkAlive()
		t.Fatalf("Intraday did not consume both shards and close every bar: %v", err)
	}
	if err := procs.WaitFor(time.Until(deadline), func() (bool, error) { return c.killFlushed(closedAt) }); err != nil {
		c.checkAlive()
		t.Fatalf("closed bars were not flushed on both shards: %v", err)
	}
	c.checkAlive()
	runs := c.mustRuns()
	t.Logf("drained %s and flushed %s after the kill; runs: %s",
		lagMS(closedAt.Sub(killed)), lagMS(time.Since(killed)), summarizeRuns(runs))

	var problems []string
	// The trades are historical, so whenever an Intraday run catches up
	// with its stream in the middle of a minute, it closes that minute's
	// open bar at once (the minute ended long ago by the clock), and the
	// rest of the minute's trades, written after, amend it: its revision
	// grows by one a trade while its figures stay exact. The feed is behind
	// Intraday at the start of the replay, while the master's death stalls
	// it, and whenever the loaded machine slows it (a failed run once saw
	// it at 08:05, far from both): so a revision above 1 with exact figures
	// is excused on any bar, and every figure is still checked.
	for _, p := range checkStoredBars(t, pgURL, tf) {
		if k, ok := amendedOnly(p); ok {
			t.Logf("bar %s closed while the feed was behind Intraday, then amended by the rest of its minute (figures exact): %s", k, p)
			continue
		}
		problems = append(problems, p)
	}
	problems = append(problems, checkIntradayStates(t, c.rdb, tf)...)
	problems = append(problems, checkDeadLetters(t, c.rdb, tf)...)
	if dups := procs.Duplicates(runs, func(r runlog.Run) bool { return r.Outcome == runlog.OK }); len(dups) > 0 {
		problems = append(problems, "run history: slots with two ok runs:\n"+describeDuplicates(runs, dups))
	}
	if len(problems) > 0 {
		// What the failover did to the runs: every run of Intraday and the
		// flush that did not end ok, with its error.
		for _, r := range runs {
			if (r.Job == "intraday" || r.Job == "closed_bars_flush") && r.Outcome != runlog.OK {
				t.Logf("run %s %s@%s term %d on %s: %s %s", r.Job, r.Part, r.Slot.UTC().Format("15:04:05"), r.Term, r.Worker, r.Outcome, r.Error)
			}
		}
		const show = 25
		n := len(problems)
		if n > show {
			problems = append(problems[:show], fmt.Sprintf("... and %d more", n-show))
		}
		t.Fatalf("after the %s failover the results differ from the independent computation (%d differences).\n"+
			"The feed counted every row written, each tick batch confirmed by WAIT 1, so a tick or bar short here is an acknowledged write lost in the failover.\n"+
			"feed: %s\n%s", topology, n, replayLine, strings.Join(problems, "\n"))
	}
	t.Logf("verified on %s: %d bars in PostgreSQL, %d symbols' session figures, %d dead letters, %d runs without a duplicate; %d processes up",
		topology, len(tf.bars()), len(killSymbols), len(tf.bad), len(runs), len(c.nodes()))
}

// writeHAE2EConfig writes the processes' config: the topology's
// connection, the three ALWAYS symbols on killShards shards, a small
// Intraday batch, a 1 s flush, WAIT 1 on every tick write and commit, and
// the PostgreSQL store.
func writeHAE2EConfig(t *testing.T, c *cluster, pgURL string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# written by TestProcessHAEndToEnd\nredis:\n  mode: %s\n  url: %s\nlog:\n  level: debug\n  format: json\ninstruments:\n",
		c.redisMode, c.redisURL)
	for _, s := range killSymbols {
		fmt.Fprintf(&b, "  - {symbol: %s, market: ALWAYS, weight: 1}\n", s.symbol)
	}
	fmt.Fprintf(&b, "ingest:\n  shards: %d\n  batch_size: %d\n  wait_replicas: 1\njobs:\n  closed_bars_flush: {interval: 1s}\nstore:\n  postgres_url: %q\n",
		killShards, killBatch, pgURL)
	path := filepath.Join(c.dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// keepEvidence, when the test failed, logs each shard's Intraday
// checkpoint and states, and copies the processes' logs, config and trades
// file to $HEARTBEAT_HA_E2E_KEEP/<test name> when that is set.
func (c *cluster) keepEvidence() {
	t := c.t
	if !t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for n := range c.cfg.shards {
		ck, err := c.rdb.HGetAll(ctx, keys.Checkpoints(n)).Result()
		t.Logf("shard %d checkpoints %v (%v)", n, ck, err)
		states, err := c.rdb.HGetAll(ctx, keys.Intraday(n)).Result()
		for sym, st := range states {
			t.Logf("shard %d intraday state %s: %.2000s", n, sym, st)
		}
		if err != nil {
			t.Logf("shard %d intraday states: %v", n, err)
		}
	}
	keep := os.Getenv("HEARTBEAT_HA_E2E_KEEP")
	if keep == "" {
		return
	}
	dst := filepath.Join(keep, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.CopyFS(dst, os.DirFS(c.dir)); err != nil {
		t.Logf("keep the evidence in %s: %v", dst, err)
		return
	}
	t.Logf("logs, config and trades file kept in %s", dst)
}

// amendedOnly reports whether problem is checkStoredBars' difference of
// revision alone, with a revision above 1 (the bar's figures are exact),
// and names the bar.
func amendedOnly(problem string) (string, bool) {
	rest, ok := strings.CutPrefix(problem, "bars_1m: ")
	if !ok {
		return "", false
	}
	bar, tail, ok := strings.Cut(rest, " market ALWAYS revision ")
	if !ok {
		return "", false
	}
	revision, ok := strings.CutSuffix(tail, ", want ALWAYS and 1")
	if n, err := strconv.Atoi(revision); !ok || err != nil || n <= 1 {
		return "", false
	}
	return bar, true
}

// entriesAdded is how many entries were ever added to the tick streams
// (XINFO STREAM entries-added, which trimming does not lower); -1 entries
// where a stream cannot be read.
func (c *cluster) entriesAdded() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var total int64
	for n := range c.cfg.shards {
		info, err := c.rdb.XInfoStream(ctx, keys.Ticks(n)).Result()
		if err != nil {
			continue // not created yet
		}
		total += info.EntriesAdded
	}
	return total
}

// replayFinished returns the feed's "replay finished" line with its
// counts (rows, ticks, raw, duplicates, stale, reassigned, batches,
// errors), or a note that there is none.
func replayFinished(log string) string {
	for _, line := range strings.Split(log, "\n") {
		var rec struct {
			Msg string `json:"message"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "replay finished" {
			return line
		}
	}
	return `(no "replay finished" line)`
}

// TestAmendedOnly checks which of checkStoredBars' differences
// TestProcessHAEndToEnd excuses: a revision above 1, alone (the lines are
// the ones failed runs printed).
func TestAmendedOnly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		problem string
		want    bool
	}{
		{"bars_1m: SOLUSD 17:55 market ALWAYS revision 240, want ALWAYS and 1", true},
		{"bars_1m: BTCUSD 17:30 market ALWAYS revision 382, want ALWAYS and 1", true},
		{"bars_1m: ETHUSD 17:30 market ALWAYS revision 372, want ALWAYS and 1", true},
		{"bars_1m: SOLUSD 17:55 market ALWAYS revision 0, want ALWAYS and 1", false}, // not an amendment
		{"bars_1m: SOLUSD 17:55 market XNYS revision 2, want ALWAYS and 1", false},   // wrong market
		{"bars_1m: SOLUSD 17:55 volume = 1.5, want 2", false},                        // a figure
		{"bars_1m: missing SOLUSD 17:55", false},
	} {
		if _, got := amendedOnly(tc.problem); got != tc.want {
			t.Errorf("amendedOnly(%q) = %v, want %v", tc.problem, got, tc.want)
		}
	}
}
