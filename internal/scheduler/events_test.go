package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"heartbeat/internal/events"
	"heartbeat/internal/market"
)

// streamed returns the market events stream as "KIND HH:MM:SS term N"
// (changed events add "of KIND was HH:MM:SS"), instants in UTC.
func streamed(t *testing.T, f *fixture) []string {
	t.Helper()
	evs, err := events.NewStream(f.rdb, 0).Read(context.Background(), "", 1000, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		line := fmt.Sprintf("%s %s %s term %d", e.Market, e.Kind, e.At.UTC().Format("15:04:05"), e.Term)
		if e.Kind == events.Changed {
			line += fmt.Sprintf(" of %s was %s", e.Of, e.Was.UTC().Format("15:04:05"))
		}
		out = append(out, line)
	}
	return out
}

// runtimeEntry is a runtime calendar entry of XNYS on Monday 2026-11-23.
func runtimeEntry(kind market.OverrideKind, from, to market.TimeOfDay) market.Override {
	o := market.Override{Market: market.XNYS, Kind: kind, Date: market.NewDate(2026, 11, 23), Name: "test",
		Source: market.Source{Origin: market.OriginRuntime}}
	switch kind {
	case market.KindLateOpen:
		o.Open = from
	case market.KindHalt:
		o.From, o.To = from, to
	}
	return o
}

// TestEventsExactlyOnce runs replicas over XNYS's transitions on Monday
// 2026-11-23 (pre_open 14:29Z, open 14:30Z) with the leader stopped, a
// gap without a leader, a runtime halt entered live and a late open
// entered after the pre_open went out: each transition is in the stream
// once, in order, from the calendar's instant.
func TestEventsExactlyOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// run drives the fixture; it returns the replicas whose missed
		// and emitted counts are summed.
		run         func(t *testing.T, f *fixture) []*replica
		want        []string
		wantMissed  map[string]float64
		wantEmitted map[string]float64
	}{
		{
			name: "leader stopped between pre_open and open: the standby emits the open",
			run: func(t *testing.T, f *fixture) []*replica {
				a := f.start(t, testConfig("a"))
				b := f.start(t, testConfig("b"))
				f.runUntil(t, mon(14, 29, 30, 0))
				f.stop(t, a)
				// The loop wakes at the instant: with the clock at
				// 14:30:00 exactly, the open is out.
				f.runUntil(t, mon(14, 30, 0, 0))
				if got := streamed(t, f); len(got) != 2 {
					t.Fatalf("at the open's instant the stream holds %v, want the pre_open and the open", got)
				}
				f.runUntil(t, mon(14, 30, 5, 0))
				return []*replica{a, b}
			},
			want:        []string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 2"},
			wantEmitted: map[string]float64{"pre_open": 1, "open": 1},
		},
		{
			name: "leader fails to emit the open at its instant, then stops: the standby emits it",
			run: func(t *testing.T, f *fixture) []*replica {
				a := f.start(t, testConfig("a"))
				b := f.start(t, testConfig("b"))
				f.runUntil(t, mon(14, 29, 59, 900))
				// The fault: Redis fails a's emission at 14:30:00 (and
				// every other command until cleared).
				f.mr.SetError("ERR injected fault")
				f.runUntil(t, mon(14, 30, 0, 200))
				f.mr.SetError("") // the clock stands still: no loop acts
				if got := streamed(t, f); len(got) != 1 {
					t.Fatalf("after the failed emission the stream holds %v, want the pre_open alone", got)
				}
				f.stop(t, a)
				f.runUntil(t, mon(14, 30, 5, 0))
				return []*replica{a, b}
			},
			want:        []string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 2"},
			wantEmitted: map[string]float64{"pre_open": 1, "open": 1},
		},
		{
			name: "no leader over the open, within the look-back: the next leader emits it late",
			run: func(t *testing.T, f *fixture) []*replica {
				a := f.start(t, testConfig("a"))
				f.runUntil(t, mon(14, 29, 30, 0))
				f.stop(t, a)
				f.runUntil(t, mon(14, 35, 0, 0))
				b := f.start(t, testConfig("b"))
				f.runUntil(t, mon(14, 35, 5, 0))
				return []*replica{a, b}
			},
			want:        []string{"XNYS pre_open 14:29:00 term 1", "XNYS open 14:30:00 term 2"},
			wantEmitted: map[string]float64{"pre_open": 1, "open": 1},
		},
		{
			name: "no leader for longer than the look-back: the open is missed, not emitted late",
			run: func(t *testing.T, f *fixture) []*replica {
				cfg := testConfig("a")
				cfg.LookBack = time.Hour
				a := f.start(t, cfg)
				f.runUntil(t, mon(14, 29, 30, 0))
				f.stop(t, a)
				f.runUntil(t, mon(15, 31, 0, 0))
				cfg.Replica = "b"
				b := f.start(t, cfg)
				f.runUntil(t, mon(15, 31, 5, 0))
				return []*replica{a, b}
			},
			want:        []string{"XNYS pre_open 14:29:00 term 1"},
			wantMissed:  map[string]float64{"open": 1},
			wantEmitted: map[string]float64{"pre_open": 1},
		},
		{
			name: "a runtime halt entered live gives halt_start and halt_end",
			run: func(t *testing.T, f *fixture) []*replica {
				f.clk.Set(mon(14, 59, 30, 0))
				a := f.start(t, testConfig("a"))
				f.runUntil(t, mon(15, 0, 30, 0))
				// 10:00-10:05 New York: 15:00-15:05Z, entered half a
				// minute after it began.
				f.in.Book().SetRuntime([]market.Override{runtimeEntry(market.KindHalt, 10*60, 10*60+5)})
				f.runUntil(t, mon(15, 5, 5, 0))
				return []*replica{a}
			},
			want:        []string{"XNYS halt_start 15:00:00 term 1", "XNYS halt_end 15:05:00 term 1"},
			wantEmitted: map[string]float64{"halt_start": 1, "halt_end": 1},
		},
		{
			name: "a late open entered after the pre_open: changed, then the open at its new instant",
			run: func(t *testing.T, f *fixture) []*replica {
				a := f.start(t, testConfig("a"))
				f.runUntil(t, mon(14, 29, 30, 0))
				f.in.Book().SetRuntime([]market.Override{runtimeEntry(market.KindLateOpen, 9*60+35, 0)})
				f.runUntil(t, mon(14, 35, 5, 0))
				return []*replica{a}
			},
			want: []string{"XNYS pre_open 14:29:00 term 1", "XNYS changed 14:34:00 term 1 of pre_open was 14:29:00",
				"XNYS open 14:35:00 term 1"},
			wantEmitted: map[string]float64{"pre_open": 1, "changed": 1, "open": 1},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, mon(14, 28, 0, 0))
			// A book of its own: the cases enter runtime entries.
			book, err := market.NewBook(market.BookConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if f.in, err = market.NewInstruments(book, []market.Instrument{{Symbol: "SPY", Market: market.XNYS, Weight: 1}}); err != nil {
				t.Fatal(err)
			}
			rs := tc.run(t, f)
			if diff := cmp.Diff(tc.want, streamed(t, f)); diff != "" {
				t.Fatalf("events stream (-want +got):\n%s", diff)
			}
			missed, emitted := map[string]float64{}, map[string]float64{}
			for _, r := range rs {
				for _, k := range events.Kinds() {
					if n := testutil.ToFloat64(r.m.EventsMissed.WithLabelValues(string(k), "XNYS")); n > 0 {
						missed[string(k)] += n
					}
					if n := testutil.ToFloat64(r.m.EventsEmitted.WithLabelValues(string(k), "XNYS")); n > 0 {
						emitted[string(k)] += n
					}
				}
			}
			if diff := cmp.Diff(tc.wantMissed, missed, cmpEmptyMap); diff != "" {
				t.Fatalf("heartbeat_events_missed_total (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEmitted, emitted, cmpEmptyMap); diff != "" {
				t.Fatalf("heartbeat_events_emitted_total (-want +got):\n%s", diff)
			}
		})
	}
}

// cmpEmptyMap makes a nil map equal an empty one.
var cmpEmptyMap = cmp.FilterValues(func(a, b map[string]float64) bool { return len(a) == 0 && len(b) == 0 }, cmp.Ignore())
