package schedule

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/market"
)

// sessionSlots returns the slots of p after prev up to and including to,
// each "RFC3339 PART...", failing on a decision without parts.
func sessionSlots(t testing.TB, p Plan, prev, to time.Time) []string {
	t.Helper()
	var out []string
	for {
		d := p.Next(prev)
		if d.Slot.After(to) {
			return out
		}
		if !d.Enqueue || len(d.Parts) == 0 {
			t.Fatalf("a session slot at %s with Enqueue %v and parts %v", d.Slot, d.Enqueue, d.Parts)
		}
		s := d.Slot.Format(time.RFC3339)
		for _, part := range d.Parts {
			s += " " + part.Name
		}
		out = append(out, s)
		prev = d.Slot
	}
}

// sessionWeek is the week of 2026-11-23 in New York with runtime entries:
// Tuesday closed, Wednesday opening late at 10:30 and an extra Saturday
// session 10:00-12:00. Thursday is Thanksgiving, Friday closes at 13:00.
func sessionWeek(t testing.TB) []market.Override {
	closure := runtimeEntry(t, market.KindHoliday, "2026-11-24")
	late := runtimeEntry(t, market.KindLateOpen, "2026-11-25")
	late.Open = 10*60 + 30
	extra := runtimeEntry(t, market.KindExtraSession, "2026-11-28")
	extra.Open, extra.Close = 10*60, 12*60
	return []market.Override{closure, late, extra}
}

// TestAtPlan checks that an anchored plan has exactly the slots the
// calendar implies: one per session at its actual event plus the offset.
func TestAtPlan(t *testing.T) {
	t.Parallel()
	book := newBook(t, sessionWeek(t)...)
	tests := []struct {
		at   string
		want []string
	}{
		{"XNYS.close+2m", []string{
			"2026-11-23T21:02:00Z XNYS:2026-11-23", // a normal day
			// 11-24: closed at run time
			"2026-11-25T21:02:00Z XNYS:2026-11-25",
			// 11-26: Thanksgiving
			"2026-11-27T18:02:00Z XNYS:2026-11-27", // the 13:00 early close
			"2026-11-28T17:02:00Z XNYS:2026-11-28", // the extra session
			"2026-11-30T21:02:00Z XNYS:2026-11-30",
		}},
		{"XNYS.open-5m", []string{
			"2026-11-23T14:25:00Z XNYS:2026-11-23",
			"2026-11-25T15:25:00Z XNYS:2026-11-25", // the late open
			"2026-11-27T14:25:00Z XNYS:2026-11-27",
			"2026-11-28T14:55:00Z XNYS:2026-11-28",
			"2026-11-30T14:25:00Z XNYS:2026-11-30",
		}},
		{"XNYS.close", []string{
			"2026-11-23T21:00:00Z XNYS:2026-11-23", "2026-11-25T21:00:00Z XNYS:2026-11-25", "2026-11-27T18:00:00Z XNYS:2026-11-27",
			"2026-11-28T17:00:00Z XNYS:2026-11-28", "2026-11-30T21:00:00Z XNYS:2026-11-30",
		}},
		{"XHKG.break_start", []string{ // the lunch break is 12:00-13:00 Hong Kong
			"2026-11-23T04:00:00Z XHKG:2026-11-23", "2026-11-24T04:00:00Z XHKG:2026-11-24", "2026-11-25T04:00:00Z XHKG:2026-11-25",
			"2026-11-26T04:00:00Z XHKG:2026-11-26", "2026-11-27T04:00:00Z XHKG:2026-11-27", "2026-11-30T04:00:00Z XHKG:2026-11-30",
		}},
		{"XHKG.break_end-1m", []string{
			"2026-11-23T04:59:00Z XHKG:2026-11-23", "2026-11-24T04:59:00Z XHKG:2026-11-24", "2026-11-25T04:59:00Z XHKG:2026-11-25",
			"2026-11-26T04:59:00Z XHKG:2026-11-26", "2026-11-27T04:59:00Z XHKG:2026-11-27", "2026-11-30T04:59:00Z XHKG:2026-11-30",
		}},
		{"CMES.open+1s", []string{ // 17:00 Chicago opens the next day's session; Sunday's opens Monday's
			"2026-11-22T23:00:01Z CMES:2026-11-23", "2026-11-23T23:00:01Z CMES:2026-11-24", "2026-11-24T23:00:01Z CMES:2026-11-25",
			"2026-11-25T23:00:01Z CMES:2026-11-26", "2026-11-26T23:00:01Z CMES:2026-11-27", "2026-11-29T23:00:01Z CMES:2026-11-30",
			"2026-11-30T23:00:01Z CMES:2026-12-01",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.at, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			e.Book = book
			p := mustNew(t, Spec{At: tt.at}, e)
			got := sessionSlots(t, p, utc(t, "2026-11-22T00:00:00Z"), utc(t, "2026-11-30T23:59:59Z"))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("at %s (-want +got):\n%s", tt.at, diff)
			}
		})
	}
}

// TestAtPlanDecision checks one anchored decision whole: its part is the
// session, its deadline a minute after the slot, its key MARKET:DATE.
func TestAtPlanDecision(t *testing.T) {
	t.Parallel()
	e := env(t)
	p := mustNew(t, Spec{At: "XNYS.close+2m"}, e)
	d := p.Next(utc(t, "2026-11-27T12:00:00Z"))
	xnys := calendars(t, market.XNYS)[0]
	s, ok, err := xnys.Session(date(t, "2026-11-27"))
	if err != nil || !ok {
		t.Fatalf("no session: %v", err)
	}
	want := Decision{
		Slot: utc(t, "2026-11-27T18:02:00Z"), Enqueue: true,
		Parts:    []Part{{Name: "XNYS:2026-11-27", Market: market.XNYS, Session: s}},
		Deadline: utc(t, "2026-11-27T18:03:00Z"),
		Why:      "XNYS session 2026-11-27: close 13:00 America/New_York: slot at close+2m",
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if got := p.TaskKey(d.Parts[0], d.Slot); got != "XNYS:2026-11-27" {
		t.Fatalf("TaskKey = %q", got)
	}
	if got := p.Tasks(d); got != 1 {
		t.Fatalf("Tasks = %d", got)
	}
	if got := p.String(); got != "at XNYS.close+2m" {
		t.Fatalf("String() = %q", got)
	}
}

// TestSessionPlansSeeRuntimeChanges builds the plans first, then closes a
// day and adds a session: the next call sees both.
func TestSessionPlansSeeRuntimeChanges(t *testing.T) {
	t.Parallel()
	book := newBook(t)
	xnys, err := book.Lookup(market.XNYS)
	if err != nil {
		t.Fatal(err)
	}
	e := env(t)
	e.Book, e.Markets = book, market.Set{xnys}
	at := mustNew(t, Spec{At: "XNYS.close+2m"}, e)
	within := mustNew(t, Spec{Within: "open-60s..open-1s", Every: 30 * time.Second}, e)
	from, to := utc(t, "2026-11-23T22:00:00Z"), utc(t, "2026-11-25T23:00:00Z")
	before := [2][]string{sessionSlots(t, at, from, to), sessionSlots(t, within, from, to)}
	want := [2][]string{
		{"2026-11-24T21:02:00Z XNYS:2026-11-24", "2026-11-25T21:02:00Z XNYS:2026-11-25"},
		{"2026-11-24T14:29:00Z XNYS:2026-11-24", "2026-11-25T14:29:00Z XNYS:2026-11-25"},
	}
	if diff := cmp.Diff(want, before); diff != "" {
		t.Fatalf("before (-want +got):\n%s", diff)
	}
	closure := runtimeEntry(t, market.KindHoliday, "2026-11-24")
	if rej := book.SetRuntime([]market.Override{closure}); len(rej) > 0 {
		t.Fatal(rej)
	}
	after := [2][]string{sessionSlots(t, at, from, to), sessionSlots(t, within, from, to)}
	want = [2][]string{{want[0][1]}, {want[1][1]}}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Fatalf("after the closure (-want +got):\n%s", diff)
	}
}

// TestSessionPlansTerminate checks the far decision: an event no session
// has, a market that never opens or closes, a window without a grid
// instant, and a calendar past its coverage all end in a Decision with
// Enqueue false a year after prev, the last with the error reported.
func TestSessionPlansTerminate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		spec     Spec
		markets  []market.Code
		prev     string
		coverage bool // a coverage error is reported
	}{
		{"XNYS has no lunch break", Spec{At: "XNYS.break_start"}, nil, "2026-11-23T00:00:00Z", false},
		{"ALWAYS never opens", Spec{At: "ALWAYS.open"}, nil, "2026-11-23T00:00:00Z", false},
		{"ALWAYS never closes", Spec{At: "ALWAYS.close+1m"}, nil, "2026-11-23T00:00:00Z", false},
		{"a window of ALWAYS", Spec{Within: "open-60s..open-1s"}, []market.Code{market.ALWAYS}, "2026-11-23T00:00:00Z", false},
		{"no multiple of the grid in the window", Spec{Within: "open-50s..open-40s", Every: 30 * time.Second}, []market.Code{market.XNYS}, "2026-11-23T00:00:00Z", false},
		{"past XNYS's coverage", Spec{At: "XNYS.close+2m"}, nil, "2035-12-31T21:02:00Z", true},
		{"a window past coverage", Spec{Within: "open-60s..open-1s"}, []market.Code{market.XNYS}, "2035-12-31T14:30:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var errs []error
			e := env(t, tt.markets...)
			e.OnCalendarError = func(err error) { errs = append(errs, err) }
			p := mustNew(t, tt.spec, e)
			prev := utc(t, tt.prev)
			d := p.Next(prev)
			if want := prev.AddDate(1, 0, 0); !d.Slot.Equal(want) || d.Enqueue || d.Parts != nil || p.Tasks(d) != 0 {
				t.Fatalf("Next(%s) = %+v, want nothing to enqueue at %s", prev, d, want)
			}
			if got := len(errs) > 0 && errors.Is(errs[0], market.ErrOutOfCoverage); got != tt.coverage {
				t.Fatalf("calendar errors %v, want a coverage error: %v", errs, tt.coverage)
			}
		})
	}
}

// TestWithinPlan checks windows: one slot per market and session at the
// first grid instant inside the window, shared by markets whose slots
// coincide, with the window's end as the deadline.
func TestWithinPlan(t *testing.T) {
	t.Parallel()
	all := []market.Code{market.XNYS, market.XLON, market.XETR, market.XHKG, market.CMES, market.ALWAYS}
	tests := []struct {
		name     string
		window   string
		every    time.Duration
		markets  []market.Code
		prev     string
		slot     string
		parts    []string
		deadline string
	}{
		{"XNYS 60 s before its open", "open-60s..open-1s", 30 * time.Second, all, "2026-11-23T14:00:00Z",
			"2026-11-23T14:29:00Z", []string{"XNYS:2026-11-23"}, "2026-11-23T14:29:59Z"},
		{"from inside the window after the slot: the next session", "open-60s..open-1s", 30 * time.Second, []market.Code{market.XNYS}, "2026-11-23T14:29:10Z",
			"2026-11-24T14:29:00Z", []string{"XNYS:2026-11-24"}, "2026-11-24T14:29:59Z"},
		{"XLON and XETR share the slot", "open-60s..open-1s", 30 * time.Second, all, "2026-11-23T06:00:00Z",
			"2026-11-23T07:59:00Z", []string{"XLON:2026-11-23", "XETR:2026-11-23"}, "2026-11-23T07:59:59Z"},
		{"CMES: the next day's session", "open-60s..open-1s", 30 * time.Second, all, "2026-11-23T22:00:00Z",
			"2026-11-23T22:59:00Z", []string{"CMES:2026-11-24"}, "2026-11-23T22:59:59Z"},
		{"XHKG: the end of the break is not an open", "open-60s..open-1s", 30 * time.Second, []market.Code{market.XHKG}, "2026-11-23T02:00:00Z",
			"2026-11-24T01:29:00Z", []string{"XHKG:2026-11-24"}, "2026-11-24T01:29:59Z"},
		{"Thanksgiving has no open", "open-60s..open-1s", 30 * time.Second, []market.Code{market.XNYS}, "2026-11-25T15:00:00Z",
			"2026-11-27T14:29:00Z", []string{"XNYS:2026-11-27"}, "2026-11-27T14:29:59Z"},
		{"DST: XNYS opens 13:30Z", "open-60s..open-1s", 30 * time.Second, []market.Code{market.XNYS}, "2026-03-09T00:00:00Z",
			"2026-03-09T13:29:00Z", []string{"XNYS:2026-03-09"}, "2026-03-09T13:29:59Z"},
		{"no grid: the window's start", "open-45s..open-1s", 0, []market.Code{market.XNYS}, "2026-11-23T14:00:00Z",
			"2026-11-23T14:29:15Z", []string{"XNYS:2026-11-23"}, "2026-11-23T14:29:59Z"},
		{"a grid instant inside the window", "open-45s..open-1s", 20 * time.Second, []market.Code{market.XNYS}, "2026-11-23T14:00:00Z",
			"2026-11-23T14:29:20Z", []string{"XNYS:2026-11-23"}, "2026-11-23T14:29:59Z"},
		{"around the close, with the early close", "close-5m..close+5m", time.Minute, []market.Code{market.XNYS}, "2026-11-27T12:00:00Z",
			"2026-11-27T17:55:00Z", []string{"XNYS:2026-11-27"}, "2026-11-27T18:05:00Z"},
		{"the lunch break", "break_start..break_end", 0, []market.Code{market.XHKG, market.XNYS}, "2026-11-23T00:00:00Z",
			"2026-11-23T04:00:00Z", []string{"XHKG:2026-11-23"}, "2026-11-23T05:00:00Z"},
		{"shared slot, the earliest end", "open-10m..open+0s", 10 * time.Minute, []market.Code{market.XLON, market.XETR}, "2026-11-23T06:00:00Z",
			"2026-11-23T07:50:00Z", []string{"XLON:2026-11-23", "XETR:2026-11-23"}, "2026-11-23T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustNew(t, Spec{Within: tt.window, Every: tt.every}, env(t, tt.markets...))
			d := p.Next(utc(t, tt.prev))
			var parts []string
			for _, part := range d.Parts {
				parts = append(parts, part.Name)
				if p.TaskKey(part, d.Slot) != part.Name || part.Session.Date.String() != part.Name[len(part.Market)+1:] {
					t.Fatalf("part %+v: key %q", part, p.TaskKey(part, d.Slot))
				}
			}
			got := []string{d.Slot.Format(time.RFC3339), fmt.Sprint(parts), d.Deadline.Format(time.RFC3339), fmt.Sprint(d.Enqueue, d.Active)}
			want := []string{tt.slot, fmt.Sprint(tt.parts), tt.deadline, "true false"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("Next(%s) (-want +got):\n%s\n%s", tt.prev, diff, d.Why)
			}
			if p.Tasks(d) != len(tt.parts) {
				t.Fatalf("Tasks = %d", p.Tasks(d))
			}
		})
	}
}

// TestWithinPlanExplains checks the explanation and the canonical text.
func TestWithinPlanExplains(t *testing.T) {
	t.Parallel()
	p := mustNew(t, Spec{Within: "open-60s..open-1s", Every: 30 * time.Second}, env(t, market.XLON, market.XETR))
	d := p.Next(utc(t, "2026-11-23T06:00:00Z"))
	want := "XLON session 2026-11-23: open 08:00 Europe/London; XETR session 2026-11-23: open 09:00 Europe/Berlin: slot in window open-1m..open-1s on the 30s grid"
	if d.Why != want {
		t.Fatalf("Why = %q, want %q", d.Why, want)
	}
	if got, want := p.String(), "within open-1m..open-1s every 30s"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
	// Without a grid the slot is the window's start, and no grid is named;
	// from inside the window, after the close, the session that closed is
	// still found.
	p = mustNew(t, Spec{Within: "close+2m..close+5m"}, env(t, market.XLON))
	d = p.Next(utc(t, "2026-11-23T16:31:00Z"))
	want = "XLON session 2026-11-23: close 16:30 Europe/London: slot in window close+2m..close+5m"
	if !d.Slot.Equal(utc(t, "2026-11-23T16:32:00Z")) || d.Why != want {
		t.Fatalf("Next = %s %q, want 16:32 %q", d.Slot, d.Why, want)
	}
}

// legacyPreOpenParts is the pre-open gate of internal/scheduler/plan.go
// as it was before this package replaced it, kept as the oracle of
// TestWithinMatchesPreOpen: one part per market whose next session opens
// 1 to 60 seconds after the slot, unless the market was open just before.
func legacyPreOpenParts(markets market.Set, t time.Time) []Part {
	var out []Part
	for _, cal := range markets {
		open, err := cal.NextOpen(t)
		if err != nil {
			continue
		}
		if d := open.Sub(t); d < time.Second || d > time.Minute {
			continue
		}
		if before, err := cal.IsOpen(open.Add(-time.Nanosecond)); err == nil && before {
			continue
		}
		s, err := cal.SessionAt(open)
		if err != nil {
			continue
		}
		out = append(out, Part{Name: string(cal.Code()) + ":" + s.Date.String(), Market: cal.Code(), Session: s})
	}
	return out
}

// slotPart is one part of one slot.
type slotPart struct {
	Slot time.Time
	Part Part
}

// TestWithinMatchesPreOpen shows the window plan replaces the pre-open
// gate: for every market of market.Builtin(), alone and all together,
// over two weeks around DST changes, "within: open-60s..open-1s" on a
// 30 s grid yields the (slot, part) pairs the old gate yielded at 30 s
// slots, each part at the first of the (two) slots that had it.
func TestWithinMatchesPreOpen(t *testing.T) {
	t.Parallel()
	book := market.Builtin()
	groups := map[string]market.Set{"all": book.All()}
	for _, cal := range book.All() {
		groups[string(cal.Code())] = market.Set{cal}
	}
	spans := [][2]string{
		{"2026-03-02T00:00:00Z", "2026-03-16T00:00:00Z"}, // the US change
		{"2026-03-23T00:00:00Z", "2026-04-06T00:00:00Z"}, // the European change, Easter
	}
	for name, markets := range groups {
		for _, span := range spans {
			t.Run(name+"/"+span[0][:10], func(t *testing.T) {
				t.Parallel()
				from, to := utc(t, span[0]), utc(t, span[1])
				var want []slotPart
				seen := map[string]bool{}
				for slot := AlignedAfter(from, 30*time.Second); !slot.After(to); slot = slot.Add(30 * time.Second) {
					for _, part := range legacyPreOpenParts(markets, slot) {
						if !seen[part.Name] {
							seen[part.Name] = true
							want = append(want, slotPart{slot, part})
						}
					}
				}
				e := Env{Markets: markets, Split: SplitMarket, OnCalendarError: func(err error) { t.Errorf("calendar error: %v", err) }}
				p := mustNew(t, Spec{Within: "open-60s..open-1s", Every: 30 * time.Second}, e)
				var got []slotPart
				for prev := from; ; {
					d := p.Next(prev)
					if d.Slot.After(to) {
						break
					}
					for _, part := range d.Parts {
						got = append(got, slotPart{d.Slot, part})
					}
					prev = d.Slot
				}
				if name != string(market.ALWAYS) && len(want) == 0 {
					t.Fatal("the old gate yielded nothing: a vacuous comparison")
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("(-old pre-open gate +window plan):\n%s", diff)
				}
			})
		}
	}
}
