package integration

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"heartbeat/internal/runlog"
	"heartbeat/test/procs"
)

// describeDuplicates lists duplicated slots (procs.Duplicates) with all
// their runs, for a failure message.
func describeDuplicates(runs []runlog.Run, dups map[procs.SlotKey][]runlog.Run) string {
	var b strings.Builder
	for _, k := range procs.SortedKeys(dups) {
		fmt.Fprintf(&b, "%s ran %d times:\n", k, len(dups[k]))
		for _, r := range runs {
			if procs.KeyOf(r) == k {
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
		if r.Job != job || !procs.Executed(r) {
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
