package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/market"
)

// TestCronPlan checks the gates on cron slots (no slow cadence: every cron
// instant is decided), the close grace and the start deadline. XNYS is
// open 14:30-21:00Z on 2026-11-23; a halt stops it 15:00-15:30Z.
func TestCronPlan(t *testing.T) {
	t.Parallel()
	halt := runtimeEntry(t, market.KindHalt, "2026-11-23")
	halt.From, halt.To = 10*60, 10*60+30
	book := newBook(t, halt)
	xnys, err := book.Lookup(market.XNYS)
	if err != nil {
		t.Fatal(err)
	}
	admitOdd := func(slot time.Time) bool { return slot.Minute()%2 == 1 }
	tests := []struct {
		name      string
		spec      Spec
		grace     time.Duration
		predicate func(time.Time) bool
		prev      string
		want      []string // "HH:MM enqueue active deadline-HH:MM" on 2026-11-23 (UTC)
	}{
		{"gate open: closed slots skipped, not thinned", Spec{Cron: "0 */30 * * * *", TZ: "America/New_York"}, 0, nil, "13:00",
			[]string{"13:30 false false 14:00", "14:00 false false 14:30", "14:30 true true 15:00", "15:00 false false 15:30", "15:30 true true 16:00"}},
		{"gate always: every slot", Spec{Cron: "0 */30 * * * *", Gate: GateAlways}, 0, nil, "13:00",
			[]string{"13:30 true false 14:00", "14:00 true false 14:30", "14:30 true true 15:00"}},
		{"the close without grace: closed", Spec{Cron: "0 0 16 * * *", TZ: "America/New_York"}, 0, nil, "20:00",
			[]string{"21:00 false false 22:00"}},
		{"the close within the grace: active", Spec{Cron: "0 0 16 * * *", TZ: "America/New_York"}, 15 * time.Second, nil, "20:00",
			[]string{"21:00 true true 22:00"}},
		{"a halt shuts it whatever the grace", Spec{Cron: "0 0,1 10 * * *", TZ: "America/New_York"}, time.Hour, nil, "14:00",
			[]string{"15:00 false false 15:01", "15:01 false false 16:01"}},
		{"a predicate decides alone", Spec{Cron: "0 * * * * *"}, 0, admitOdd, "22:00",
			[]string{"22:01 true false 22:02", "22:02 false false 22:03", "22:03 true false 22:04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			e.Markets, e.Book, e.CloseGrace, e.Predicate = market.Set{xnys}, book, tt.grace, tt.predicate
			p := mustNew(t, tt.spec, e)
			var got []string
			for _, d := range decisions(p, utc(t, "2026-11-23T"+tt.prev+":00Z"), len(tt.want)) {
				got = append(got, fmt.Sprintf("%s %v %v %s", d.Slot.Format("15:04"), d.Enqueue, d.Active, d.Deadline.Format("15:04")))
				if d.Enqueue != (d.Parts != nil) {
					t.Fatalf("%s: Enqueue %v with parts %v", d.Slot, d.Enqueue, d.Parts)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestCronPlanExplains checks the explanation, task keys and canonical
// text of a cron plan.
func TestCronPlanExplains(t *testing.T) {
	t.Parallel()
	e := env(t, market.XNYS)
	e.Split, e.Shards = SplitShard, 2
	p := mustNew(t, Spec{Cron: "0 30 9,17 * * mon-fri", TZ: "America/New_York"}, e)
	var got []string
	for _, d := range decisions(p, utc(t, "2026-11-23T12:00:00Z"), 3) {
		got = append(got, d.Slot.Format(time.RFC3339)+" "+d.Why)
	}
	want := []string{
		"2026-11-23T14:30:00Z enqueue: open: XNYS (Mon 09:30:00 EST)",
		"2026-11-23T22:30:00Z skip (skipped_closed): markets closed (Mon 17:30:00 EST)",
		"2026-11-24T14:30:00Z enqueue: open: XNYS (Tue 09:30:00 EST)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	d := p.Next(utc(t, "2026-11-23T12:00:00Z"))
	if got, want := p.TaskKey(d.Parts[1], d.Slot), "1:1795444200000"; got != want {
		t.Fatalf("TaskKey = %q, want %q", got, want)
	}
	if got, want := p.String(), `cron "0 30 9,17 * * mon-fri" in America/New_York, gate open`; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	if got := p.Tasks(p.Next(d.Slot)); got != 2 {
		t.Fatalf("Tasks of a skipped slot = %d, want the 2 shards", got)
	}
}
