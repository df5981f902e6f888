package metrics

import (
	"context"
	"errors"
	"testing"
	"time"

	"strings"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestWatchTickBacklog: one series per shard answered at scrape time; a
// shard whose age cannot be read has none (not a wrong 0); a second
// registration (another worker in the same process) is a no-op.
func TestWatchTickBacklog(t *testing.T) {
	t.Parallel()
	m := New()
	ages := map[int]time.Duration{0: 0, 1: 42 * time.Second}
	age := func(_ context.Context, shard int) (time.Duration, error) {
		if a, ok := ages[shard]; ok {
			return a, nil
		}
		return 0, errors.New("redis down")
	}
	m.WatchTickBacklog(3, age)
	m.WatchTickBacklog(3, age)
	want := `
# HELP heartbeat_tick_backlog_age_seconds Age of the oldest tick of the shard's stream that Intraday has not consumed (0: none), read at scrape time.
# TYPE heartbeat_tick_backlog_age_seconds gauge
heartbeat_tick_backlog_age_seconds{shard="0"} 0
heartbeat_tick_backlog_age_seconds{shard="1"} 42
`
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want), "heartbeat_tick_backlog_age_seconds"); err != nil {
		t.Fatal(err)
	}
}
