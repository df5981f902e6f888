package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// BenchmarkScheduler flags (after -args).
var (
	benchWindow = flag.Duration("sched.window", 60*time.Second, "BenchmarkScheduler: how long each system runs under measurement")
	benchIdle   = flag.Duration("sched.idle", 25*time.Second, "BenchmarkScheduler: how long Redis commands are counted while idle (the end of the window, and the closed-market phase)")
	benchPoll   = flag.Duration("sched.poll", 0, "BenchmarkScheduler: worker.poll_interval for Heartbeat's workers (0: the default)")
	benchReport = flag.String("sched.report", "", "BenchmarkScheduler: also write the Markdown report to this file")
	benchTopo   = flag.String("sched.topology", config.RedisSingle, "BenchmarkScheduler: the Redis topologies Heartbeat runs on, in turn: single, sentinel (a master, 2 replicas, 3 sentinels), cluster (3 masters, 3 replicas), comma-separated")
)

// BenchmarkScheduler runs Heartbeat (2 scheduler replicas, 4 workers, 4
// shards, no feed) on its own redis-server for -sched.window and measures,
// from heartbeat:runs, each job's start lag (started_at - slot), duplicate
// and missed slots, and Redis commands/s over the last -sched.idle of the
// window (instruments on the ALWAYS market: every job fires, with no ticks
// to process). It then restarts everything on a market that is closed for
// the next minutes and counts Redis commands/s again (nothing due). The
// baseline is asynq's own Scheduler: two replicas of asynq.NewScheduler
// with "@every 1s" and four asynq.Servers with default settings, on
// another redis-server, for the same window.
//
//	go test ./test/integration -run '^$' -bench Scheduler -benchtime 1x
//	go test ./test/integration -run '^$' -bench Scheduler -benchtime 1x -args -sched.poll 20ms
//
// It runs once whatever b.N: each run takes about three minutes.
func BenchmarkScheduler(b *testing.B) {
	if *benchIdle > *benchWindow {
		b.Fatalf("-sched.idle %s is longer than -sched.window %s", *benchIdle, *benchWindow)
	}
	machine := fmt.Sprintf("machine: %d CPUs (%s), %s, redis-server %s, load average %s at start, %s", runtime.NumCPU(), cpuModel(),
		runtime.Version(), redisVersion(), loadAverage(), time.Now().UTC().Format(time.RFC3339))
	var results []*hbResult
	for _, topology := range strings.Split(*benchTopo, ",") {
		results = append(results, benchHeartbeat(b, strings.TrimSpace(topology)))
	}
	hb := results[0]
	base := benchAsynq(b)
	report := machine + "\n\n"
	for _, r := range results {
		report += r.markdown() + "\n"
	}
	report += base.markdown() + "\n" + ratios(hb, base) + topologyRatios(results)
	fmt.Println(report) // b.Log would truncate it
	if *benchReport != "" {
		if err := os.WriteFile(*benchReport, []byte(report), 0o644); err != nil {
			b.Errorf("write report: %v", err)
		}
	}

	intra := hb.jobs[jobs.Intraday]
	b.ReportMetric(ms(intra.lag.P50), "intraday-p50-ms")
	b.ReportMetric(ms(intra.lag.P99), "intraday-p99-ms")
	b.ReportMetric(ms(hb.allLag.P99), "all-jobs-p99-ms")
	b.ReportMetric(float64(hb.duplicates), "dup-slots")
	b.ReportMetric(float64(hb.missed), "missed-slots")
	b.ReportMetric(hb.idle.perSecond, "busy-idle-cmd/s")
	b.ReportMetric(hb.closed.perSecond, "closed-idle-cmd/s")
	b.ReportMetric(ms(base.lag.P99), "asynq-p99-ms")
	b.ReportMetric(float64(base.duplicates), "asynq-dup-ticks")
	b.ReportMetric(base.idle.perSecond, "asynq-cmd/s")
	for _, r := range results[1:] {
		b.ReportMetric(ms(r.jobs[jobs.Intraday].lag.P99), r.topology+"-intraday-p99-ms")
		b.ReportMetric(slices.Max(r.idle.perNode), r.topology+"-busiest-node-cmd/s")
	}
	if hb.duplicates > 0 || hb.missed > 0 {
		b.Errorf("Heartbeat ran %d duplicate and missed %d slots, want 0 and 0", hb.duplicates, hb.missed)
	}
}

// jobResult is one job's figures in the window.
type jobResult struct {
	spec       jobs.Spec
	parts      int
	expected   int // slot parts due in the window
	outcomes   map[runlog.Outcome]int
	lag        procs.LagStats
	duplicates int
	missed     int
}

// hbResult is Heartbeat's run.
type hbResult struct {
	topology        string // redis.mode
	window          [2]time.Time
	jobs            map[jobs.Name]*jobResult
	allLag          procs.LagStats
	byLoad          []loadLag // lag by how many tasks start at the same slot
	duplicates      int
	missed          int
	idle            commandRate // ALWAYS market: every job fires, no ticks
	closed          commandRate // a closed market: nothing due
	closedMarket    market.Code
	counted         map[string]float64 // heartbeat_slots_total summed over both schedulers, by outcome
	workerPoll      string
	enqueueDuration string
}

// commandRate is Redis commands per second over an interval, with the
// busiest commands.
type commandRate struct {
	seconds   float64
	perSecond float64 // all data nodes together
	perNode   []float64
	top       []commandCount
}

type commandCount struct {
	name  string
	calls int64
}

func benchHeartbeat(b *testing.B, topology string) *hbResult {
	const shards = 4
	cfg := clusterConfig{schedulers: 2, workers: 4, concurrency: 8, shards: shards, topology: topology}
	res := &hbResult{topology: topology, jobs: map[jobs.Name]*jobResult{}, workerPoll: config.Default().Worker.PollInterval.String() + " (default)"}
	if *benchPoll > 0 {
		cfg.workerEnv = []string{"HEARTBEAT_WORKER_POLL_INTERVAL=" + benchPoll.String()}
		res.workerPoll = benchPoll.String()
	}
	c := setup(b, cfg)
	c.waitLeader(0, 20*time.Second)

	// Start the window on a whole second, past the processes' first runs.
	start := time.Now().Truncate(time.Second).Add(3 * time.Second)
	end := start.Add(*benchWindow)
	res.window = [2]time.Time{start, end}
	sleepUntil(end.Add(-*benchIdle))
	res.idle = countCommands(b, *benchIdle, c.dataNodes()...)
	c.waitWindowRuns(res.window)
	runs := c.mustRuns()
	res.counted = map[string]float64{}
	for _, n := range c.schedulers {
		m, err := procs.Scrape(n.http)
		if err != nil {
			b.Fatalf("scrape %s: %v", n.name, err)
		}
		for _, o := range []string{"enqueued", "duplicate_suppressed", "missed", "skipped_closed"} {
			res.counted[o] += m.Sum(slotsTotal, "outcome", o)
		}
		res.enqueueDuration += fmt.Sprintf(" %s: %s;", n.name, histogramMean(m, "heartbeat_enqueue_seconds"))
	}
	res.analyse(runs, shards)

	// Idle with nothing due: every process restarted on a closed market.
	code, err := closedMarket(time.Now(), 10*time.Minute)
	if err != nil {
		b.Logf("closed-market phase skipped: %v", err)
		for _, n := range c.nodes() {
			c.stop(n)
		}
		return res
	}
	res.closedMarket = code
	closedCfg := c.writeConfig("closed.yaml", fmt.Sprintf("\n  - {symbol: IDLE, market: %s, weight: 1}", code))
	for _, n := range c.nodes() {
		c.stop(n)
	}
	for _, n := range c.nodes() {
		c.restart(n, replaceArg(n.args, "--config", closedCfg)...)
	}
	if err := procs.WaitFor(20*time.Second, func() (bool, error) {
		name, _, err := c.holder()
		return name != "", err
	}); err != nil {
		b.Fatalf("no leader on the closed market: %v", err)
	}
	res.closed = countCommands(b, *benchIdle, c.dataNodes()...)
	// Quiet the machine for the baseline.
	for _, n := range c.nodes() {
		c.stop(n)
	}
	c.killRedis()
	return res
}

// dataNodes returns a client of each Redis data node of the cluster's
// topology (not the sentinels), closed when the test ends.
func (c *cluster) dataNodes() []redis.UniversalClient {
	var servers []*testinfra.RedisServer
	switch {
	case c.sentinel != nil:
		servers = c.sentinel.Nodes
	case c.redisCl != nil:
		servers = c.redisCl.Nodes
	default:
		return []redis.UniversalClient{c.rdb}
	}
	out := make([]redis.UniversalClient, len(servers))
	for i, n := range servers {
		out[i] = n.Client()
	}
	return out
}

// killRedis kills every Redis process of the cluster's topology.
func (c *cluster) killRedis() {
	switch {
	case c.sentinel != nil:
		for _, n := range append(slices.Clone(c.sentinel.Nodes), c.sentinel.Sentinels...) {
			n.Kill()
		}
	case c.redisCl != nil:
		for _, n := range c.redisCl.Nodes {
			n.Kill()
		}
	default:
		c.redis.Kill()
	}
}

// analyse computes the per-job figures of the runs whose slot is in the
// window.
func (r *hbResult) analyse(runs []runlog.Run, shards int) {
	in := func(t time.Time) bool { return !t.Before(r.window[0]) && t.Before(r.window[1]) }
	var all []time.Duration
	lags := map[jobs.Name][]time.Duration{}
	done := map[procs.SlotKey]int{}
	for _, spec := range jobs.Registry {
		r.jobs[spec.Name] = &jobResult{spec: spec, outcomes: map[runlog.Outcome]int{}, parts: taskParts(spec, shards),
			expected: dueSlotParts(spec, r.window, shards)}
	}
	for _, run := range runs {
		j := r.jobs[jobs.Name(run.Job)]
		if j == nil || !in(run.Slot) {
			continue
		}
		j.outcomes[run.Outcome]++
		if procs.Executed(run) {
			lags[j.spec.Name] = append(lags[j.spec.Name], run.StartLag())
			all = append(all, run.StartLag())
			done[procs.KeyOf(run)]++
		}
	}
	for k, n := range done {
		if n > 1 {
			r.jobs[jobs.Name(k.Job)].duplicates++
		}
	}
	for name, j := range r.jobs {
		j.lag = procs.NewLagStats(lags[name])
		distinct := 0
		for k := range done {
			if k.Job == string(name) {
				distinct++
			}
		}
		if j.spec.Schedule.Within == "" {
			j.missed = j.expected - distinct
		}
		r.duplicates += j.duplicates
		r.missed += j.missed
	}
	r.allLag = procs.NewLagStats(all)

	// Group the lags by how many tasks share their slot instant: 4 on odd
	// seconds (Intraday), 8 on even ones (+ Week52), more at :x0 and :00.
	perSlot := map[time.Time][]time.Duration{}
	for _, run := range runs {
		if in(run.Slot) && procs.Executed(run) {
			perSlot[run.Slot.UTC()] = append(perSlot[run.Slot.UTC()], run.StartLag())
		}
	}
	byTasks := map[int][]time.Duration{}
	slots := map[int]int{}
	for _, ls := range perSlot {
		byTasks[len(ls)] = append(byTasks[len(ls)], ls...)
		slots[len(ls)]++
	}
	for n, ls := range byTasks {
		r.byLoad = append(r.byLoad, loadLag{tasks: n, slots: slots[n], lag: procs.NewLagStats(ls)})
	}
	sort.Slice(r.byLoad, func(i, j int) bool { return r.byLoad[i].tasks < r.byLoad[j].tasks })
}

// taskParts is how many tasks a slot of the job has.
func taskParts(spec jobs.Spec, shards int) int {
	if spec.Split.String() == "shard" {
		return shards
	}
	return 1
}

// dueSlotParts is how many slot parts of the job are due in the window
// (none for the pre-open job: no market opens).
func dueSlotParts(spec jobs.Spec, window [2]time.Time, shards int) int {
	if spec.Schedule.Within != "" {
		return 0
	}
	n := 0
	for s := schedule.AlignedAfter(window[0].Add(-time.Nanosecond), spec.Schedule.Every); s.Before(window[1]); s = s.Add(spec.Schedule.Every) {
		n += taskParts(spec, shards)
	}
	return n
}

// waitWindowRuns waits until every slot part due in the window has a run
// recorded, whatever its outcome, or 15 s past the window's end: its last
// slots finish just after it ends. What is still missing then is counted
// by analyse.
func (c *cluster) waitWindowRuns(window [2]time.Time) {
	in := func(t time.Time) bool { return !t.Before(window[0]) && t.Before(window[1]) }
	_ = procs.WaitFor(time.Until(window[1])+15*time.Second, func() (bool, error) {
		runs, err := c.runs()
		if err != nil {
			return false, err
		}
		recorded := map[string]map[procs.SlotKey]bool{}
		for _, r := range runs {
			if in(r.Slot) {
				if recorded[r.Job] == nil {
					recorded[r.Job] = map[procs.SlotKey]bool{}
				}
				recorded[r.Job][procs.KeyOf(r)] = true
			}
		}
		for _, spec := range jobs.Registry {
			if len(recorded[string(spec.Name)]) < dueSlotParts(spec, window, c.cfg.shards) {
				return false, nil
			}
		}
		return true, nil
	})
}

// loadLag is the start lag of the runs of slots with the same number of
// tasks.
type loadLag struct {
	tasks, slots int
	lag          procs.LagStats
}

func (r *hbResult) markdown() string {
	var s strings.Builder
	fmt.Fprintf(&s, "Heartbeat on Redis %s: 2 scheduler replicas, 4 workers (concurrency 8, poll %s), ingest.shards 4, instruments BTCUSD and ETHUSD on ALWAYS, no feed; window %s .. %s (%s)\n\n",
		r.topology, r.workerPoll, r.window[0].Format("15:04:05"), r.window[1].Format("15:04:05"), r.window[1].Sub(r.window[0]))
	s.WriteString("| job | interval | parts | slot parts due | ok | other outcomes | lag p50 | lag p99 | lag max | duplicate | missed |\n")
	s.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, spec := range jobs.Registry {
		j := r.jobs[spec.Name]
		due, missed := strconv.Itoa(j.expected), strconv.Itoa(j.missed)
		if spec.Schedule.Within != "" {
			due, missed = "n/a (no market opens)", "n/a"
		}
		fmt.Fprintf(&s, "| %s | %s | %d | %s | %d | %s | %s | %d | %s |\n", spec.Name, spec.Schedule.Every, j.parts, due,
			j.outcomes[runlog.OK], procs.OtherOutcomes(j.outcomes), j.lag.Cells(), j.duplicates, missed)
	}
	fmt.Fprintf(&s, "| **all** | | | | %d runs | | %s | %d | %d |\n\n", r.allLag.N, r.allLag.Cells(), r.duplicates, r.missed)
	s.WriteString("Start lag by the number of tasks starting at the same instant (all jobs):\n\n| tasks per slot | slots | runs | lag p50 | lag p99 | lag max |\n|---|---|---|---|---|---|\n")
	for _, l := range r.byLoad {
		fmt.Fprintf(&s, "| %d | %d | %d | %s |\n", l.tasks, l.slots, l.lag.N, l.lag.Cells())
	}
	s.WriteString("\n")
	fmt.Fprintf(&s, "Schedulers' heartbeat_slots_total over the whole run (both replicas): enqueued %g, duplicate_suppressed %g, missed %g, skipped_closed %g; mean enqueue time per slot:%s\n\n",
		r.counted["enqueued"], r.counted["duplicate_suppressed"], r.counted["missed"], r.counted["skipped_closed"], r.enqueueDuration)
	fmt.Fprintf(&s, "Redis while idle (no ticks), jobs firing on ALWAYS: %.0f commands/s over %.0f s (per data node: %s); busiest: %s\n\n",
		r.idle.perSecond, r.idle.seconds, r.idle.nodesString(), r.idle.topString())
	if r.closedMarket != "" {
		fmt.Fprintf(&s, "Redis while idle, every process restarted on a closed market (%s, nothing due): %.0f commands/s over %.0f s (per data node: %s); busiest: %s\n",
			r.closedMarket, r.closed.perSecond, r.closed.seconds, r.closed.nodesString(), r.closed.topString())
	}
	return s.String()
}

// asynqResult is the baseline's run.
type asynqResult struct {
	window     [2]time.Time
	ticks      int
	runs       int
	lag        procs.LagStats
	duplicates int // ticks run more than once
	extraRuns  int // runs beyond the first of each tick
	missed     int // ticks never run
	idle       commandRate
}

// benchAsynq runs asynq's own Scheduler in this process: two replicas
// registering "@every 1s" and four default asynq.Servers on another
// redis-server. The intended tick of a task is the whole second its
// scheduler enqueued it at (cron's @every rounds to the second).
func benchAsynq(b *testing.B) *asynqResult {
	srv := testinfra.StartRedis(b)
	opt := asynq.RedisClientOpt{Addr: srv.Addr()}
	var (
		mu      sync.Mutex
		ticks   = map[string]time.Time{} // task ID -> intended tick
		started = map[string]time.Time{} // task ID -> handler start
	)
	mux := asynq.NewServeMux()
	mux.HandleFunc("bench:tick", func(ctx context.Context, _ *asynq.Task) error {
		now := time.Now()
		id, _ := asynq.GetTaskID(ctx)
		mu.Lock()
		started[id] = now
		mu.Unlock()
		return nil
	})
	var servers []*asynq.Server
	for range 4 {
		s := asynq.NewServer(opt, asynq.Config{LogLevel: asynq.WarnLevel}) // otherwise the defaults
		if err := s.Start(mux); err != nil {
			b.Fatalf("start asynq server: %v", err)
		}
		servers = append(servers, s)
	}
	var schedulers []*asynq.Scheduler
	for range 2 {
		s := asynq.NewScheduler(opt, &asynq.SchedulerOpts{LogLevel: asynq.WarnLevel, PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			if err != nil {
				return
			}
			tick := time.Now().Truncate(time.Second)
			mu.Lock()
			ticks[info.ID] = tick
			mu.Unlock()
		}})
		if _, err := s.Register("@every 1s", asynq.NewTask("bench:tick", nil)); err != nil {
			b.Fatalf("register: %v", err)
		}
		if err := s.Start(); err != nil {
			b.Fatalf("start asynq scheduler: %v", err)
		}
		schedulers = append(schedulers, s)
	}
	start := time.Now().Truncate(time.Second).Add(3 * time.Second)
	end := start.Add(*benchWindow)
	res := &asynqResult{window: [2]time.Time{start, end}}
	sleepUntil(end.Add(-*benchIdle))
	res.idle = countCommands(b, *benchIdle, srv.Client())
	sleepUntil(end.Add(3 * time.Second))
	for _, s := range schedulers {
		s.Shutdown()
	}
	for _, s := range servers {
		s.Shutdown()
	}

	mu.Lock()
	defer mu.Unlock()
	perTick := map[time.Time]int{}
	for s := start; s.Before(end); s = s.Add(time.Second) {
		perTick[s] = 0
		res.ticks++
	}
	var lags []time.Duration
	for id, tick := range ticks {
		if _, ok := perTick[tick]; !ok {
			continue
		}
		st, ok := started[id]
		if !ok {
			continue
		}
		perTick[tick]++
		lags = append(lags, st.Sub(tick))
	}
	for _, n := range perTick {
		switch {
		case n == 0:
			res.missed++
		case n > 1:
			res.duplicates++
			res.extraRuns += n - 1
		}
		res.runs += n
	}
	res.lag = procs.NewLagStats(lags)
	return res
}

func (r *asynqResult) markdown() string {
	var s strings.Builder
	fmt.Fprintf(&s, "Baseline, asynq %s Scheduler: 2 replicas of asynq.NewScheduler(\"@every 1s\"), 4 asynq.Servers with default settings (Concurrency = NumCPU, TaskCheckInterval 1 s), in one process; window %s .. %s (%s)\n\n",
		asynqVersion(), r.window[0].Format("15:04:05"), r.window[1].Format("15:04:05"), r.window[1].Sub(r.window[0]))
	s.WriteString("| ticks | runs | lag p50 | lag p99 | lag max | ticks run twice or more | extra runs | ticks missed | Redis commands/s |\n|---|---|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(&s, "| %d | %d | %s | %d | %d | %d | %.0f |\n\n", r.ticks, r.runs, r.lag.Cells(), r.duplicates, r.extraRuns, r.missed,
		r.idle.perSecond)
	fmt.Fprintf(&s, "Redis busiest commands: %s\n", r.idle.topString())
	return s.String()
}

// asynqVersion returns the version of asynq the module requires.
func asynqVersion() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/hibiken/asynq").Output()
	if err != nil {
		return "(unknown version)"
	}
	return strings.TrimSpace(string(out))
}

func ratios(hb *hbResult, base *asynqResult) string {
	intra := hb.jobs[jobs.Intraday]
	times := func(a, b float64) string {
		if b == 0 {
			return "n/a"
		}
		return strconv.FormatFloat(a/b, 'f', 1, 64) + "×"
	}
	return fmt.Sprintf("Ratios: asynq's start lag is %s (p50), %s (p99), %s (max) Heartbeat's Intraday lag; duplicate slots %d (Heartbeat) vs %d of %d ticks (asynq); Heartbeat uses %s (jobs firing, no ticks) and %s (closed market) asynq's Redis commands/s\n",
		times(ms(base.lag.P50), ms(intra.lag.P50)), times(ms(base.lag.P99), ms(intra.lag.P99)), times(ms(base.lag.Max), ms(intra.lag.Max)),
		hb.duplicates, base.duplicates, base.ticks, times(hb.idle.perSecond, base.idle.perSecond), times(hb.closed.perSecond, base.idle.perSecond))
}

// topologyRatios compares each topology's Intraday start lag p99 and its
// busiest data node's idle commands/s with the first topology's.
func topologyRatios(results []*hbResult) string {
	if len(results) < 2 {
		return ""
	}
	base := results[0]
	var s strings.Builder
	fmt.Fprintf(&s, "\n| topology | Intraday lag p99 | ratio to %s | idle commands/s, busiest node | ratio to %s | all nodes |\n|---|---|---|---|---|---|\n", base.topology, base.topology)
	for _, r := range results {
		p99, busiest := r.jobs[jobs.Intraday].lag.P99, slices.Max(r.idle.perNode)
		fmt.Fprintf(&s, "| %s | %s | %.2f | %.0f | %.2f | %.0f |\n", r.topology, lagMS(p99),
			float64(p99)/float64(base.jobs[jobs.Intraday].lag.P99), busiest, busiest/slices.Max(base.idle.perNode), r.idle.perSecond)
	}
	return s.String()
}

// countCommands resets the statistics of every node, waits d and returns the
// commands processed per second (INFO stats total_commands_processed,
// which counts the commands Lua scripts call as well as the scripts).
func countCommands(b *testing.B, d time.Duration, nodes ...redis.UniversalClient) commandRate {
	ctx := context.Background()
	for _, rdb := range nodes {
		if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
			b.Fatalf("CONFIG RESETSTAT: %v", err)
		}
	}
	began := time.Now()
	sleepUntil(began.Add(d))
	calls := map[string]int64{}
	var all int64
	var perNode []int64
	for _, rdb := range nodes {
		stats, err := rdb.Info(ctx, "stats", "commandstats").Result()
		if err != nil {
			b.Fatalf("INFO: %v", err)
		}
		var total int64
		for _, line := range strings.Split(stats, "\r\n") {
			if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
				total, _ = strconv.ParseInt(v, 10, 64)
			}
			if rest, ok := strings.CutPrefix(line, "cmdstat_"); ok {
				name, fields, _ := strings.Cut(rest, ":")
				for _, f := range strings.Split(fields, ",") {
					if v, ok := strings.CutPrefix(f, "calls="); ok {
						n, _ := strconv.ParseInt(v, 10, 64)
						calls[name] += n
					}
				}
			}
		}
		all += total
		perNode = append(perNode, total)
	}
	took := time.Since(began).Seconds()
	var top []commandCount
	for name, n := range calls {
		top = append(top, commandCount{name, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].calls > top[j].calls })
	rate := commandRate{seconds: took, perSecond: float64(all) / took, top: top}
	for _, n := range perNode {
		rate.perNode = append(rate.perNode, float64(n)/took)
	}
	return rate
}

// nodesString lists the commands/s of each node, busiest first.
func (c commandRate) nodesString() string {
	sorted := slices.Clone(c.perNode)
	slices.Sort(sorted)
	slices.Reverse(sorted)
	var parts []string
	for _, v := range sorted {
		parts = append(parts, fmt.Sprintf("%.0f", v))
	}
	return strings.Join(parts, ", ")
}

func (c commandRate) topString() string {
	var parts []string
	for i, t := range c.top {
		if i == 6 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f/s", t.name, float64(t.calls)/c.seconds))
	}
	return strings.Join(parts, ", ")
}

// closedMarket returns a market that is closed now and stays closed for at
// least d.
func closedMarket(now time.Time, d time.Duration) (market.Code, error) {
	for _, code := range market.Codes() {
		if code == market.ALWAYS {
			continue
		}
		cal, err := market.Lookup(code)
		if err != nil {
			continue
		}
		open, err := cal.IsOpen(now)
		if err != nil || open {
			continue
		}
		next, err := cal.NextOpen(now)
		if err == nil && next.Sub(now) > d {
			return code, nil
		}
	}
	return "", fmt.Errorf("no market is closed for the next %s", d)
}

// histogramMean returns a histogram's mean over all its series, in ms.
func histogramMean(m procs.Metrics, name string) string {
	var sum, count float64
	for k, v := range m {
		switch {
		case strings.HasPrefix(k, name+"_sum"):
			sum += v
		case strings.HasPrefix(k, name+"_count"):
			count += v
		}
	}
	if count == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f ms over %g slots", 1000*sum/count, count)
}

func replaceArg(args []string, flag, value string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == flag {
			out[i+1] = value
		}
	}
	return out
}

// sleepUntil waits for a measurement window's edge (a fixed length of
// time, not a state to reach).
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures: other work
// on the machine skews the lags.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return strings.TrimSpace(string(out))
}
