package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/scheduler"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// The topology of docker-compose.yml, with the feed ticking around the
// clock.
const (
	schedulers = 2
	workers    = 3
	shards     = 4 // ingest.shards in config.yaml
	feedRate   = "200"
	// alwaysSymbol trades on the ALWAYS market, so Intraday and the flush
	// gate are open whatever the date.
	alwaysSymbol = "BTCUSD"
	// instruments is HEARTBEAT_INSTRUMENTS: the ALWAYS symbol and a few
	// on real markets, open or closed depending on when the test runs.
	instruments = alwaysSymbol + "=ALWAYS,ES=CMES,SPY=XNYS:2,VOD.L=XLON,7203.T=XTKS"
)

// node is one scheduler replica or worker process.
type node struct {
	name string
	http string // host:port of its status page, API and /metrics
	proc *procs.Process
}

// topology is Redis, PostgreSQL and every Heartbeat process of the
// Compose file, on loopback.
type topology struct {
	t          *testing.T
	dir        string
	redis      *testinfra.RedisServer
	rdb        *redis.Client
	pgURL      string // with search_path set to the test's schema
	schedulers []*node
	workers    []*node
	feed       *procs.Process
}

// start builds the binaries and starts the servers and processes in
// Compose's order (Redis and PostgreSQL first, then everything that
// depends on them), returning once every scheduler and worker serves
// /metrics.
func start(t *testing.T) *topology {
	t.Helper()
	tp := &topology{t: t, dir: t.TempDir()}
	tp.redis = testinfra.StartRedis(t, testinfra.WithAOF()) // redis-server --appendonly yes, as in Compose
	tp.rdb = tp.redis.Client()
	tp.pgURL = testinfra.PostgresSchema(t)

	bins, err := procs.Build(t.TempDir(), "scheduler", "worker", "feed")
	if err != nil {
		t.Fatal(err)
	}
	config, err := filepath.Abs(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(config); err != nil {
		t.Fatalf("the repository's config.yaml: %v", err)
	}
	// x-heartbeat-env of docker-compose.yml, pointed at the test's servers,
	// plus the instruments.
	env := []string{
		"HEARTBEAT_REDIS_URL=" + tp.redis.URL(),
		"HEARTBEAT_STORE_POSTGRES_URL=" + tp.pgURL,
		"HEARTBEAT_HTTP_TOKEN=",
		"HEARTBEAT_LOG_FORMAT=json",
		"HEARTBEAT_INSTRUMENTS=" + instruments,
	}
	for i := range schedulers {
		name := "scheduler-" + string(rune('a'+i))
		n := &node{name: name, http: freeAddr(t)}
		n.proc = procs.Start(t, name, bins["scheduler"], tp.dir,
			[]string{"--config", config, "--replica", name, "--http", n.http}, env)
		tp.schedulers = append(tp.schedulers, n)
	}
	for i := range workers {
		name := "worker-" + strconv.Itoa(i+1)
		n := &node{name: name, http: freeAddr(t)}
		n.proc = procs.Start(t, name, bins["worker"], tp.dir,
			[]string{"--config", config, "--name", name, "--http", n.http}, env)
		tp.workers = append(tp.workers, n)
	}
	tp.feed = procs.Start(t, "feed", bins["feed"], tp.dir,
		[]string{"simulate", "--config", config, "--rate", feedRate, "--all-hours"}, env)
	for _, n := range tp.nodes() {
		if err := n.proc.WaitServing(n.http, 20*time.Second); err != nil {
			t.Fatalf("%s did not serve /metrics: %v", n.name, err)
		}
	}
	return tp
}

func freeAddr(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", testinfra.FreePort(t)) }

func (tp *topology) nodes() []*node {
	return append(append([]*node{}, tp.schedulers...), tp.workers...)
}

// waitLeader waits until a replica holds the lease and Intraday runs of
// its term are in the history for every shard; it returns the replica's
// name and term.
func (tp *topology) waitLeader(timeout time.Duration) (string, int64) {
	tp.t.Helper()
	var leader string
	var term int64
	err := procs.WaitFor(timeout, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		name, tm, err := scheduler.Holder(ctx, tp.rdb)
		if err != nil || name == "" {
			return false, err
		}
		leader, term = name, tm
		runs, err := tp.runs()
		if err != nil {
			return false, err
		}
		return len(procs.OKParts(runs, "intraday", term)) == shards, nil
	})
	if err != nil {
		tp.t.Fatalf("no leader running Intraday on all %d shards: %v", shards, err)
	}
	return leader, term
}

// runs reads the whole run history, oldest first.
func (tp *topology) runs() ([]runlog.Run, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	runs, err := runlog.New(tp.rdb, 0).Range(ctx, "-", "+")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", keys.Runs, err)
	}
	return runs, nil
}

// checkAlive fails the test if any process has exited.
func (tp *topology) checkAlive() {
	tp.t.Helper()
	for _, n := range tp.nodes() {
		if !n.proc.Alive() {
			tp.t.Fatalf("%s exited: %s", n.name, n.proc.ExitState())
		}
	}
	if !tp.feed.Alive() {
		tp.t.Fatalf("feed exited: %s", tp.feed.ExitState())
	}
}

// stopAll stops the processes as Compose does (SIGTERM; the grace period
// is 15 s) — the feed, the schedulers, then the workers — and checks each
// exits with code 0 in time.
func (tp *topology) stopAll() {
	tp.t.Helper()
	procsInOrder := []*procs.Process{tp.feed}
	for _, n := range tp.nodes() {
		procsInOrder = append(procsInOrder, n.proc)
	}
	for _, p := range procsInOrder {
		began := time.Now()
		code, err := p.Stop(15 * time.Second)
		switch {
		case err != nil:
			tp.t.Errorf("stop %s: %v", p.Name, err)
		case code != 0:
			tp.t.Errorf("%s exited with code %d after SIGTERM", p.Name, code)
		default:
			tp.t.Logf("%s: SIGTERM -> exit 0 in %s", p.Name, time.Since(began).Round(time.Millisecond))
		}
	}
}
