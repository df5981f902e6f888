package integration

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"heartbeat/test/procs"
)

// bins holds the paths of the binaries TestMain builds.
var bins struct {
	dir       string // where they are, removed after the tests
	scheduler string
	worker    string
	feed      string
}

// TestMain builds cmd/scheduler, cmd/worker and cmd/feed once into a temporary
// directory, runs the tests, and checks that no goroutine outlives them.
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "heartbeat-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins.dir = dir
	paths, err := procs.Build(dir, "scheduler", "worker", "feed")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	bins.scheduler, bins.worker, bins.feed = paths["scheduler"], paths["worker"], paths["feed"]
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "integration: leaked goroutines:", err)
			return 1
		}
	}
	return code
}
