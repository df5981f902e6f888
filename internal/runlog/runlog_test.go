package runlog

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
)

var t0 = time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC)

func run(job, part string, slot time.Time, outcome Outcome) Run {
	return Run{Job: job, Part: part, Slot: slot, TaskID: fmt.Sprintf("%s:%s:%d", job, part, slot.UnixMilli()), Term: 1,
		EnqueuedAt: slot.Add(-100 * time.Millisecond), StartedAt: slot, FinishedAt: slot.Add(5 * time.Millisecond), Outcome: outcome, Worker: "w"}
}

// appendAt appends r with its entry ID at the run's finish time (Redis
// would stamp the append instant; the test fixes it so time filters and
// trims are deterministic).
func appendAt(t *testing.T, rdb redis.UniversalClient, l *Log, r Run, seq int) {
	t.Helper()
	id := fmt.Sprintf("%d-%d", r.FinishedAt.UnixMilli(), seq)
	minID := fmt.Sprint(r.FinishedAt.Add(-l.retention).UnixMilli())
	for _, s := range []string{keys.Runs, keys.JobRuns(r.Job)} {
		if err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: s, ID: id, MinID: minID, Values: r.Fields()}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPageFiltersAndContinues: pages of a filtered history, newest first,
// joined with next_before, give every matching run once, in order.
func TestPageFiltersAndContinues(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	l := New(rdb, time.Hour)
	var want []string
	for i := range 300 {
		slot := t0.Add(time.Duration(i) * time.Second)
		outcome := OK
		if i%7 == 0 {
			outcome = Error
		}
		r := run("intraday", fmt.Sprint(i%4), slot, outcome)
		appendAt(t, rdb, l, r, 0)
		if r.Part == "2" && outcome == OK {
			want = append([]string{r.TaskID}, want...) // newest first
		}
		appendAt(t, rdb, l, run("session_volume", "", slot, OK), 1)
	}
	ctx := context.Background()
	for _, job := range []string{"intraday", ""} {
		var got []string
		before := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("pages never end")
			}
			p, err := l.Page(ctx, Query{Job: job, Part: "2", Outcome: OK, Before: before, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Runs {
				if r.Job != "intraday" || r.Part != "2" || r.Outcome != OK {
					t.Fatalf("filtered page holds %+v", r)
				}
				got = append(got, r.TaskID)
			}
			if p.Next == "" {
				break
			}
			before = p.Next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("job %q: paged %d runs, want %d (no gap, no repeat, newest first)", job, len(got), len(want))
		}
	}
	// A time range: the runs finished in the 10 s after t0+100s.
	p, err := l.Page(ctx, Query{Job: "session_volume", From: t0.Add(100 * time.Second), To: t0.Add(109*time.Second + 5*time.Millisecond), Limit: 100})
	if err != nil || len(p.Runs) != 10 || !p.Runs[0].Slot.Equal(t0.Add(109*time.Second)) || !p.Runs[9].Slot.Equal(t0.Add(100*time.Second)) {
		t.Fatalf("time range: %d runs, %v", len(p.Runs), err)
	}
}

// TestRetentionTrimsByAge: Append keeps runs.retention of history in
// both streams (on a real redis-server: XTRIM MINID).
func TestRetentionTrimsByAge(t *testing.T) {
	t.Parallel()
	rdb := testinfra.StartRedis(t).Client()
	l := New(rdb, 10*time.Minute)
	ctx := context.Background()
	// Three hours of one run a second, written without trimming; then one
	// Append, whose trim must drop all but the last ten minutes.
	pipe := rdb.Pipeline()
	for i := range 3 * 3600 {
		r := run("intraday", "0", t0.Add(time.Duration(i)*time.Second), OK)
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: keys.Runs, ID: fmt.Sprintf("%d-0", r.FinishedAt.UnixMilli()), Values: r.Fields()})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	last := run("intraday", "0", t0.Add(3*time.Hour), OK)
	if err := l.Append(ctx, last); err != nil { // Redis stamps it now: MINID is from the run's finish time
		t.Fatal(err)
	}
	n := rdb.XLen(ctx, keys.Runs).Val()
	// ~600 entries in the window; approximate trimming keeps whole stream
	// nodes, so a few hundred older ones may stay until the next trims.
	if n < 601 || n > 1200 {
		t.Fatalf("%d runs kept, want the last 10 minutes (about 601)", n)
	}
	first := rdb.XRangeN(ctx, keys.Runs, "-", "+", 1).Val()[0].ID
	var ms int64
	fmt.Sscanf(first, "%d-", &ms)
	if age := last.FinishedAt.Sub(time.UnixMilli(ms)); age > 20*time.Minute {
		t.Fatalf("oldest run kept is %s old, retention 10m", age)
	}
	if rdb.XLen(ctx, keys.JobRuns("intraday")).Val() != 1 {
		t.Fatal("the job's own stream did not get the run")
	}
}

// TestRareJobAmongAMillion: the one run of a rarely run job is found in
// one read among a million other runs, and an unindexed filter over the
// whole history stops at MaxScan with a cursor to continue.
func TestRareJobAmongAMillion(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a million runs")
	}
	rdb := testinfra.StartRedis(t).Client()
	l := New(rdb, 48*time.Hour)
	ctx := context.Background()
	const n = 1_000_000
	rare := run("pre_open_backtest", "XNYS:2026-12-02", t0, OK)
	appendAt(t, rdb, l, rare, 0)
	for i := 0; i < n; {
		pipe := rdb.Pipeline()
		for j := 0; j < 10_000 && i < n; j, i = j+1, i+1 {
			r := run("intraday", fmt.Sprint(i%4), t0.Add(time.Second+time.Duration(i)*time.Millisecond), OK)
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: keys.Runs, ID: fmt.Sprintf("%d-%d", r.FinishedAt.UnixMilli(), 1), Values: r.Fields()})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p, err := l.Page(ctx, Query{Job: "pre_open_backtest", Limit: 50})
	if err != nil || len(p.Runs) != 1 || p.Runs[0].TaskID != rare.TaskID || p.Scanned != 1 || p.Next != "" {
		t.Fatalf("rare job: %+v %v", p, err)
	}
	p, err = l.Page(ctx, Query{Outcome: Expired, Limit: 50})
	if err != nil || len(p.Runs) != 0 || p.Scanned != MaxScan || p.Next == "" {
		t.Fatalf("unindexed filter: %d runs, scanned %d, next %q, %v", len(p.Runs), p.Scanned, p.Next, err)
	}
	bytes := rdb.MemoryUsage(ctx, keys.Runs, 0).Val()
	t.Logf("heartbeat:runs: %d entries, %d bytes (%.0f bytes a run)", n+1, bytes, float64(bytes)/float64(n+1))
}

func TestOutcomeRecorded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		o    Outcome
		want bool
	}{
		{OK, true}, {Error, true}, {Expired, true}, {SkippedOverlap, true},
		{Enqueued, false}, {DuplicateSuppressed, false}, {SkippedClosed, false}, {SkippedPaused, false}, {Missed, false},
		{"", false}, {"late", false},
	} {
		if got := tc.o.Recorded(); got != tc.want {
			t.Errorf("%q.Recorded() = %v, want %v", tc.o, got, tc.want)
		}
	}
}
