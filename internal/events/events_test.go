package events_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/events"
	"heartbeat/internal/market"
)

func newBook(t *testing.T, runtime ...market.Override) *market.Book {
	t.Helper()
	b, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if rej := b.SetRuntime(runtime); len(rej) > 0 {
		t.Fatalf("runtime entries rejected: %v", rej)
	}
	return b
}

// local parses "2006-01-02 15:04" in the market's zone.
func local(t *testing.T, cal *market.Calendar, s string) time.Time {
	t.Helper()
	at, err := time.ParseInLocation("2006-01-02 15:04", s, cal.Location())
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// render writes each transition as "KIND HH:MM SESSION" in the market's
// local time.
func render(cal *market.Calendar, ts []events.Transition) []string {
	out := make([]string, len(ts))
	for i, tr := range ts {
		out[i] = fmt.Sprintf("%s %s %s", tr.Kind, tr.At.In(cal.Location()).Format("01-02 15:04"), tr.Session)
	}
	return out
}

func TestBetween(t *testing.T) {
	t.Parallel()
	halt := market.Override{Market: market.XNYS, Kind: market.KindHalt, Date: market.NewDate(2026, 12, 2), From: 11 * 60, To: 11*60 + 30,
		Name: "technical", Source: market.Source{Origin: market.OriginRuntime}}
	cases := []struct {
		name     string
		market   market.Code
		runtime  []market.Override
		from, to string // local, from excluded, to included
		want     []string
	}{
		{"XNYS normal day", market.XNYS, nil, "2026-12-02 00:00", "2026-12-02 23:59", []string{
			"pre_open 12-02 09:29 2026-12-02", "open 12-02 09:30 2026-12-02", "close 12-02 16:00 2026-12-02"}},
		{"XNYS bounds: from excluded, to included", market.XNYS, nil, "2026-12-02 09:29", "2026-12-02 16:00", []string{
			"open 12-02 09:30 2026-12-02", "close 12-02 16:00 2026-12-02"}},
		{"XNYS early close", market.XNYS, nil, "2026-11-27 00:00", "2026-11-27 23:59", []string{
			"pre_open 11-27 09:29 2026-11-27", "open 11-27 09:30 2026-11-27", "close 11-27 13:00 2026-11-27"}},
		{"XNYS holiday: nothing", market.XNYS, nil, "2026-12-25 00:00", "2026-12-25 23:59", nil},
		{"XNYS over a holiday to the next session", market.XNYS, nil, "2026-12-24 14:00", "2026-12-28 09:30", []string{
			"pre_open 12-28 09:29 2026-12-28", "open 12-28 09:30 2026-12-28"}},
		{"XHKG lunch break", market.XHKG, nil, "2026-12-02 00:00", "2026-12-02 23:59", []string{
			"pre_open 12-02 09:29 2026-12-02", "open 12-02 09:30 2026-12-02", "break_start 12-02 12:00 2026-12-02",
			"break_end 12-02 13:00 2026-12-02", "close 12-02 16:00 2026-12-02"}},
		{"XTKS lunch break", market.XTKS, nil, "2026-12-02 00:00", "2026-12-02 23:59", []string{
			"pre_open 12-02 08:59 2026-12-02", "open 12-02 09:00 2026-12-02", "break_start 12-02 11:30 2026-12-02",
			"break_end 12-02 12:30 2026-12-02", "close 12-02 15:30 2026-12-02"}},
		{"CMES daily halt is a session boundary", market.CMES, nil, "2026-12-02 15:00", "2026-12-02 18:00", []string{
			"close 12-02 16:00 2026-12-02", "pre_open 12-02 16:59 2026-12-03", "open 12-02 17:00 2026-12-03"}},
		{"XNYS runtime halt", market.XNYS, []market.Override{halt}, "2026-12-02 09:30", "2026-12-02 16:00", []string{
			"halt_start 12-02 11:00 2026-12-02", "halt_end 12-02 11:30 2026-12-02", "close 12-02 16:00 2026-12-02"}},
		{"ALWAYS never opens nor closes", market.ALWAYS, nil, "2026-12-01 00:00", "2026-12-03 00:00", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cal, err := newBook(t, tc.runtime...).Lookup(tc.market)
			if err != nil {
				t.Fatal(err)
			}
			got, err := events.Between(cal, local(t, cal, tc.from), local(t, cal, tc.to))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := strings.Join(render(cal, got), "\n"), strings.Join(tc.want, "\n"); g != w {
				t.Fatalf("got\n%s\nwant\n%s", g, w)
			}
			for _, tr := range got {
				if tr.At.Location() != time.UTC {
					t.Fatalf("%s: instant not in UTC", tr.ID())
				}
			}
		})
	}
}

func TestNextTakesTheEarliestOfAllMarkets(t *testing.T) {
	t.Parallel()
	b := newBook(t)
	xnys, _ := b.Lookup(market.XNYS)
	after := local(t, xnys, "2026-12-02 09:00")
	first, ok, err := events.Next(b.All(), after, after.AddDate(0, 0, 14))
	if err != nil || !ok {
		t.Fatalf("Next: ok %v, err %v", ok, err)
	}
	// 09:00 New York is 14:00 London (XLON open), 15:00 Frankfurt (XETR
	// open 09:00 local). The first after that is XNYS/XTSE pre_open at
	// 09:29 in New York, Toronto and Mexico City (08:29 there) at once.
	var ids []string
	for _, tr := range first {
		ids = append(ids, string(tr.Market)+" "+string(tr.Kind)+" "+tr.At.In(xnys.Location()).Format("15:04"))
	}
	want := []string{"XNYS pre_open 09:29", "XTSE pre_open 09:29", "XMEX pre_open 09:29"}
	if strings.Join(ids, ", ") != strings.Join(want, ", ") {
		t.Fatalf("Next = %v, want %v", ids, want)
	}
}

func TestIDAndSlot(t *testing.T) {
	t.Parallel()
	tr := events.Transition{Market: market.XNYS, Kind: events.Open, At: time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC), Session: market.NewDate(2026, 12, 2)}
	if got, want := tr.ID(), "XNYS:open:1796221800000"; got != want {
		t.Fatalf("ID = %q, want %q", got, want)
	}
	if got, want := tr.Slot(), "XNYS:open:2026-12-02"; got != want {
		t.Fatalf("Slot = %q, want %q", got, want)
	}
	tr.Kind = events.HaltStart
	if tr.Slot() != "" {
		t.Fatalf("a halt has a slot: %q", tr.Slot())
	}
}
