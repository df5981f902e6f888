package market

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// loc loads a zone or fails the test.
func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// local is the instant the wall clock in zone shows y-m-d h:m.
func local(t *testing.T, zone string, y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, mustZone(t, zone)).UTC()
}

const exampleFile = `
XNYS:
  holidays:       [{date: 2027-01-08, name: "National Day of Mourning"}]
  early_closes:   [{date: 2027-07-02, close: "13:00"}]
  late_opens:     [{date: 2027-03-10, open: "10:30"}]
  halts:          [{date: 2027-03-11, from: "10:00", to: "11:30", name: "technical halt"}]
  extra_sessions: [{date: 2027-03-13, open: "09:30", close: "16:00"}, {date: 2027-12-24, open: "09:30", close: "13:00", name: "reopened"}]
XSHG:
  covered_through: 2027-12-31
  holidays:       [{date: 2027-02-08, name: "Spring Festival"}]
XHKG:
  early_closes:   [{date: 2027-06-01, close: "14:00"}, {date: 2027-06-02, close: "12:30"}]
CMES:
  halts:          [{date: 2027-03-09, from: "17:30", to: "18:00"}]
`

func exampleBook(t *testing.T, runtime ...Override) *Book {
	t.Helper()
	f, err := ParseOverrides("overrides.yaml", []byte(exampleFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBook(BookConfig{File: f})
	if err != nil {
		t.Fatal(err)
	}
	if rej := b.SetRuntime(runtime); len(rej) > 0 {
		t.Fatalf("runtime entries rejected: %+v", rej)
	}
	return b
}

func mustCal(t *testing.T, b *Book, c Code) *Calendar {
	t.Helper()
	cal, err := b.Lookup(c)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

func TestOverridesFileSessions(t *testing.T) {
	t.Parallel()
	b := exampleBook(t)
	ny := "America/New_York"
	type want struct {
		trading           bool
		open, close       time.Time
		breakStart, brEnd time.Time
	}
	cases := []struct {
		name   string
		market Code
		date   Date
		want   want
	}{
		{"holiday removes the session", XNYS, ymd(2027, 1, 8), want{}},
		{"early close", XNYS, ymd(2027, 7, 2), want{true, local(t, ny, 2027, 7, 2, 9, 30), local(t, ny, 2027, 7, 2, 13, 0), time.Time{}, time.Time{}}},
		{"late open", XNYS, ymd(2027, 3, 10), want{true, local(t, ny, 2027, 3, 10, 10, 30), local(t, ny, 2027, 3, 10, 16, 0), time.Time{}, time.Time{}}},
		{"extra session on a Saturday", XNYS, ymd(2027, 3, 13), want{true, local(t, ny, 2027, 3, 13, 9, 30), local(t, ny, 2027, 3, 13, 16, 0), time.Time{}, time.Time{}}},
		{"extra session reopens a built-in holiday", XNYS, ymd(2027, 12, 24), want{true, local(t, ny, 2027, 12, 24, 9, 30), local(t, ny, 2027, 12, 24, 13, 0), time.Time{}, time.Time{}}},
		{"untouched day", XNYS, ymd(2027, 3, 12), want{true, local(t, ny, 2027, 3, 12, 9, 30), local(t, ny, 2027, 3, 12, 16, 0), time.Time{}, time.Time{}}},
		{"covered_through extends XSHG, listed holiday", XSHG, ymd(2027, 2, 8), want{}},
		{"covered_through extends XSHG, a trading day", XSHG, ymd(2027, 3, 1), want{true,
			local(t, "Asia/Shanghai", 2027, 3, 1, 9, 30), local(t, "Asia/Shanghai", 2027, 3, 1, 15, 0),
			local(t, "Asia/Shanghai", 2027, 3, 1, 11, 30), local(t, "Asia/Shanghai", 2027, 3, 1, 13, 0)}},
		{"early close after the lunch break keeps it", XHKG, ymd(2027, 6, 1), want{true,
			local(t, "Asia/Hong_Kong", 2027, 6, 1, 9, 30), local(t, "Asia/Hong_Kong", 2027, 6, 1, 14, 0),
			local(t, "Asia/Hong_Kong", 2027, 6, 1, 12, 0), local(t, "Asia/Hong_Kong", 2027, 6, 1, 13, 0)}},
		{"early close inside the lunch break drops it", XHKG, ymd(2027, 6, 2), want{true,
			local(t, "Asia/Hong_Kong", 2027, 6, 2, 9, 30), local(t, "Asia/Hong_Kong", 2027, 6, 2, 12, 30), time.Time{}, time.Time{}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, ok, err := mustCal(t, b, tc.market).Session(tc.date)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.want.trading {
				t.Fatalf("trading day = %v, want %v", ok, tc.want.trading)
			}
			if !ok {
				return
			}
			if !s.Open.Equal(tc.want.open) || !s.Close.Equal(tc.want.close) || !s.BreakStart.Equal(tc.want.breakStart) || !s.BreakEnd.Equal(tc.want.brEnd) {
				t.Fatalf("session %s-%s break %s-%s, want %s-%s break %s-%s", s.Open, s.Close, s.BreakStart, s.BreakEnd,
					tc.want.open, tc.want.close, tc.want.breakStart, tc.want.brEnd)
			}
		})
	}
	if name, ok := mustCal(t, b, XNYS).Holiday(ymd(2027, 1, 8)); !ok || name != "National Day of Mourning" {
		t.Fatalf("Holiday(2027-01-08) = %q, %v", name, ok)
	}
	// Without the file, XSHG stops at 2026-12-31.
	if _, err := mustCal(t, Builtin(), XSHG).Sessions(ymd(2027, 1, 1), ymd(2027, 12, 31)); !errors.Is(err, ErrOutOfCoverage) {
		t.Fatalf("built-in XSHG 2027: err = %v, want out of coverage", err)
	}
	if _, last := mustCal(t, b, XSHG).Coverage(); last != ymd(2027, 12, 31) {
		t.Fatalf("XSHG coverage ends %s, want 2027-12-31", last)
	}
}

func TestHaltIsAPhaseInsideTheSession(t *testing.T) {
	t.Parallel()
	cal := mustCal(t, exampleBook(t), XNYS)
	ny := "America/New_York"
	for _, tc := range []struct {
		h, m int
		want Phase
	}{{9, 59, Open}, {10, 0, Halted}, {11, 29, Halted}, {11, 30, Open}} {
		at := local(t, ny, 2027, 3, 11, tc.h, tc.m)
		p, err := cal.Phase(at)
		if err != nil || p != tc.want {
			t.Fatalf("Phase at %02d:%02d = %v, %v; want %v", tc.h, tc.m, p, err, tc.want)
		}
		if open, _ := cal.IsOpen(at); open != (tc.want == Open) {
			t.Fatalf("IsOpen at %02d:%02d = %v", tc.h, tc.m, open)
		}
		s, err := cal.SessionAt(at)
		if err != nil || s.Date != ymd(2027, 3, 11) {
			t.Fatalf("SessionAt %02d:%02d = %s, %v; want the 2027-03-11 session", tc.h, tc.m, s.Date, err)
		}
	}
	at, to, ok, err := cal.NextChange(local(t, ny, 2027, 3, 11, 9, 45))
	if err != nil || !ok || to != Halted || !at.Equal(local(t, ny, 2027, 3, 11, 10, 0)) {
		t.Fatalf("NextChange before the halt = %s %v %v %v", at, to, ok, err)
	}
	at, to, ok, err = cal.NextChange(local(t, ny, 2027, 3, 11, 10, 30))
	if err != nil || !ok || to != Open || !at.Equal(local(t, ny, 2027, 3, 11, 11, 30)) {
		t.Fatalf("NextChange inside the halt = %s %v %v %v", at, to, ok, err)
	}
	// CME's session of 2027-03-09 opens at 17:00 Chicago the evening
	// before: a halt at 17:30 is on that evening.
	cme := mustCal(t, exampleBook(t), CMES)
	if p, _ := cme.Phase(local(t, "America/Chicago", 2027, 3, 8, 17, 45)); p != Halted {
		t.Fatalf("CMES at 17:45 the evening before = %v, want halted", p)
	}
	if p, _ := cme.Phase(local(t, "America/Chicago", 2027, 3, 8, 18, 0)); p != Open {
		t.Fatalf("CMES at 18:00 the evening before = %v, want open", p)
	}
}

func TestOverridesFileErrorsNameMarketEntryFieldAndLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		want       []string // substrings of the error
	}{
		{"halt ends before it starts", "XNYS:\n  halts:\n    - {date: 2027-03-11, from: \"11:00\", to: \"10:00\"}\n", []string{"XNYS.halts[0]", "overrides.yaml:3", "to:", "must be after from"}},
		{"bad time", "XNYS:\n  early_closes: [{date: 2027-07-02, close: \"25:00\"}]\n", []string{"XNYS.early_closes[0]", "overrides.yaml:2", "close:"}},
		{"bad date", "XNYS:\n  holidays:\n    - {date: 2027-13-01}\n", []string{"XNYS.holidays[0]", "date:"}},
		{"missing field", "XNYS:\n  late_opens:\n    - {date: 2027-03-10}\n", []string{"XNYS.late_opens[0]", "open: is required"}},
		{"unknown field", "XNYS:\n  halts:\n    - {date: 2027-03-11, from: \"10:00\", to: \"11:00\", until: \"12:00\"}\n", []string{"XNYS.halts[0]", "until: unknown field"}},
		{"unknown list", "XNYS:\n  closures: []\n", []string{"XNYS", "closures: unknown list"}},
		{"bad market code", "xnys:\n  holidays: []\n", []string{"overrides.yaml:1", "market code"}},
		{"holiday and early close contradict", "XNYS:\n  holidays: [{date: 2027-07-02}]\n  early_closes: [{date: 2027-07-02, close: \"13:00\"}]\n",
			[]string{"XNYS.early_closes[0]", "both a holiday and a early_close"}},
		{"overlapping halts", "XNYS:\n  halts:\n    - {date: 2027-03-11, from: \"10:00\", to: \"11:00\"}\n    - {date: 2027-03-11, from: \"10:30\", to: \"12:00\"}\n",
			[]string{"XNYS.halts[1]", "overlaps"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseOverrides("overrides.yaml", []byte(tc.file))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestOverridesThatDoNotFitTheCalendar(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file string
		want       []string
	}{
		{"early close after the close", "XNYS:\n  early_closes: [{date: 2027-07-02, close: \"17:00\"}]\n", []string{"XNYS.early_closes[0]", "overrides.yaml:2", "close:", "before its close (16:00)"}},
		{"halt outside the session", "XNYS:\n  halts: [{date: 2027-03-11, from: \"08:00\", to: \"09:45\"}]\n", []string{"XNYS.halts[0]", "inside the session"}},
		{"late open on a holiday", "XNYS:\n  late_opens: [{date: 2027-12-24, open: \"10:00\"}]\n", []string{"XNYS.late_opens[0]", "not a trading day"}},
		{"entry past coverage", "XSHG:\n  holidays: [{date: 2027-02-08}]\n", []string{"XSHG.holidays[0]", "after the calendar's coverage", "covered_through"}},
		{"covered_through shortens", "XNYS:\n  covered_through: 2030-01-01\n", []string{"XNYS", "covered_through", "before the built-in coverage end"}},
		{"unknown market", "XNAS:\n  holidays: [{date: 2027-02-08}]\n", []string{"XNAS", "unknown market"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := ParseOverrides("overrides.yaml", []byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = NewBook(BookConfig{File: f})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestRuntimeEntriesOverTheFile(t *testing.T) {
	t.Parallel()
	src := Source{Origin: OriginRuntime, Ref: "r1", Actor: "cli:desk", At: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)}
	b := exampleBook(t,
		Override{Market: XNYS, Kind: KindHoliday, Date: ymd(2027, 7, 2), Name: "hurricane", Source: src},
		Override{Market: XNYS, Kind: KindExtraSession, Date: ymd(2027, 1, 8), Open: 9*60 + 30, Close: 16 * 60, Source: src},
		Override{Market: XNYS, Kind: KindHalt, Date: ymd(2027, 3, 12), From: 14 * 60, To: 14*60 + 30, Source: src},
	)
	cal := mustCal(t, b, XNYS)
	if _, ok, _ := cal.Session(ymd(2027, 7, 2)); ok {
		t.Fatal("a runtime closure did not win over the file's early close")
	}
	if _, ok, _ := cal.Session(ymd(2027, 1, 8)); !ok {
		t.Fatal("a runtime extra session did not reopen the file's holiday")
	}
	if p, _ := cal.Phase(local(t, "America/New_York", 2027, 3, 12, 14, 10)); p != Halted {
		t.Fatalf("runtime halt: phase %v", p)
	}
	// The handle swaps: the same *Calendar sees entries removed.
	b.SetRuntime(nil)
	if _, ok, _ := cal.Session(ymd(2027, 7, 2)); !ok {
		t.Fatal("removing the runtime closure did not restore the session")
	}
	if got := len(cal.Overrides()); got != 6 {
		t.Fatalf("overrides in force = %d, want the file's 6", got)
	}

	// An entry that no longer fits is set aside, with why.
	b.SetRuntime([]Override{{Market: XNYS, Kind: KindLateOpen, Date: ymd(2027, 1, 8), Open: 10 * 60, Source: src}})
	if rej := cal.Rejected(); len(rej) != 1 || !strings.Contains(rej[0].Reason, "not a trading day") {
		t.Fatalf("rejected = %+v", rej)
	}

	// CheckRuntime refuses contradictions and entries that do not fit.
	present := []Override{{Market: XNYS, Kind: KindEarlyClose, Date: ymd(2027, 3, 15), Close: 13 * 60, Source: src}}
	for _, tc := range []struct {
		o    Override
		want string
	}{
		{Override{Market: XNYS, Kind: KindHoliday, Date: ymd(2027, 3, 15)}, "both a holiday"},
		{Override{Market: XNYS, Kind: KindEarlyClose, Date: ymd(2027, 3, 15), Close: 12 * 60}, "two early_close"},
		{Override{Market: XNYS, Kind: KindHalt, Date: ymd(2027, 3, 15), From: 13*60 + 30, To: 14 * 60}, "inside the session"},
		{Override{Market: "XNAS", Kind: KindHoliday, Date: ymd(2027, 3, 15)}, "unknown market"},
		{Override{Market: XNYS, Kind: KindHalt, Date: ymd(2027, 3, 15), From: 11 * 60, To: 10 * 60}, "must be after from"},
	} {
		err := b.CheckRuntime(tc.o, present)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("CheckRuntime(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
	if err := b.CheckRuntime(Override{Market: XNYS, Kind: KindHalt, Date: ymd(2027, 3, 15), From: 10 * 60, To: 11 * 60}, present); err != nil {
		t.Fatalf("a good halt: %v", err)
	}
}

func TestExportThenLoadGivesTheSameCalendar(t *testing.T) {
	t.Parallel()
	src := Source{Origin: OriginRuntime, Ref: "r1", Actor: "cli:desk"}
	b := exampleBook(t,
		Override{Market: XNYS, Kind: KindHoliday, Date: ymd(2027, 7, 2), Name: "hurricane", Source: src},
		Override{Market: XNYS, Kind: KindExtraSession, Date: ymd(2027, 1, 8), Open: 9*60 + 30, Close: 16 * 60, Source: src},
		Override{Market: XNYS, Kind: KindLateOpen, Date: ymd(2027, 3, 11), Open: 9*60 + 45, Name: "late", Source: src},
		Override{Market: XHKG, Kind: KindExtraSession, Date: ymd(2027, 6, 5), Open: 9*60 + 30, Close: 16 * 60, BreakStart: 12 * 60, BreakEnd: 13 * 60, Source: src},
	)
	data := b.Export().Marshal()
	f, err := ParseOverrides("export.yaml", data)
	if err != nil {
		t.Fatalf("the export does not load: %v\n%s", err, data)
	}
	back, err := NewBook(BookConfig{File: f})
	if err != nil {
		t.Fatalf("the export does not build: %v\n%s", err, data)
	}
	for _, code := range []Code{XNYS, XSHG, XHKG, CMES} {
		want, err := mustCal(t, b, code).Sessions(ymd(2026, 1, 1), ymd(2027, 12, 31))
		if err != nil {
			t.Fatal(err)
		}
		got, err := mustCal(t, back, code).Sessions(ymd(2026, 1, 1), ymd(2027, 12, 31))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d sessions after export, want %d\n%s", code, len(got), len(want), data)
		}
		for i := range want {
			if !sameSession(got[i], want[i]) {
				t.Fatalf("%s: session %d = %+v, want %+v\n%s", code, i, got[i], want[i], data)
			}
		}
	}
}

func sameSession(a, b Session) bool {
	if a.Date != b.Date || !a.Open.Equal(b.Open) || !a.Close.Equal(b.Close) || !a.BreakStart.Equal(b.BreakStart) ||
		!a.BreakEnd.Equal(b.BreakEnd) || a.Assumed != b.Assumed || len(a.Halts) != len(b.Halts) {
		return false
	}
	for i := range a.Halts {
		if !a.Halts[i].From.Equal(b.Halts[i].From) || !a.Halts[i].To.Equal(b.Halts[i].To) {
			return false
		}
	}
	return true
}

func TestMarketsDefinedInConfig(t *testing.T) {
	t.Parallel()
	b, err := NewBook(BookConfig{Markets: []Definition{
		{Code: "XNAS", Like: XNYS, Name: "Nasdaq"},
		{Code: "XSWX", Name: "SIX Swiss Exchange", Zone: "Europe/Zurich", Open: 9 * 60, Close: 17*60 + 30,
			Holidays: []DatedName{{Date: ymd(2027, 1, 1), Name: "New Year's Day"}, {Date: ymd(2027, 1, 2), Name: "Berchtoldstag"}},
			From:     ymd(2026, 12, 1), CoveredThrough: ymd(2027, 12, 31)},
		{Code: "XTAE", Name: "Tel Aviv", Zone: "Asia/Jerusalem", Open: 9*60 + 59, Close: 17*60 + 14,
			Weekdays: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
			From:     ymd(2027, 1, 1), CoveredThrough: ymd(2027, 1, 31)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// The alias has XNYS's sessions under its own code.
	nas, err := mustCal(t, b, "XNAS").Sessions(ymd(2025, 1, 1), ymd(2025, 12, 31))
	if err != nil {
		t.Fatal(err)
	}
	nys, _ := mustCal(t, b, XNYS).Sessions(ymd(2025, 1, 1), ymd(2025, 12, 31))
	if len(nas) != len(nys) || len(nas) != 250 {
		t.Fatalf("XNAS 2025: %d sessions, XNYS %d, want 250 each", len(nas), len(nys))
	}
	for i := range nas {
		if nas[i].Market != "XNAS" || !nas[i].Open.Equal(nys[i].Open) || !nas[i].Close.Equal(nys[i].Close) {
			t.Fatalf("XNAS session %d = %+v, XNYS %+v", i, nas[i], nys[i])
		}
	}
	// The rule-defined market: weekdays 09:00-17:30 Zurich minus its
	// holidays; 2027-01-01 is a Friday and 2027-01-02 a Saturday.
	sw, err := mustCal(t, b, "XSWX").Sessions(ymd(2026, 12, 28), ymd(2027, 1, 8))
	if err != nil {
		t.Fatal(err)
	}
	var dates []string
	for _, s := range sw {
		dates = append(dates, s.Date.String())
	}
	if got, want := strings.Join(dates, " "), "2026-12-28 2026-12-29 2026-12-30 2026-12-31 2027-01-04 2027-01-05 2027-01-06 2027-01-07 2027-01-08"; got != want {
		t.Fatalf("XSWX sessions %s, want %s", got, want)
	}
	if !sw[0].Open.Equal(local(t, "Europe/Zurich", 2026, 12, 28, 9, 0)) || !sw[0].Close.Equal(local(t, "Europe/Zurich", 2026, 12, 28, 17, 30)) {
		t.Fatalf("XSWX hours %s-%s", sw[0].Open, sw[0].Close)
	}
	if name, ok := mustCal(t, b, "XSWX").Holiday(ymd(2027, 1, 1)); !ok || name != "New Year's Day" {
		t.Fatalf("XSWX holiday = %q %v", name, ok)
	}
	if _, err := mustCal(t, b, "XSWX").Phase(local(t, "Europe/Zurich", 2028, 1, 3, 10, 0)); !errors.Is(err, ErrOutOfCoverage) {
		t.Fatalf("XSWX past covered_through: %v", err)
	}
	// Overrides apply to defined markets too.
	f, err := ParseOverrides("o.yaml", []byte("XNAS:\n  holidays: [{date: 2027-03-12, name: outage}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := NewBook(BookConfig{Markets: []Definition{{Code: "XNAS", Like: XNYS}}, File: f})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := mustCal(t, b2, "XNAS").Session(ymd(2027, 3, 12)); ok {
		t.Fatal("XNAS override not applied")
	}
	if _, ok, _ := mustCal(t, b2, XNYS).Session(ymd(2027, 3, 12)); !ok {
		t.Fatal("an XNAS override changed XNYS")
	}

	for _, tc := range []struct {
		d    Definition
		want string
	}{
		{Definition{Code: "XNYS", Like: XLON}, "markets.XNYS: XNYS is a built-in market"},
		{Definition{Code: "XPAR", Like: "XXXX"}, "markets.XPAR.like"},
		{Definition{Code: "XPAR", Zone: "Mars/Olympus", Open: 540, Close: 1050, CoveredThrough: ymd(2027, 1, 1)}, "markets.XPAR.zone"},
		{Definition{Code: "XPAR", Zone: "Europe/Paris", Open: 540, Close: 500, CoveredThrough: ymd(2027, 1, 1)}, "markets.XPAR.close"},
		{Definition{Code: "XPAR", Zone: "Europe/Paris", Open: 540, Close: 1050}, "markets.XPAR.covered_through"},
		{Definition{Code: "x-par", Like: XNYS}, "markets.x-par"},
	} {
		_, err := NewBook(BookConfig{Markets: []Definition{tc.d}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%+v: err = %v, want %q", tc.d, err, tc.want)
		}
	}
}

func TestAssumedWeekdaysPastCoverage(t *testing.T) {
	t.Parallel()
	b, err := NewBook(BookConfig{AssumeWeekdays: true})
	if err != nil {
		t.Fatal(err)
	}
	cal := mustCal(t, b, XSHG)
	if _, last := cal.Coverage(); last != ymd(2026, 12, 31) {
		t.Fatalf("coverage ends %s: assumed days must not count as covered", last)
	}
	s, ok, err := cal.Session(ymd(2027, 1, 4))
	if err != nil || !ok || !s.Assumed {
		t.Fatalf("2027-01-04: %+v %v %v, want an assumed session", s, ok, err)
	}
	if !s.Open.Equal(local(t, "Asia/Shanghai", 2027, 1, 4, 9, 30)) || !s.BreakStart.Equal(local(t, "Asia/Shanghai", 2027, 1, 4, 11, 30)) {
		t.Fatalf("assumed hours %s break %s", s.Open, s.BreakStart)
	}
	if _, ok, _ := cal.Session(ymd(2027, 1, 2)); ok {
		t.Fatal("an assumed Saturday")
	}
	if s, ok, _ := cal.Session(ymd(2026, 12, 31)); !ok || s.Assumed {
		t.Fatal("a covered day marked assumed")
	}
	if open, err := cal.IsOpen(local(t, "Asia/Shanghai", 2027, 1, 4, 10, 0)); err != nil || !open {
		t.Fatalf("IsOpen on an assumed day = %v, %v", open, err)
	}
}

// BenchmarkSetRuntime is what a watcher pays when an entry changes: the
// affected calendar is rebuilt and swapped (the others are untouched).
func BenchmarkSetRuntime(b *testing.B) {
	book, err := NewBook(BookConfig{})
	if err != nil {
		b.Fatal(err)
	}
	entries := [][]Override{
		{{Market: XNYS, Kind: KindHoliday, Date: ymd(2027, 1, 11), Source: Source{Origin: OriginRuntime, Ref: "a"}}},
		{{Market: XNYS, Kind: KindHalt, Date: ymd(2027, 3, 11), From: 600, To: 690, Source: Source{Origin: OriginRuntime, Ref: "b"}}},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		book.SetRuntime(entries[i%2])
	}
}

// TestBooksShareOnlyPlainCalendars: every Book of a process shares a
// built-in market's calendar while nothing changes it (no file entry, no
// runtime entry, no coverage extension, the same on_coverage_end), and
// never shares one that something changes, nor a market defined in config.
func TestBooksShareOnlyPlainCalendars(t *testing.T) {
	t.Parallel()
	newBook := func(cfg BookConfig) *Book {
		b, err := NewBook(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := newBook(BookConfig{}), newBook(BookConfig{})
	for _, code := range []Code{XNYS, XLON, XSHG} {
		if mustCal(t, a, code).data() != mustCal(t, b, code).data() {
			t.Fatalf("%s: two plain books built their own calendars", code)
		}
	}
	open := func(bk *Book, code Code, d Date) bool {
		t.Helper()
		_, ok, err := mustCal(t, bk, code).Session(d)
		if err != nil {
			t.Fatalf("%s %s: %v", code, d, err)
		}
		return ok
	}
	friday, monday := ymd(2027, 1, 8), ymd(2027, 1, 4)

	// The file's holiday and XSHG's longer coverage stay in their book.
	ex := exampleBook(t)
	if open(ex, XNYS, friday) || !open(a, XNYS, friday) {
		t.Fatal("the file's XNYS holiday on 2027-01-08 is not in its book only")
	}
	if !open(ex, XSHG, monday) {
		t.Fatal("XSHG covered through 2027 by the file has no session on 2027-01-04")
	}
	if _, _, err := mustCal(t, a, XSHG).Session(monday); err == nil {
		t.Fatal("a plain book answers for XSHG past its built-in coverage")
	}
	// So does a coverage extension alone.
	longer := newBook(BookConfig{File: &OverridesFile{Path: "longer.yaml", CoveredThrough: map[Code]Date{XSHG: ymd(2027, 12, 31)}}})
	if !open(longer, XSHG, monday) {
		t.Fatal("XSHG covered through 2027 alone has no session on 2027-01-04")
	}
	// Assumed weekdays are another calendar.
	if w := newBook(BookConfig{AssumeWeekdays: true}); !open(w, XSHG, monday) {
		t.Fatal("with assumed weekdays XSHG has no session on 2027-01-04")
	}
	// A runtime entry changes one book, and removing it restores it.
	a.SetRuntime([]Override{{Market: XNYS, Kind: KindHoliday, Date: friday, Name: "test"}})
	if open(a, XNYS, friday) || !open(b, XNYS, friday) {
		t.Fatal("a runtime holiday is not in its book only")
	}
	a.SetRuntime(nil)
	if !open(a, XNYS, friday) {
		t.Fatal("removing the runtime holiday did not restore the session")
	}
	// Two books may define the same code differently.
	tue := Definition{Code: "XTST", Name: "test", Zone: "UTC", Open: 9 * 60, Close: 17 * 60,
		Weekdays: []time.Weekday{time.Tuesday}, From: ymd(2027, 1, 1), CoveredThrough: ymd(2027, 1, 31)}
	mon := tue
	mon.Weekdays = []time.Weekday{time.Monday}
	if !open(newBook(BookConfig{Markets: []Definition{mon}}), "XTST", monday) || open(newBook(BookConfig{Markets: []Definition{tue}}), "XTST", monday) {
		t.Fatal("two definitions of XTST share a calendar")
	}
}
