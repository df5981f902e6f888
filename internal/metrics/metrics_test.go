package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"heartbeat/internal/runlog"
)

// TestCountSlots counts workers' and scheduler's outcomes under the one
// metric, labelled with runlog's outcome values.
func TestCountSlots(t *testing.T) {
	t.Parallel()
	m := New()
	m.CountSlots("intraday", runlog.OK, 1)
	m.CountSlots("intraday", runlog.OK, 2)
	m.CountSlots("intraday", runlog.SkippedOverlap, 1)
	m.CountSlots("intraday", runlog.Missed, 4) // as the scheduler counts
	for _, tc := range []struct {
		outcome string
		want    float64
	}{
		{"ok", 3}, {"skipped_overlap", 1}, {"missed", 4}, {"error", 0},
	} {
		if got := testutil.ToFloat64(m.Slots.WithLabelValues("intraday", tc.outcome)); got != tc.want {
			t.Errorf("heartbeat_slots_total{outcome=%q} = %v, want %v", tc.outcome, got, tc.want)
		}
	}
}
