package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/runlog"
	"heartbeat/internal/schedule"
	"heartbeat/test/procs"
)

// jobWindow is one job's runs in the window.
type jobWindow struct {
	spec     jobs.Spec
	due      []procs.SlotKey // every slot part the job owed in the window (none for pre-open)
	outcomes map[runlog.Outcome]int
	lag      procs.LagStats
	missing  []procs.SlotKey // due, with no ok or error run
}

// window is what the run history says about [from, to).
type window struct {
	from, to time.Time
	jobs     []*jobWindow
	all      procs.LagStats
	terms    map[int64]int // runs by the term that enqueued them
	errors   []runlog.Run
}

// parts returns the task parts of a job: one per shard, or one whole.
func parts(spec jobs.Spec) []string {
	if spec.Split.String() == "shard" {
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
	ran := map[procs.SlotKey]bool{}
	lags := map[string][]time.Duration{}
	var all []time.Duration
	byJob := map[string]*jobWindow{}
	for _, spec := range jobs.Registry {
		j := &jobWindow{spec: spec, outcomes: map[runlog.Outcome]int{}}
		if spec.Schedule.Within == "" {
			for s := schedule.AlignedAfter(from.Add(-time.Nanosecond), spec.Schedule.Every); s.Before(to); s = s.Add(spec.Schedule.Every) {
				for _, p := range parts(spec) {
					j.due = append(j.due, procs.SlotKey{Job: string(spec.Name), Part: p, Slot: s})
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
		if procs.Executed(r) {
			ran[procs.KeyOf(r)] = true
			lags[r.Job] = append(lags[r.Job], r.StartLag())
			all = append(all, r.StartLag())
		}
	}
	for _, j := range w.jobs {
		j.lag = procs.NewLagStats(lags[string(j.spec.Name)])
		for _, k := range j.due {
			if !ran[k] {
				j.missing = append(j.missing, k)
			}
		}
	}
	w.all = procs.NewLagStats(all)
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
		if j.spec.Schedule.Within != "" {
			due = "n/a"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %s | %d | %s |\n", j.spec.Name, j.spec.Schedule.Every, j.spec.Schedule.Gate, due,
			j.outcomes[runlog.OK], procs.OtherOutcomes(j.outcomes), len(j.missing), j.lag.Cells())
	}
	fmt.Fprintf(&b, "all jobs: start lag %s\n", w.all)
	return b.String()
}

// describeRuns lists runs for a failure message.
func describeRuns(rs []runlog.Run) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s term %d worker %s outcome %s started %s task %s %s\n", procs.KeyOf(r), r.Term, r.Worker, r.Outcome,
			r.StartedAt.UTC().Format(runlog.TimeLayout), r.TaskID, r.Error)
	}
	return b.String()
}
