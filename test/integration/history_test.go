package integration

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"heartbeat/internal/runlog"
)

// slotKey identifies one task of one slot.
type slotKey struct {
	job, part string
	slot      time.Time
}

func (k slotKey) String() string {
	return fmt.Sprintf("%s/%s@%s", k.job, k.part, k.slot.UTC().Format(runlog.SlotLayout))
}

// executed reports whether a run did the job's work (rather than being
// dropped as expired or overlapping).
func executed(r runlog.Run) bool { return r.Outcome == runlog.OK || r.Outcome == runlog.Error }

// duplicates returns the slots with more than one run that counts, and
// how many runs each had. count decides which runs count.
func duplicates(runs []runlog.Run, count func(runlog.Run) bool) map[slotKey]int {
	n := map[slotKey]int{}
	for _, r := range runs {
		if count(r) {
			n[slotKey{r.Job, r.Part, r.Slot.UTC()}]++
		}
	}
	for k, v := range n {
		if v < 2 {
			delete(n, k)
		}
	}
	return n
}

// describeDuplicates lists duplicated slots with their runs, for a failure
// message.
func describeDuplicates(runs []runlog.Run, dups map[slotKey]int) string {
	var b strings.Builder
	keys := make([]slotKey, 0, len(dups))
	for k := range dups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		fmt.Fprintf(&b, "%s ran %d times:\n", k, dups[k])
		for _, r := range runs {
			if (slotKey{r.Job, r.Part, r.Slot.UTC()}) == k {
				fmt.Fprintf(&b, "  term %d worker %s outcome %s started %s task %s %s\n", r.Term, r.Worker, r.Outcome,
					r.StartedAt.UTC().Format(runlog.TimeLayout), r.TaskID, r.Error)
			}
		}
	}
	return b.String()
}

// termEdge is where one term's runs of a job part end and the next
// term's begin.
type termEdge struct {
	part       string
	lastOld    time.Time // last slot run under the old term
	firstNew   time.Time // first slot run under the new term
	missed     int       // slots between them
	firstStart time.Time // when the new term's first run started
}

// edges returns, for each part of job, the gap between the last slot run
// under oldTerm (or any earlier term) and the first one under newTerm.
func edges(runs []runlog.Run, job string, interval time.Duration, oldTerm, newTerm int64) []termEdge {
	byPart := map[string]*termEdge{}
	for _, r := range runs {
		if r.Job != job || !executed(r) {
			continue
		}
		e := byPart[r.Part]
		if e == nil {
			e = &termEdge{part: r.Part}
			byPart[r.Part] = e
		}
		switch {
		case r.Term <= oldTerm && r.Slot.After(e.lastOld):
			e.lastOld = r.Slot
		case r.Term == newTerm && (e.firstNew.IsZero() || r.Slot.Before(e.firstNew)):
			e.firstNew, e.firstStart = r.Slot, r.StartedAt
		}
	}
	var out []termEdge
	for _, e := range byPart {
		if !e.lastOld.IsZero() && !e.firstNew.IsZero() {
			e.missed = int(e.firstNew.Sub(e.lastOld)/interval) - 1
		}
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].part < out[j].part })
	return out
}

// termRuns returns the earliest enqueue and start among the runs of a
// term.
func termRuns(runs []runlog.Run, term int64) (firstEnqueue, firstStart time.Time, n int) {
	for _, r := range runs {
		if r.Term != term {
			continue
		}
		n++
		if firstEnqueue.IsZero() || r.EnqueuedAt.Before(firstEnqueue) {
			firstEnqueue = r.EnqueuedAt
		}
		if firstStart.IsZero() || r.StartedAt.Before(firstStart) {
			firstStart = r.StartedAt
		}
	}
	return firstEnqueue, firstStart, n
}

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
