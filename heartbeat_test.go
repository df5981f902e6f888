package heartbeat_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"heartbeat"
)

func noop(context.Context, heartbeat.Run) error { return nil }

func TestRegister(t *testing.T) {
	t.Parallel()
	app, err := heartbeat.New(heartbeat.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Register(heartbeat.Job{Name: "eod_report", Schedule: heartbeat.At("XNYS.close+2m"), Run: noop}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		job  heartbeat.Job
		err  string
	}{
		{"twice", heartbeat.Job{Name: "eod_report", Schedule: heartbeat.At("XNYS.close+2m"), Run: noop}, "already registered"},
		{"a built-in name", heartbeat.Job{Name: "intraday", Schedule: heartbeat.Every(time.Second), Run: noop}, "already registered"},
		{"a bad name", heartbeat.Job{Name: "EOD report", Schedule: heartbeat.Every(time.Second), Run: noop}, "the name must match"},
		{"no run", heartbeat.Job{Name: "x", Schedule: heartbeat.Every(time.Second)}, "Run is required"},
		{"a bad cron", heartbeat.Job{Name: "x", Schedule: heartbeat.Cron("0 0 25 * * *", "America/New_York"), Run: noop}, "cron"},
		{"a gate on a session schedule", heartbeat.Job{Name: "x", Schedule: heartbeat.At("XNYS.open").Gated(heartbeat.GateOpen), Run: noop}, "gate"},
		{"a bad policy", heartbeat.Job{Name: "x", Schedule: heartbeat.Every(time.Second), Policy: heartbeat.Policy{Overlap: "never"}, Run: noop}, "overlap"},
	} {
		if err := app.Register(tc.job); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: Register = %v, want an error with %q", tc.name, err, tc.err)
		}
	}
}

// TestConfigAppliesToRegisteredJobs: a registered job's config keys are
// validated at Start, naming the field.
func TestConfigAppliesToRegisteredJobs(t *testing.T) {
	t.Parallel()
	app, err := heartbeat.New(heartbeat.Options{Set: map[string]string{"jobs.risk_snapshot.cron": "0 0 32 * * *", "scheduler.http": ""}})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Register(heartbeat.Job{Name: "risk_snapshot", Schedule: heartbeat.Every(time.Minute), Run: noop}); err != nil {
		t.Fatal(err)
	}
	err = app.Start(context.Background())
	defer app.Stop(context.Background())
	if err == nil || !strings.Contains(err.Error(), "jobs.risk_snapshot.cron") {
		t.Fatalf("Start = %v, want an error naming jobs.risk_snapshot.cron", err)
	}
}

// TestImportFromAnotherModule builds a program in a module of its own that
// imports this one through a replace directive, as a desk's program would.
func TestImportFromAnotherModule(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a program")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod": "module example.com/desk\n\ngo 1.26.0\n\nrequire heartbeat v0.0.0\n\nreplace heartbeat => " + root + "\n",
		"go.sum": string(sum),
		"main.go": `package main

import (
	"context"
	"fmt"
	"time"

	"heartbeat"
)

func main() {
	app, err := heartbeat.New(heartbeat.Options{Mode: heartbeat.ModeWorker})
	if err != nil {
		panic(err)
	}
	err = app.Register(heartbeat.Job{Name: "eod_report", Schedule: heartbeat.At("XNYS.close+2m"),
		Run: func(ctx context.Context, run heartbeat.Run) error { return nil }})
	fmt.Println(err, time.Second)
}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tidy := exec.Command("go", "mod", "tidy")
	tidy.Dir, tidy.Env = dir, append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := tidy.CombinedOutput(); err != nil {
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	run := exec.Command("go", "run", ".")
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "<nil> 1s" {
		t.Fatalf("go run: %v\n%s", err, out)
	}
}
