// Command ingest is the ingest benchmark: 5,000 symbols, the feed
// simulator and the Intraday job (scheduler + worker processes) on a real
// redis-server of its own, for a measured minute. It reports the
// end-to-end tick rate, Intraday's run time per 1 s slot (p50/p99/max from
// the run history), the worker's peak RSS, and the ratio of the tick rate
// to `redis-benchmark -P 16 -t set -q` measured in the same run. With
// --topology cluster the Redis is a 3-master cluster (no replicas) of its
// own, in cluster mode, and redis-benchmark runs with --cluster. It also
// reports the Redis CPU seconds (utime + stime of every redis-server
// process, /proc/PID/stat) per 100,000 ticks consumed.
//
// With -sse-clients N it then connects N live figures clients (GET
// /api/v1/stream on the scheduler replica, -sse-follow symbols each) and
// measures a second window: the same figures, the replica's CPU and
// memory, and the tick-to-client latency, against the first window as
// the baseline of the same run.
//
// Run: make bench-ingest (go run ./test/bench/ingest [-rate 100000] [-symbols 5000] [-shards 8] [-topology single|cluster] [-sse-clients 1000 -sse-follow 10]).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run() error {
	rate := flag.Int("rate", 100_000, "ticks per second the feed writes")
	symbols := flag.Int("symbols", 5000, "instruments")
	shards := flag.Int("shards", 8, "tick shards (ingest.shards)")
	warm := flag.Duration("warmup", 15*time.Second, "warm-up before measuring")
	measure := flag.Duration("measure", 60*time.Second, "measured window")
	quotes := flag.Bool("quotes", true, "the feed sends bid, ask and their sizes with every trade (8 fields a tick instead of 4)")
	topology := flag.String("topology", "single", "the Redis: single (one redis-server) or cluster (3 masters, no replicas)")
	sseClients := flag.Int("sse-clients", 0, "after the baseline window, connect this many live figures clients (GET /api/v1/stream) to the scheduler replica and measure again")
	sseFollow := flag.Int("sse-follow", 10, "symbols each live figures client follows")
	flag.Parse()
	if *topology != "single" && *topology != "cluster" {
		return fmt.Errorf("--topology: want single or cluster, got %q", *topology)
	}

	dir, err := os.MkdirTemp("", "hb-ingest-")
	if err != nil {
		return err
	}
	if os.Getenv("HB_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Println("keeping", dir)
	}
	fmt.Println("building binaries...")
	build := exec.Command("go", "build", "-o", dir+"/", "./cmd/scheduler", "./cmd/worker", "./cmd/feed")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	servers, err := startRedis(*topology, dir)
	defer func() {
		for _, srv := range servers {
			_ = srv.Process.Kill()
			_ = srv.Wait()
		}
	}()
	if err != nil {
		return err
	}
	port := redisPort(servers[0])
	var rdb redis.UniversalClient
	url, mode := fmt.Sprintf("redis://127.0.0.1:%d/0", port), "single"
	benchArgs := []string{"-p", strconv.Itoa(port), "-P", "16", "-t", "set", "-q", "-n", "2000000"}
	if *topology == "cluster" {
		var addrs []string
		for _, srv := range servers {
			addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", redisPort(srv)))
		}
		url, mode = "redis://"+addrs[0]+"?addr="+strings.Join(addrs[1:], "&addr="), "cluster"
		rdb = redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		benchArgs = append(benchArgs, "--cluster")
	} else {
		rdb = redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	}
	defer rdb.Close()
	ctx := context.Background()
	for i := 0; rdb.Ping(ctx).Err() != nil; i++ {
		if i > 100 {
			return fmt.Errorf("redis did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	fmt.Println("baseline: redis-benchmark -P 16 -t set -q ...")
	out, err := exec.Command("redis-benchmark", benchArgs...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("redis-benchmark: %w: %s", err, out)
	}
	setRPS := parseRPS(string(out))
	if err := flushAll(ctx, rdb); err != nil {
		return err
	}

	cfgPath := filepath.Join(dir, "config.yaml")
	if err := writeConfig(cfgPath, dir, *symbols, *shards, *rate); err != nil {
		return err
	}
	env := append(os.Environ(), "HEARTBEAT_LOG_LEVEL=warn", "HEARTBEAT_LOG_FORMAT=json")
	workerHTTP := fmt.Sprintf("127.0.0.1:%d", freePort())
	schedHTTP := fmt.Sprintf("127.0.0.1:%d", freePort())
	procs := []*exec.Cmd{
		exec.Command(dir+"/scheduler", "--config", cfgPath, "--redis", url, "--redis-mode", mode, "--http", schedHTTP, "--replica", "bench"),
		exec.Command(dir+"/worker", "--config", cfgPath, "--redis", url, "--redis-mode", mode, "--http", workerHTTP, "--name", "bench-worker", "--concurrency", strconv.Itoa(*shards)),
		exec.Command(dir+"/feed", "simulate", "--config", cfgPath, "--redis", url, "--redis-mode", mode, "--rate", strconv.Itoa(*rate), "--all-hours", "--seed", "7", "--quotes="+strconv.FormatBool(*quotes)),
	}
	for _, p := range procs {
		p.Env = env
		p.Stdout = io.Discard
		f, _ := os.Create(filepath.Join(dir, filepath.Base(p.Path)+".log"))
		p.Stderr = f
		if err := p.Start(); err != nil {
			return fmt.Errorf("start %s: %w", p.Path, err)
		}
	}
	defer func() {
		for _, p := range procs {
			_ = p.Process.Signal(syscall.SIGTERM)
		}
		for _, p := range procs {
			_ = p.Wait()
		}
	}()
	syms := make([]string, *symbols)
	for i := range syms {
		syms[i] = symbolName(i)
	}
	// With -sse-clients, one client follows -sse-follow symbols during the
	// baseline too: its latency is the floor (the feed, Intraday's slots
	// and runs, one hub read), at no measurable load.
	var probe *liveClients
	if *sseClients > 0 {
		pctx, stopProbe := context.WithCancel(ctx)
		defer stopProbe()
		probe = startSSEClients(pctx, "http://"+schedHTTP, 1, *sseFollow, syms)
	}
	fmt.Printf("warming up %s, then measuring %s...\n", *warm, *measure)
	time.Sleep(*warm)
	// The benchmark's own process: its live figures clients, when any.
	names := []string{"redis-server", "scheduler", "worker", "feed", "benchmark (clients)"}
	pids := []int{servers[0].Process.Pid, procs[0].Process.Pid, procs[1].Process.Pid, procs[2].Process.Pid, os.Getpid()}
	if probe != nil {
		probe.start()
	}
	base, err := measureWindow(ctx, rdb, workerHTTP, servers, names, pids, *measure, *shards)
	if err != nil {
		return fmt.Errorf("%w; see %s", err, dir)
	}
	fmt.Println()
	fmt.Printf("machine: %d CPUs, %s, %s\n", runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Printf("redis: %s (%d redis-server processes)\n", *topology, len(servers))
	fmt.Printf("config: %d symbols, %d shards, feed rate %d ticks/s (quotes %v), measured %s after %s warm-up\n", *symbols, *shards, *rate, *quotes, base.elapsed.Round(time.Second), *warm)
	fmt.Printf("redis-benchmark -P 16 -t set -q: %.0f SET/s\n", setRPS)
	if *sseClients > 0 {
		fmt.Printf("\n-- baseline: one live figures client (%d symbols) --\n", *sseFollow)
	}
	base.print(setRPS)
	if *sseClients <= 0 {
		return nil
	}
	fmt.Println(probe.report(base.elapsed))
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	fmt.Printf("\nconnecting %d live figure clients, %d symbols each, to the scheduler replica; %s warm-up...\n", *sseClients, *sseFollow, *warm)
	clients := startSSEClients(sctx, "http://"+schedHTTP, *sseClients, *sseFollow, syms)
	time.Sleep(*warm)
	clients.start()
	readBefore, err1 := lagHistogram(schedHTTP, "read")
	sentBefore, err2 := lagHistogram(schedHTTP, "sent")
	if err1 != nil || err2 != nil {
		return fmt.Errorf("scheduler metrics: %v %v", err1, err2)
	}
	live, err := measureWindow(ctx, rdb, workerHTTP, servers, names, pids, *measure, *shards)
	if err != nil {
		return fmt.Errorf("%w; see %s", err, dir)
	}
	fmt.Printf("\n-- with %d live figures clients (GET /api/v1/stream, %d of %d symbols each) --\n", *sseClients, *sseFollow, *symbols)
	live.print(setRPS)
	fmt.Println(clients.report(live.elapsed))
	readAfter, err1 := lagHistogram(schedHTTP, "read")
	sentAfter, err2 := lagHistogram(schedHTTP, "sent")
	if err1 != nil || err2 != nil {
		return fmt.Errorf("scheduler metrics: %v %v", err1, err2)
	}
	fmt.Printf("replica's heartbeat_live_lag_seconds from Intraday's commit: to the hub %s; to the client's connection %s\n",
		lagQuantiles(readBefore, readAfter), lagQuantiles(sentBefore, sentAfter))
	fmt.Printf("ratios to the baseline of this run: ticks/s %.3f, intraday p99 %.2f, scheduler CPU %.0f%% → %.0f%%, scheduler peak RSS %.1f → %.1f MB\n",
		live.tickRate/base.tickRate, ratio(live.p99, base.p99), base.cpu[1], live.cpu[1],
		float64(base.peakRSS[1])/1024/1024, float64(live.peakRSS[1])/1024/1024)
	return nil
}

// window is what one measured window saw.
type window struct {
	elapsed     time.Duration
	tickRate    float64
	backlog     int64
	durs        []time.Duration
	p99         time.Duration
	outcomes    map[runlog.Outcome]int
	names       []string
	cpu         []float64 // % of one core, by process
	peakRSS     []int64   // bytes, by process
	redisCPU    float64
	consumed    float64
	redisServer int
}

// measureWindow measures ticks consumed, Intraday's run times, CPU and
// peak RSS of each process over d.
func measureWindow(ctx context.Context, rdb redis.UniversalClient, workerHTTP string, servers []*exec.Cmd, names []string, pids []int, d time.Duration, shards int) (window, error) {
	w := window{names: names, redisServer: len(servers), outcomes: map[runlog.Outcome]int{}, peakRSS: make([]int64, len(pids))}
	t0 := time.Now()
	acc0, err := accepted(workerHTTP)
	if err != nil {
		return w, err
	}
	lastID := lastRunID(ctx, rdb)
	cpu0 := make([]float64, len(pids))
	for i, pid := range pids {
		cpu0[i] = cpuSeconds(pid)
	}
	redisCPU0 := redisCPU(servers)
	for time.Since(t0) < d {
		time.Sleep(time.Second)
		for i, pid := range pids {
			w.peakRSS[i] = max(w.peakRSS[i], rss(pid))
		}
		if rss(pids[2]) == 0 {
			return w, fmt.Errorf("worker exited")
		}
	}
	w.elapsed = time.Since(t0)
	w.redisCPU = redisCPU(servers) - redisCPU0
	for i, pid := range pids {
		w.cpu = append(w.cpu, (cpuSeconds(pid)-cpu0[i])/w.elapsed.Seconds()*100)
	}
	acc1, err := accepted(workerHTTP)
	if err != nil {
		return w, err
	}
	for s := 0; s < shards; s++ {
		w.backlog += rdb.XLen(ctx, keys.Ticks(s)).Val()
	}
	runs, err := runlog.New(rdb, 0).Range(ctx, "("+lastID, "+")
	if err != nil {
		return w, err
	}
	for _, r := range runs {
		if r.Job != "intraday" {
			continue
		}
		w.outcomes[r.Outcome]++
		if r.Outcome == runlog.OK {
			w.durs = append(w.durs, r.Duration())
		}
	}
	sort.Slice(w.durs, func(i, j int) bool { return w.durs[i] < w.durs[j] })
	w.p99 = pct(w.durs, 0.99)
	w.consumed = acc1 - acc0
	w.tickRate = w.consumed / w.elapsed.Seconds()
	return w, nil
}

func (w window) print(setRPS float64) {
	fmt.Printf("end-to-end ticks consumed by Intraday: %.0f ticks/s (ratio to redis-benchmark SET: %.3f)\n", w.tickRate, w.tickRate/setRPS)
	fmt.Printf("backlog left in the tick streams at the end: %d ticks\n", w.backlog)
	fmt.Printf("intraday runs: %d ok, outcomes %v; run time p50 %s, p99 %s, max %s\n", len(w.durs), w.outcomes, pct(w.durs, 0.5), w.p99, pct(w.durs, 1))
	var cpu, mem []string
	for i, n := range w.names {
		cpu = append(cpu, fmt.Sprintf("%s %.0f%%", n, w.cpu[i]))
		mem = append(mem, fmt.Sprintf("%s %.1f MB", n, float64(w.peakRSS[i])/1024/1024))
	}
	fmt.Printf("CPU over the window (100%% = one core; redis-server: the first node): %s\n", strings.Join(cpu, ", "))
	fmt.Printf("peak RSS: %s\n", strings.Join(mem, ", "))
	fmt.Printf("Redis CPU (utime+stime of all %d redis-server processes): %.2f s over the window, %.3f s per 100,000 ticks consumed\n",
		w.redisServer, w.redisCPU, w.redisCPU/w.consumed*100_000)
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// symbolName is the i-th instrument of the benchmark's config.
func symbolName(i int) string { return fmt.Sprintf("SYM%04dUSD", i) }

func writeConfig(path, dir string, symbols, shards, rate int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "ingest:\n  shards: %d\n  batch_size: 200000\nstore:\n  dir: %s\nfeed:\n  rate: %d\n  all_hours: true\n", shards, filepath.Join(dir, "bars"), rate)
	b.WriteString("jobs:\n")
	for _, j := range []string{"week52_extremes", "session_volume", "market_metrics", "twenty_four_hour", "pre_open_backtest", "vwap_minute_capture", "closed_bars_flush"} {
		fmt.Fprintf(&b, "  %s: {enabled: false}\n", j)
	}
	b.WriteString("instruments:\n")
	for i := 0; i < symbols; i++ {
		fmt.Fprintf(&b, "  - {symbol: %s, market: ALWAYS, weight: 1}\n", symbolName(i))
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var rpsRE = regexp.MustCompile(`SET: ([0-9.]+) requests per second`)

func parseRPS(s string) float64 {
	m := rpsRE.FindAllStringSubmatch(s, -1)
	if len(m) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(m[len(m)-1][1], 64)
	return v
}

// accepted reads the ticks a worker accepted: heartbeat_ticks_total summed
// over its disjoint results (in_session, out_of_session).
func accepted(addr string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("worker metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	total := 0.0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, `heartbeat_ticks_total{`) {
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err != nil {
				return 0, fmt.Errorf("worker metrics: %q: %w", line, err)
			}
			total += v
		}
	}
	return total, sc.Err()
}

func lastRunID(ctx context.Context, rdb redis.UniversalClient) string {
	msgs, err := rdb.XRevRangeN(ctx, keys.Runs, "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return "0-0"
	}
	return msgs[0].ID
}

// startRedis starts one redis-server (single) or three cluster-enabled
// ones joined by redis-cli --cluster create with no replicas (cluster),
// and waits for cluster_state:ok; each server's files go under parent. It
// returns what it started even on error.
func startRedis(topology, parent string) ([]*exec.Cmd, error) {
	n := 1
	var extra []string
	if topology == "cluster" {
		n = 3
		extra = []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"}
	}
	var servers []*exec.Cmd
	var addrs []string
	for range n {
		dir, err := os.MkdirTemp(parent, "redis-")
		if err != nil {
			return servers, err
		}
		port := freePort()
		for topology == "cluster" && !portFree(port+10000) {
			port = freePort()
		}
		cmd := exec.Command("redis-server", append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, extra...)...)
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			return servers, fmt.Errorf("start redis-server: %w", err)
		}
		servers = append(servers, cmd)
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
		c := redis.NewClient(&redis.Options{Addr: addrs[len(addrs)-1]})
		for i := 0; c.Ping(context.Background()).Err() != nil; i++ {
			if i > 100 {
				c.Close()
				return servers, fmt.Errorf("redis-server on %s did not start", addrs[len(addrs)-1])
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	if topology != "cluster" {
		return servers, nil
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		return servers, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out)
	}
	for _, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr})
		for i := 0; ; i++ {
			info, _ := c.ClusterInfo(context.Background()).Result()
			if strings.Contains(info, "cluster_state:ok") {
				break
			}
			if i > 200 {
				c.Close()
				return servers, fmt.Errorf("cluster node %s: cluster_state not ok", addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return servers, nil
}

// redisPort is the --port of a redis-server command.
func redisPort(cmd *exec.Cmd) int {
	for i, a := range cmd.Args {
		if a == "--port" {
			p, _ := strconv.Atoi(cmd.Args[i+1])
			return p
		}
	}
	return 0
}

func portFree(port int) bool {
	if port > 65535 {
		return false
	}
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// flushAll empties the single server or every master of the cluster.
func flushAll(ctx context.Context, rdb redis.UniversalClient) error {
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.FlushAll(ctx).Err() })
	}
	return rdb.FlushAll(ctx).Err()
}

// redisCPU is the CPU seconds (user + system) of every redis-server.
func redisCPU(servers []*exec.Cmd) float64 {
	var total float64
	for _, srv := range servers {
		total += cpuSeconds(srv.Process.Pid)
	}
	return total
}

// rss returns a process's resident set size in bytes.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// cpuSeconds returns a process's user + system CPU time in seconds.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // clock ticks; 100 per second on Linux
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			return strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

func pct(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))) - 1
	i = min(max(i, 0), len(d)-1)
	return d[i].Round(time.Millisecond)
}
