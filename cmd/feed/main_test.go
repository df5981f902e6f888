package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"heartbeat/internal/cli"
	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testWait bounds the tests' waits for work on the wall clock: the
// commands run on a fake clock, so it only has to exceed the scheduling
// delays of a loaded 2-core machine under the race detector.
const testWait = 30 * time.Second

// runCmd runs the command line and returns its exit code and stderr.
func runCmd(t *testing.T, ctx context.Context, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, clock.Real{}, args, &stdout, &stderr)
	return code, stderr.String()
}

// writeFile writes content to a file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageErrorsExit2(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "trades.csv", "ts,symbol,price,size\n1773151200000,ES,1,1\n")
	badHeader := writeFile(t, "bad.csv", "time,symbol,price,size\n")
	badConfig := writeFile(t, "config.yaml", "feed:\n  rate: 10\n  burst: 3\n")
	cases := []struct {
		name    string
		args    []string
		mention string // in stderr
	}{
		{"no command", nil, "usage: feed"},
		{"unknown command", []string{"stream"}, `unknown command "stream"`},
		{"unknown flag", []string{"simulate", "--bogus"}, "bogus"},
		{"not a number", []string{"simulate", "--rate", "fast"}, "rate"},
		{"zero rate", []string{"simulate", "--rate", "0"}, "feed.rate"},
		{"unknown symbol", []string{"simulate", "--symbols", "ES,NOPE"}, "feed.symbols[1]"},
		{"bad redis url", []string{"simulate", "--redis", "localhost:6379"}, "redis.url"},
		{"negative duration", []string{"simulate", "--duration", "-1s"}, "--duration"},
		{"extra argument", []string{"simulate", "now"}, "unexpected arguments"},
		{"missing config", []string{"simulate", "--config", "/nonexistent/config.yaml"}, "config.yaml"},
		{"unknown config key", []string{"simulate", "--config", badConfig}, "burst"},
		{"replay without file", []string{"replay"}, "--file is required"},
		{"speed and max", []string{"replay", "--file", good, "--speed", "2", "--max"}, "exclusive"},
		{"zero speed", []string{"replay", "--file", good, "--speed", "0"}, "--speed"},
		{"missing file", []string{"replay", "--file", "/nonexistent/trades.csv"}, "no such file"},
		{"bad header", []string{"replay", "--file", badHeader}, `unknown column "time"`},
		{"replay bad redis url", []string{"replay", "--file", good, "--redis", "http://x"}, "redis.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stderr := runCmd(t, context.Background(), c.args...)
			if code != cli.ExitUsage || !strings.Contains(stderr, c.mention) {
				t.Fatalf("exit %d, want %d with %q in stderr:\n%s", code, cli.ExitUsage, c.mention, stderr)
			}
		})
	}
}

func TestHelpExits0(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"simulate", "-h"}, {"replay", "--help"}} {
		if code, stderr := runCmd(t, context.Background(), args...); code != cli.ExitOK {
			t.Fatalf("%q: exit %d:\n%s", args, code, stderr)
		}
	}
}

func TestUnreachableRedisExits1Quickly(t *testing.T) {
	t.Parallel()
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", testinfra.FreePort(t))
	file := writeFile(t, "trades.csv", "ts,symbol,price,size\n1773151200000,ES,1,1\n")
	for _, args := range [][]string{
		{"simulate", "--redis", url},
		{"replay", "--redis", url, "--file", file, "--max"},
	} {
		t.Run(args[0], func(t *testing.T) {
			t.Parallel()
			began := time.Now()
			code, stderr := runCmd(t, context.Background(), args...)
			if code != cli.ExitError || !strings.Contains(stderr, "not reachable") {
				t.Fatalf("exit %d, want %d with a clear message:\n%s", code, cli.ExitError, stderr)
			}
			// The command's own deadline is redis.dial_timeout + 1 s
			// (redisconn.Redis); without one, go-redis would retry for as
			// long as the context lasts. The margin is for a loaded
			// machine, where the race detector's build has taken 13 s.
			ping := config.Default().Redis.DialTimeout + time.Second
			if took := time.Since(began); took > ping+testWait {
				t.Fatalf("took %s to give up, want about %s", took, ping)
			}
		})
	}
}

// TestSimulateRunsForItsDuration runs feed simulate --duration 2s on a
// fake clock: it still runs with the clock a millisecond short of the
// duration, returns 0 once the clock reaches it, and every tick it wrote
// is stamped within those 2 seconds.
func TestSimulateRunsForItsDuration(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	began := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	const duration = 2 * time.Second
	end := began.Add(duration)
	clk := clock.NewFake(began)
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), clk, []string{"simulate", "--redis", "redis://" + m.Addr() + "/0",
			"--rate", "100", "--all-hours", "--seed", "5", "--symbols", "ES,BTCUSD", "--duration", duration.String()}, &bytes.Buffer{}, &stderr)
	}()
	// waitSleeping waits until the command sleeps until end (its
	// duration) and the simulator sleeps too.
	waitSleeping := func() {
		t.Helper()
		deadline := time.Now().Add(testWait)
		for {
			s := clk.Sleepers()
			if len(s) >= 2 && slices.Contains(s, end) {
				return
			}
			select {
			case code := <-done:
				t.Fatalf("returned %d at %s, before its duration ended:\n%s", code, clk.Now(), stderr.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("at %s, sleepers %v: the command does not sleep until %s", clk.Now(), s, end)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			_ = clk.WaitForSleepers(ctx, len(s)+1)
			cancel()
		}
	}
	waitSleeping()
	for clk.Now().Before(end.Add(-100 * time.Millisecond)) {
		clk.Advance(100 * time.Millisecond)
		waitSleeping()
	}
	clk.Set(end.Add(-time.Millisecond))
	waitSleeping()
	clk.Set(end)
	select {
	case code := <-done:
		if code != cli.ExitOK || !strings.Contains(stderr.String(), "simulation finished") {
			t.Fatalf("exit %d:\n%s", code, stderr.String())
		}
	case <-time.After(testWait):
		t.Fatalf("still running %s after the clock reached its duration:\n%s", testWait, stderr.String())
	}
	var total int
	for n := range config.Default().Ingest.Shards {
		msgs, err := rdb.XRange(context.Background(), keys.Ticks(n), "-", "+").Result()
		testinfra.Must(t, err, "XRANGE")
		for _, msg := range msgs {
			ms, err := strconv.ParseInt(fmt.Sprint(msg.Values[ticks.FieldTS]), 10, 64)
			testinfra.Must(t, err, "tick timestamp")
			if at := time.UnixMilli(ms); at.Before(began) || at.After(end) {
				t.Fatalf("tick %s stamped %s, outside the run %s-%s", msg.ID, at.UTC(), began, end)
			}
			total++
		}
	}
	if total == 0 {
		t.Fatalf("no tick written in %s at 100 ticks/s:\n%s", duration, stderr.String())
	}
}

// TestSimulateStopsOnCancel runs feed simulate on a fake clock until its
// first tick lands, then cancels its context as SIGTERM would: it stops
// cleanly, without the clock moving, so the stop waited for nothing but
// the cancellation.
func TestSimulateStopsOnCancel(t *testing.T) {
	t.Parallel()
	m, rdb := testinfra.Mini(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := clock.NewFake(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, clk, []string{"simulate", "--redis", "redis://" + m.Addr() + "/0", "--all-hours", "--symbols", "ES",
			"--rate", "100"}, &bytes.Buffer{}, &stderr)
	}()
	// Move the clock from one of the simulator's waits to the next until
	// the first tick lands.
	deadline := time.Now().Add(testWait)
	for n := int64(0); n == 0; {
		select {
		case code := <-done:
			t.Fatalf("simulate exited %d before writing:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tick within %s at %s (sleepers %v)", testWait, clk.Now(), clk.Sleepers())
		}
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		if clk.WaitForSleepers(wctx, 1) == nil {
			clk.AdvanceToNextSleeper()
		}
		wcancel()
		n, _ = rdb.XLen(ctx, keys.Ticks(ticks.Shard("ES", config.Default().Ingest.Shards))).Result()
	}
	stoppedAt := clk.Now()
	cancel()
	select {
	case code := <-done:
		if code != cli.ExitOK || !strings.Contains(stderr.String(), "simulation finished") {
			t.Fatalf("exit %d, want a clean stop:\n%s", code, stderr.String())
		}
	case <-time.After(testWait):
		t.Fatalf("simulate did not stop within %s of its context ending", testWait)
	}
	if !clk.Now().Equal(stoppedAt) {
		t.Fatalf("the clock moved during the stop: %s -> %s", stoppedAt, clk.Now())
	}
}

// TestReplayMaxIntoRedisServer replays a generated 100,000-row file into a
// real redis-server and reads the streams back.
func TestReplayMaxIntoRedisServer(t *testing.T) {
	t.Parallel()
	srv := testinfra.StartRedis(t)
	const rows = 100_000
	symbols := []string{"ES", "NQ", "SPY", "BTCUSD", "ETHUSD", "7203.T"}
	path := filepath.Join(t.TempDir(), "trades.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "symbol,ts,price,size,bid,ask")
	perSymbol := map[string]int{}
	bad := 0
	start := time.Now().Add(-time.Hour).UnixMilli()
	for i := range rows {
		sym := symbols[i%len(symbols)]
		if i%1000 == 999 {
			sym, bad = "UNKNOWN", bad+1 // written raw, for Intraday to dead-letter
		}
		perSymbol[sym]++
		fmt.Fprintf(w, "%s,%d,%d.5,%d,%d.25,%d.75\n", sym, start+int64(i), 100+i%50, 1+i%9, 100+i%50, 100+i%50)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, stderr := runCmd(t, context.Background(), "replay", "--redis", srv.URL(), "--file", path, "--max")
	if code != cli.ExitOK {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	ctx := context.Background()
	rdb := srv.Client()
	shards := config.Default().Ingest.Shards
	got := map[string]int{}
	var total int64
	for n := range shards {
		l, err := rdb.XLen(ctx, keys.Ticks(n)).Result()
		if err != nil {
			t.Fatal(err)
		}
		total += l
		// Check the start of each stream entry by entry.
		xs, err := rdb.XRangeN(ctx, keys.Ticks(n), "-", "+", 500).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			sym, _ := x.Values[ticks.FieldSymbol].(string)
			if ticks.Shard(sym, shards) != n {
				t.Fatalf("%s found in shard %d", sym, n)
			}
		}
		q, err := rdb.HGetAll(ctx, keys.Quotes(n)).Result()
		if err != nil {
			t.Fatal(err)
		}
		for sym := range q {
			got[sym]++
		}
	}
	if total != rows {
		t.Fatalf("%d entries in the streams, want %d", total, rows)
	}
	for _, sym := range symbols {
		if got[sym] != 1 {
			t.Fatalf("no latest quote for %s (quotes: %v)", sym, got)
		}
	}
	if got["UNKNOWN"] != 0 {
		t.Fatal("an unknown symbol got a latest quote")
	}
	if want := fmt.Sprintf(`"raw":%d`, bad); !strings.Contains(stderr, want) {
		t.Fatalf("summary does not report %s:\n%s", want, stderr)
	}
}
