package tasks

import (
	"testing"
	"time"
)

// TestRunTimeout: a run may take ten intervals, and never less than
// thirty seconds.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval, want time.Duration
	}{
		{0, 30 * time.Second},
		{100 * time.Millisecond, 30 * time.Second},
		{3 * time.Second, 30 * time.Second},
		{4 * time.Second, 40 * time.Second},
		{time.Minute, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := RunTimeout(tt.interval); got != tt.want {
			t.Fatalf("RunTimeout(%s) = %s, want %s", tt.interval, got, tt.want)
		}
	}
}
