package web

import (
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/config"
	"heartbeat/internal/market"
)

// xnysOverrides is an overrides file for XNYS: a halt in progress on
// Monday 2 March 2026 at 09:30 New York, an early close that week and a
// holiday in June. Each entry's line is fixed: the sources name it.
const xnysOverrides = `XNYS:
  halts:
    - {date: 2026-03-02, from: "09:30", to: "10:30", name: "technical halt"}
  early_closes:
    - {date: 2026-03-04, close: "13:00", name: "storm"}
  holidays:
    - {date: 2026-06-01, name: "day of mourning"}
`

// withOverrides writes content as the overrides file and returns the
// config edit that names it, and its path.
func withOverrides(t *testing.T, content string) (func(*config.Config), string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "overrides.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return func(c *config.Config) { c.Calendars.Overrides = path }, path
}

func assumeWeekdays(c *config.Config) { c.Calendars.OnCoverageEnd = "weekdays" }

func date(t *testing.T, s string) market.Date {
	t.Helper()
	d, err := market.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustTime(t *testing.T, s string) market.TimeOfDay {
	t.Helper()
	v, err := market.ParseTimeOfDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAPIMarketsShowOverrides checks that the board shows the effective
// XNYS calendar: the file's halt in progress makes the phase halted, the
// week's entries (file and runtime) are listed with their sources, the
// June holiday only in the market's full list, and a runtime entry that
// does not fit is listed as rejected with why.
func TestAPIMarketsShowOverrides(t *testing.T) {
	t.Parallel()
	edit, path := withOverrides(t, xnysOverrides)
	f := setupSite(t, "", at(t, monday), edit)
	entered := at(t, "2026-03-02T13:00:00Z")
	runtime := market.Override{Market: market.XNYS, Kind: market.KindLateOpen, Date: date(t, "2026-03-05"), Open: mustTime(t, "10:30"),
		Name: "systems check", Source: market.Source{Origin: market.OriginRuntime, Ref: "calendar:XNYS:2026-03-05:late_open", Actor: "cli:ann@ops", At: entered}}
	saturday := market.Override{Market: market.XNYS, Kind: market.KindEarlyClose, Date: date(t, "2026-03-07"), Close: mustTime(t, "13:00"),
		Source: market.Source{Origin: market.OriginRuntime, Ref: "calendar:XNYS:2026-03-07:early_close", Actor: "cli:bob@ops", At: entered}}
	if unknown := f.engine.Instruments().Book().SetRuntime([]market.Override{runtime, saturday}); len(unknown) != 0 {
		t.Fatalf("unknown markets: %+v", unknown)
	}

	var board struct {
		Markets  []MarketView `json:"markets"`
		Warnings []string     `json:"warnings"`
	}
	if status, _, body := f.call(t, "GET", "/api/v1/markets", "", nil, &board); status != http.StatusOK {
		t.Fatalf("GET /api/v1/markets: %d %s", status, body)
	}
	if len(board.Markets) != 12 || board.Warnings == nil || len(board.Warnings) != 0 {
		t.Fatalf("%d markets, warnings %q; want 12 and an empty list", len(board.Markets), board.Warnings)
	}
	nyse := board.Markets[0]
	halt := HaltView{From: at(t, "2026-03-02T14:30:00Z"), To: at(t, "2026-03-02T15:30:00Z"), Name: "technical halt"}
	if nyse.Market != "XNYS" || nyse.Phase != "halted" || nyse.Countdown != "opens in 59m 59s" || nyse.Assumed ||
		nyse.CoveredThrough != "2035-12-31" || nyse.OnCoverageEnd != "closed" || !cmp.Equal(nyse.Halts, []HaltView{halt}) {
		t.Fatalf("XNYS %+v", nyse)
	}
	ny := "America/New_York"
	wantWeek := []OverrideView{
		{Market: "XNYS", Kind: "halt", Date: "2026-03-02", Name: "technical halt", Zone: ny, From: "09:30", To: "10:30", Summary: "halt 09:30-10:30 EST",
			Source: SourceView{Origin: "file", Ref: path + ":3", Entry: "halts[0]"}},
		{Market: "XNYS", Kind: "early_close", Date: "2026-03-04", Name: "storm", Zone: ny, Close: "13:00", Summary: "early close 13:00 EST",
			Source: SourceView{Origin: "file", Ref: path + ":5", Entry: "early_closes[0]"}},
		{Market: "XNYS", Kind: "late_open", Date: "2026-03-05", Name: "systems check", Zone: ny, Open: "10:30", Summary: "late open 10:30 EST",
			Source: SourceView{Origin: "runtime", Ref: "calendar:XNYS:2026-03-05:late_open", Actor: "cli:ann@ops", At: entered}},
	}
	if diff := cmp.Diff(wantWeek, nyse.Overrides); diff != "" {
		t.Fatalf("XNYS overrides this week (-want +got):\n%s", diff)
	}
	if len(nyse.Rejected) != 1 || nyse.Rejected[0].Date != "2026-03-07" || nyse.Rejected[0].Source.Actor != "cli:bob@ops" ||
		!strings.Contains(nyse.Rejected[0].Reason, "not a trading day") {
		t.Fatalf("XNYS rejected %+v", nyse.Rejected)
	}
	if london := board.Markets[3]; london.Market != "XLON" || london.Phase != "open" || len(london.Overrides) != 0 || london.Overrides == nil {
		t.Fatalf("XLON %+v", london)
	}

	var detail MarketDetail
	if status, _, body := f.call(t, "GET", "/api/v1/markets/XNYS", "", nil, &detail); status != http.StatusOK {
		t.Fatalf("GET /api/v1/markets/XNYS: %d %s", status, body)
	}
	all := detail.OverridesInForce
	sort.SliceStable(all, func(i, j int) bool { return all[i].Date < all[j].Date })
	june := OverrideView{Market: "XNYS", Kind: "holiday", Date: "2026-06-01", Name: "day of mourning", Zone: ny, Summary: "closed",
		Source: SourceView{Origin: "file", Ref: path + ":7", Entry: "holidays[0]"}}
	if diff := cmp.Diff(append(wantWeek, june), all); diff != "" {
		t.Fatalf("XNYS overrides in force (-want +got):\n%s", diff)
	}
	if detail.Phase != "halted" || !cmp.Equal(detail.Instruments, []string{"SPY"}) {
		t.Fatalf("XNYS detail %+v", detail.MarketView)
	}

	page := f.page(t)
	for _, want := range []string{
		`<span class="phase phase-halted">halted</span>`,
		`<tr data-market="XNYS" data-kind="halt" data-origin="file">`,
		`file ` + path + `:3 (halts[0])`,
		`runtime, by cli:ann@ops at 2026-03-02 13:00:00Z (calendar:XNYS:2026-03-05:late_open)`,
		`<table id="rejected">`,
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("status page does not contain %q", want)
		}
	}
	if strings.Contains(page, "day of mourning") || strings.Contains(page, `id="coverage-warnings"`) {
		t.Fatal("status page lists the June holiday or a coverage banner in March")
	}
}

// page returns the status page's HTML.
func (f *siteFixture) page(t *testing.T) string {
	t.Helper()
	status, _, body := f.call(t, "GET", "/", "", nil, nil)
	if status != http.StatusOK {
		t.Fatalf("GET /: %d %s", status, body)
	}
	return body
}

// TestCoverageWarnings checks the coverage banner and the API's warnings:
// XSHG and XBOM are covered through 2026-12-31, so they warn from 30 days
// before; past the end the warning says whether the market is closed or
// assumed. The site also reports the coverage gauge.
func TestCoverageWarnings(t *testing.T) {
	t.Parallel()
	const fix = "add the exchange's announced holidays with covered_through in calendars.overrides"
	tests := []struct {
		name   string
		now    string
		edits  []func(*config.Config)
		want   []string // warnings, in market order
		assume bool     // XSHG's session is assumed
	}{
		{name: "far from the end", now: "2026-06-01T04:00:00Z", want: []string{}},
		{name: "31 days before the end", now: "2026-11-30T04:00:00Z", want: []string{}},
		{name: "29 days before the end", now: "2026-12-02T04:00:00Z", want: []string{
			"XSHG calendar coverage ends 2026-12-31 (in 29 days): " + fix + ", or set calendars.on_coverage_end: weekdays",
			"XBOM calendar coverage ends 2026-12-31 (in 29 days): " + fix + ", or set calendars.on_coverage_end: weekdays",
		}},
		{name: "29 days before, assumed weekdays next", now: "2026-12-02T04:00:00Z", edits: []func(*config.Config){assumeWeekdays}, want: []string{
			"XSHG calendar coverage ends 2026-12-31 (in 29 days): sessions after it will be assumed weekdays at regular hours; " + fix,
			"XBOM calendar coverage ends 2026-12-31 (in 29 days): sessions after it will be assumed weekdays at regular hours; " + fix,
		}},
		{name: "past the end, closed", now: "2027-01-05T02:00:00Z", want: []string{
			"XSHG calendar coverage ended 2026-12-31 (5 days ago): the market is treated as closed since; " + fix + ", or set calendars.on_coverage_end: weekdays",
			"XBOM calendar coverage ended 2026-12-31 (5 days ago): the market is treated as closed since; " + fix + ", or set calendars.on_coverage_end: weekdays",
		}},
		{name: "past the end, assumed", now: "2027-01-05T02:00:00Z", edits: []func(*config.Config){assumeWeekdays}, assume: true, want: []string{
			"XSHG calendar coverage ended 2026-12-31 (5 days ago): its sessions since are assumed weekdays at regular hours, holidays unknown; " + fix,
			"XBOM calendar coverage ended 2026-12-31 (5 days ago): its sessions since are assumed weekdays at regular hours, holidays unknown; " + fix,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setupSite(t, "", at(t, tt.now), tt.edits...)
			var board struct {
				Markets  []MarketView `json:"markets"`
				Warnings []string     `json:"warnings"`
			}
			f.call(t, "GET", "/api/v1/markets", "", nil, &board)
			if diff := cmp.Diff(tt.want, board.Warnings); diff != "" {
				t.Fatalf("warnings (-want +got):\n%s", diff)
			}
			xshg := board.Markets[6]
			if xshg.Market != "XSHG" || xshg.CoveredThrough != "2026-12-31" || xshg.Assumed != tt.assume {
				t.Fatalf("XSHG %+v", xshg)
			}
			if len(tt.want) > 0 && xshg.CoverageWarning != tt.want[0] {
				t.Fatalf("XSHG coverage_warning %q, want %q", xshg.CoverageWarning, tt.want[0])
			}
			page := f.page(t)
			if got := strings.Contains(page, `id="coverage-warnings"`); got != (len(tt.want) > 0) {
				t.Fatalf("banner shown %v, want %v", got, len(tt.want) > 0)
			}
			for _, w := range tt.want {
				if !strings.Contains(page, "<li>"+strings.ReplaceAll(w, "'", "&#39;")+"</li>") {
					t.Fatalf("the banner does not say %q", w)
				}
			}
			if got := strings.Contains(page, `<span class="badge assumed"`); got != tt.assume {
				t.Fatalf("assumed label shown %v, want %v", got, tt.assume)
			}
			shanghaiEnd := at(t, "2026-12-31T16:00:00Z") // midnight starting 2027-01-01 in Shanghai
			if v, ok := gaugeValue(t, f, "heartbeat_calendar_covered_through_seconds", "XSHG"); !ok || v != float64(shanghaiEnd.Unix()) {
				t.Fatalf("covered_through gauge %v (present %v), want %d", v, ok, shanghaiEnd.Unix())
			}
		})
	}
}

// gaugeValue reads the series of a gauge labelled market=code from the
// site's registry.
func gaugeValue(t *testing.T, f *siteFixture, name, code string) (float64, bool) {
	t.Helper()
	mfs, err := f.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, series := range mf.GetMetric() {
			for _, l := range series.GetLabel() {
				if l.GetName() == "market" && l.GetValue() == code {
					return series.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}
