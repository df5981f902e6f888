package market

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// oracleStart is where calendar coverage begins; answer-file rows before it
// are not compared.
var oracleStart = NewDate(2000, time.January, 1)

// oracleFiles maps each market to its exchange_calendars answer file in
// testdata/calendars.
var oracleFiles = map[Code]string{
	XNYS:   "xnys.csv",
	XTSE:   "xtse.csv",
	XMEX:   "xmex.csv",
	XLON:   "xlon.csv",
	XETR:   "xetr.csv",
	XTKS:   "xtks.csv",
	XSHG:   "xshg.csv",
	XHKG:   "xhkg.csv",
	XBOM:   "xbom.csv",
	XASX:   "xasx.csv",
	CMES:   "cmes.csv",
	ALWAYS: "24-7.csv",
}

// readOracle returns the answer file's sessions for code from oracleStart on.
// cmes.csv models CME sessions as 17:00-17:00 Chicago; the real regular
// close is 16:00, so a 17:00 close is read as 16:00 (12:00 early closes
// stay as they are). The file is read by parseAnswerFile, a parse of the
// test's own: the production reader (csv.go) is code under test.
func readOracle(t *testing.T, c *Calendar) []Session {
	t.Helper()
	all := parseAnswerFile(t, filepath.Join("testdata", "calendars", oracleFiles[c.Code()]), c.Code())
	var out []Session
	for _, s := range all {
		if s.Date.Before(oracleStart) {
			continue
		}
		if c.Code() == CMES {
			local := s.Close.In(c.Location())
			if local.Hour() == 17 && local.Minute() == 0 {
				s.Close = s.Close.Add(-time.Hour)
			}
		}
		out = append(out, s)
	}
	return out
}

// parseAnswerFile reads an exchange_calendars answer file without the
// package's CSV reader: a header line ",open,close,break_start,break_end",
// then one line per session of five comma-separated fields, the first the
// session label at midnight UTC, the others instants written
// YYYY-MM-DDTHH:MM:SSZ or empty (no break). The files hold no quoting.
func parseAnswerFile(t *testing.T, path string, code Code) []Session {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("open answer file: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) == 0 || strings.TrimRight(lines[0], "\r") != ",open,close,break_start,break_end" {
		t.Fatalf("%s: header %q", path, lines[0])
	}
	instant := func(line int, f string) time.Time {
		t.Helper()
		num := func(from, to int) int {
			n := 0
			for _, c := range f[from:to] {
				if c < '0' || c > '9' {
					t.Fatalf("%s:%d: %q is not YYYY-MM-DDTHH:MM:SSZ", path, line, f)
				}
				n = n*10 + int(c-'0')
			}
			return n
		}
		if f == "" {
			return time.Time{}
		}
		if len(f) != 20 || f[4] != '-' || f[7] != '-' || f[10] != 'T' || f[13] != ':' || f[16] != ':' || f[19] != 'Z' {
			t.Fatalf("%s:%d: %q is not YYYY-MM-DDTHH:MM:SSZ", path, line, f)
		}
		return time.Date(num(0, 4), time.Month(num(5, 7)), num(8, 10), num(11, 13), num(14, 16), num(17, 19), 0, time.UTC)
	}
	out := make([]Session, 0, len(lines)-1)
	for i, line := range lines[1:] {
		fields := strings.Split(strings.TrimRight(line, "\r"), ",")
		if len(fields) != 5 {
			t.Fatalf("%s:%d: %d fields, want 5", path, i+2, len(fields))
		}
		label := instant(i+2, fields[0])
		if label.Hour() != 0 || label.Minute() != 0 || label.Second() != 0 {
			t.Fatalf("%s:%d: session label %q is not midnight", path, i+2, fields[0])
		}
		out = append(out, Session{Market: code, Date: NewDate(label.Year(), label.Month(), label.Day()),
			Open: instant(i+2, fields[1]), Close: instant(i+2, fields[2]),
			BreakStart: instant(i+2, fields[3]), BreakEnd: instant(i+2, fields[4])})
	}
	return out
}

// TestReadSessionsCSVMatchesAnswerFiles checks the production reader
// against the test's own parse on every answer file.
func TestReadSessionsCSVMatchesAnswerFiles(t *testing.T) {
	t.Parallel()
	for code, name := range oracleFiles {
		path := filepath.Join("testdata", "calendars", name)
		want := parseAnswerFile(t, path, code)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadSessionsCSV(f, code)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d sessions, the test's parse %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i].Date != want[i].Date || !got[i].Open.Equal(want[i].Open) || !got[i].Close.Equal(want[i].Close) ||
				!got[i].BreakStart.Equal(want[i].BreakStart) || !got[i].BreakEnd.Equal(want[i].BreakEnd) || got[i].Market != code {
				t.Fatalf("%s row %d: ReadSessionsCSV %s, the test's parse %s", name, i+2, describe(got[i]), describe(want[i]))
			}
		}
	}
}

func describe(s Session) string {
	if s.Open.IsZero() {
		return "no session"
	}
	return fmt.Sprintf("%s %s-%s break %s-%s", s.Date, stamp(s.Open), stamp(s.Close), stamp(s.BreakStart), stamp(s.BreakEnd))
}

// TestAnswerFiles compares every session the calendars produce with the
// answer files, from 2000-01-01 (or the file's first row) to the file's last
// row.
func TestAnswerFiles(t *testing.T) {
	t.Parallel()
	for _, code := range Codes() {
		if _, ok := specs[code]; !ok {
			continue
		}
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			c, err := Lookup(code)
			if err != nil {
				t.Fatal(err)
			}
			want := readOracle(t, c)
			from, to := want[0].Date, want[len(want)-1].Date
			got, err := c.Sessions(from, to)
			if err != nil {
				t.Fatal(err)
			}
			byDate := map[Date]Session{}
			for _, s := range got {
				byDate[s.Date] = s
			}
			var diffs []string
			for _, w := range want {
				g, ok := byDate[w.Date]
				delete(byDate, w.Date)
				if !ok {
					diffs = append(diffs, fmt.Sprintf("%s: want %s, got no session", w.Date, describe(w)))
					continue
				}
				if !g.Open.Equal(w.Open) || !g.Close.Equal(w.Close) || !g.BreakStart.Equal(w.BreakStart) || !g.BreakEnd.Equal(w.BreakEnd) {
					diffs = append(diffs, fmt.Sprintf("%s: want %s, got %s", w.Date, describe(w), describe(g)))
				}
			}
			for d, g := range byDate {
				diffs = append(diffs, fmt.Sprintf("%s: want no session, got %s", d, describe(g)))
			}
			if len(diffs) > 0 {
				slices.Sort(diffs)
				if len(diffs) > 60 {
					diffs = append(diffs[:60], fmt.Sprintf("... and %d more", len(diffs)-60))
				}
				t.Fatalf("%s differs from %s on %d sessions:\n%s", code, oracleFiles[code], len(diffs), strings.Join(diffs, "\n"))
			}
		})
	}
}
