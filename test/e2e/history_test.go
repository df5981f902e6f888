package e2e

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/runlog"
	"heartbeat/internal/scheduler"
)

// slotKey identifies one task of one slot.
type slotKey struct {
	job, part string
	slot      time.Time
}

func (k slotKey) String() string {
	return fmt.Sprintf("%s/%s@%s", k.job, k.part, k.slot.UTC().Format(runlog.SlotLayout))
}

func keyOf(r runlog.Run) slotKey { return slotKey{r.Job, r.Part, r.Slot.UTC()} }

// executed reports whether a run did the job's work (rather than being
// dropped as expired or overlapping).
func executed(r runlog.Run) bool { return r.Outcome == runlog.OK || r.Outcome == runlog.Error }

// lagStats summarises start lags.
type lagStats struct {
	n             int
	p50, p99, max time.Duration
}

// newLagStats computes the nearest-rank percentiles of lags.
func newLagStats(lags []time.Duration) lagStats {
	if len(lags) == 0 {
		return lagStats{}
	}
	s := slices.Clone(lags)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return lagStats{n: len(s), p50: rank(0.50), p99: rank(0.99), max: s[len(s)-1]}
}

func (l lagStats) String() string {
	if l.n == 0 {
		return "no runs"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s over %d runs", msec(l.p50), msec(l.p99), msec(l.max), l.n)
}

func msec(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// jobWindow is one job's runs in the window.
type jobWindow struct {
	spec     jobs.Spec
	due      []slotKey // every slot part the job owed in the window (none for pre-open)
	outcomes map[runlog.Outcome]int
	lag      lagStats
	missing  []slotKey // due, with no ok or error run
}

// window is what the run history says about [from, to).
type window struct {
	from, to time.Time
	jobs     []*jobWindow
	all      lagStats
	terms    map[int64]int // runs by the term that enqueued them
	errors   []runlog.Run
}

// parts returns the task parts of a job: one per shard, or one whole.
func parts(spec jobs.Spec) []string {
	if spec.Partition == jobs.ByShard {
		out := make([]string, shards)
		for i := range out {
			out[i] = strconv.Itoa(i)
		}
		return out
	}
	return []string{""}
}

// analyse reads the runs whose slot is in [from, to). Every job but the
// pre-open backtest owes every aligned slot of the window on every part:
// the ALWAYS market keeps the open gate open and the cadence fast.
func analyse(runs []runlog.Run, from, to time.Time) window {
	w := window{from: from, to: to, terms: map[int64]int{}}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	ran := map[slotKey]bool{}
	lags := map[string][]time.Duration{}
	var all []time.Duration
	byJob := map[string]*jobWindow{}
	for _, spec := range jobs.Registry {
		j := &jobWindow{spec: spec, outcomes: map[runlog.Outcome]int{}}
		if spec.Gate != jobs.GatePreOpen {
			for s := scheduler.AlignedAfter(from.Add(-time.Nanosecond), spec.Interval); s.Before(to); s = s.Add(spec.Interval) {
				for _, p := range parts(spec) {
					j.due = append(j.due, slotKey{string(spec.Name), p, s})
				}
			}
		}
		byJob[string(spec.Name)] = j
		w.jobs = append(w.jobs, j)
	}
	for _, r := range runs {
		j := byJob[r.Job]
		if j == nil || !in(r.Slot) {
			continue
		}
		j.outcomes[r.Outcome]++
		w.terms[r.Term]++
		if r.Outcome == runlog.Error {
			w.errors = append(w.errors, r)
		}
		if executed(r) {
			ran[keyOf(r)] = true
			lags[r.Job] = append(lags[r.Job], r.StartLag())
			all = append(all, r.StartLag())
		}
	}
	for _, j := range w.jobs {
		j.lag = newLagStats(lags[string(j.spec.Name)])
		for _, k := range j.due {
			if !ran[k] {
				j.missing = append(j.missing, k)
			}
		}
	}
	w.all = newLagStats(all)
	return w
}

// table is the window's figures as a Markdown table, for the test log.
func (w window) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "window %s .. %s (%s)\n", w.from.UTC().Format("15:04:05"), w.to.UTC().Format("15:04:05"), w.to.Sub(w.from))
	b.WriteString("| job | interval | gate | slot parts due | ok | other outcomes | missing | lag p50 | lag p99 | lag max |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, j := range w.jobs {
		due := strconv.Itoa(len(j.due))
		if j.spec.Gate == jobs.GatePreOpen {
			due = "n/a"
		}
		var other []string
		for o, n := range j.outcomes {
			if o != runlog.OK {
				other = append(other, fmt.Sprintf("%s %d", o, n))
			}
		}
		sort.Strings(other)
		lag := func(d time.Duration) string {
			if j.lag.n == 0 {
				return "–"
			}
			return msec(d)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %d | %s | %s | %s |\n", j.spec.Name, j.spec.Interval, j.spec.Gate, due,
			j.outcomes[runlog.OK], strings.Join(other, ", "), len(j.missing), lag(j.lag.p50), lag(j.lag.p99), lag(j.lag.max))
	}
	fmt.Fprintf(&b, "all jobs: start lag %s\n", w.all)
	return b.String()
}

// duplicates returns the slot parts with more than one run that did the
// work, over the whole history.
func duplicates(runs []runlog.Run) map[slotKey][]runlog.Run {
	by := map[slotKey][]runlog.Run{}
	for _, r := range runs {
		if executed(r) {
			by[keyOf(r)] = append(by[keyOf(r)], r)
		}
	}
	for k, rs := range by {
		if len(rs) < 2 {
			delete(by, k)
		}
	}
	return by
}

// describeRuns lists runs for a failure message.
func describeRuns(rs []runlog.Run) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s term %d worker %s outcome %s started %s task %s %s\n", keyOf(r), r.Term, r.Worker, r.Outcome,
			r.StartedAt.UTC().Format(runlog.TimeLayout), r.TaskID, r.Error)
	}
	return b.String()
}
