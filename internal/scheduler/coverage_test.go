package scheduler

import (
	"bufio"
	"bytes"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/jobs"
	"heartbeat/internal/market"
	"heartbeat/internal/metrics"
	"heartbeat/internal/runlog"
)

// logBuffer is a zerolog writer the replicas' loops share: it keeps every
// line for the test to read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// logLine is what the coverage tests read of a log line.
type logLine struct {
	At      time.Time // the fake clock when it was written
	Level   string
	Message string
	Market  string
	Job     string
	Err     bool // it carries an error field
	// DaysLeft is the days_left field of the coverage warning.
	DaysLeft int
}

// lines parses what was written so far.
func (l *logBuffer) lines(t *testing.T) []logLine {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logLine
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for sc.Scan() {
		var raw struct {
			AtMS     int64  `json:"at_ms"`
			Level    string `json:"level"`
			Message  string `json:"message"`
			Market   string `json:"market"`
			Job      string `json:"job"`
			Error    string `json:"error"`
			DaysLeft int    `json:"days_left"`
		}
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, logLine{At: time.UnixMilli(raw.AtMS).UTC(), Level: raw.Level, Message: raw.Message,
			Market: raw.Market, Job: raw.Job, Err: raw.Error != "", DaysLeft: raw.DaysLeft})
	}
	return out
}

// warnings returns the lines at level warn or above.
func warnings(all []logLine) []logLine {
	var out []logLine
	for _, l := range all {
		if l.Level == "warn" || l.Level == "error" {
			out = append(out, l)
		}
	}
	return out
}

// fakeTimeLogger returns a logger writing JSON to buf, each line stamped
// at_ms with the fake clock (zerolog's own timestamp is the machine's).
func fakeTimeLogger(buf *logBuffer, clk *clock.Fake) zerolog.Logger {
	return zerolog.New(buf).Hook(zerolog.HookFunc(func(e *zerolog.Event, _ zerolog.Level, _ string) {
		e.Int64("at_ms", clk.Now().UnixMilli())
	}))
}

// jan4 is an instant on Monday 2027-01-04, a weekday after the end of
// XSHG's built-in calendar (2026-12-31). Its regular hours would be
// 09:30-11:30 and 13:00-15:00 Asia/Shanghai: 01:30-03:30Z and 05:00-07:00Z.
func jan4(hh, mm, ss, ms int) time.Time {
	return time.Date(2027, 1, 4, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
}

// Messages of the scheduler the coverage test expects.
const (
	msgCalendarCannot = "calendar cannot answer: the market counts as closed (logged once an hour)"
)

// TestSchedulerPastCoverage runs a leader whose only market, XSHG, is past
// its calendar's coverage, under both calendars.on_coverage_end policies,
// and checks what the gate decided (tasks enqueued, slot outcomes), what
// was logged and when (on the fake clock), and the coverage metrics.
//
// closed: the market counts as closed, so Intraday keeps the slow cadence
// (one slot a minute, both shards skipped_closed) through what would be
// the morning session, and the calendar error is logged at start and then
// once an hour: the loop decides each slot enqueueAhead before the
// previous one, so after 01:00:30 the first decision an hour later is at
// 02:00:59.9, and the next exactly an hour after that.
//
// weekdays: the session is assumed at regular hours, so the gate opens at
// 09:30 Shanghai (01:30Z) and every second's slot is enqueued on both
// shards; nothing about the calendar is logged but the start-up warning.
func TestSchedulerPastCoverage(t *testing.T) {
	t.Parallel()
	intraday := job(t, jobs.Intraday)
	coverageEnd := time.Date(2027, 1, 1, 0, 0, 0, 0, shanghai(t)) // the first instant not covered
	startWarning := func(at time.Time) logLine {
		msg := MsgCoverageEndsSoon
		if !at.Before(coverageEnd) {
			msg = MsgCoverageEnded // past it: not "ends soon"
		}
		return logLine{At: at, Level: "warn", Message: msg, Market: "XSHG", DaysLeft: int(coverageEnd.Sub(at).Hours() / 24)}
	}
	calendarWarning := func(at time.Time) logLine {
		return logLine{At: at, Level: "warn", Message: msgCalendarCannot, Job: string(jobs.Intraday), Err: true}
	}
	tests := []struct {
		name         string
		assume       bool
		from, until  time.Time
		wantEnqueued []enqueued
		wantCounts   map[string]float64
		wantWarnings []logLine
		wantAssumed  float64
		renewEvery   time.Duration // the lease's; 0 is testConfig's
	}{
		{
			name: "closed", from: jan4(1, 0, 30, 0), until: jan4(3, 30, 0, 0),
			// Two and a half hours of fake time: a renewal every 20 s
			// instead of 500 ms keeps the clock's steps to the slots.
			renewEvery: 20 * time.Second,
			wantCounts: map[string]float64{string(runlog.SkippedClosed): 2 * 150}, // 01:01 to 03:30, 2 shards
			wantWarnings: []logLine{
				calendarWarning(jan4(1, 0, 30, 0)),
				startWarning(jan4(1, 0, 30, 0)),
				// The events loop's first look, a fast tick after start.
				{At: jan4(1, 0, 31, 0), Level: "warn", Message: MsgEventsCalendarCannot, Market: "XSHG", Err: true},
				calendarWarning(jan4(2, 0, 59, 900)),
				calendarWarning(jan4(3, 0, 59, 900)),
			},
		},
		{
			name: "weekdays", assume: true, from: jan4(1, 29, 30, 0), until: jan4(1, 31, 0, 0),
			wantEnqueued: onTime(intraday, 1, every(jan4(1, 30, 0, 0), jan4(1, 31, 0, 0), time.Second)...),
			wantCounts:   map[string]float64{string(runlog.Enqueued): 2 * 61},
			wantWarnings: []logLine{startWarning(jan4(1, 29, 30, 0))},
			wantAssumed:  1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tt.from)
			book, err := market.NewBook(market.BookConfig{AssumeWeekdays: tt.assume})
			if err != nil {
				t.Fatal(err)
			}
			if f.in, err = market.NewInstruments(book, []market.Instrument{{Symbol: "600519", Market: market.XSHG, Weight: 1}}); err != nil {
				t.Fatal(err)
			}
			var logs logBuffer
			f.log = fakeTimeLogger(&logs, f.clk)

			cfg := testConfig("a", intraday)
			if tt.renewEvery > 0 {
				cfg.LeaseTTL, cfg.RenewEvery = 3*tt.renewEvery, tt.renewEvery
			}
			r := f.start(t, cfg)
			r.m.WatchCalendars(book)
			f.runUntil(t, tt.until)

			if diff := cmp.Diff(tt.wantEnqueued, r.rec.enqueued()); diff != "" {
				t.Fatalf("enqueued (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCounts, r.counts(jobs.Intraday)); diff != "" {
				t.Fatalf("slot outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, warnings(logs.lines(t))); diff != "" {
				t.Fatalf("warnings (-want +got):\n%s", diff)
			}
			wantGauges := map[string]float64{
				"heartbeat_calendar_assumed":                 tt.wantAssumed,
				"heartbeat_calendar_covered_through_seconds": float64(coverageEnd.Unix()),
			}
			if diff := cmp.Diff(wantGauges, calendarGauges(t, r.m, "XSHG")); diff != "" {
				t.Fatalf("coverage metrics of XSHG (-want +got):\n%s", diff)
			}
		})
	}
}

// calendarGauges returns the coverage gauges of one market.
func calendarGauges(t *testing.T, m *metrics.Metrics, code string) map[string]float64 {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, fam := range families {
		if fam.GetName() != "heartbeat_calendar_assumed" && fam.GetName() != "heartbeat_calendar_covered_through_seconds" {
			continue
		}
		for _, s := range fam.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "market" && l.GetValue() == code {
					out[fam.GetName()] = s.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}

// shanghai is XSHG's zone.
func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
