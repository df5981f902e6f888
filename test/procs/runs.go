package procs

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"heartbeat/internal/runlog"
)

// SlotKey identifies one task of one slot: a job, its part (shard or
// market; empty for whole-job tasks) and the slot instant.
type SlotKey struct {
	Job, Part string
	Slot      time.Time
}

// KeyOf returns the key of a run, its slot in UTC.
func KeyOf(r runlog.Run) SlotKey { return SlotKey{Job: r.Job, Part: r.Part, Slot: r.Slot.UTC()} }

// String formats the key as job/part@slot.
func (k SlotKey) String() string {
	return fmt.Sprintf("%s/%s@%s", k.Job, k.Part, k.Slot.UTC().Format(runlog.SlotLayout))
}

// Executed reports whether a run did the job's work (rather than being
// dropped as expired or overlapping).
func Executed(r runlog.Run) bool { return r.Outcome == runlog.OK || r.Outcome == runlog.Error }

// OKParts returns the parts of job that have an ok run enqueued under
// term.
func OKParts(runs []runlog.Run, job string, term int64) map[string]bool {
	parts := map[string]bool{}
	for _, r := range runs {
		if r.Job == job && r.Term == term && r.Outcome == runlog.OK {
			parts[r.Part] = true
		}
	}
	return parts
}

// Duplicates returns the slot parts with more than one run that counts,
// each with those runs in history order. count decides which runs count.
func Duplicates(runs []runlog.Run, count func(runlog.Run) bool) map[SlotKey][]runlog.Run {
	by := map[SlotKey][]runlog.Run{}
	for _, r := range runs {
		if count(r) {
			by[KeyOf(r)] = append(by[KeyOf(r)], r)
		}
	}
	for k, rs := range by {
		if len(rs) < 2 {
			delete(by, k)
		}
	}
	return by
}

// OtherOutcomes lists the counts of the outcomes other than ok, sorted
// ("error 2, expired 1"), for a table of runs.
func OtherOutcomes(counts map[runlog.Outcome]int) string {
	var other []string
	for o, n := range counts {
		if o != runlog.OK {
			other = append(other, fmt.Sprintf("%s %d", o, n))
		}
	}
	sort.Strings(other)
	return strings.Join(other, ", ")
}

// SortedKeys returns the keys of m ordered by their String, for stable
// failure messages.
func SortedKeys[V any](m map[SlotKey]V) []SlotKey {
	keys := make([]SlotKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// LagStats summarises durations (start lags, run times) by nearest-rank
// percentiles.
type LagStats struct {
	N             int
	P50, P99, Max time.Duration
}

// NewLagStats computes the nearest-rank percentiles of lags; the zero
// LagStats when there are none.
func NewLagStats(lags []time.Duration) LagStats {
	if len(lags) == 0 {
		return LagStats{}
	}
	s := slices.Clone(lags)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return LagStats{N: len(s), P50: rank(0.50), P99: rank(0.99), Max: s[len(s)-1]}
}

// String formats the percentiles in milliseconds, or "no runs".
func (l LagStats) String() string {
	if l.N == 0 {
		return "no runs"
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s over %d runs", Millis(l.P50), Millis(l.P99), Millis(l.Max), l.N)
}

// Cells formats p50, p99 and max in milliseconds as three cells of a
// Markdown table row ("1.00 ms | 2.50 ms | 4.00 ms"), each "–" when there
// were no durations.
func (l LagStats) Cells() string {
	if l.N == 0 {
		return "– | – | –"
	}
	return Millis(l.P50) + " | " + Millis(l.P99) + " | " + Millis(l.Max)
}

// Millis formats a duration in milliseconds with two decimals
// ("12.34 ms").
func Millis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}
