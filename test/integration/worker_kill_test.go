package integration

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"heartbeat/internal/config"
	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/testinfra"
	"heartbeat/test/procs"
)

// What TestProcessWorkersKilledMidRun feeds and how hard it kills.
const (
	killShards = 2
	// killBatch is ingest.batch_size: small, so the backlog drains over
	// many Intraday runs (shard 0 holds two symbols, about 13,200 ticks:
	// 14 runs, a second each at best) and every kill lands while it does.
	killBatch = 1000
	// tradesPerSymbol valid trades per symbol, and one malformed row about
	// every malformedEvery rows: about 20,000 rows in all.
	tradesPerSymbol = 6600
	malformedEvery  = 200
	// tradeWindow is how long the trades span; they end a minute before
	// the test starts, so every minute has ended when processing finishes.
	tradeWindow = 8 * time.Minute
	// About 4 kills in 10 hit a run in flight on a loaded 2-core machine
	// (measured: 4 of 10), so 10-12 kills fall short of minCutKills in
	// about one attempt in ten, and three attempts in a row about once in
	// a thousand runs.
	minKills = 10
	maxKills = 12
	// minCutKills is how many kills must hit a run in flight for an
	// attempt to count; killAttempts bounds the seeds tried.
	minCutKills  = 3
	killAttempts = 3
	// killBudget bounds the whole test.
	killBudget = 90 * time.Second
)

// killSymbols trade on the ALWAYS market (sessions are UTC days): BTCUSD
// and ETHUSD hash to shard 0, SOLUSD to shard 1. unknownSymbol is not an
// instrument.
var killSymbols = []struct {
	symbol string
	base   int64 // starting price in units of 1e-8
}{
	{"BTCUSD", 60_000 * 1e8},
	{"ETHUSD", 3_000 * 1e8},
	{"SOLUSD", 150 * 1e8},
}

const unknownSymbol = "DOGEUSD"

// TestProcessWorkersKilledMidRun proves with real processes that killing
// workers mid-run loses nothing and counts nothing twice. One scheduler and
// two workers (concurrency 4) run on a redis-server and PostgreSQL of the
// test's own; cmd/feed replays a generated trades file of about 20,000
// rows (3 ALWAYS symbols over 8 minutes, a malformed row about every 200)
// as fast as it can. While Intraday works through the backlog, 1,000 ticks
// a run, a random worker is SIGKILLed 10-12 times and restarted at once,
// the other always up. Intraday (1 s) and the closed-bars flush (1 s here)
// start on the second and take a few milliseconds, so each kill falls at a
// random instant of the window of its second in which recent runs were in
// flight: many kills cut a run short (the log says which: its run lock,
// or the bars its flush claimed, are left behind).
//
// Once both shards' Intraday checkpoints reach their streams' last entry,
// every bar has closed and a flush has run on both shards since, the test
// compares with an independent computation from the generated rows: every
// 1-minute bar in PostgreSQL (OHLC, volume, trades, notional exactly; none
// missing, none extra), each symbol's session volume and trades and tick
// count in the Intraday state, the dead-letter counts by reason per shard,
// and the run history (no job part and slot with two ok runs).
//
// The test proves what it claims only if kills did cut runs short, so it
// requires at least minCutKills of them to have hit a run in flight (a
// run lock or claimed bars left behind). The seed of everything random
// (the trades, the number of kills, the victims, the instants) comes from
// HEARTBEAT_TEST_SEED, or the clock when that is unset; a seed whose kills
// missed is followed by the next seed, up to killAttempts in all. Each
// attempt is a subtest named after its seed, and a failure prints the
// command that replays it (with a fixed seed there is one attempt; the
// instants are drawn relative to the clock, so a replay repeats the data
// and the draws, not the scheduling of the machine).
//
// Like the other cluster tests it does not call t.Parallel: its kills are
// timed to the millisecond on a 2-core machine.
func TestProcessWorkersKilledMidRun(t *testing.T) {
	seed, fixed := testSeed(t)
	attempts := killAttempts
	if fixed {
		attempts = 1
	}
	var tried []string
	for attempt := range attempts {
		s := seed + uint64(attempt)
		hits := 0
		ok := t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay: %s=%d go test -count=1 -run 'TestProcessWorkersKilledMidRun' ./test/integration/", seedEnv, s)
				}
			})
			hits = killScenario(t, rand.New(rand.NewPCG(s, s>>32)))
		})
		if !ok {
			return
		}
		if hits >= minCutKills {
			t.Logf("seed %d: %d kills hit a run in flight", s, hits)
			return
		}
		tried = append(tried, fmt.Sprintf("seed %d: %d", s, hits))
		t.Logf("seed %d: only %d kills hit a run in flight, want %d: trying seed %d", s, hits, minCutKills, s+1)
	}
	t.Fatalf("no seed made %d kills hit a run in flight (%s); replay one with %s=SEED",
		minCutKills, strings.Join(tried, ", "), seedEnv)
}

// seedEnv names the environment variable that fixes the seed of the
// randomised process tests.
const seedEnv = "HEARTBEAT_TEST_SEED"

// testSeed returns the seed from HEARTBEAT_TEST_SEED (fixed is true) or,
// when it is unset, from the clock. It logs the seed either way.
func testSeed(t *testing.T) (seed uint64, fixed bool) {
	t.Helper()
	if v := os.Getenv(seedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not an unsigned integer: %v", seedEnv, v, err)
		}
		t.Logf("seed %d (from %s)", s, seedEnv)
		return s, true
	}
	seed = uint64(time.Now().UnixNano())
	t.Logf("seed %d (from the clock; set %s to replay)", seed, seedEnv)
	return seed, false
}

// killScenario runs one attempt of TestProcessWorkersKilledMidRun with rng
// and returns how many kills hit a run in flight (cut it short, or left
// closed bars claimed). It fails t when the results differ from the
// independent computation.
func killScenario(t *testing.T, rng *rand.Rand) (hits int) {
	began := time.Now()
	deadline := began.Add(killBudget)
	pgURL := testinfra.PostgresSchema(t)
	rs := testinfra.StartRedis(t)
	feedBins, err := procs.Build(t.TempDir(), "feed")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, cfg: clusterConfig{schedulers: 1, workers: 2, concurrency: 4, shards: killShards},
		dir: t.TempDir(), redis: rs, rdb: rs.Client(), redisURL: rs.URL(), redisMode: config.RedisSingle}
	tf := writeTrades(t, filepath.Join(c.dir, "trades.csv"), rng, began.Add(-time.Minute))
	c.configPath = writeKillConfig(t, c, pgURL)
	c.schedulers = append(c.schedulers, c.startScheduler("s1"))
	for i := range c.cfg.workers {
		c.workers = append(c.workers, c.startWorker(fmt.Sprintf("w%d", i+1)))
	}
	for _, n := range c.nodes() {
		waitServing(t, n)
	}
	leader, _ := c.waitLeader(0, 20*time.Second)

	// Intraday is paused until the whole file is in the streams. The
	// trades are historical: an Intraday run that caught up with a feed
	// still writing would close the minute it reached at once (the clock
	// ended it long ago) and the rest of that minute's trades would amend
	// the bar (revision > 1, figures exact; TestProcessHAEndToEnd excuses
	// those). Paused, every bar is built from a complete minute. The pause
	// has taken effect once the leader counts a paused Intraday slot.
	c.control("pause", "intraday", "--note", "paused while the feed replays")
	if err := procs.WaitFor(10*time.Second, func() (bool, error) {
		m, err := procs.Scrape(leader.http)
		return m.Sum(slotsTotal, "hb_job", string(jobs.Intraday), "outcome", "skipped_paused") > 0, err
	}); err != nil {
		t.Fatalf("the leader did not obey the Intraday pause: %v", err)
	}

	// The whole file goes into the streams before the first kill, so the
	// backlog only shrinks from here.
	code, out, took := runToExit(t, feedBins["feed"], c.dir,
		[]string{"replay", "--config", c.configPath, "--file", tf.path, "--max"}, nil, 30*time.Second)
	if code != 0 {
		t.Fatalf("feed replay exited with %d:\n%s", code, out)
	}
	if err := tf.checkReplayLog(out); err != nil {
		t.Fatalf("feed replay: %v\n%s", err, out)
	}
	replayed := time.Now()
	t.Logf("feed replay: %d rows (%d valid, %d malformed) in %s; backlog %d entries",
		tf.rows, len(tf.valid), len(tf.bad), took.Round(time.Millisecond), c.killBacklog())
	c.control("resume", "intraday")

	kills := minKills + rng.IntN(maxKills-minKills+1)
	var watch killWatch
	defer func() { // also when the test fails
		watch.settle(c)
		t.Logf("kills:\n%s", watch.report())
		if runs, err := c.runs(); err == nil {
			t.Logf("runs: %s", summarizeRuns(runs))
		}
	}()
	for i := range kills {
		victim := c.workers[rng.IntN(len(c.workers))]
		for _, w := range c.workers {
			if w != victim {
				waitServing(t, w) // at least one worker is up at every kill
			}
		}
		lo, hi := c.runWindow()
		at := nextKill(time.Now(), rng, lo, hi)
		time.Sleep(time.Until(at)) // paces the kills; it waits for no work
		victim.proc.Kill()
		killed := time.Now()
		// The victim's run locks and claimed bars stay behind; a live
		// run's go within milliseconds.
		held := c.inFlight()
		backlog := c.killBacklog()
		if _, err := victim.proc.Wait(10 * time.Second); err != nil {
			t.Fatalf("SIGKILL %s: %v", victim.name, err)
		}
		watch.add(i+1, victim.name, killed, lo, hi, backlog, held)
		c.restart(victim)
		watch.settle(c)
	}
	killsEnded := time.Now()

	// Drain: every tick consumed and every bar closed...
	var closedAt time.Time
	if err := procs.WaitFor(time.Until(deadline), func() (bool, error) {
		watch.settle(c)
		ok, err := c.killDrained()
		if ok {
			closedAt = time.Now()
		}
		return ok, err
	}); err != nil {
		t.Fatalf("Intraday did not consume both shards and close every bar: %v", err)
	}
	// ...then a flush run on both shards since, with nothing left to claim
	// or re-drive.
	if err := procs.WaitFor(time.Until(deadline), func() (bool, error) {
		watch.settle(c)
		return c.killFlushed(closedAt)
	}); err != nil {
		t.Fatalf("closed bars were not flushed on both shards: %v", err)
	}
	c.checkAlive()
	flushed := time.Now()
	runs := c.mustRuns()
	since := func(at time.Time) string { return "+" + at.Sub(began).Round(100*time.Millisecond).String() }
	t.Logf("timing: replayed %s, kills %s to %s, drained %s, flushed %s",
		since(replayed), since(watch.kills[0].at), since(killsEnded), since(closedAt), since(flushed))

	var problems []string
	problems = append(problems, checkStoredBars(t, pgURL, tf)...)
	problems = append(problems, checkIntradayStates(t, c.rdb, tf)...)
	problems = append(problems, checkDeadLetters(t, c.rdb, tf)...)
	if dups := procs.Duplicates(runs, func(r runlog.Run) bool { return r.Outcome == runlog.OK }); len(dups) > 0 {
		problems = append(problems, "run history: slots with two ok runs:\n"+describeDuplicates(runs, dups))
	}
	if len(problems) > 0 {
		const show = 25
		if len(problems) > show {
			problems = append(problems[:show], fmt.Sprintf("... and %d more", len(problems)-show))
		}
		t.Fatalf("after %d worker kills, the results differ from the independent computation:\n%s",
			kills, strings.Join(problems, "\n"))
	}
	t.Logf("verified: %d bars, %d symbols' session figures, %d dead letters on %d shards, %d runs without a duplicate",
		len(tf.bars()), len(killSymbols), len(tf.bad), killShards, len(runs))
	watch.settle(c)
	return watch.hits()
}

// writeKillConfig writes the processes' config: the three symbols, two
// shards, a small Intraday batch, a 1 s flush and the PostgreSQL store.
func writeKillConfig(t *testing.T, c *cluster, pgURL string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "# written by TestProcessWorkersKilledMidRun\nredis:\n  url: %s\nlog:\n  level: info\n  format: json\ninstruments:\n",
		c.redis.URL())
	for _, s := range killSymbols {
		fmt.Fprintf(&b, "  - {symbol: %s, market: ALWAYS, weight: 1}\n", s.symbol)
	}
	fmt.Fprintf(&b, "ingest:\n  shards: %d\n  batch_size: %d\njobs:\n  closed_bars_flush: {interval: 1s}\nstore:\n  postgres_url: %q\n",
		killShards, killBatch, pgURL)
	path := filepath.Join(c.dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatalf("write config: %v", err)
	}
	return path
}

// waitServing waits until n runs and serves /metrics.
func waitServing(t *testing.T, n *node) {
	t.Helper()
	if err := n.proc.WaitServing(n.http, 15*time.Second); err != nil {
		t.Fatalf("%s did not serve /metrics: %v", n.name, err)
	}
}

// nextKill returns when to kill next: 0.5-1.5 s from now, moved to a
// random instant between lo and hi after the start of its second, and
// never sooner than 400 ms from now. Intraday and the flush run on the
// second and last a few milliseconds, so a uniformly random instant would
// almost never find one in flight.
func nextKill(now time.Time, rng *rand.Rand, lo, hi time.Duration) time.Time {
	target := now.Add(500*time.Millisecond + time.Duration(rng.Int64N(int64(time.Second))))
	at := target.Truncate(time.Second).Add(lo + time.Duration(rng.Int64N(int64(hi-lo))))
	if at.Before(now.Add(400 * time.Millisecond)) {
		at = at.Add(time.Second)
	}
	return at
}

// runWindow returns when, after their slot, the last 40 ok runs of
// Intraday and the flush typically ran: from the 20th percentile of
// their starts to the 80th of their ends; 0-50 ms before there are any.
func (c *cluster) runWindow() (lo, hi time.Duration) {
	runs, err := c.runs()
	if err != nil {
		return 0, 50 * time.Millisecond
	}
	var starts, ends []time.Duration
	for i := len(runs) - 1; i >= 0 && len(starts) < 40; i-- {
		r := runs[i]
		if (r.Job == string(jobs.Intraday) || r.Job == string(jobs.ClosedBarsFlush)) && r.Outcome == runlog.OK {
			starts, ends = append(starts, r.StartedAt.Sub(r.Slot)), append(ends, r.FinishedAt.Sub(r.Slot))
		}
	}
	if len(starts) == 0 {
		return 0, 50 * time.Millisecond
	}
	slices.Sort(starts)
	slices.Sort(ends)
	lo = max(starts[len(starts)/5], 0)
	return lo, max(ends[len(ends)*4/5], lo+time.Millisecond)
}

// killBacklog returns how many tick entries the shards hold beyond their
// Intraday checkpoints (Intraday trims its stream to the last entry it
// consumed, so that is the length less one once it has committed).
func (c *cluster) killBacklog() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var total int64
	for n := range killShards {
		l, err := c.rdb.XLen(ctx, keys.Ticks(n)).Result()
		if err != nil {
			return -1
		}
		ck, err := c.rdb.HGet(ctx, keys.Checkpoints(n), "intraday").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return -1
		}
		if ck != "" && l > 0 {
			l--
		}
		total += l
	}
	return total
}

// killDrained reports whether, on every shard, the Intraday checkpoint
// ("REV|ID") is at the tick stream's last entry and no bar is open.
func (c *cluster) killDrained() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for n := range killShards {
		last, err := c.rdb.XRevRangeN(ctx, keys.Ticks(n), "+", "-", 1).Result()
		if err != nil {
			return false, err
		}
		if len(last) == 0 {
			return false, fmt.Errorf("shard %d: tick stream is empty", n)
		}
		ck, err := c.rdb.HGet(ctx, keys.Checkpoints(n), "intraday").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, err
		}
		id := ck
		if _, after, ok := strings.Cut(ck, "|"); ok {
			id = after // "REV|ID"; a bare ID is an older checkpoint
		}
		if id != last[0].ID {
			return false, fmt.Errorf("shard %d: checkpoint %q, last entry %s", n, ck, last[0].ID)
		}
		open, err := c.rdb.ZCard(ctx, keys.OpenBars(n)).Result()
		if err != nil {
			return false, err
		}
		if open > 0 {
			return false, fmt.Errorf("shard %d: %d bars still open", n, open)
		}
	}
	return true, nil
}

// killFlushed reports whether every shard's closed-bars stream is empty,
// its flush group has nothing pending, and a flush run that started after
// since ended ok.
func (c *cluster) killFlushed(since time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	runs, err := c.runs()
	if err != nil {
		return false, err
	}
	for n := range killShards {
		part := strconv.Itoa(n)
		if !slices.ContainsFunc(runs, func(r runlog.Run) bool {
			return r.Job == string(jobs.ClosedBarsFlush) && r.Part == part && r.Outcome == runlog.OK && r.StartedAt.After(since)
		}) {
			return false, fmt.Errorf("shard %d: no ok flush run since %s", n, since.Format(runlog.TimeLayout))
		}
		l, err := c.rdb.XLen(ctx, keys.ClosedBars(n)).Result()
		if err != nil {
			return false, err
		}
		p, err := c.rdb.XPending(ctx, keys.ClosedBars(n), keys.FlushGroup).Result()
		if err != nil {
			return false, fmt.Errorf("shard %d: XPENDING: %w", n, err)
		}
		if l > 0 || p.Count > 0 {
			return false, fmt.Errorf("shard %d: %d closed bars in the stream, %d pending", n, l, p.Count)
		}
	}
	return true, nil
}

// inFlight returns what runs hold now: each run lock (key -> token) and
// each closed bar a flush has claimed but not acknowledged
// ("pending:SHARD:ID" -> "").
func (c *cluster) inFlight() map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out := map[string]string{}
	if ks, err := c.rdb.Keys(ctx, keys.Prefix+":runlock:*").Result(); err == nil && len(ks) > 0 {
		if vals, err := c.rdb.MGet(ctx, ks...).Result(); err == nil {
			for i, k := range ks {
				if s, ok := vals[i].(string); ok {
					out[k] = s
				}
			}
		}
	}
	for n := range killShards {
		p, err := c.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: keys.ClosedBars(n), Group: keys.FlushGroup,
			Start: "-", End: "+", Count: 1000}).Result()
		if err != nil {
			continue // no group before the first flush
		}
		for _, e := range p {
			out[fmt.Sprintf("pending:%d:%s", n, e.ID)] = ""
		}
	}
	return out
}

// killWatch tells which kills cut runs short: a run lock held just after
// the kill that still holds the same token half a second later belonged to
// the killed worker (a live run releases its lock when it ends, within
// milliseconds here), and so do closed bars claimed at the kill and still
// unacknowledged then (a flush the kill cut between claim and
// acknowledgement).
type killWatch struct {
	kills []*killRecord
	seen  map[string]bool // what earlier kills found held (key=token): an orphan of an earlier kill is not this one's
}

// killRecord is one kill and what it cut short.
type killRecord struct {
	n       int
	victim  string
	at      time.Time
	lo, hi  time.Duration // the window of the second it aimed at
	backlog int64
	held    map[string]string // inFlight just after the kill, less what earlier kills left behind
	settled bool
	cut     []string // job parts whose run the kill cut short
	claimed int      // closed bars the kill left claimed and unacknowledged
}

// add records a kill and what was in flight just after it.
func (w *killWatch) add(n int, victim string, at time.Time, lo, hi time.Duration, backlog int64, held map[string]string) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	fresh := map[string]string{}
	for k, tok := range held {
		if id := k + "=" + tok; !w.seen[id] {
			fresh[k] = tok
			w.seen[id] = true
		}
	}
	w.kills = append(w.kills, &killRecord{n: n, victim: victim, at: at, lo: lo, hi: hi, backlog: backlog, held: fresh})
}

const killSettle = 500 * time.Millisecond

// settle resolves the kills at least killSettle old.
func (w *killWatch) settle(c *cluster) {
	var now map[string]string
	for _, k := range w.kills {
		if k.settled || time.Since(k.at) < killSettle {
			continue
		}
		if now == nil {
			now = c.inFlight()
		}
		for key, tok := range k.held {
			v, ok := now[key]
			switch {
			case !ok || v != tok:
			case strings.HasPrefix(key, "pending:"):
				k.claimed++
			default:
				part := strings.TrimSuffix(strings.TrimPrefix(key, keys.Prefix+":runlock:{"), "}")
				k.cut = append(k.cut, strings.TrimSuffix(part, ":"))
			}
		}
		slices.Sort(k.cut)
		k.settled = true
	}
}

// hits returns how many settled kills hit a run in flight: cut a run
// short, or left closed bars claimed.
func (w *killWatch) hits() int {
	n := 0
	for _, k := range w.kills {
		if k.settled && (len(k.cut) > 0 || k.claimed > 0) {
			n++
		}
	}
	return n
}

// report lists the kills, one a line, and sums them up.
func (w *killWatch) report() string {
	var b strings.Builder
	cut, claimed := 0, 0
	for _, k := range w.kills {
		what := "no run cut short"
		switch {
		case !k.settled:
			what = "not settled"
		case len(k.cut) > 0:
			what = "cut short: " + strings.Join(k.cut, ", ")
			cut++
		}
		if k.claimed > 0 {
			what += fmt.Sprintf(" (%d closed bars left claimed)", k.claimed)
			claimed++
		}
		fmt.Fprintf(&b, "  #%d %s at %s (+%s into the second, aiming at %s-%s), backlog %d ticks: %s\n", k.n, k.victim,
			k.at.UTC().Format("15:04:05.000"), lagMS(k.at.Sub(k.at.Truncate(time.Second))), lagMS(k.lo), lagMS(k.hi), k.backlog, what)
	}
	fmt.Fprintf(&b, "  %d of %d kills cut a run short, %d a flush between claim and acknowledgement", cut, len(w.kills), claimed)
	return b.String()
}

// summarizeRuns counts the runs of Intraday and the flush by outcome,
// with the durations of the ok ones.
func summarizeRuns(runs []runlog.Run) string {
	var parts []string
	for _, j := range []jobs.Name{jobs.Intraday, jobs.ClosedBarsFlush} {
		count := map[runlog.Outcome]int{}
		var took []time.Duration
		for _, r := range runs {
			if r.Job != string(j) {
				continue
			}
			count[r.Outcome]++
			if r.Outcome == runlog.OK {
				took = append(took, r.Duration())
			}
		}
		d := procs.NewLagStats(took)
		parts = append(parts, fmt.Sprintf("%s %v, ok runs took p50 %s max %s", j, count, lagMS(d.P50), lagMS(d.Max)))
	}
	return fmt.Sprintf("%d in all; %s", len(runs), strings.Join(parts, "; "))
}

// The generated trades and what they must produce.

// trade is one valid row; prices and sizes in units of 1e-8.
type trade struct {
	symbol      string
	ms          int64
	price, size int64
}

// badRow is one malformed row: the reason Intraday must dead-letter it
// with, and the shard whose stream it lands on.
type badRow struct {
	reason string
	shard  int
}

// tradeFile is a generated trades CSV.
type tradeFile struct {
	path  string
	rows  int
	valid []trade
	bad   []badRow
}

// writeTrades generates the trades file: for each symbol tradesPerSymbol
// trades at distinct milliseconds (so strictly increasing per symbol) in
// the tradeWindow ending at end, a random walk of prices with up to 8
// decimals, sizes up to 3 with 8 decimals (some 0: a print with no
// volume), timestamps mostly as epoch milliseconds and some in RFC 3339;
// all in time order, with a malformed row of every kind in turn about
// every malformedEvery rows.
func writeTrades(t *testing.T, path string, rng *rand.Rand, end time.Time) tradeFile {
	t.Helper()
	endMS := end.UnixMilli()
	startMS := endMS - tradeWindow.Milliseconds()
	tf := tradeFile{path: path}
	for _, s := range killSymbols {
		seen := make(map[int64]bool, tradesPerSymbol)
		for len(seen) < tradesPerSymbol {
			seen[startMS+rng.Int64N(endMS-startMS)] = true
		}
		times := make([]int64, 0, tradesPerSymbol)
		for ms := range seen {
			times = append(times, ms)
		}
		slices.Sort(times)
		price := s.base
		for _, ms := range times {
			step := s.base / 2000
			price = max(price+rng.Int64N(2*step+1)-step, s.base/2)
			size := rng.Int64N(300_000_000) + 1
			if rng.IntN(500) == 0 {
				size = 0
			}
			tf.valid = append(tf.valid, trade{symbol: s.symbol, ms: ms, price: price, size: size})
		}
	}
	slices.SortStableFunc(tf.valid, func(a, b trade) int { return cmp.Compare(a.ms, b.ms) })

	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create trades file: %v", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "ts,symbol,price,size")
	nextBad, kind := 1+rng.IntN(malformedEvery), 0
	for i, tr := range tf.valid {
		if i == nextBad {
			tf.bad = append(tf.bad, writeBadRow(w, rng, kind, tr.ms))
			tf.rows++
			kind++
			nextBad += malformedEvery/2 + rng.IntN(malformedEvery+1)
		}
		ts := strconv.FormatInt(tr.ms, 10)
		if rng.IntN(8) == 0 {
			ts = time.UnixMilli(tr.ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
		}
		fmt.Fprintf(w, "%s,%s,%s,%s\n", ts, tr.symbol, decimalText(tr.price, rng.IntN(2) == 0), decimalText(tr.size, rng.IntN(2) == 0))
		tf.rows++
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("write trades file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("write trades file: %v", err)
	}
	return tf
}

// writeBadRow writes a malformed row of the given kind (taken in turn) at
// about ms, and returns what Intraday must do with it.
func writeBadRow(w *bufio.Writer, rng *rand.Rand, kind int, ms int64) badRow {
	sym := killSymbols[rng.IntN(len(killSymbols))].symbol
	ts := strconv.FormatInt(ms, 10)
	row := func(ts, sym, price, size, reason string) badRow {
		fmt.Fprintf(w, "%s,%s,%s,%s\n", ts, sym, price, size)
		shard := 0 // an entry without a symbol goes to shard 0
		if sym != "" {
			shard = shardOf(sym)
		}
		return badRow{reason: reason, shard: shard}
	}
	switch kind % 10 {
	case 0: // a cell short: written whole as raw, with its symbol
		fmt.Fprintf(w, "%s,%s,101.5\n", ts, sym)
		return badRow{reason: "missing_field", shard: shardOf(sym)}
	case 1:
		return row(ts, "", "101.5", "1", "missing_field")
	case 2:
		return row(ts, sym, "10l.5", "1", "bad_number")
	case 3:
		return row(ts, sym, "101.123456789", "1", "bad_number") // 9 decimals
	case 4:
		return row(ts, sym, []string{"0", "-3.5"}[rng.IntN(2)], "1", "bad_price")
	case 5:
		return row(ts, sym, "101.5", "-0.25", "bad_size")
	case 6:
		return row("yesterday", sym, "101.5", "1", "bad_timestamp")
	case 7:
		return row("946684799999", sym, "101.5", "1", "bad_timestamp") // 1999
	case 8:
		return row(strconv.FormatInt(ms+int64(2*time.Hour/time.Millisecond), 10), sym, "101.5", "1", "future")
	default:
		return row(ts, unknownSymbol, "101.5", "1", "unknown_symbol")
	}
}

// shardOf is FNV-1a-32 of the symbol mod the shard count: the tick
// contract, computed here rather than by the code under test.
func shardOf(symbol string) int {
	h := fnv.New32a()
	h.Write([]byte(symbol))
	return int(h.Sum32() % killShards)
}

// decimalText writes units of 1e-8 as a decimal with all 8 places, or
// with trailing zeros dropped when trim is set.
func decimalText(units int64, trim bool) string {
	s := fmt.Sprintf("%d.%08d", units/1e8, units%1e8)
	if trim {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// checkReplayLog checks the feed's summary line: every valid row written
// as a tick, every malformed one raw.
func (tf tradeFile) checkReplayLog(out string) error {
	for _, line := range strings.Split(out, "\n") {
		var rec struct {
			Msg   string `json:"message"`
			Rows  int    `json:"rows"`
			Ticks int    `json:"ticks"`
			Raw   int    `json:"raw"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "replay finished" {
			continue
		}
		if rec.Rows != tf.rows || rec.Ticks != len(tf.valid) || rec.Raw != len(tf.bad) {
			return fmt.Errorf("rows %d ticks %d raw %d, want %d, %d, %d", rec.Rows, rec.Ticks, rec.Raw,
				tf.rows, len(tf.valid), len(tf.bad))
		}
		return nil
	}
	return errors.New(`no "replay finished" line`)
}

// barKey identifies a 1-minute bar.
type barKey struct {
	symbol string
	start  int64 // Unix ms
}

// wantBar is a bar computed from the rows: prices, volume in units of
// 1e-8, notional (sum of price × size) in units of 1e-16.
type wantBar struct {
	open, high, low, close, volume int64
	trades                         int64
	notional                       *big.Int
}

// bars computes every symbol's 1-minute bars from the valid rows (in
// time order per symbol, so open is the first and close the last).
func (tf tradeFile) bars() map[barKey]*wantBar {
	out := map[barKey]*wantBar{}
	for _, tr := range tf.valid {
		k := barKey{tr.symbol, tr.ms - tr.ms%60_000}
		b := out[k]
		if b == nil {
			b = &wantBar{open: tr.price, high: tr.price, low: tr.price, notional: new(big.Int)}
			out[k] = b
		}
		b.high, b.low, b.close = max(b.high, tr.price), min(b.low, tr.price), tr.price
		b.volume += tr.size
		b.trades++
		b.notional.Add(b.notional, new(big.Int).Mul(big.NewInt(tr.price), big.NewInt(tr.size)))
	}
	return out
}

// sessionTotals is a symbol's volume (units of 1e-8) and trades in one
// session.
type sessionTotals struct{ volume, trades int64 }

// sessions computes each symbol's totals per ALWAYS session (UTC day).
func (tf tradeFile) sessions() map[string]map[string]*sessionTotals {
	out := map[string]map[string]*sessionTotals{}
	for _, tr := range tf.valid {
		label := time.UnixMilli(tr.ms).UTC().Format(time.DateOnly)
		if out[tr.symbol] == nil {
			out[tr.symbol] = map[string]*sessionTotals{}
		}
		s := out[tr.symbol][label]
		if s == nil {
			s = &sessionTotals{}
			out[tr.symbol][label] = s
		}
		s.volume += tr.size
		s.trades++
	}
	return out
}

// units parses a decimal string into an integer count of 10^-places,
// exactly; more precision than that is an error.
func units(s string, places int) (*big.Int, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal", s)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("%q has more than %d decimals", s, places)
	}
	return r.Num(), nil
}

// sameUnits reports whether decimal string s is exactly want units of
// 10^-places.
func sameUnits(s string, want *big.Int, places int) bool {
	u, err := units(s, places)
	return err == nil && u.Cmp(want) == 0
}

// checkStoredBars compares bars_1m with the bars computed from the rows.
func checkStoredBars(t *testing.T, pgURL string, tf tradeFile) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT symbol, market, start, open::text, high::text, low::text, close::text,
		volume::text, trades, notional::text, revision FROM bars_1m ORDER BY symbol, start`)
	if err != nil {
		t.Fatalf("read bars_1m: %v", err)
	}
	type stored struct {
		market, open, high, low, close, volume, notional string
		trades                                           int64
		revision                                         int32
	}
	got := map[barKey]stored{}
	var (
		sym   string
		start time.Time
		s     stored
	)
	_, err = pgx.ForEachRow(rows, []any{&sym, &s.market, &start, &s.open, &s.high, &s.low, &s.close, &s.volume,
		&s.trades, &s.notional, &s.revision}, func() error {
		got[barKey{sym, start.UnixMilli()}] = s
		return nil
	})
	if err != nil {
		t.Fatalf("read bars_1m: %v", err)
	}

	want := tf.bars()
	var problems []string
	ks := make([]barKey, 0, len(want))
	for k := range want {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b barKey) int {
		if a.symbol != b.symbol {
			return strings.Compare(a.symbol, b.symbol)
		}
		return cmp.Compare(a.start, b.start)
	})
	name := func(k barKey) string {
		return k.symbol + " " + time.UnixMilli(k.start).UTC().Format("15:04")
	}
	for _, k := range ks {
		w := want[k]
		g, ok := got[k]
		if !ok {
			problems = append(problems, "bars_1m: missing "+name(k))
			continue
		}
		delete(got, k)
		fields := []struct {
			name, got string
			want      *big.Int
			places    int
		}{
			{"open", g.open, big.NewInt(w.open), 8}, {"high", g.high, big.NewInt(w.high), 8},
			{"low", g.low, big.NewInt(w.low), 8}, {"close", g.close, big.NewInt(w.close), 8},
			{"volume", g.volume, big.NewInt(w.volume), 8}, {"notional", g.notional, w.notional, 16},
		}
		for _, f := range fields {
			if !sameUnits(f.got, f.want, f.places) {
				problems = append(problems, fmt.Sprintf("bars_1m: %s %s = %s, want %s", name(k), f.name, f.got,
					new(big.Rat).SetFrac(f.want, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(f.places)), nil)).FloatString(f.places)))
			}
		}
		if g.trades != w.trades {
			problems = append(problems, fmt.Sprintf("bars_1m: %s trades = %d, want %d", name(k), g.trades, w.trades))
		}
		if g.market != "ALWAYS" || g.revision != 1 {
			// No row is late, so no bar is ever amended.
			problems = append(problems, fmt.Sprintf("bars_1m: %s market %s revision %d, want ALWAYS and 1", name(k), g.market, g.revision))
		}
	}
	var extra []string
	for k := range got {
		extra = append(extra, "bars_1m: extra bar "+name(k))
	}
	slices.Sort(extra)
	return append(problems, extra...)
}

// checkIntradayStates compares each symbol's Intraday state with the
// totals computed from the rows: volume and trades of every session the
// rows touch (the current one, and the previous if the window crossed
// midnight UTC), ticks accepted, none out of session, no bar open.
func checkIntradayStates(t *testing.T, rdb redis.UniversalClient, tf tradeFile) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	type figures struct {
		Session string `json:"session"`
		Volume  string `json:"volume"`
		Trades  int64  `json:"trades"`
	}
	var state struct {
		Cur          figures          `json:"cur"`
		Prev         *figures         `json:"prev"`
		Bar          *json.RawMessage `json:"bar"`
		OutOfSession int64            `json:"out_of_session"`
		Ticks        int64            `json:"ticks"`
	}
	ticksBySymbol := map[string]int64{}
	for _, tr := range tf.valid {
		ticksBySymbol[tr.symbol]++
	}
	var problems []string
	for sym, sessions := range tf.sessions() {
		raw, err := rdb.HGet(ctx, keys.Intraday(shardOf(sym)), sym).Result()
		if err != nil {
			problems = append(problems, fmt.Sprintf("intraday: %s: %v", sym, err))
			continue
		}
		state.Prev, state.Bar = nil, nil
		if err := json.Unmarshal([]byte(raw), &state); err != nil {
			t.Fatalf("decode intraday state of %s: %v\n%s", sym, err, raw)
		}
		if state.Ticks != ticksBySymbol[sym] || state.OutOfSession != 0 || state.Bar != nil {
			problems = append(problems, fmt.Sprintf("intraday: %s ticks %d out_of_session %d open bar %v, want %d, 0, none",
				sym, state.Ticks, state.OutOfSession, state.Bar != nil, ticksBySymbol[sym]))
		}
		for label, want := range sessions {
			var got *figures
			switch {
			case state.Cur.Session == label:
				got = &state.Cur
			case state.Prev != nil && state.Prev.Session == label:
				got = state.Prev
			default:
				problems = append(problems, fmt.Sprintf("intraday: %s has no session %s (cur %s)", sym, label, state.Cur.Session))
				continue
			}
			if !sameUnits(got.Volume, big.NewInt(want.volume), 8) || got.Trades != want.trades {
				problems = append(problems, fmt.Sprintf("intraday: %s session %s volume %s trades %d, want %s and %d",
					sym, label, got.Volume, got.Trades, decimalText(want.volume, false), want.trades))
			}
		}
	}
	return problems
}

// checkDeadLetters compares each shard's dead-letter counts (and stream
// length) with the malformed rows by reason.
func checkDeadLetters(t *testing.T, rdb redis.UniversalClient, tf tradeFile) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	want := make([]map[string]int64, killShards)
	for n := range want {
		want[n] = map[string]int64{}
	}
	for _, b := range tf.bad {
		want[b.shard][b.reason]++
	}
	var problems []string
	for n := range killShards {
		counts, err := rdb.HGetAll(ctx, keys.DeadLetterCounts(n)).Result()
		if err != nil {
			t.Fatalf("read %s: %v", keys.DeadLetterCounts(n), err)
		}
		got := map[string]int64{}
		var total int64
		for reason, v := range counts {
			c, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("%s %s = %q", keys.DeadLetterCounts(n), reason, v)
			}
			got[reason] = c
			total += c
		}
		if fmt.Sprint(got) != fmt.Sprint(want[n]) {
			problems = append(problems, fmt.Sprintf("dead letters: shard %d counts %v, want %v", n, got, want[n]))
		}
		l, err := rdb.XLen(ctx, keys.DeadLetter(n)).Result()
		if err != nil {
			t.Fatalf("read %s: %v", keys.DeadLetter(n), err)
		}
		if l != total {
			problems = append(problems, fmt.Sprintf("dead letters: shard %d stream holds %d, counts say %d", n, l, total))
		}
	}
	return problems
}

// control runs an operator command (scheduler pause|resume|... ARGS) on
// the cluster's Redis.
func (c *cluster) control(args ...string) {
	c.t.Helper()
	code, out, _ := runToExit(c.t.(*testing.T), bins.scheduler, c.dir, append(args, c.redisArgs()...), nil, 15*time.Second)
	if code != 0 {
		c.t.Fatalf("scheduler %v exited %d:\n%s", args, code, out)
	}
}
