package integration

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// clusterConfig says what a test cluster runs.
type clusterConfig struct {
	schedulers  int
	workers     int
	concurrency int // per worker
	shards      int
	aof         bool     // Redis with the append-only file (data survives a restart)
	instruments string   // YAML list; empty: two ALWAYS-market symbols
	workerEnv   []string // extra environment of the workers (HEARTBEAT_WORKER_...)
	// schedulerEnv and feedEnv are extra environment of the schedulers
	// and the feed (their Redis user, say).
	schedulerEnv, feedEnv []string
	// redisOpts configure the single redis-server (an ACL file, say).
	redisOpts []testinfra.RedisOption
	// topology is the Redis the processes share: single (default, one
	// redis-server), sentinel (a master, 2 replicas, 3 sentinels) or
	// cluster (3 masters, 3 replicas).
	topology string
	// replicas is the replicas per master of the sentinel or cluster
	// topology; 0 means 2 (sentinel) and 1 (cluster).
	replicas int
	feed     bool // run cmd/feed simulate too
}

// alwaysInstruments trade around the clock (market ALWAYS), so the 1 s
// Intraday job enqueues every second whatever the date.
const alwaysInstruments = `
  - {symbol: BTCUSD, market: ALWAYS, weight: 1}
  - {symbol: ETHUSD, market: ALWAYS, weight: 1}`

// node is one scheduler replica or worker process.
type node struct {
	name string
	http string // host:port of /metrics
	args []string
	env  []string
	proc *procs.Process
}

// cluster is a Redis, schedulers and workers, each a separate process.
type cluster struct {
	t          testing.TB
	cfg        clusterConfig
	dir        string
	configPath string
	redis      *testinfra.RedisServer // single topology only
	sentinel   *testinfra.Sentinel    // sentinel topology only
	redisCl    *testinfra.Cluster     // cluster topology only
	redisURL   string
	redisMode  string
	rdb        redis.UniversalClient
	schedulers []*node
	workers    []*node
	feed       *node
}

// setup starts a redis-server, then the schedulers and the workers, and
// returns once every process serves /metrics.
func setup(t testing.TB, cfg clusterConfig) *cluster {
	t.Helper()
	if cfg.concurrency == 0 {
		cfg.concurrency = 4
	}
	if cfg.shards == 0 {
		cfg.shards = 2
	}
	if cfg.instruments == "" {
		cfg.instruments = alwaysInstruments
	}
	var opts []testinfra.RedisOption
	if cfg.aof {
		opts = append(opts, testinfra.WithAOF())
	}
	opts = append(opts, cfg.redisOpts...)
	c := &cluster{t: t, cfg: cfg, dir: t.TempDir()}
	switch cfg.topology {
	case "", config.RedisSingle:
		c.redis = testinfra.StartRedis(t, opts...)
		c.redisURL, c.redisMode, c.rdb = c.redis.URL(), config.RedisSingle, c.redis.Client()
	case config.RedisSentinel:
		c.sentinel = testinfra.StartSentinel(t, cmp.Or(cfg.replicas, 2))
		c.redisURL, c.redisMode, c.rdb = c.sentinel.URL(), config.RedisSentinel, c.sentinel.Client()
	case config.RedisCluster:
		c.redisCl = testinfra.StartCluster(t, 3, cmp.Or(cfg.replicas, 1))
		c.redisURL, c.redisMode, c.rdb = c.redisCl.URL(), config.RedisCluster, c.redisCl.Client()
	default:
		t.Fatalf("unknown topology %q", cfg.topology)
	}
	c.configPath = c.writeConfig("config.yaml", cfg.instruments)
	for i := range cfg.schedulers {
		if i > 0 {
			// Replicas started together renew and retry the lease in step,
			// the best case for a takeover; a random offset samples every
			// phase, as replicas started at different times have.
			time.Sleep(rand.N(renewEvery))
		}
		c.schedulers = append(c.schedulers, c.startScheduler(fmt.Sprintf("s%d", i+1)))
	}
	for i := range cfg.workers {
		c.workers = append(c.workers, c.startWorker(fmt.Sprintf("w%d", i+1)))
	}
	if cfg.feed {
		c.feed = c.startFeed()
	}
	for _, n := range c.nodes() {
		if err := n.proc.WaitServing(n.http, 15*time.Second); err != nil {
			t.Fatalf("%s did not serve /metrics: %v", n.name, err)
		}
	}
	return c
}

// writeConfig writes a config file for the cluster's Redis with the given
// instruments and returns its path.
func (c *cluster) writeConfig(name, instruments string) string {
	c.t.Helper()
	body := fmt.Sprintf(`# written by test/integration
redis:
  mode: %s
  url: %s
log:
  level: info
  format: json
instruments:%s
ingest:
  shards: %d
store:
  dir: %s
`, c.redisMode, c.redisURL, instruments, c.cfg.shards, filepath.Join(c.dir, "bars"))
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		c.t.Fatalf("write config: %v", err)
	}
	return path
}

func (c *cluster) nodes() []*node { return append(append([]*node{}, c.schedulers...), c.workers...) }

// redisArgs are the connection flags of every process.
func (c *cluster) redisArgs() []string {
	return []string{"--config", c.configPath, "--redis", c.redisURL, "--redis-mode", c.redisMode}
}

// startFeed starts cmd/feed simulate on the cluster's Redis.
func (c *cluster) startFeed() *node {
	n := &node{name: "feed", args: append([]string{"simulate"}, append(c.redisArgs(), "--rate", "40")...), env: c.cfg.feedEnv}
	n.proc = procs.Start(c.t, n.name, bins.feed, c.dir, n.args, n.env)
	return n
}

func (c *cluster) startScheduler(name string) *node {
	return c.startSchedulerBin(name, bins.scheduler, c.cfg.schedulerEnv)
}

// startSchedulerBin starts scheduler replica name from bin (a build with
// other tags, say) with env.
func (c *cluster) startSchedulerBin(name, bin string, env []string) *node {
	addr := fmt.Sprintf("127.0.0.1:%d", testinfra.FreePort(c.t))
	n := &node{name: name, http: addr, args: append(c.redisArgs(), "--http", addr,
		"--replica", name, "--fast-tick", "1.0", "--slow-tick", "60"), env: env}
	n.proc = procs.Start(c.t, name, bin, c.dir, n.args, n.env)
	return n
}

func (c *cluster) startWorker(name string) *node {
	addr := fmt.Sprintf("127.0.0.1:%d", testinfra.FreePort(c.t))
	n := &node{name: name, http: addr, args: append(c.redisArgs(), "--http", addr,
		"--name", name, "--concurrency", strconv.Itoa(c.cfg.concurrency)), env: c.cfg.workerEnv}
	n.proc = procs.Start(c.t, name, bins.worker, c.dir, n.args, n.env)
	return n
}

// restart starts a stopped node again with the same name, address and
// arguments (args may replace the config path).
func (c *cluster) restart(n *node, args ...string) {
	c.t.Helper()
	if n.proc.Alive() {
		c.t.Fatalf("restart %s: still running", n.name)
	}
	if len(args) > 0 {
		n.args = args
	}
	bin := bins.worker
	if strings.HasPrefix(n.name, "s") {
		bin = bins.scheduler
	}
	restarted := time.Now()
	n.proc = procs.Start(c.t, n.name, bin, c.dir, n.args, n.env)
	if bin == bins.scheduler {
		c.waitReplica(n, restarted)
	}
}

// waitReplica waits until a scheduler replica started after since has
// published its heartbeat: its lease loop runs, so it stands by.
func (c *cluster) waitReplica(n *node, since time.Time) {
	c.t.Helper()
	err := procs.WaitFor(15*time.Second, func() (bool, error) {
		if !n.proc.Alive() {
			return false, fmt.Errorf("exited: %s", n.proc.ExitState())
		}
		v, err := c.rdb.HGet(context.Background(), keys.Standbys(), n.name).Result()
		if err != nil {
			return false, err
		}
		var info scheduler.ReplicaInfo
		if err := json.Unmarshal([]byte(v), &info); err != nil {
			return false, err
		}
		return !info.Started.Before(since.Truncate(time.Millisecond)), nil
	})
	if err != nil {
		c.t.Fatalf("%s did not start standing by: %v", n.name, err)
	}
}

func (c *cluster) scheduler(name string) *node {
	for _, n := range c.schedulers {
		if n.name == name {
			return n
		}
	}
	c.t.Fatalf("no scheduler %q", name)
	return nil
}

// holder reads the leader lease: the replica holding it and its term
// ("" and 0 when nobody leads).
func (c *cluster) holder() (string, int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return scheduler.Holder(ctx, c.rdb)
}

// waitLeader waits until a replica holds the lease with a term above
// after, its leader gauge says so, and runs of that term are in the
// history for every Intraday part; it returns the leader and its term.
func (c *cluster) waitLeader(after int64, timeout time.Duration) (*node, int64) {
	c.t.Helper()
	var leader *node
	var term int64
	err := procs.WaitFor(timeout, func() (bool, error) {
		name, tm, err := c.holder()
		if err != nil || name == "" || tm <= after {
			return false, err
		}
		leader, term = c.scheduler(name), tm
		m, err := procs.Scrape(leader.http)
		if err != nil || m["heartbeat_scheduler_leader"] != 1 {
			return false, err
		}
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		return len(procs.OKParts(runs, "intraday", term)) == c.cfg.shards, nil
	})
	if err != nil {
		c.t.Fatalf("no leader with term > %d running Intraday on all %d shards: %v", after, c.cfg.shards, err)
	}
	return leader, term
}

// runs reads the whole run history, oldest first.
func (c *cluster) runs() ([]runlog.Run, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return runlog.New(c.rdb, 0).Range(ctx, "-", "+")
}

// mustRuns is runs for code that cannot go on without them.
func (c *cluster) mustRuns() []runlog.Run {
	c.t.Helper()
	runs, err := c.runs()
	if err != nil {
		c.t.Fatalf("read %s: %v", keys.Runs, err)
	}
	return runs
}

// checkAlive fails the test if any process of the cluster has exited.
func (c *cluster) checkAlive() {
	c.t.Helper()
	all := c.nodes()
	if c.feed != nil {
		all = append(all, c.feed)
	}
	for _, n := range all {
		if !n.proc.Alive() {
			c.t.Fatalf("%s exited: %s", n.name, n.proc.ExitState())
		}
	}
}

// stop sends SIGTERM to n and waits for a clean exit.
func (c *cluster) stop(n *node) {
	c.t.Helper()
	if err := n.proc.Signal(syscall.SIGTERM); err != nil {
		c.t.Fatalf("SIGTERM %s: %v", n.name, err)
	}
	code, err := n.proc.Wait(15 * time.Second)
	if err != nil {
		c.t.Fatalf("after SIGTERM: %v", err)
	}
	if code != 0 {
		c.t.Fatalf("%s exited with code %d after SIGTERM", n.name, code)
	}
}

// slotsTotal is the counter of slots by job and outcome that schedulers
// and workers export.
const slotsTotal = "heartbeat_slots_total"

// lagMS formats a duration in milliseconds.
func lagMS(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}
