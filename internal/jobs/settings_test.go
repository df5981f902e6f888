package jobs

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/schedule"
)

func TestApply(t *testing.T) {
	t.Parallel()
	intraday, _ := Lookup(Intraday)
	preOpen, _ := Lookup(PreOpenBacktest)
	two := 2
	tests := []struct {
		name        string
		spec        Spec
		set         Settings
		wantSched   schedule.Spec
		wantPolicy  Policy
		wantQueue   string
		wantEnabled bool
		wantFields  []string // fields named by the errors
	}{
		{"nothing: the registry's", intraday, Settings{}, schedule.Spec{Every: time.Second, Gate: "open"}, Policy{}, "critical", true, nil},
		{"interval keeps the gate", intraday, Settings{"interval": "2s"}, schedule.Spec{Every: 2 * time.Second, Gate: "open"}, Policy{}, "critical", true, nil},
		{"cron replaces the interval", intraday, Settings{"cron": "0 * * * * *", "tz": "America/New_York", "gate": "always"},
			schedule.Spec{Cron: "0 * * * * *", TZ: "America/New_York", Gate: "always"}, Policy{}, "critical", true, nil},
		{"at drops the gate", intraday, Settings{"at": "XNYS.close+2m"}, schedule.Spec{At: "XNYS.close+2m"}, Policy{}, "critical", true, nil},
		{"an interval alone replaces a window", preOpen, Settings{"interval": "1m"}, schedule.Spec{Every: time.Minute, Gate: "open"}, Policy{}, "default", true, nil},
		{"policies", intraday, Settings{"timeout": "1m", "max_retry": "2", "start_deadline": "5s", "overlap": "allow", "catch_up": "latest", "queue": "default", "enabled": "false"},
			schedule.Spec{Every: time.Second, Gate: "open"},
			Policy{Timeout: time.Minute, MaxRetry: &two, StartDeadline: 5 * time.Second, Overlap: "allow", CatchUp: "latest"}, "default", false, nil},
		{"errors name each field", intraday, Settings{"enabled": "maybe", "interval": "soon", "overlap": "x", "color": "red"},
			schedule.Spec{}, Policy{}, "", false, []string{"color", "enabled", "interval"}},
		{"schedule errors after parsing", intraday, Settings{"cron": "0 0 32 * * *"}, schedule.Spec{}, Policy{}, "", false, []string{"cron"}},
		{"two schedules", intraday, Settings{"cron": "0 * * * * *", "at": "XNYS.open"}, schedule.Spec{}, Policy{}, "", false, []string{"interval"}},
		{"policy errors", intraday, Settings{"overlap": "x"}, schedule.Spec{}, Policy{}, "", false, []string{"overlap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, enabled, err := Apply(tc.spec, true, tc.set)
			if tc.wantFields != nil {
				var fields []string
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("error %v is not a FieldError", e)
					}
					fields = append(fields, fe.Field)
				}
				if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
					t.Fatalf("fields (-want +got):\n%s\n%v", diff, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantSched, got.Schedule); diff != "" {
				t.Fatalf("schedule (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantPolicy, got.Policy, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("policy (-want +got):\n%s", diff)
			}
			if got.Queue != tc.wantQueue || enabled != tc.wantEnabled {
				t.Fatalf("queue %s enabled %v, want %s %v", got.Queue, enabled, tc.wantQueue, tc.wantEnabled)
			}
		})
	}
}
