package schedule

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the package pure: the scheduler and the public
// job API import it, so it must not link asynq, Redis, PostgreSQL, the
// market-data engine, the tasks or the scheduler.
func TestDependencies(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the dependencies: %v", err)
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{"github.com/hibiken/asynq", "github.com/redis/go-redis", "github.com/jackc/pgx",
		"heartbeat/internal/marketdata", "heartbeat/internal/tasks", "heartbeat/internal/scheduler", "heartbeat/internal/jobs"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, f+"/") {
				t.Errorf("internal/schedule depends on %s", dep)
			}
		}
	}
}
