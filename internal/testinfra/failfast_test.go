package testinfra

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// childEnv marks the run of this binary by TestFailFast, in which the
// children below run; otherwise they skip.
const childEnv = "HEARTBEAT_FAILFAST_CHILD"

// TestFailFast runs this binary again on the two children: with
// -failfast the second, which calls FailFast after the first has failed,
// is skipped; without it, it runs.
func TestFailFast(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("the parent run")
	}
	for _, tc := range []struct {
		failfast    bool
		wantSkipped bool
	}{{true, true}, {false, false}} {
		args := []string{"-test.run", "^TestFailFastChild", "-test.v", "-test.parallel", "4", "-test.count", "1"}
		if tc.failfast {
			args = append(args, "-test.failfast")
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--- FAIL: TestFailFastChildFails") {
			t.Fatalf("failfast=%v: the failing child did not fail (%v):\n%s", tc.failfast, err, out)
		}
		skipped := strings.Contains(string(out), "--- SKIP: TestFailFastChildAfter")
		if skipped != tc.wantSkipped || (!skipped && !strings.Contains(string(out), "--- PASS: TestFailFastChildAfter")) {
			t.Fatalf("failfast=%v: the later child skipped=%v, want %v:\n%s", tc.failfast, skipped, tc.wantSkipped, out)
		}
		if skipped && !strings.Contains(string(out), "-failfast: another test has failed") {
			t.Fatalf("the skip does not say why:\n%s", out)
		}
	}
}

// failedChild is closed when TestFailFastChildFails has failed and
// FailFast has recorded it.
var failedChild = make(chan struct{})

func TestFailFastChildFails(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestFailFast")
	}
	t.Parallel()
	t.Cleanup(func() { close(failedChild) }) // after FailFast's own cleanup
	FailFast(t)
	t.Fatal("fails on purpose")
}

func TestFailFastChildAfter(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		t.Skip("run by TestFailFast")
	}
	t.Parallel()
	select {
	case <-failedChild:
	case <-time.After(10 * time.Second):
		t.Fatal("the failing child did not finish")
	}
	FailFast(t)
}
