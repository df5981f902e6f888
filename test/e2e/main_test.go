package e2e

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Flags of TestE2E (after -args, or directly with go test).
var (
	e2eDuration = flag.Duration("e2e.duration", 70*time.Second, "TestE2E: how long the measured window lasts")
	e2eMaxP99   = flag.Duration("e2e.max-p99", 50*time.Millisecond, "TestE2E: the highest start lag p99 (all jobs) that passes")
)

// TestMain checks that no goroutine outlives the tests.
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: leaked goroutines:", err)
			return 1
		}
	}
	return code
}

// requireAsked skips the test unless E2E is set true or the -run pattern
// names E2E: go test ./... must not spend minutes on it.
func requireAsked(t *testing.T) {
	t.Helper()
	if on, err := strconv.ParseBool(os.Getenv("E2E")); err == nil && on {
		return
	}
	if f := flag.Lookup("test.run"); f != nil && strings.Contains(f.Value.String(), "E2E") {
		return
	}
	t.Skip("the end-to-end test takes minutes: run it with E2E=1 or -run E2E (make e2e)")
}
