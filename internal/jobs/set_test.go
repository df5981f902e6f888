package jobs

import (
	"strings"
	"testing"
	"time"

	"heartbeat/internal/schedule"
)

func TestSetAdd(t *testing.T) {
	t.Parallel()
	every := schedule.Spec{Every: time.Minute, Gate: schedule.GateAlways}
	tests := []struct {
		name string
		spec Spec
		err  string // "": accepted
	}{
		{"a new job", Spec{Name: "eod_report", Schedule: schedule.Spec{At: "XNYS.close+2m"}}, ""},
		{"a built-in name", Spec{Name: Intraday, Schedule: every}, "already registered"},
		{"upper case", Spec{Name: "EOD", Schedule: every}, "the name must match"},
		{"a colon", Spec{Name: "a:b", Schedule: every}, "the name must match"},
		{"a built-in task type", Spec{Name: "x", TaskType: "heartbeat:intraday", Schedule: every}, "is intraday's"},
		{"a queue of its own", Spec{Name: "x", Queue: "low", Schedule: every}, "queue must be"},
		{"no schedule", Spec{Name: "x"}, "one of every, cron, at or within is required"},
		{"a bad policy", Spec{Name: "x", Schedule: every, Policy: Policy{Overlap: "never"}}, "overlap"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := Builtin()
			err := s.Add(tc.spec)
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("Add = %v, want an error with %q", err, tc.err)
			case tc.err == "":
				got, ok := s.Lookup(tc.spec.Name)
				if !ok || got.TaskType != "job:"+string(tc.spec.Name) || got.Queue != QueueDefault || got.Title != string(tc.spec.Name) {
					t.Fatalf("registered as %+v", got)
				}
				if names := s.Names(); len(names) != 9 || names[8] != tc.spec.Name {
					t.Fatalf("names %v", names)
				}
				if len(Builtin().Names()) != 8 {
					t.Fatal("Add changed the built-in registry")
				}
			}
		})
	}
}
