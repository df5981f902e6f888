package schedule

import (
	"errors"
	"testing"
	"time"

	"heartbeat/internal/market"
)

func TestTriggerSlot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		now      string
		interval time.Duration
		want     string
	}{
		{"on a slot: that slot", "2026-03-02T14:30:00Z", time.Second, "2026-03-02T14:30:00Z"},
		{"early in a slot: the slot in progress", "2026-03-02T14:30:00.2Z", time.Second, "2026-03-02T14:30:00Z"},
		{"exactly half left: the slot in progress", "2026-03-02T14:30:00.5Z", time.Second, "2026-03-02T14:30:00Z"},
		{"late in a slot: the next one", "2026-03-02T14:30:00.6Z", time.Second, "2026-03-02T14:30:01Z"},
		{"minute job at :20", "2026-03-02T14:30:20Z", time.Minute, "2026-03-02T14:30:00Z"},
		{"minute job at :40", "2026-03-02T14:30:40Z", time.Minute, "2026-03-02T14:31:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := TriggerSlot(utc(t, tc.now), tc.interval); !got.Equal(utc(t, tc.want)) {
				t.Fatalf("TriggerSlot(%s, %s) = %s, want %s", tc.now, tc.interval, got, tc.want)
			}
		})
	}
}

// TestTrigger: what a manual trigger runs for each schedule kind, with
// the gate not asked (a Saturday) and the deadline each kind gives.
func TestTrigger(t *testing.T) {
	t.Parallel()
	book := newBook(t)
	e := Env{Markets: calendars(t, market.XNYS, market.XTSE), Book: book, Slow: slowTick, Shards: 2, Split: SplitShard}
	tests := []struct {
		name         string
		spec         Spec
		env          Env
		now          string
		wantSlot     string
		wantParts    []string
		wantDeadline string
		wantErr      bool
	}{
		{"interval on a Saturday: the slot in progress, every shard", Spec{Every: time.Minute, Gate: GateOpen}, e,
			"2026-03-07T12:00:10Z", "2026-03-07T12:00:00Z", []string{"0", "1"}, "2026-03-07T12:01:00Z", false},
		{"cron: the whole second, until the next instant", Spec{Cron: "0 0 * * * *", Gate: GateOpen}, e,
			"2026-03-07T12:59:30.2Z", "2026-03-07T12:59:30Z", []string{"0", "1"}, "2026-03-07T13:00:00Z", false},
		{"within, inside the window: the markets in it", Spec{Every: 30 * time.Second, Within: "open-60s..open-1s"}, withSplit(e, SplitOne),
			"2026-03-02T14:29:10Z", "2026-03-02T14:29:00Z", []string{"XNYS:2026-03-02", "XTSE:2026-03-02"}, "2026-03-02T14:29:59Z", false},
		{"within, outside the window: nothing", Spec{Every: 30 * time.Second, Within: "open-60s..open-1s"}, withSplit(e, SplitOne),
			"2026-03-02T15:00:00Z", "", nil, "", true},
		{"within without a grid: the whole second", Spec{Within: "open-60s..open-1s"}, withSplit(e, SplitOne),
			"2026-03-02T14:29:10.2Z", "2026-03-02T14:29:10Z", []string{"XNYS:2026-03-02", "XTSE:2026-03-02"}, "2026-03-02T14:29:59Z", false},
		{"within after the close: the sessions that closed", Spec{Within: "close..close+5m"}, withSplit(e, SplitOne),
			"2026-03-02T21:02:00.2Z", "2026-03-02T21:02:00Z", []string{"XNYS:2026-03-02", "XTSE:2026-03-02"}, "2026-03-02T21:05:00Z", false},
		{"at: the latest session's slot, a minute to start", Spec{At: "XNYS.close+2m"}, withSplit(e, SplitOne),
			"2026-03-03T10:00:00Z", "2026-03-02T21:02:00Z", []string{"XNYS:2026-03-02"}, "2026-03-03T10:01:00Z", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := tc.env
			env.OnCalendarError = func(err error) { t.Errorf("calendar error: %v", err) }
			p := mustNew(t, tc.spec, env)
			d, err := p.Trigger(utc(t, tc.now))
			if tc.wantErr {
				if !errors.Is(err, ErrNothingToTrigger) {
					t.Fatalf("Trigger = %+v, %v; want ErrNothingToTrigger", d, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, part := range d.Parts {
				parts = append(parts, part.Name)
			}
			if !d.Slot.Equal(utc(t, tc.wantSlot)) || !d.Deadline.Equal(utc(t, tc.wantDeadline)) || !d.Enqueue ||
				len(parts) != len(tc.wantParts) || (len(parts) > 0 && parts[0] != tc.wantParts[0]) || (len(parts) > 1 && parts[1] != tc.wantParts[1]) {
				t.Fatalf("Trigger = slot %s parts %v deadline %s enqueue %v; want %s %v %s", d.Slot, parts, d.Deadline, d.Enqueue,
					tc.wantSlot, tc.wantParts, tc.wantDeadline)
			}
		})
	}
}

func withSplit(e Env, s Split) Env {
	e.Split = s
	return e
}
