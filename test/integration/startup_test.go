package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// TestProcessStartupErrors runs both binaries with a bad configuration value
// (file, environment, flag, unknown key) and against a Redis that is down
// (connection refused) or hangs (accepts, never answers): a bad value
// exits with code 2 naming the field, an unreachable Redis with code 1 and
// a clear error within a few seconds.
func TestProcessStartupErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	refused := fmt.Sprintf("redis://127.0.0.1:%d/0", testinfra.FreePort(t))
	hung := "redis://" + hungServer(t) + "/0"
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		return path
	}
	base := "redis:\n  url: " + refused + "\n  dial_timeout: 2s\nlog:\n  format: json\nstore:\n  dir: " + filepath.Join(dir, "bars") + "\n"
	good := write("good.yaml", base)
	badShards := write("bad-shards.yaml", base+"ingest:\n  shards: 0\n")
	unknownKey := write("unknown-key.yaml", base+"scheduler:\n  fast_tik: 1\n")
	badMarket := write("bad-market.yaml", base+"instruments:\n  - {symbol: BTCUSD, market: MOON, weight: 1}\n")

	const (
		usage = 2
		fail  = 1
	)
	tests := []struct {
		name string
		bin  string
		args []string
		env  []string
		code int
		want []string // in stderr
	}{
		{"scheduler/file value", bins.scheduler, []string{"--config", badShards}, nil, usage, []string{"ingest.shards"}},
		{"worker/file value", bins.worker, []string{"--config", badShards}, nil, usage, []string{"ingest.shards"}},
		{"scheduler/instrument market", bins.scheduler, []string{"--config", badMarket}, nil, usage, []string{"instruments[0].market"}},
		{"worker/instrument market", bins.worker, []string{"--config", badMarket}, nil, usage, []string{"instruments[0].market"}},
		{"scheduler/env value", bins.scheduler, []string{"--config", good}, []string{"HEARTBEAT_SCHEDULER_RENEW_EVERY=5s"}, usage, []string{"scheduler.renew_every"}},
		{"worker/env value", bins.worker, []string{"--config", good}, []string{"HEARTBEAT_WORKER_SHUTDOWN_TIMEOUT=30s"}, usage, []string{"worker.shutdown_timeout"}},
		{"scheduler/flag value", bins.scheduler, []string{"--config", good, "--fast-tick", "0"}, nil, usage, []string{"scheduler.fast_tick"}},
		{"worker/flag value", bins.worker, []string{"--config", good, "--concurrency", "0"}, nil, usage, []string{"worker.concurrency"}},
		{"scheduler/unknown key", bins.scheduler, []string{"--config", unknownKey}, nil, usage, []string{"fast_tik"}},
		{"worker/unknown key", bins.worker, []string{"--config", unknownKey}, nil, usage, []string{"fast_tik"}},
		{"scheduler/redis refused", bins.scheduler, []string{"--config", good, "--http", ""}, nil, fail, []string{"redis", strings.TrimPrefix(strings.TrimSuffix(refused, "/0"), "redis://"), "not reachable"}},
		{"worker/redis refused", bins.worker, []string{"--config", good, "--http", ""}, nil, fail, []string{"redis", strings.TrimPrefix(strings.TrimSuffix(refused, "/0"), "redis://"), "not reachable"}},
		{"scheduler/redis hangs", bins.scheduler, []string{"--config", good, "--redis", hung, "--http", ""}, nil, fail, []string{"redis", "not reachable"}},
		{"worker/redis hangs", bins.worker, []string{"--config", good, "--redis", hung, "--http", ""}, nil, fail, []string{"redis", "not reachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Exit within a few seconds: the dial timeout (2 s) plus one, and
			// room for a loaded machine.
			const within = 8 * time.Second
			code, stderr, took := runToExit(t, tt.bin, dir, tt.args, tt.env, 30*time.Second)
			if code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, stderr)
				}
			}
			if took > within {
				t.Errorf("took %s to exit, want <= %s", took, within)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n") + 1; n > 5 {
				t.Errorf("error spans %d lines, want a short message:\n%s", n, stderr)
			}
		})
	}
}

// runToExit runs bin to its exit (killing it after limit) and returns the
// exit code, stderr and how long it ran.
func runToExit(t *testing.T, bin, dir string, args, env []string, limit time.Duration) (int, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(procs.CleanEnv(), env...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	began := time.Now()
	err := cmd.Run()
	took := time.Since(began)
	if ctx.Err() != nil {
		t.Fatalf("%s %v still ran after %s; output:\n%s", filepath.Base(bin), args, limit, stderr.String())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %s: %v", filepath.Base(bin), err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String(), took
}

// hungServer listens on a loopback port, accepts connections and never
// answers, like a Redis host that is stuck; it stops when the test ends.
func hungServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}
