package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// bins holds the paths of the binaries TestMain builds.
var bins struct {
	scheduler string
	worker    string
}

// TestMain builds cmd/scheduler and cmd/worker once into a temporary
// directory, runs the tests, and checks that no goroutine outlives them.
func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "heartbeat-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	bins.scheduler = filepath.Join(dir, "scheduler")
	bins.worker = filepath.Join(dir, "worker")
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "integration: leaked goroutines:", err)
			return 1
		}
	}
	return code
}

// build compiles both commands into dir with the go tool that runs the
// tests.
func build(dir string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go tool not found: %w", err)
	}
	cmd := exec.Command(gobin, "build", "-o", dir+string(os.PathSeparator), "heartbeat/cmd/scheduler", "heartbeat/cmd/worker")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ./cmd/scheduler ./cmd/worker: %w\n%s", err, out)
	}
	return nil
}
