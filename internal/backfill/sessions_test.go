package backfill

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"heartbeat/internal/market"
)

// The expected outputs assign trades to sessions from the exchange_calendars
// answer files in internal/market/testdata/calendars, read here with a
// parse of the test's own, never with the calendars under test. The files
// end in 2016 (24/7), 2023 (XNYS) and 2027 (CME), so the backfill tests
// trade in November 2016.

// answerFiles names each market's answer file.
var answerFiles = map[market.Code]string{market.XNYS: "xnys.csv", market.CMES: "cmes.csv", market.ALWAYS: "24-7.csv"}

// answerSession is one row of an answer file.
type answerSession struct {
	label                             string // YYYY-MM-DD
	open, close, breakStart, breakEnd time.Time
}

var (
	answersMu sync.Mutex
	answers   = map[market.Code][]answerSession{}
)

// sessionOf returns the label of the session of code that is open at t
// (open <= t < close, outside its break), from the answer files.
func sessionOf(t testing.TB, code market.Code, at time.Time) (string, bool) {
	t.Helper()
	all := answerSessions(t, code) // in order, none overlapping
	i := sort.Search(len(all), func(i int) bool { return at.Before(all[i].close) })
	if i == len(all) {
		return "", false
	}
	s := all[i]
	if !at.Before(s.open) && (s.breakStart.IsZero() || at.Before(s.breakStart) || !at.Before(s.breakEnd)) {
		return s.label, true
	}
	return "", false
}

// answerSessions reads (once) code's answer file: a header, then rows of
// label,open,close,break_start,break_end, each YYYY-MM-DDTHH:MM:SSZ or
// empty. CME's file models sessions as 17:00-17:00 Chicago: its regular
// close is 16:00 (the daily halt), so a 17:00 close is read as 16:00.
func answerSessions(t testing.TB, code market.Code) []answerSession {
	t.Helper()
	answersMu.Lock()
	defer answersMu.Unlock()
	if s, ok := answers[code]; ok {
		return s
	}
	raw, err := os.ReadFile(filepath.Join("..", "market", "testdata", "calendars", answerFiles[code]))
	if err != nil {
		t.Fatalf("answer file of %s: %v", code, err)
	}
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	instant := func(f string) time.Time {
		if f == "" {
			return time.Time{}
		}
		if len(f) != 20 || f[10] != 'T' || f[19] != 'Z' {
			t.Fatalf("answer file of %s: %q is not YYYY-MM-DDTHH:MM:SSZ", code, f)
		}
		n := func(from, to int) int {
			v, err := strconv.Atoi(f[from:to])
			if err != nil {
				t.Fatalf("answer file of %s: %q: %v", code, f, err)
			}
			return v
		}
		return time.Date(n(0, 4), time.Month(n(5, 7)), n(8, 10), n(11, 13), n(14, 16), n(17, 19), 0, time.UTC)
	}
	var out []answerSession
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if i == 0 {
			continue // the header
		}
		f := strings.Split(strings.TrimSpace(line), ",")
		if len(f) != 5 {
			t.Fatalf("answer file of %s, line %d: %d fields", code, i+1, len(f))
		}
		s := answerSession{label: f[0][:10], open: instant(f[1]), close: instant(f[2]), breakStart: instant(f[3]), breakEnd: instant(f[4])}
		if local := s.close.In(chicago); code == market.CMES && local.Hour() == 17 && local.Minute() == 0 {
			s.close = s.close.Add(-time.Hour)
		}
		out = append(out, s)
	}
	answers[code] = out
	return out
}
