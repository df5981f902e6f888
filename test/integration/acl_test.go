package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// TestLeastPrivilegeUsers runs the whole system on a redis-server loaded
// with the shipped deploy/redis/users.acl (rendered by the shipped
// render-acl.sh): the scheduler, the worker and the feed each connect as
// their own user, runs succeed and the status page and asynqmon answer;
// then the feed's user is refused everything beyond appending ticks and
// quotes (the lease, the run history, asynq's queues, scripts,
// administration), so widening its rights fails this test.
func TestLeastPrivilegeUsers(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{}
	for _, role := range []string{"feed", "worker", "scheduler", "status", "admin"} {
		pw[role] = fmt.Sprintf("%s-pw-%d", role, time.Now().UnixNano())
		if err := os.WriteFile(filepath.Join(secrets, "redis_"+role+"_password"), []byte(pw[role]+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	aclFile := filepath.Join(dir, "users.acl")
	out, err := exec.Command("sh", filepath.Join(root, "deploy", "redis", "render-acl.sh"),
		filepath.Join(root, "deploy", "redis", "users.acl"), aclFile, secrets).CombinedOutput()
	if err != nil {
		t.Fatalf("render-acl.sh: %v\n%s", err, out)
	}
	rendered, _ := os.ReadFile(aclFile)
	for role, p := range pw {
		if strings.Contains(string(rendered), p) {
			t.Fatalf("the rendered ACL file holds %s's password in clear", role)
		}
	}
	env := func(role string) []string {
		return []string{"HEARTBEAT_REDIS_USERNAME=" + role, "HEARTBEAT_REDIS_PASSWORD_FILE=" + filepath.Join(secrets, "redis_"+role+"_password")}
	}
	c := setup(t, clusterConfig{schedulers: 1, workers: 1, feed: true,
		redisOpts:    []testinfra.RedisOption{testinfra.WithArgs("--aclfile", aclFile), testinfra.WithAuth("admin", pw["admin"])},
		schedulerEnv: env("scheduler"), workerEnv: env("worker"), feedEnv: env("feed")})
	ctx := context.Background()

	// The system works: Intraday runs ok on every shard from the feed's
	// ticks, with no error, and the operator pages answer.
	err = procs.WaitFor(60*time.Second, func() (bool, error) {
		runs, err := runlog.New(c.rdb, 0).Page(ctx, runlog.Query{Job: "intraday", Limit: 200})
		if err != nil {
			return false, err
		}
		ok := map[string]bool{}
		for _, r := range runs.Runs {
			if r.Outcome == runlog.Error {
				return false, fmt.Errorf("run %s failed: %s", r.TaskID, r.Error)
			}
			if r.Outcome == runlog.OK {
				ok[r.Part] = true
			}
		}
		ticks, err := procs.Scrape(c.workers[0].http)
		if err != nil {
			return false, err
		}
		return len(ok) == c.cfg.shards && ticks.Sum("heartbeat_ticks_total") > 0, nil
	})
	if err != nil {
		t.Fatalf("the system under least-privilege users: %v\nscheduler:\n%s\nworker:\n%s\nfeed:\n%s", err,
			c.schedulers[0].proc.Tail(15), c.workers[0].proc.Tail(15), c.feed.proc.Tail(15))
	}
	for _, path := range []string{"/api/v1/jobs", "/api/v1/runs?job=intraday", "/api/v1/workers", "/monitoring/api/queues"} {
		res, err := http.Get("http://" + c.schedulers[0].http + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s as the scheduler user: %d\n%s", path, res.StatusCode, c.schedulers[0].proc.Tail(15))
		}
	}
	c.checkAlive()
	if !c.feed.proc.Alive() {
		t.Fatalf("feed exited: %s", c.feed.proc.ExitState())
	}

	as := func(role string) *redis.Client {
		cl := redis.NewClient(&redis.Options{Addr: c.redis.Addr(), Username: role, Password: pw[role]})
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	feed := as("feed")
	ticksKey, quotesKey := keys.Ticks(0), keys.Quotes(0)
	allowed := [][]any{
		{"xadd", ticksKey, "*", "symbol", "BTCUSD", "price", "1", "size", "1", "ts", "1"},
		{"hset", quotesKey, "BTCUSD", "{}"},
		{"xrevrange", ticksKey, "+", "-", "count", "1"},
	}
	for _, cmd := range allowed {
		if err := feed.Do(ctx, cmd...).Err(); err != nil {
			t.Fatalf("feed user: %v refused: %v", cmd, err)
		}
	}
	refused := [][]any{
		{"set", keys.Lease(), "feed:1"},
		{"get", keys.Lease()},
		{"del", keys.Lease()},
		{"incr", keys.Term()},
		{"xadd", keys.Runs, "*", "job", "intraday"},
		{"xrange", keys.Runs, "-", "+"},
		{"xadd", keys.Audit, "*", "action", "pause"},
		{"hset", keys.Settings(), "calendar:x", "{}"},
		{"lpush", "asynq:{default}:pending", "x"},
		{"zadd", "asynq:servers", "1", "x"},
		{"hset", keys.Intraday(0), "BTCUSD", "{}"},
		{"hset", keys.Checkpoints(0), "intraday", "0-0"},
		{"del", ticksKey},
		{"xtrim", ticksKey, "maxlen", "0"},
		{"xdel", ticksKey, "0-1"},
		{"hdel", quotesKey, "BTCUSD"},
		{"set", ticksKey, "x"},
		{"eval", "return 1", "0"},
		{"keys", "*"},
		{"flushall"},
		{"config", "get", "*"},
		{"acl", "list"},
		{"subscribe", "asynq:cancel"},
	}
	for _, cmd := range refused {
		err := feed.Do(ctx, cmd...).Err()
		if err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("feed user: %v: %v, want NOPERM", cmd, err)
		}
	}

	// The read-only status user reads and writes nothing.
	status := as("status")
	if err := status.Get(ctx, keys.Lease()).Err(); err != nil && err != redis.Nil {
		t.Fatalf("status user cannot read the lease: %v", err)
	}
	for _, cmd := range [][]any{{"set", keys.Lease(), "x"}, {"xadd", ticksKey, "*", "a", "b"}, {"hset", keys.Settings(), "pause:intraday", "x"}} {
		if err := status.Do(ctx, cmd...).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
			t.Errorf("status user: %v: %v, want NOPERM", cmd, err)
		}
	}
	// No anonymous access.
	anon := redis.NewClient(&redis.Options{Addr: c.redis.Addr(), MaxRetries: -1})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil {
		t.Fatal("the default user can connect")
	}
}
