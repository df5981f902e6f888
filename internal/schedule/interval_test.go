package schedule

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/market"
)

// The plan tests are pure: calendars and instants, no Redis, no clock.
// The interval tests were moved from internal/scheduler with the plan.
// Unless a case says otherwise the day is Monday 2026-11-23: XNYS
// 14:30-21:00Z, XLON and XETR 08:00-16:30Z, XHKG 01:30-04:00Z and
// 05:00-08:00Z, and CMES's session 2026-11-24 from 23:00Z.

// slowTick is the scheduler.slow_tick of every plan here.
const slowTick = time.Minute

// utc parses an RFC 3339 instant from a test table.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad instant %q: %v", s, err)
	}
	return at.UTC()
}

// calendars returns the calendars of codes in market.Builtin(), in order.
func calendars(t testing.TB, codes ...market.Code) market.Set {
	t.Helper()
	var s market.Set
	for _, c := range codes {
		cal, err := market.Builtin().Lookup(c)
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, cal)
	}
	return s
}

// plan returns a whole-job interval plan with the given interval and gate
// on codes; calendar errors fail the test.
func plan(t testing.TB, interval time.Duration, gate string, codes ...market.Code) Plan {
	t.Helper()
	return mustNew(t, Spec{Every: interval, Gate: gate}, env(t, codes...))
}

// env returns the environment of a whole job on codes: slow tick 60 s,
// no close grace, 2 shards, calendar errors failing the test.
func env(t testing.TB, codes ...market.Code) Env {
	t.Helper()
	return Env{
		Markets: calendars(t, codes...),
		Book:    market.Builtin(),
		Slow:    slowTick,
		Shards:  2,
		OnCalendarError: func(err error) {
			t.Errorf("calendar error: %v", err)
		},
	}
}

// mustNew returns New(s, e) or fails the test.
func mustNew(t testing.TB, s Spec, e Env) Plan {
	t.Helper()
	p, err := New(s, e)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return p
}

// decisions returns the n decisions that follow prev, each computed from
// the previous slot as the scheduler does.
func decisions(p Plan, prev time.Time, n int) []Decision {
	out := make([]Decision, 0, n)
	for range n {
		d := p.Next(prev)
		out = append(out, d)
		prev = d.Slot
	}
	return out
}

func TestAlignedAfter(t *testing.T) {
	t.Parallel()
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		t        time.Time
		interval time.Duration
		want     time.Time
	}{
		{"on a multiple: strictly after", time.Unix(60, 0), time.Second, time.Unix(61, 0)},
		{"just after a multiple", time.Unix(60, 1), time.Second, time.Unix(61, 0)},
		{"just before a multiple", time.Unix(60, -1), time.Second, time.Unix(60, 0)},
		{"the epoch", time.Unix(0, 0), time.Second, time.Unix(1, 0)},
		{"odd interval 7 s, from the epoch", time.Unix(0, 0), 7 * time.Second, time.Unix(7, 0)},
		{"odd interval 7 s, between", time.Unix(13, 0), 7 * time.Second, time.Unix(14, 0)},
		{"odd interval 7 s, on a multiple", time.Unix(14, 0), 7 * time.Second, time.Unix(21, 0)},
		{"45 s, on the close", time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC), 45 * time.Second, time.Date(2026, 11, 23, 21, 0, 45, 0, time.UTC)},
		{"45 s, between", time.Date(2026, 11, 23, 21, 0, 10, 0, time.UTC), 45 * time.Second, time.Date(2026, 11, 23, 21, 0, 45, 0, time.UTC)},
		{"1.5 s", time.Unix(3, 0), 1500 * time.Millisecond, time.Unix(4, 500_000_000)},
		{"333 ms", time.Unix(1, 0), 333 * time.Millisecond, time.Unix(0, 1_332_000_000)},
		{"a day", time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), 24 * time.Hour, time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)},
		{"before the epoch, between", time.Unix(-4, 0), 3 * time.Second, time.Unix(-3, 0)},
		{"before the epoch, on a multiple", time.Unix(-6, 0), 3 * time.Second, time.Unix(-3, 0)},
		{"before the epoch, to the epoch", time.Unix(-1, 0), 3 * time.Second, time.Unix(0, 0)},
		{"before the epoch, one ns before", time.Unix(0, -1), time.Second, time.Unix(0, 0)},
		{"negative interval counts as its size", time.Unix(5, 0), -3 * time.Second, time.Unix(6, 0)},
		{"negative interval before the epoch", time.Unix(-5, 0), -3 * time.Second, time.Unix(-3, 0)},
		{"another zone: aligned on the epoch, returned in UTC", time.Date(2026, 11, 23, 9, 59, 59, 0, newYork), time.Minute, time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := AlignedAfter(tt.t, tt.interval)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("AlignedAfter(%s, %s) = %s, want %s in UTC", tt.t, tt.interval, got, tt.want.UTC())
			}
		})
	}
}

// ignoreWhy leaves the explanation to the tests about it.
var ignoreWhy = cmpopts.IgnoreFields(Decision{}, "Why")

// TestPlanNext walks a job's slots across opens, closes, lunch breaks,
// the CMES daily halt and DST changes. A want is "HH:MM:SS[.fff] kind" on
// the case's day (or a full RFC 3339 instant), kind being run (a market is
// open at the slot or during the interval before it: enqueue), shut (all
// closed, gate open: skipped) or idle (all closed, gate always: enqueue at
// the slow cadence).
func TestPlanNext(t *testing.T) {
	t.Parallel()
	const (
		open   = GateOpen
		always = GateAlways
	)
	tests := []struct {
		name     string
		markets  []market.Code
		interval time.Duration
		gate     string
		day      string
		prev     string
		want     []string
	}{
		{"open: 1 s slots", []market.Code{market.XNYS}, time.Second, open, "2026-11-23", "15:00:00",
			[]string{"15:00:01 run", "15:00:02 run", "15:00:03 run"}},
		{"close, gate open: the 21:00:00 slot runs, then skipped at 60 s", []market.Code{market.XNYS}, time.Second, open, "2026-11-23", "20:59:58",
			[]string{"20:59:59 run", "21:00:00 run", "21:01:00 shut", "21:02:00 shut"}},
		{"close, gate always: the 21:00:00 slot runs, then enqueued at 60 s", []market.Code{market.XNYS}, time.Second, always, "2026-11-23", "20:59:58",
			[]string{"20:59:59 run", "21:00:00 run", "21:01:00 idle", "21:02:00 idle"}},
		{"close, 10 s gate always", []market.Code{market.XNYS}, 10 * time.Second, always, "2026-11-23", "20:59:40",
			[]string{"20:59:50 run", "21:00:00 run", "21:01:00 idle", "21:02:00 idle"}},
		{"open: fast cadence resumes at 14:30:00", []market.Code{market.XNYS}, time.Second, open, "2026-11-23", "14:28:00",
			[]string{"14:29:00 shut", "14:30:00 run", "14:30:01 run"}},
		{"open: a slow-cadence window never delays the open", []market.Code{market.XNYS}, time.Second, always, "2026-11-23", "14:29:30.5",
			[]string{"14:30:00 run", "14:30:01 run"}},
		{"open, from the scheduler's unaligned start", []market.Code{market.XNYS}, time.Second, open, "2026-11-23", "14:29:59.9",
			[]string{"14:30:00 run"}},
		{"closed, started mid-window: waits for the next window", []market.Code{market.XNYS}, time.Second, always, "2026-11-23", "22:00:30.9",
			[]string{"22:01:00 idle", "22:02:00 idle"}},
		{"45 s at the close with a 60 s slow tick: first slot of each minute", []market.Code{market.XNYS}, 45 * time.Second, open, "2026-11-23", "20:59:15",
			[]string{"21:00:00 run", "21:01:30 shut", "21:02:15 shut", "21:03:00 shut", "21:04:30 shut"}},
		{"45 s at the open", []market.Code{market.XNYS}, 45 * time.Second, open, "2026-11-23", "14:28:30",
			[]string{"14:29:15 shut", "14:30:00 run", "14:30:45 run"}},
		{"90 s: the interval is the closed cadence", []market.Code{market.XNYS}, 90 * time.Second, always, "2026-11-23", "22:00:00",
			[]string{"22:01:30 idle", "22:03:00 idle", "22:04:30 idle"}},
		{"any market open keeps the fast cadence", []market.Code{market.XNYS, market.XLON}, time.Second, open, "2026-11-23", "16:29:59",
			[]string{"16:30:00 run", "16:30:01 run"}},
		{"early close on the day after Thanksgiving", []market.Code{market.XNYS}, time.Second, open, "2026-11-27", "17:59:59",
			[]string{"18:00:00 run", "18:01:00 shut"}},
		{"holiday: no open on Thanksgiving", []market.Code{market.XNYS}, time.Second, open, "2026-11-26", "14:29:00",
			[]string{"14:30:00 shut", "14:31:00 shut"}},
		{"weekend", []market.Code{market.XNYS}, time.Second, always, "2026-11-21", "12:00:00",
			[]string{"12:01:00 idle", "12:02:00 idle"}},
		{"XHKG lunch break starts", []market.Code{market.XHKG}, time.Second, open, "2026-11-23", "03:59:58",
			[]string{"03:59:59 run", "04:00:00 run", "04:01:00 shut"}},
		{"XHKG lunch break ends", []market.Code{market.XHKG}, time.Second, open, "2026-11-23", "04:59:00",
			[]string{"05:00:00 run", "05:00:01 run"}},
		{"XTKS lunch break starts, 10 s gate always", []market.Code{market.XTKS}, 10 * time.Second, always, "2026-11-24", "02:29:50",
			[]string{"02:30:00 run", "02:31:00 idle", "02:32:00 idle"}},
		{"XTKS lunch break ends", []market.Code{market.XTKS}, 10 * time.Second, always, "2026-11-24", "03:29:00",
			[]string{"03:30:00 run", "03:30:10 run"}},
		{"CMES daily halt 16:00 Chicago", []market.Code{market.CMES}, time.Second, open, "2026-11-24", "21:59:59",
			[]string{"22:00:00 run", "22:01:00 shut"}},
		{"CMES reopens 17:00 Chicago for the next day's session", []market.Code{market.CMES}, time.Second, open, "2026-11-24", "22:59:00",
			[]string{"23:00:00 run", "23:00:01 run"}},
		{"DST: XNYS opens 13:30Z the Monday after the spring change", []market.Code{market.XNYS}, time.Second, open, "2026-03-09", "13:28:00",
			[]string{"13:29:00 shut", "13:30:00 run", "13:30:01 run"}},
		{"DST: XNYS closes 20:00Z in summer", []market.Code{market.XNYS}, time.Second, open, "2026-03-09", "19:59:59",
			[]string{"20:00:00 run", "20:01:00 shut"}},
		{"DST: the Friday before, it opened 14:30Z", []market.Code{market.XNYS}, time.Second, open, "2026-03-06", "13:29:00",
			[]string{"13:30:00 shut", "13:31:00 shut"}},
		{"DST: the Monday after the autumn change opens 14:30Z", []market.Code{market.XNYS}, time.Second, open, "2026-11-02", "13:29:00",
			[]string{"13:30:00 shut", "13:31:00 shut"}},
		{"DST: the Friday before the autumn change opened 13:30Z", []market.Code{market.XNYS}, time.Second, open, "2026-10-30", "13:29:00",
			[]string{"13:30:00 run", "13:30:01 run"}},
		{"DST: CMES opens 22:00Z on the day of the spring change", []market.Code{market.CMES}, time.Second, open, "2026-03-08", "21:59:00",
			[]string{"22:00:00 run"}},
		{"DST: CMES opened 23:00Z the Sunday before", []market.Code{market.CMES}, time.Second, open, "2026-03-01", "21:59:00",
			[]string{"22:00:00 shut", "22:01:00 shut"}},
		{"DST: XLON opens 07:00Z the Monday after the European change", []market.Code{market.XLON}, time.Second, open, "2026-03-30", "06:59:59",
			[]string{"07:00:00 run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at := func(s string) time.Time {
				if strings.Contains(s, "T") {
					return utc(t, s)
				}
				return utc(t, tt.day+"T"+s+"Z")
			}
			var want []Decision
			for _, w := range tt.want {
				slot, kind, _ := strings.Cut(w, " ")
				d := Decision{Slot: at(slot), Deadline: at(slot).Add(tt.interval)}
				switch kind {
				case "run":
					d.Active, d.Enqueue, d.Parts = true, true, []Part{{}}
				case "idle":
					d.Enqueue, d.Parts = true, []Part{{}}
				case "shut":
				default:
					t.Fatalf("bad want %q", w)
				}
				want = append(want, d)
			}
			p := plan(t, tt.interval, tt.gate, tt.markets...)
			got := decisions(p, at(tt.prev), len(want))
			if diff := cmp.Diff(want, got, ignoreWhy); diff != "" {
				t.Fatalf("Next from %s (-want +got):\n%s", tt.prev, diff)
			}
		})
	}
}

// TestPlanParts checks how an enqueued slot is split: one part per shard,
// one per market, a function's parts, or a single part for a whole job; a
// skipped slot has none, but Tasks still counts what it would have been.
func TestPlanParts(t *testing.T) {
	t.Parallel()
	byHour := SplitFunc(func(slot time.Time) []Part {
		return []Part{{Name: "h" + slot.Format("15")}, {Name: "x"}}
	})
	tests := []struct {
		name      string
		split     Split
		shards    int
		prev      string
		want      []Part
		wantTasks int
	}{
		{"by shard", SplitShard, 4, "2026-11-23T15:00:00Z", []Part{{Name: "0"}, {Name: "1"}, {Name: "2"}, {Name: "3"}}, 4},
		{"one shard", SplitShard, 1, "2026-11-23T15:00:00Z", []Part{{Name: "0"}}, 1},
		{"whole", SplitOne, 4, "2026-11-23T15:00:00Z", []Part{{}}, 1},
		{"whole, the zero split", Split{}, 4, "2026-11-23T15:00:00Z", []Part{{}}, 1},
		{"by market", SplitMarket, 4, "2026-11-23T15:00:00Z", []Part{{Name: "XNYS", Market: market.XNYS}, {Name: "XLON", Market: market.XLON}}, 2},
		{"a function of the slot", byHour, 4, "2026-11-23T15:00:00Z", []Part{{Name: "h15"}, {Name: "x"}}, 2},
		{"skipped slot: no parts, tasks counted", SplitShard, 4, "2026-11-23T22:00:00Z", nil, 4},
		{"skipped slot of a function split", byHour, 4, "2026-11-23T22:00:00Z", nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env(t, market.XNYS, market.XLON)
			e.Split, e.Shards = tt.split, tt.shards
			p := mustNew(t, Spec{Every: time.Second}, e)
			d := p.Next(utc(t, tt.prev))
			if diff := cmp.Diff(tt.want, d.Parts); diff != "" {
				t.Fatalf("parts (-want +got):\n%s", diff)
			}
			if got := p.Tasks(d); got != tt.wantTasks {
				t.Fatalf("Tasks = %d, want %d", got, tt.wantTasks)
			}
		})
	}
}

// TestPlanNextNeverDrifts iterates 10,000 slots, each from the previous
// one, and checks every slot is a multiple of the interval, that no slot a
// market was active at was passed over, that closed slots keep the slow
// cadence (one per slow-tick window), and, on a market open around the
// clock, that slot n is exactly n intervals after the first.
func TestPlanNextNeverDrifts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		interval time.Duration
		gate     string
		markets  []market.Code
	}{
		{time.Second, GateOpen, []market.Code{market.XNYS}},
		{time.Second, GateAlways, []market.Code{market.XHKG, market.CMES}},
		{7 * time.Second, GateOpen, []market.Code{market.XNYS}},
		{45 * time.Second, GateAlways, []market.Code{market.XTKS, market.XLON}},
		{1500 * time.Millisecond, GateAlways, []market.Code{market.XNYS}},
		{2 * time.Minute, GateOpen, []market.Code{market.CMES}},
		{time.Second, GateOpen, []market.Code{market.ALWAYS}},
		{7 * time.Second, GateAlways, []market.Code{market.ALWAYS}},
	}
	for _, tt := range tests {
		name := tt.gate + "/" + tt.interval.String()
		for _, c := range tt.markets {
			name += "/" + string(c)
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := plan(t, tt.interval, tt.gate, tt.markets...)
			markets := calendars(t, tt.markets...)
			iv, slow := tt.interval, max(tt.interval, slowTick)
			active := func(at time.Time) bool {
				a, err := markets.AnyOpen(at)
				if err != nil {
					t.Fatal(err)
				}
				b, err := markets.AnyOpen(at.Add(-iv))
				if err != nil {
					t.Fatal(err)
				}
				return a || b
			}
			// Friday afternoon: the walk crosses opens, closes and a weekend.
			prev := utc(t, "2026-11-20T20:58:17.123Z")
			first := AlignedAfter(prev, iv)
			window := func(at time.Time) int64 { return at.UnixNano() / slow.Nanoseconds() }
			for n := range 10_000 {
				d := p.Next(prev)
				switch {
				case d.Slot.UnixNano()%iv.Nanoseconds() != 0:
					t.Fatalf("slot %d %s is not a multiple of %s", n, d.Slot, iv)
				case !d.Slot.After(prev):
					t.Fatalf("slot %d %s is not after %s", n, d.Slot, prev)
				case d.Active != active(d.Slot):
					t.Fatalf("slot %d %s: Active = %v", n, d.Slot, d.Active)
				case d.Enqueue != (d.Active || tt.gate == GateAlways):
					t.Fatalf("slot %d %s: Enqueue = %v, Active = %v, gate %s", n, d.Slot, d.Enqueue, d.Active, tt.gate)
				case n > 0 && !d.Active && window(d.Slot) == window(prev):
					t.Fatalf("slot %d %s: a second closed slot in the slow window of %s", n, d.Slot, prev)
				case d.Slot.Sub(prev) > slow+iv:
					t.Fatalf("slot %d %s: %s after the previous, more than slow tick + interval", n, d.Slot, d.Slot.Sub(prev))
				}
				for c := AlignedAfter(prev, iv); c.Before(d.Slot); c = c.Add(iv) {
					if active(c) {
						t.Fatalf("slot %d: active slot %s passed over between %s and %s", n, c, prev, d.Slot)
					}
				}
				if tt.markets[0] == market.ALWAYS {
					if want := first.Add(time.Duration(n) * iv); !d.Slot.Equal(want) {
						t.Fatalf("slot %d = %s, want %s: drift", n, d.Slot, want)
					}
				}
				prev = d.Slot
			}
		})
	}
}

// newBook returns a book of the built-in calendars of its own, with the
// runtime entries applied, so a test may change it.
func newBook(t testing.TB, runtime ...market.Override) *market.Book {
	t.Helper()
	b, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if rej := b.SetRuntime(runtime); len(rej) > 0 {
		t.Fatalf("runtime entries rejected: %+v", rej)
	}
	return b
}

// date parses a session date of a test table.
func date(t testing.TB, s string) market.Date {
	t.Helper()
	d, err := market.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// runtimeEntry returns a runtime override of XNYS.
func runtimeEntry(t testing.TB, kind market.OverrideKind, day string) market.Override {
	t.Helper()
	return market.Override{Market: market.XNYS, Kind: kind, Date: date(t, day), Name: "test " + string(kind),
		Source: market.Source{Origin: market.OriginRuntime, Ref: string(kind) + day}}
}

// TestIntervalCloseGraceAndHalts checks the look-back: after a close the
// job stays active for the close grace, while a halt shuts the gate at
// once and its end opens it again.
func TestIntervalCloseGraceAndHalts(t *testing.T) {
	t.Parallel()
	halt := runtimeEntry(t, market.KindHalt, "2026-11-23")
	halt.From, halt.To = 10*60, 10*60+30 // 15:00Z-15:30Z
	book := newBook(t, halt)
	xnys, err := book.Lookup(market.XNYS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		grace time.Duration
		prev  string
		want  []string // "HH:MM:SS run|shut" on 2026-11-23
	}{
		{"close grace 15s: active until 21:00:14", 15 * time.Second, "20:59:58",
			[]string{"20:59:59 run", "21:00:00 run", "21:00:01 run", "21:00:14 run", "21:01:00 shut"}},
		{"no close grace: one interval", 0, "20:59:58",
			[]string{"20:59:59 run", "21:00:00 run", "21:01:00 shut"}},
		{"a halt shuts the gate at once, whatever the grace", 15 * time.Second, "14:59:58",
			[]string{"14:59:59 run", "15:00:00 shut", "15:01:00 shut"}},
		{"the halt's end opens it", 15 * time.Second, "15:28:30",
			[]string{"15:29:00 shut", "15:30:00 run", "15:30:01 run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			e.Markets, e.Book, e.CloseGrace = market.Set{xnys}, book, tt.grace
			p := mustNew(t, Spec{Every: time.Second}, e)
			var got []string
			prev := utc(t, "2026-11-23T"+tt.prev+"Z")
			for len(got) < len(tt.want) {
				d := p.Next(prev)
				prev = d.Slot
				if d.Slot.Format("15:04:05") > "21:00:01" && d.Slot.Format("15:04:05") < "21:00:14" {
					continue // the grace's middle: checked by its ends
				}
				kind := "shut"
				if d.Enqueue {
					kind = "run"
				}
				got = append(got, d.Slot.Format("15:04:05")+" "+kind)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntervalWhy checks the explanations `scheduler preview` shows.
func TestIntervalWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		gate  string
		grace time.Duration
		prev  string
		want  []string
	}{
		{"open, close grace, slow cadence", GateOpen, 15 * time.Second, "2026-03-02T21:00:13Z", []string{
			"21:00:14 enqueue: close grace: XNYS closed within 15s",
			"21:01:00 skip (skipped_closed): markets closed, slow cadence",
			"21:02:00 skip (skipped_closed): markets closed, slow cadence",
		}},
		{"open an interval before the slot: the close itself", GateOpen, 0, "2026-03-02T20:59:59Z", []string{
			"21:00:00 enqueue: open: XNYS",
		}},
		{"open markets", GateOpen, 0, "2026-03-02T15:59:59Z", []string{
			"16:00:00 enqueue: open: XNYS XLON",
			"16:00:01 enqueue: open: XNYS XLON",
		}},
		{"always", GateAlways, 0, "2026-03-02T22:00:00Z", []string{
			"22:01:00 enqueue: markets closed, slow cadence",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env(t, market.XNYS, market.XLON)
			if tt.grace > 0 {
				e.Markets = e.Markets[:1]
			}
			e.CloseGrace = tt.grace
			p := mustNew(t, Spec{Every: time.Second, Gate: tt.gate}, e)
			var got []string
			for _, d := range decisions(p, utc(t, tt.prev), len(tt.want)) {
				got = append(got, d.Slot.Format("15:04:05")+" "+d.Why)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestIntervalPredicate checks the third gate: a user's predicate decides
// every slot, whatever the markets, with no slow cadence.
func TestIntervalPredicate(t *testing.T) {
	t.Parallel()
	e := env(t, market.XNYS)
	e.Predicate = func(slot time.Time) bool { return slot.Second()%20 == 0 }
	p := mustNew(t, Spec{Every: 10 * time.Second}, e)
	var got []string
	for _, d := range decisions(p, utc(t, "2026-11-23T22:00:00Z"), 4) { // XNYS closed
		got = append(got, fmt.Sprintf("%s %v %v %s", d.Slot.Format("15:04:05"), d.Enqueue, d.Active, d.Why))
	}
	want := []string{
		"22:00:10 false false skip (skipped_closed): the job's predicate refuses the slot",
		"22:00:20 true false enqueue: the job's predicate admits the slot",
		"22:00:30 false false skip (skipped_closed): the job's predicate refuses the slot",
		"22:00:40 true false enqueue: the job's predicate admits the slot",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	if got, want := p.String(), "every 10s, gate predicate"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// TestIntervalCalendarError checks that an instant past a calendar's
// coverage is reported and counts as closed: the plan goes on at the slow
// cadence rather than fail or loop.
func TestIntervalCalendarError(t *testing.T) {
	t.Parallel()
	var errs []error
	e := env(t, market.XNYS)
	e.OnCalendarError = func(err error) { errs = append(errs, err) }
	p := mustNew(t, Spec{Every: time.Second, Gate: GateAlways}, e)
	got := decisions(p, utc(t, "2036-01-07T15:00:00Z"), 3) // XNYS is covered through 2035
	for i, d := range got {
		if want := utc(t, "2036-01-07T15:01:00Z").Add(time.Duration(i) * time.Minute); !d.Slot.Equal(want) || d.Active || !d.Enqueue {
			t.Fatalf("decision %d = %+v, want an inactive enqueued slot at %s", i, d, want)
		}
	}
	if len(errs) == 0 || !errors.Is(errs[0], market.ErrOutOfCoverage) {
		t.Fatalf("calendar errors = %v, want ErrOutOfCoverage", errs)
	}
}
