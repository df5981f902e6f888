package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/runlog"
	"heartbeat/internal/scheduler"
	"heartbeat/test/procs"
)

// TestE2E starts the Compose topology, lets it run for -e2e.duration and
// checks, in this order:
//
//   - the run history of the window: every job ran every slot it owed, on
//     every part, exactly once, on time (start lag p99 under
//     -e2e.max-p99), without errors, under one leader term;
//   - the JSON API of both replicas: both name the same single leader
//     (the lease holder in Redis), see both replicas and the three
//     workers, and serve the same runs as the history;
//   - Intraday consumed every tick the feed wrote, and the ALWAYS
//     symbol's intraday figures are fresh;
//   - closed bars reached PostgreSQL: bars_1m has a row for every minute
//     of the ALWAYS symbol from the window's first minute up to the last
//     flush, and they equal the API's bars from the store and from Redis;
//   - every process exits with code 0 on SIGTERM, and no slot ran twice
//     over the whole history.
func TestE2E(t *testing.T) {
	requireAsked(t)
	tp := start(t)
	leader, term := tp.waitLeader(30 * time.Second)
	t.Logf("leader %s, term %d", leader, term)

	// The window starts on a whole second, after the first runs.
	from := time.Now().Truncate(time.Second).Add(2 * time.Second)
	to := from.Add(*e2eDuration)
	sleepUntil(to)
	tp.waitWindowRuns(from, to)
	tp.checkAlive()

	runs, err := tp.runs()
	if err != nil {
		t.Fatal(err)
	}
	w := analyse(runs, from, to)
	t.Logf("run history:\n%s", w.table())
	tp.checkWindow(w, term)

	tp.checkAPI(runs)
	tp.checkTicks()
	tp.checkBars(from)

	tp.stopAll()
	runs, err = tp.runs()
	if err != nil {
		t.Fatal(err)
	}
	dups := procs.Duplicates(runs, procs.Executed)
	if len(dups) == 0 {
		t.Logf("whole history: %d runs, no slot part ran twice", len(runs))
		return
	}
	var b strings.Builder
	for _, k := range procs.SortedKeys(dups) {
		b.WriteString(describeRuns(dups[k]))
	}
	t.Errorf("%d slot parts ran more than once (ok or error) over the whole history of %d runs:\n%s", len(dups), len(runs), b.String())
}

// streamIDLess reports whether Redis stream ID a ("ms-seq") is before b.
func streamIDLess(a, b string) bool {
	parse := func(id string) (uint64, uint64) {
		ms, seq, _ := strings.Cut(id, "-")
		m, _ := strconv.ParseUint(ms, 10, 64)
		q, _ := strconv.ParseUint(seq, 10, 64)
		return m, q
	}
	am, aq := parse(a)
	bm, bq := parse(b)
	return am < bm || (am == bm && aq < bq)
}

// sleepUntil waits for the measurement window's end (a fixed length of
// time, not a state to reach).
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// waitWindowRuns waits until every slot part due in [from, to) has a run
// recorded, or 15 s: the window's last slots finish just after it ends.
// What is still missing then is reported by checkWindow.
func (tp *topology) waitWindowRuns(from, to time.Time) {
	_ = procs.WaitFor(15*time.Second, func() (bool, error) {
		runs, err := tp.runs()
		if err != nil {
			return false, err
		}
		for _, j := range analyse(runs, from, to).jobs {
			if len(j.missing) > 0 {
				return false, nil
			}
		}
		return true, nil
	})
}

// checkWindow checks the run history of the window.
func (tp *topology) checkWindow(w window, term int64) {
	t := tp.t
	t.Helper()
	for _, j := range w.jobs {
		if len(j.missing) > 0 {
			var ks []string
			for _, k := range j.missing {
				ks = append(ks, k.String())
			}
			t.Errorf("%s: %d of %d slot parts due in the window did not run: %s", j.spec.Name, len(j.missing), len(j.due), strings.Join(ks, " "))
		}
		if j.spec.Schedule.Within == "" && j.lag.N == 0 {
			t.Errorf("%s: no run in the window", j.spec.Name)
		}
	}
	if len(w.errors) > 0 {
		t.Errorf("%d runs in the window failed:\n%s", len(w.errors), describeRuns(w.errors))
	}
	if w.all.P99 > *e2eMaxP99 {
		t.Errorf("start lag p99 over all jobs is %s, want under %s (%s)", procs.Millis(w.all.P99), procs.Millis(*e2eMaxP99), w.all)
	}
	if len(w.terms) != 1 || w.terms[term] == 0 {
		t.Errorf("runs of the window by term: %v, want all of term %d (no change of leader while nothing failed)", w.terms, term)
	}
}

// The parts of the API's documents the test reads.
type (
	statusDoc struct {
		Replica  string        `json:"replica"`
		Leader   bool          `json:"leader"`
		Term     int64         `json:"term"`
		Replicas []replicaDoc  `json:"replicas"`
		Workers  []workerDoc   `json:"workers"`
		Jobs     []jobDoc      `json:"jobs"`
		Errors   []string      `json:"errors"`
		Runs     []runDoc      `json:"runs"`
		Dead     []deadLetters `json:"dead_letters"`
	}
	replicaDoc struct {
		Replica string    `json:"replica"`
		Leader  bool      `json:"leader"`
		Term    int64     `json:"term"`
		Seen    time.Time `json:"seen"`
		Stale   bool      `json:"stale"`
	}
	workerDoc struct {
		Host   string `json:"host"`
		PID    int    `json:"pid"`
		Status string `json:"status"`
	}
	jobDoc struct {
		Job         string   `json:"job"`
		MarketsOpen bool     `json:"markets_open"`
		Paused      bool     `json:"paused"`
		Runs        int      `json:"runs"`
		LagP99      *float64 `json:"start_lag_p99_ms"`
	}
	runDoc struct {
		ID      string    `json:"id"`
		Job     string    `json:"job"`
		Slot    time.Time `json:"slot"`
		Part    string    `json:"part"`
		Term    int64     `json:"term"`
		Outcome string    `json:"outcome"`
		Worker  string    `json:"worker"`
	}
	deadLetters struct {
		Reason string `json:"reason"`
		Count  int64  `json:"count"`
	}
	intradayDoc struct {
		Symbol   string    `json:"symbol"`
		Market   string    `json:"market"`
		Ticks    int64     `json:"ticks"`
		Trades   int64     `json:"trades"`
		LastTick time.Time `json:"last_tick"`
		Last     string    `json:"last_price"`
	}
)

// checkAPI checks what both replicas' API says about the leader, the
// replicas, the workers and the runs.
func (tp *topology) checkAPI(runs []runlog.Run) {
	t := tp.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	holder, term, err := scheduler.Holder(ctx, tp.rdb)
	cancel()
	if err != nil || holder == "" {
		t.Fatalf("lease holder: %q, %v", holder, err)
	}
	byID := map[string]runlog.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	leaders := 0
	for _, n := range tp.schedulers {
		var st statusDoc
		if err := procs.GetJSON(n.http, "/api/v1/status", &st); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		if len(st.Errors) > 0 {
			t.Errorf("%s /api/v1/status: unavailable parts: %v", n.name, st.Errors)
		}
		if st.Replica != n.name {
			t.Errorf("%s /api/v1/status: replica %q", n.name, st.Replica)
		}
		if st.Leader {
			leaders++
			if n.name != holder || st.Term != term {
				t.Errorf("%s says it leads with term %d; the lease is %s's, term %d", n.name, st.Term, holder, term)
			}
		}
		var lead []string
		seen := map[string]bool{}
		for _, r := range st.Replicas {
			seen[r.Replica] = true
			if r.Leader {
				lead = append(lead, fmt.Sprintf("%s (term %d)", r.Replica, r.Term))
			}
			if r.Stale {
				t.Errorf("%s lists replica %s as stale (seen %s)", n.name, r.Replica, r.Seen.Format(time.RFC3339Nano))
			}
		}
		if want := fmt.Sprintf("%s (term %d)", holder, term); len(lead) != 1 || lead[0] != want {
			t.Errorf("%s reports leaders %v, want [%s]", n.name, lead, want)
		}
		for _, s := range tp.schedulers {
			if !seen[s.name] {
				t.Errorf("%s does not list replica %s: %+v", n.name, s.name, st.Replicas)
			}
		}
		active := 0
		for _, w := range st.Workers {
			if w.Status == "active" {
				active++
			}
		}
		if active != workers {
			t.Errorf("%s lists %d active workers, want %d: %+v", n.name, active, workers, st.Workers)
		}
		for _, j := range st.Jobs {
			if j.Paused {
				t.Errorf("%s: job %s is paused", n.name, j.Job)
			}
			if jobs.Name(j.Job) != jobs.PreOpenBacktest && !j.MarketsOpen {
				t.Errorf("%s: job %s: markets_open false, want true (%s trades on ALWAYS)", n.name, j.Job, alwaysSymbol)
			}
		}
		// The newest runs the API serves are entries of the history.
		var rd struct {
			Runs []runDoc `json:"runs"`
		}
		if err := procs.GetJSON(n.http, "/api/v1/runs?limit=200", &rd); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		if len(rd.Runs) != 200 {
			t.Errorf("%s /api/v1/runs?limit=200 returned %d runs", n.name, len(rd.Runs))
		}
		for _, r := range rd.Runs {
			h, ok := byID[r.ID]
			if !ok {
				continue // appended after the history was read
			}
			if h.Job != r.Job || !h.Slot.Equal(r.Slot) || h.Part != r.Part || h.Term != r.Term || string(h.Outcome) != r.Outcome || h.Worker != r.Worker {
				t.Errorf("%s /api/v1/runs: run %s is %+v, the history has %+v", n.name, r.ID, r, h)
			}
		}
		t.Logf("%s /api/v1/status: leader %v, term %d; replicas %d, leaders %v; active workers %d", n.name, st.Leader, st.Term,
			len(st.Replicas), lead, active)
	}
	if leaders != 1 {
		t.Errorf("%d replicas say they lead, want 1", leaders)
	}
}

// checkTicks checks that Intraday consumed every tick the feed had
// written, within a few runs: each shard's Intraday checkpoint reaches the
// stream's last ID as read now (Intraday trims what it consumed, so the
// stream's length says nothing), and the workers' counters account for
// every tick ever added. It then checks the ALWAYS symbol's figures are
// fresh.
func (tp *topology) checkTicks() {
	t := tp.t
	t.Helper()
	ctx := context.Background()
	// The shards the instruments hash to; the others have no stream.
	var syms struct {
		Symbols []struct {
			Symbol string `json:"symbol"`
			Shard  int    `json:"shard"`
		} `json:"symbols"`
	}
	if err := procs.GetJSON(tp.schedulers[0].http, "/api/v1/symbols", &syms); err != nil {
		t.Fatal(err)
	}
	used := map[int]bool{}
	for _, s := range syms.Symbols {
		used[s.Shard] = true
	}
	if n := len(strings.Split(instruments, ",")); len(syms.Symbols) != n {
		t.Errorf("/api/v1/symbols lists %d symbols, want %d: %+v", len(syms.Symbols), n, syms.Symbols)
	}
	var added int64
	last := map[int]string{}
	for n := range used {
		info, err := tp.rdb.XInfoStream(ctx, keys.Ticks(n)).Result()
		if err != nil {
			t.Fatalf("XINFO STREAM %s: %v", keys.Ticks(n), err)
		}
		added += info.EntriesAdded
		last[n] = info.LastGeneratedID
	}
	err := procs.WaitFor(10*time.Second, func() (bool, error) {
		for n := range used {
			ckpt, err := tp.rdb.HGet(ctx, keys.Checkpoints(n), "intraday").Result()
			if err != nil {
				return false, fmt.Errorf("shard %d checkpoint: %w", n, err)
			}
			// The checkpoint is "REV|ID": the commit revision, then the
			// last stream entry consumed.
			id := ckpt[strings.IndexByte(ckpt, '|')+1:]
			if streamIDLess(id, last[n]) {
				return false, fmt.Errorf("shard %d: Intraday checkpoint %s, stream's last ID %s", n, ckpt, last[n])
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("Intraday did not catch up with the feed: %v", err)
	}
	var accepted, outOfSession, dead, closed, flushed float64
	for _, n := range tp.workers {
		m, err := procs.Scrape(n.http)
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		accepted += m.Sum("heartbeat_ticks_total") // in_session + out_of_session
		outOfSession += m.Sum("heartbeat_ticks_total", "result", "out_of_session")
		dead += m.Sum("heartbeat_dead_letters_total")
		closed += m.Sum("heartbeat_bars_total", "event", "closed")
		flushed += m.Sum("heartbeat_bars_total", "event", "flushed")
	}
	t.Logf("ticks: %d added to the streams; workers' heartbeat_ticks_total accepted %g (out of session %g), dead letters %g; bars closed %g, flushed %g",
		added, accepted, outOfSession, dead, closed, flushed)
	if accepted+dead < float64(added) {
		t.Errorf("the workers counted %g ticks accepted and %g dead-lettered, fewer than the %d added to the streams", accepted, dead, added)
	}
	if dead > 0 {
		t.Errorf("%g ticks of the simulator were dead-lettered, want 0", dead)
	}

	var iv intradayDoc
	if err := procs.GetJSON(tp.schedulers[0].http, "/api/v1/symbols/"+url.PathEscape(alwaysSymbol)+"/intraday", &iv); err != nil {
		t.Fatalf("intraday of %s: %v", alwaysSymbol, err)
	}
	age := time.Since(iv.LastTick)
	t.Logf("%s intraday: %d ticks, %d trades in session, last %s at %s (%s ago)", alwaysSymbol, iv.Ticks, iv.Trades, iv.Last,
		iv.LastTick.Format(time.RFC3339Nano), age.Round(time.Millisecond))
	if iv.Ticks == 0 || iv.Trades == 0 {
		t.Errorf("%s intraday: %d ticks, %d trades; want some", alwaysSymbol, iv.Ticks, iv.Trades)
	}
	if age > 5*time.Second {
		t.Errorf("%s intraday: last tick %s old, want under 5 s (Intraday runs every second)", alwaysSymbol, age)
	}
}
