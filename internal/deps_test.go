// Package internal_test checks the module's dependency seams: which
// packages a package may link, read from `go list -deps`, so a type moved
// into the wrong package (dragging a store, an engine or a web UI behind
// it) fails a test instead of a review.
package internal_test

import (
	"os/exec"
	"strings"
	"testing"
)

// seams are the rules: a package and the import paths it must not depend
// on, directly or not (a path forbids its subpackages too). When only is
// set, every dependency outside the standard library must be one of only
// (or under it).
var seams = []struct {
	pkg       string
	forbidden []string
	only      []string
}{
	{
		// The scheduler imports the tasks for their identity and options,
		// not the handlers that run them.
		pkg: "heartbeat/internal/scheduler",
		forbidden: []string{"github.com/jackc/pgx/v5", "heartbeat/internal/marketdata", "heartbeat/internal/runner",
			"heartbeat/internal/bars", "github.com/hibiken/asynqmon"},
	},
	{
		pkg: "heartbeat/internal/tasks",
		forbidden: []string{"github.com/jackc/pgx/v5", "heartbeat/internal/marketdata", "heartbeat/internal/runner",
			"heartbeat/internal/scheduler", "heartbeat/internal/bars"},
	},
	{
		// A feed writes ticks: it links no scheduler, no worker, no web UI.
		pkg: "heartbeat/cmd/feed",
		forbidden: []string{"github.com/hibiken/asynqmon", "heartbeat/internal/scheduler", "heartbeat/internal/runner",
			"heartbeat/internal/node", "heartbeat/internal/web", "github.com/jackc/pgx/v5"},
	},
	{
		// The live hub reads market data and fans it out: no scheduler,
		// no task queue, no web UI (the site renders the figures).
		pkg: "heartbeat/internal/live",
		forbidden: []string{"github.com/hibiken/asynq", "heartbeat/internal/scheduler", "heartbeat/internal/runner",
			"heartbeat/internal/node", "heartbeat/internal/web"},
	},
	{
		// The token lock is a Redis primitive: go-redis and nothing of ours.
		pkg:  "heartbeat/internal/tokenlock",
		only: []string{"heartbeat/internal/tokenlock", "github.com/redis/go-redis/v9", "go.uber.org/atomic", "github.com/cespare/xxhash/v2", "golang.org/x/sys"},
	},
	{
		// The schedule strategies are pure: the scheduler and the public
		// job API import them.
		pkg: "heartbeat/internal/schedule",
		forbidden: []string{"github.com/hibiken/asynq", "github.com/redis/go-redis", "github.com/jackc/pgx",
			"heartbeat/internal/marketdata", "heartbeat/internal/tasks", "heartbeat/internal/scheduler", "heartbeat/internal/jobs"},
		only: []string{"heartbeat/internal/schedule", "heartbeat/internal/market", "go.yaml.in/yaml/v3"},
	},
}

// under reports whether path is prefix or one of its subpackages.
func under(path, prefix string) bool { return path == prefix || strings.HasPrefix(path, prefix+"/") }

func TestDependencies(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the dependencies: %v", err)
	}
	for _, seam := range seams {
		t.Run(seam.pkg, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command(goTool, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", seam.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", seam.pkg, err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) < 5 {
				t.Fatalf("go list -deps %s listed %d packages: %q", seam.pkg, len(lines), out)
			}
			for _, line := range lines {
				dep, standard, ok := strings.Cut(line, " ")
				if !ok {
					t.Fatalf("go list -deps %s: unexpected line %q", seam.pkg, line)
				}
				for _, f := range seam.forbidden {
					if under(dep, f) {
						t.Errorf("%s depends on %s", seam.pkg, dep)
					}
				}
				if seam.only == nil || standard == "true" {
					continue
				}
				allowed := false
				for _, o := range seam.only {
					allowed = allowed || under(dep, o)
				}
				if !allowed {
					t.Errorf("%s depends on %s, outside %v", seam.pkg, dep, seam.only)
				}
			}
		})
	}
}
