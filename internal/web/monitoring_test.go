package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/testinfra"
)

// redisTarget is a Redis the monitoring tests run against.
type redisTarget struct {
	name string
	addr string
	rdb  *redis.Client
	real bool
}

// redisKind is a kind of Redis the monitoring tests run against: each
// subtest opens its own, so the miniredis halves run (and pass or fail)
// on a machine without redis-server, where only the real halves skip.
type redisKind struct {
	name string
	real bool
}

// redisKinds are miniredis and a real redis-server of the test's own.
var redisKinds = []redisKind{{name: "miniredis"}, {name: "redis", real: true}}

// open starts a Redis of kind k for t; a real one skips t (or fails it in
// CI) without redis-server.
func (k redisKind) open(t *testing.T) redisTarget {
	t.Helper()
	if !k.real {
		m, mc := testinfra.Mini(t)
		return redisTarget{name: k.name, addr: m.Addr(), rdb: mc}
	}
	rs := testinfra.StartRedis(t)
	return redisTarget{name: k.name, addr: rs.Addr(), rdb: rs.Client(), real: true}
}

// orphanTaskIDs creates what asynq's memory estimate trips on: task IDs in
// a queue's pending list and completed set whose task hashes are gone (a
// completed task's hash expires at the end of its retention, up to 8 s
// before asynq's janitor drops its ID).
func orphanTaskIDs(t *testing.T, tg redisTarget, queue string) {
	t.Helper()
	ctx := context.Background()
	c := asynq.NewClient(asynq.RedisClientOpt{Addr: tg.addr})
	defer c.Close()
	for _, id := range []string{"kept", "gone"} {
		if _, err := c.Enqueue(asynq.NewTask("t", []byte(`{}`)), asynq.TaskID(id), asynq.Queue(queue), asynq.Retention(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	prefix := "asynq:{" + queue + "}:"
	testinfra.Must(t, tg.rdb.Del(ctx, prefix+"t:gone").Err(), "drop a task hash")
	testinfra.Must(t, tg.rdb.ZAdd(ctx, prefix+"completed", redis.Z{Score: float64(time.Now().Add(30 * time.Minute).Unix()), Member: "expired"}).Err(), "orphan completed ID")
}

// TestMemoryUsageUpstreamBug shows the asynq v0.26.0 bug the work-around
// exists for. When it fails, asynq fixed the script (or changed it, so
// memoryUsageSHA no longer matches): check GetQueueInfo without
// FixedConnOpt, and drop the work-around if it works.
func TestMemoryUsageUpstreamBug(t *testing.T) {
	t.Parallel()
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.open(t)
			orphanTaskIDs(t, tg, "q")
			insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: tg.addr})
			defer insp.Close()
			_, err := insp.GetQueueInfo("q")
			if err == nil {
				t.Fatal("asynq's GetQueueInfo works with orphan task IDs: the MEMORY USAGE work-around may be obsolete")
			}
			t.Logf("asynq without the work-around: %v", err)
			// Real Redis names the script: it must be the one the hook
			// replaces.
			if tg.real && !strings.Contains(err.Error(), memoryUsageSHA) {
				t.Fatalf("the failing script is not %s: asynq changed it; update memoryUsageSHA: %v", memoryUsageSHA, err)
			}
		})
	}
}

func TestMemoryUsageWorkaround(t *testing.T) {
	t.Parallel()
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.open(t)
			ctx := context.Background()
			orphanTaskIDs(t, tg, "q")
			// No script cached: the first call goes EVALSHA (NOSCRIPT),
			// then EVAL, the second EVALSHA; the hook must catch both.
			testinfra.Must(t, tg.rdb.ScriptFlush(ctx).Err(), "script flush")
			insp := asynq.NewInspector(FixedConnOpt{asynq.RedisClientOpt{Addr: tg.addr}})
			defer insp.Close()
			for i := range 2 {
				info, err := insp.GetQueueInfo("q")
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				if info.Pending != 2 || info.Completed != 1 || info.MemoryUsage <= 0 {
					t.Fatalf("call %d: pending %d completed %d memory %d", i, info.Pending, info.Completed, info.MemoryUsage)
				}
			}
			if tg.real {
				loaded, err := tg.rdb.ScriptExists(ctx, memoryUsageScriptSHA, memoryUsageSHA).Result()
				testinfra.Must(t, err, "script exists")
				if !loaded[0] || loaded[1] {
					t.Fatalf("scripts loaded (fixed, asynq's) = %v, want [true false]", loaded)
				}
			}
		})
	}
}

// TestMemoryUsageWorkaroundMatchesAsynq checks that the replacement script
// estimates what asynq's does when every task hash exists.
func TestMemoryUsageWorkaroundMatchesAsynq(t *testing.T) {
	t.Parallel()
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.open(t)
			c := asynq.NewClient(asynq.RedisClientOpt{Addr: tg.addr})
			defer c.Close()
			for i := range 30 {
				opts := []asynq.Option{asynq.Queue("q")}
				if i%3 == 0 {
					opts = append(opts, asynq.ProcessIn(time.Hour))
				}
				if _, err := c.Enqueue(asynq.NewTask("t", []byte(strings.Repeat("x", i*10))), opts...); err != nil {
					t.Fatal(err)
				}
			}
			plain := asynq.NewInspector(asynq.RedisClientOpt{Addr: tg.addr})
			defer plain.Close()
			fixed := asynq.NewInspector(FixedConnOpt{asynq.RedisClientOpt{Addr: tg.addr}})
			defer fixed.Close()
			a, err := plain.GetQueueInfo("q")
			testinfra.Must(t, err, "asynq's estimate")
			b, err := fixed.GetQueueInfo("q")
			testinfra.Must(t, err, "fixed estimate")
			if d := a.MemoryUsage - b.MemoryUsage; d < -1 || d > 1 {
				t.Fatalf("asynq estimates %d bytes, the replacement %d", a.MemoryUsage, b.MemoryUsage)
			}
		})
	}
}

// TestMonitoringQueuePages drives asynqmon's queue API, what its queue
// list and queue pages load, in both conditions that break it: orphan task
// IDs (miniredis and Redis) and MEMORY refused to scripts (a Redis ACL
// without +memory, as managed Redis services do).
func TestMonitoringQueuePages(t *testing.T) {
	t.Parallel()
	type condition struct {
		name    string
		opt     asynq.RedisClientOpt
		failure string // what asynqmon without the work-around answers
	}
	for _, kind := range redisKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.open(t)
			conds := []condition{}
			orphanTaskIDs(t, tg, "q")
			orphans := "perform arithmetic on local 'bytes'"
			if !tg.real {
				orphans = "cannot perform add operation between number and boolean"
			}
			conds = append(conds, condition{"orphan task IDs", asynq.RedisClientOpt{Addr: tg.addr}, orphans})
			if tg.real {
				err := tg.rdb.Do(context.Background(), "ACL", "SETUSER", "hb", "on", ">pw", "~*", "&*", "+@all", "-memory").Err()
				testinfra.Must(t, err, "create ACL user")
				conds = append(conds, condition{"MEMORY refused", asynq.RedisClientOpt{Addr: tg.addr, Username: "hb", Password: "pw"}, "can't run this command"})
			}
			for _, c := range conds {
				t.Run(c.name, func(t *testing.T) {
					plain := httptest.NewServer(rawAsynqmon(t, c.opt))
					defer plain.Close()
					code, body := get(t, plain.URL+MonitoringPath+"/api/queues")
					if code != http.StatusInternalServerError || !strings.Contains(body, c.failure) {
						t.Fatalf("asynqmon without the work-around: %d %s (want 500 with %q)", code, body, c.failure)
					}
					mon := NewMonitoring(c.opt)
					defer mon.Close()
					fixed := httptest.NewServer(mon)
					defer fixed.Close()
					code, body = get(t, fixed.URL+MonitoringPath+"/api/queues")
					if code != http.StatusOK {
						t.Fatalf("queues: %d %s", code, body)
					}
					code, body = get(t, fixed.URL+MonitoringPath+"/api/queues/q")
					var q struct {
						Current struct {
							Queue     string `json:"queue"`
							Pending   int    `json:"pending"`
							Completed int    `json:"completed"`
						} `json:"current"`
					}
					if code != http.StatusOK || json.Unmarshal([]byte(body), &q) != nil || q.Current.Pending != 2 || q.Current.Completed != 1 {
						t.Fatalf("queue q: %d %s", code, body)
					}
				})
			}
		})
	}
}

func TestMonitoringServesConsoleWithoutThirdParties(t *testing.T) {
	t.Parallel()
	m, _ := testinfra.Mini(t)
	mon := NewMonitoring(asynq.RedisClientOpt{Addr: m.Addr()})
	defer mon.Close()
	srv := httptest.NewServer(mon)
	defer srv.Close()
	for _, path := range []string{"/", "/queues/critical", "/servers"} {
		code, body := get(t, srv.URL+MonitoringPath+path)
		switch {
		case code != http.StatusOK:
			t.Fatalf("%s: %d", path, code)
		case strings.Contains(body, "googleapis"):
			t.Fatalf("%s still links to Google Fonts", path)
		case !strings.Contains(body, `src="/monitoring/static/js/`) || !strings.Contains(body, `window.FLAG_READ_ONLY="true"`):
			t.Fatalf("%s: not asynqmon's read-only page:\n%s", path, body)
		}
	}
	code, body := get(t, srv.URL+MonitoringPath+"/manifest.json")
	if code != http.StatusOK || !strings.Contains(body, "Asynq") {
		t.Fatalf("manifest: %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+MonitoringPath+"/api/queues/critical", nil)
	res, err := http.DefaultClient.Do(req)
	testinfra.Must(t, err, "delete")
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE a queue: %d, want 405 (read-only)", res.StatusCode)
	}
}

func TestSwapMemoryUsageScript(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []any
		want any
	}{
		{"asynq's script by SHA", []any{"evalsha", memoryUsageSHA, 7}, memoryUsageScriptSHA},
		{"upper case", []any{"EVALSHA", memoryUsageSHA, 7}, memoryUsageScriptSHA},
		{"another script", []any{"evalsha", "da39a3ee5e6b4b0d3255bfef95601890afd80709", 1}, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		{"another source", []any{"eval", `return redis.call("MEMORY", "USAGE", KEYS[1])`, 1}, `return redis.call("MEMORY", "USAGE", KEYS[1])`},
		{"not a script", []any{"get", memoryUsageSHA}, memoryUsageSHA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			swapMemoryUsageScript(tc.args)
			if tc.args[1] != tc.want {
				t.Fatalf("args[1] = %v, want %v", tc.args[1], tc.want)
			}
		})
	}
	swapMemoryUsageScript(nil) // no panic on short commands
	swapMemoryUsageScript([]any{"ping"})
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	testinfra.Must(t, err, "read body")
	return res.StatusCode, string(b)
}

// rawAsynqmon is asynqmon as its README mounts it, without the work-around.
func rawAsynqmon(t *testing.T, opt asynq.RedisConnOpt) http.Handler {
	t.Helper()
	h := asynqmon.New(asynqmon.Options{RootPath: MonitoringPath, RedisConnOpt: opt, ReadOnly: true})
	t.Cleanup(func() { h.Close() })
	return h
}
