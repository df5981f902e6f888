package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/testinfra"
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
	proc *process
}

// cluster is a Redis, schedulers and workers, each a separate process.
type cluster struct {
	t          testing.TB
	cfg        clusterConfig
	dir        string
	configPath string
	redis      *testinfra.RedisServer
	rdb        *redis.Client
	schedulers []*node
	workers    []*node
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
	c := &cluster{t: t, cfg: cfg, dir: t.TempDir(), redis: testinfra.StartRedis(t, opts...)}
	c.rdb = c.redis.Client()
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
	for _, n := range c.nodes() {
		if err := waitFor(15*time.Second, func() (bool, error) {
			if !n.proc.alive() {
				return false, fmt.Errorf("exited: %s", n.proc.exitState())
			}
			_, err := scrape(n.http)
			return err == nil, err
		}); err != nil {
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
  url: %s
log:
  level: info
  format: json
instruments:%s
ingest:
  shards: %d
store:
  dir: %s
`, c.redis.URL(), instruments, c.cfg.shards, filepath.Join(c.dir, "bars"))
	path := filepath.Join(c.dir, name)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		c.t.Fatalf("write config: %v", err)
	}
	return path
}

func (c *cluster) nodes() []*node { return append(append([]*node{}, c.schedulers...), c.workers...) }

func (c *cluster) startScheduler(name string) *node {
	addr := fmt.Sprintf("127.0.0.1:%d", testinfra.FreePort(c.t))
	n := &node{name: name, http: addr, args: []string{"--config", c.configPath, "--redis", c.redis.URL(), "--http", addr,
		"--replica", name, "--fast-tick", "1.0", "--slow-tick", "60"}}
	n.proc = startProcess(c.t, name, bins.scheduler, c.dir, n.args, nil)
	return n
}

func (c *cluster) startWorker(name string) *node {
	addr := fmt.Sprintf("127.0.0.1:%d", testinfra.FreePort(c.t))
	n := &node{name: name, http: addr, args: []string{"--config", c.configPath, "--redis", c.redis.URL(), "--http", addr,
		"--name", name, "--concurrency", strconv.Itoa(c.cfg.concurrency)}, env: c.cfg.workerEnv}
	n.proc = startProcess(c.t, name, bins.worker, c.dir, n.args, n.env)
	return n
}

// restart starts a stopped node again with the same name, address and
// arguments (args may replace the config path).
func (c *cluster) restart(n *node, args ...string) {
	c.t.Helper()
	if n.proc.alive() {
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
	n.proc = startProcess(c.t, n.name, bin, c.dir, n.args, n.env)
	if bin == bins.scheduler {
		c.waitReplica(n, restarted)
	}
}

// waitReplica waits until a scheduler replica started after since has
// published its heartbeat: its lease loop runs, so it stands by.
func (c *cluster) waitReplica(n *node, since time.Time) {
	c.t.Helper()
	err := waitFor(15*time.Second, func() (bool, error) {
		if !n.proc.alive() {
			return false, fmt.Errorf("exited: %s", n.proc.exitState())
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
	err := waitFor(timeout, func() (bool, error) {
		name, tm, err := c.holder()
		if err != nil || name == "" || tm <= after {
			return false, err
		}
		leader, term = c.scheduler(name), tm
		m, err := scrape(leader.http)
		if err != nil || m["heartbeat_scheduler_leader"] != 1 {
			return false, err
		}
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		parts := map[string]bool{}
		for _, r := range runs {
			if r.Job == "intraday" && r.Term == term && r.Outcome == runlog.OK {
				parts[r.Part] = true
			}
		}
		return len(parts) == c.cfg.shards, nil
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
	for _, n := range c.nodes() {
		if !n.proc.alive() {
			c.t.Fatalf("%s exited: %s", n.name, n.proc.exitState())
		}
	}
}

// stop sends SIGTERM to n and waits for a clean exit.
func (c *cluster) stop(n *node) {
	c.t.Helper()
	if err := n.proc.signal(syscall.SIGTERM); err != nil {
		c.t.Fatalf("SIGTERM %s: %v", n.name, err)
	}
	code, err := n.proc.wait(15 * time.Second)
	if err != nil {
		c.t.Fatalf("after SIGTERM: %v", err)
	}
	if code != 0 {
		c.t.Fatalf("%s exited with code %d after SIGTERM", n.name, code)
	}
}

// metrics is one scrape of /metrics: series as printed (name{labels}) to
// value.
type metrics map[string]float64

// scrape reads a process's /metrics.
func scrape(addr string) (metrics, error) {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET /metrics: %s: %s", resp.Status, b)
	}
	m := metrics{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// slots returns heartbeat_slots_total for a job and outcome.
func (m metrics) slots(job, outcome string) float64 {
	return m[fmt.Sprintf(`heartbeat_slots_total{job=%q,outcome=%q}`, job, outcome)]
}

// sumSlots sums heartbeat_slots_total of an outcome over every job.
func (m metrics) sumSlots(outcome string) float64 {
	var sum float64
	for k, v := range m {
		if strings.HasPrefix(k, "heartbeat_slots_total{") && strings.Contains(k, fmt.Sprintf("outcome=%q", outcome)) {
			sum += v
		}
	}
	return sum
}

// lagMS formats a duration in milliseconds.
func lagMS(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
}
