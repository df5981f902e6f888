package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/calendars"
	"heartbeat/internal/cli"
	"heartbeat/internal/market"
	"heartbeat/internal/testinfra"
)

// answerFiles is where the market package keeps the exchange_calendars
// answer files.
var answerFiles = filepath.Join("..", "..", "internal", "market", "testdata", "calendars")

// runResult is what one invocation of run produced.
type runResult struct {
	code           int
	stdout, stderr string
}

// runScheduler calls run with args and captures its output.
func runCLI(t *testing.T, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr)
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// offline returns the flags that point the calendar commands at a Redis
// nobody listens on, so that they answer from the config alone whatever
// runs on the machine.
func offline(t *testing.T) []string {
	t.Helper()
	return []string{"--redis", fmt.Sprintf("redis://127.0.0.1:%d/0", testinfra.FreePort(t))}
}

// offlineNote is what the calendar commands say on stderr when Redis does
// not answer.
const offlineNote = "is not reachable: only the overrides file and the built-in rules apply, without runtime calendar entries\n"

// requireOfflineNote fails unless stderr is exactly the one line saying
// Redis did not answer.
func requireOfflineNote(t *testing.T, got runResult) {
	t.Helper()
	if got.code != cli.ExitOK || strings.Count(got.stderr, "\n") != 1 || !strings.HasSuffix(got.stderr, offlineNote) {
		t.Fatalf("exit %d, stderr %q; want 0 and only the note that Redis is not reachable", got.code, got.stderr)
	}
}

// answerRows returns the header and the rows of an answer file whose label
// (midnight UTC of the session date) is within from..to, byte for byte.
// fix, when not nil, rewrites each row first.
func answerRows(t *testing.T, file, from, to string, fix func(t *testing.T, row string) string) string {
	t.Helper()
	f, err := os.Open(filepath.Join(answerFiles, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		row := sc.Text()
		if !first {
			label := row[:len("2006-01-02")]
			if label < from || label > to {
				continue
			}
			if fix != nil {
				row = fix(t, row)
			}
		}
		b.WriteString(row + "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// cmesRegularClose applies the oracle's mapping for cmes.csv: that file
// models CME sessions as 17:00-17:00 Chicago, while the real (and our)
// regular close is 16:00; 12:00 early closes are kept.
func cmesRegularClose(t *testing.T, row string) string {
	t.Helper()
	chicago, err := time.LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	cols := strings.Split(row, ",")
	closing, err := time.Parse(time.RFC3339, cols[2])
	if err != nil {
		t.Fatal(err)
	}
	if local := closing.In(chicago); local.Hour() == 17 && local.Minute() == 0 {
		cols[2] = closing.Add(-time.Hour).UTC().Format(time.RFC3339)
	}
	return strings.Join(cols, ",")
}

// TestSessionsMatchesAnswerFiles checks that `sessions` prints, byte for
// byte, the header and rows of the answer file for the same dates.
func TestSessionsMatchesAnswerFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		market, file, from, to string
		fix                    func(t *testing.T, row string) string
	}{
		{market: "XNYS", file: "xnys.csv", from: "2022-01-01", to: "2022-12-31"},
		{market: "XHKG", file: "xhkg.csv", from: "2024-01-01", to: "2024-12-31"},
		{market: "XTKS", file: "xtks.csv", from: "2024-01-01", to: "2024-12-31"}, // close moves to 15:30 on 2024-11-05
		{market: "XSHG", file: "xshg.csv", from: "2026-01-01", to: "2026-12-31"},
		{market: "XBOM", file: "xbom.csv", from: "2026-01-01", to: "2026-12-31"},
		{market: "XLON", file: "xlon.csv", from: "2022-01-01", to: "2022-12-31"},
		{market: "XASX", file: "xasx.csv", from: "2024-01-01", to: "2024-12-31"},
		{market: "ALWAYS", file: "24-7.csv", from: "2016-01-01", to: "2016-12-31"},
		{market: "CMES", file: "cmes.csv", from: "2026-01-01", to: "2026-12-31", fix: cmesRegularClose},
	}
	for _, tt := range tests {
		t.Run(tt.market, func(t *testing.T) {
			t.Parallel()
			want := answerRows(t, tt.file, tt.from, tt.to, tt.fix)
			if strings.Count(want, "\n") < 50 {
				t.Fatalf("answer file %s has only %d lines for %s..%s", tt.file, strings.Count(want, "\n"), tt.from, tt.to)
			}
			got := runCLI(t, append([]string{"sessions", "--market", tt.market, "--from", tt.from, "--to", tt.to}, offline(t)...)...)
			requireOfflineNote(t, got)
			if diff := cmp.Diff(want, got.stdout); diff != "" {
				t.Fatalf("sessions output differs from %s (-want +got):\n%s", tt.file, diff)
			}
		})
	}
}

// TestSessionsErrors checks the exit codes of `sessions`: 2 for a command
// line the user must fix, 1 for a range the calendar does not cover.
func TestSessionsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr []string // substrings of stderr
	}{
		{"unknown market", []string{"--market", "XXXX", "--from", "2022-01-01", "--to", "2022-01-31"}, cli.ExitUsage, []string{"--market", "unknown market", `"XXXX"`}},
		{"lower-case market", []string{"--market", "xnys", "--from", "2022-01-01", "--to", "2022-01-31"}, cli.ExitUsage, []string{"unknown market"}},
		{"bad from date", []string{"--market", "XNYS", "--from", "2022-13-01", "--to", "2022-12-31"}, cli.ExitUsage, []string{"--from", "2022-13-01"}},
		{"missing to date", []string{"--market", "XNYS", "--from", "2022-01-01"}, cli.ExitUsage, []string{"--to"}},
		{"to before from", []string{"--market", "XNYS", "--from", "2022-12-31", "--to", "2022-01-01"}, cli.ExitUsage, []string{"--to 2022-01-01 is before --from 2022-12-31"}},
		{"unknown flag", []string{"--market", "XNYS", "--since", "2022-01-01"}, cli.ExitUsage, []string{"-since"}},
		{"XSHG beyond its announced year", []string{"--market", "XSHG", "--from", "2027-01-01", "--to", "2027-01-31"}, cli.ExitError, []string{"XSHG calendar covers 2000-01-01 through 2026-12-31", "outside"}},
		{"XBOM across the coverage end", []string{"--market", "XBOM", "--from", "2026-12-01", "--to", "2027-01-31"}, cli.ExitError, []string{"XBOM calendar covers 2000-01-01 through 2026-12-31"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := runCLI(t, append(append([]string{"sessions"}, tt.args...), offline(t)...)...)
			if got.code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", got.code, tt.wantCode, got.stderr)
			}
			if got.stdout != "" {
				t.Fatalf("stdout %q, want nothing on failure", got.stdout)
			}
			for _, s := range tt.wantStderr {
				if !strings.Contains(got.stderr, s) {
					t.Fatalf("stderr %q does not mention %q", got.stderr, s)
				}
			}
		})
	}
}

// marketsRow is the columns of a markets table row the tests check.
type marketsRow struct {
	Market, Phase, Session, CloseLocal, NextChange string
}

// columnGap separates the markets table's columns (tabwriter pads with two
// or more spaces; no cell holds two spaces in a row).
var columnGap = regexp.MustCompile(`\s{2,}`)

// parseMarketsTable splits the markets table into its header and rows.
func parseMarketsTable(t *testing.T, out string) (header []string, rows []marketsRow) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	header = columnGap.Split(strings.TrimSpace(lines[0]), -1)
	for _, line := range lines[1:] {
		cols := columnGap.Split(strings.TrimSpace(line), -1)
		if len(cols) != len(header) {
			t.Fatalf("row %q has %d columns, want %d", line, len(cols), len(header))
		}
		rows = append(rows, marketsRow{Market: cols[0], Phase: cols[1], Session: cols[3], CloseLocal: cols[5], NextChange: cols[8]})
	}
	return header, rows
}

// TestMarketsTable checks `markets --at` on the day after Thanksgiving
// 2026, 14:00 UTC: New York before its 09:30 open with a 13:00 early close,
// Europe open, Asia closed for the weekend, CME open until its 12:00 early
// close, ALWAYS open with no change ahead.
func TestMarketsTable(t *testing.T) {
	t.Parallel()
	got := runCLI(t, append([]string{"markets", "--at", "2026-11-27T14:00:00Z"}, offline(t)...)...)
	requireOfflineNote(t, got)
	header, rows := parseMarketsTable(t, got.stdout)
	wantHeader := []string{"MARKET", "PHASE", "LOCAL TIME", "SESSION", "OPEN (LOCAL)", "CLOSE (LOCAL)", "OPEN (UTC)", "CLOSE (UTC)", "NEXT CHANGE"}
	if diff := cmp.Diff(wantHeader, header); diff != "" {
		t.Fatalf("header mismatch (-want +got):\n%s", diff)
	}
	want := []marketsRow{
		{"XNYS", "closed", "2026-11-27", "2026-11-27 13:00 EST", "opens in 30m 00s"},
		{"XTSE", "closed", "2026-11-27", "2026-11-27 16:00 EST", "opens in 30m 00s"},
		{"XMEX", "closed", "2026-11-27", "2026-11-27 15:00 CST", "opens in 30m 00s"},
		{"XLON", "open", "2026-11-27", "2026-11-27 16:30 GMT", "closes in 2h 30m"},
		{"XETR", "open", "2026-11-27", "2026-11-27 17:30 CET", "closes in 2h 30m"},
		{"XTKS", "closed", "2026-11-30", "2026-11-30 15:30 JST", "opens in 2d 10h 00m"},
		{"XSHG", "closed", "2026-11-30", "2026-11-30 15:00 CST", "opens in 2d 11h 30m"},
		{"XHKG", "closed", "2026-11-30", "2026-11-30 16:00 HKT", "opens in 2d 11h 30m"},
		{"XBOM", "closed", "2026-11-30", "2026-11-30 15:30 IST", "opens in 2d 13h 45m"},
		{"XASX", "closed", "2026-11-30", "2026-11-30 16:00 AEDT", "opens in 2d 9h 00m"},
		{"CMES", "open", "2026-11-27", "2026-11-27 12:00 CST", "closes in 4h 00m"},
		{"ALWAYS", "open", "2026-11-27", "2026-11-28 00:00 UTC", "none within 14 days"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Fatalf("markets table mismatch (-want +got):\n%s", diff)
	}
}

// TestMarketsTableBreaksAndCoverage checks the lunch-break wording and the
// rows of markets whose calendars do not cover the instant.
func TestMarketsTableBreaksAndCoverage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   string
		want map[string]marketsRow // by market; only these rows are checked
	}{
		{"Asian lunch breaks", "2026-03-10T03:00:00Z", map[string]marketsRow{
			"XTKS": {"XTKS", "break", "2026-03-10", "2026-03-10 15:30 JST", "opens in 30m 00s"},
			"XHKG": {"XHKG", "open", "2026-03-10", "2026-03-10 16:00 HKT", "breaks in 1h 00m"},
		}},
		{"beyond XSHG and XBOM coverage", "2027-03-10T15:00:00Z", map[string]marketsRow{
			"XNYS": {"XNYS", "open", "2027-03-10", "2027-03-10 16:00 EST", "closes in 6h 00m"},
			"XSHG": {"XSHG", "-", "-", "-", "XSHG calendar covers 2000-01-01 through 2026-12-31; 2027-03-10T15:00:00Z is outside it"},
			"XBOM": {"XBOM", "-", "-", "-", "XBOM calendar covers 2000-01-01 through 2026-12-31; 2027-03-10T15:00:00Z is outside it"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := runCLI(t, append([]string{"markets", "--at", tt.at}, offline(t)...)...)
			if got.code != cli.ExitOK {
				t.Fatalf("exit %d, stderr %q; want 0", got.code, got.stderr)
			}
			_, rows := parseMarketsTable(t, got.stdout)
			if len(rows) != 12 {
				t.Fatalf("%d rows, want 12", len(rows))
			}
			for _, r := range rows {
				if w, ok := tt.want[r.Market]; ok {
					if diff := cmp.Diff(w, r); diff != "" {
						t.Fatalf("%s row mismatch (-want +got):\n%s", r.Market, diff)
					}
				}
			}
		})
	}
}

// TestMarketsBadInstant checks that an unparsable --at is a usage error.
func TestMarketsBadInstant(t *testing.T) {
	t.Parallel()
	got := runCLI(t, "markets", "--at", "2026-11-27 14:00")
	if got.code != cli.ExitUsage || !strings.Contains(got.stderr, "--at") {
		t.Fatalf("exit %d, stderr %q; want 2 and a message about --at", got.code, got.stderr)
	}
}

// TestHumanDuration checks the NEXT CHANGE durations.
func TestHumanDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{45 * time.Second, "45s"},
		{time.Minute, "1m 00s"},
		{30*time.Minute + 59*time.Second, "30m 59s"},
		{time.Hour, "1h 00m"},
		{4 * time.Hour, "4h 00m"},
		{23*time.Hour + 59*time.Minute, "23h 59m"},
		{24 * time.Hour, "1d 0h 00m"},
		{58 * time.Hour, "2d 10h 00m"},
		{13*24*time.Hour + 5*time.Minute, "13d 0h 05m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := market.HumanDuration(tt.d); got != tt.want {
				t.Fatalf("HumanDuration(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

// writeConfig writes a config file with the given calendar settings and
// an overrides file, and returns the --config flags.
func writeConfig(t *testing.T, config, overrides string) []string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "overrides.yaml")
	if err := os.WriteFile(path, []byte(overrides), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(config, "OVERRIDES", path)), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", cfg}
}

// calendarConfig extends XSHG through 2027 with one holiday, defines XNAS
// as XNYS, and halts XNYS on the morning after Thanksgiving 2026.
const calendarConfig = `calendars:
  overrides: OVERRIDES
markets:
  XNAS: {like: XNYS}
`

const calendarOverrides = `XSHG:
  covered_through: 2027-12-31
  holidays:
    - {date: 2027-02-08, name: "Spring Festival"}
XNYS:
  halts:
    - {date: 2026-11-27, from: "09:45", to: "10:15", name: "technical halt"}
`

// TestSessionsFromConfig checks that sessions answers from the config's
// book: XSHG through the covered_through of the overrides file, without
// its holiday, and XNAS, defined as XNYS, with XNYS's sessions; a halt is
// not in the CSV but is counted on stderr.
func TestSessionsFromConfig(t *testing.T) {
	t.Parallel()
	flags := append(writeConfig(t, calendarConfig, calendarOverrides), offline(t)...)

	got := runCLI(t, append([]string{"sessions", "--market", "XSHG", "--from", "2027-01-01", "--to", "2027-12-31"}, flags...)...)
	requireOfflineNote(t, got)
	lines := strings.Split(strings.TrimSuffix(got.stdout, "\n"), "\n")
	if len(lines) < 230 || lines[0] != ",open,close,break_start,break_end" {
		t.Fatalf("%d lines, header %q; want the header and a year of sessions", len(lines), lines[0])
	}
	if first, last := lines[1][:10], lines[len(lines)-1][:10]; first < "2027-01-01" || first > "2027-01-08" || last != "2027-12-31" {
		t.Fatalf("sessions %s..%s, want 2027's", first, last)
	}
	if strings.Contains(got.stdout, "2027-02-08T00:00:00Z") || !strings.Contains(got.stdout, "2027-02-09T00:00:00Z,2027-02-09T01:30:00Z") {
		t.Fatal("the file's holiday 2027-02-08 is listed, or the next day is not")
	}

	got = runCLI(t, append([]string{"sessions", "--market", "XNAS", "--from", "2022-01-01", "--to", "2022-12-31"}, flags...)...)
	requireOfflineNote(t, got)
	if diff := cmp.Diff(answerRows(t, "xnys.csv", "2022-01-01", "2022-12-31", nil), got.stdout); diff != "" {
		t.Fatalf("XNAS sessions differ from XNYS's (-want +got):\n%s", diff)
	}

	got = runCLI(t, append([]string{"sessions", "--market", "XNYS", "--from", "2026-11-27", "--to", "2026-11-27"}, flags...)...)
	want := ",open,close,break_start,break_end\n2026-11-27T00:00:00Z,2026-11-27T14:30:00Z,2026-11-27T18:00:00Z,,\n"
	if got.code != cli.ExitOK || got.stdout != want || !strings.Contains(got.stderr, "1 halts in these sessions are not shown") {
		t.Fatalf("exit %d, stdout %q, stderr %q", got.code, got.stdout, got.stderr)
	}
}

// TestMarketsFromConfig checks the markets table on the config's book: a
// halt makes XNYS halted, XNAS has a row, and with on_coverage_end:
// weekdays XSHG's session past its coverage is marked assumed.
func TestMarketsFromConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, config, at string
		want             map[string]marketsRow
	}{
		{"a halt", calendarConfig, "2026-11-27T15:00:00Z", map[string]marketsRow{
			"XNYS": {"XNYS", "halted", "2026-11-27", "2026-11-27 13:00 EST", "opens in 15m 00s"},
			"XNAS": {"XNAS", "open", "2026-11-27", "2026-11-27 13:00 EST", "closes in 3h 00m"},
		}},
		{"assumed past coverage", strings.Replace(calendarConfig, "calendars:\n", "calendars:\n  on_coverage_end: weekdays\n", 1), "2028-03-08T03:00:00Z", map[string]marketsRow{
			"XSHG": {"XSHG", "open", "2028-03-08 (assumed)", "2028-03-08 15:00 CST", "breaks in 30m 00s"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := runCLI(t, append(append([]string{"markets", "--at", tt.at}, writeConfig(t, tt.config, calendarOverrides)...), offline(t)...)...)
			requireOfflineNote(t, got)
			_, rows := parseMarketsTable(t, got.stdout)
			if len(rows) != 13 {
				t.Fatalf("%d rows, want 13 (XNAS last)", len(rows))
			}
			for _, r := range rows {
				if w, ok := tt.want[r.Market]; ok {
					if diff := cmp.Diff(w, r); diff != "" {
						t.Fatalf("%s row mismatch (-want +got):\n%s", r.Market, diff)
					}
					delete(tt.want, r.Market)
				}
			}
			if len(tt.want) != 0 {
				t.Fatalf("no rows for %v", tt.want)
			}
		})
	}
}

// TestSessionsRuntimeEntries checks that sessions applies the runtime
// entries of a Redis that answers, and says so naming the Redis without
// its password; a Redis that does not answer leaves the file's calendar.
func TestSessionsRuntimeEntries(t *testing.T) {
	t.Parallel()
	srv := testinfra.StartRedis(t)
	book, err := market.NewBook(market.BookConfig{})
	if err != nil {
		t.Fatal(err)
	}
	closeAt, err := market.ParseTimeOfDay("13:00")
	if err != nil {
		t.Fatal(err)
	}
	early := market.Override{Market: market.XNYS, Kind: market.KindEarlyClose, Date: market.NewDate(2027, time.March, 10), Close: closeAt, Name: "storm"}
	if _, err := calendars.New(srv.Client(), book).Add(t.Context(), early, "cli:ann@ops", time.Date(2027, time.March, 9, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("add the runtime entry: %v", err)
	}
	args := []string{"sessions", "--market", "XNYS", "--from", "2027-03-10", "--to", "2027-03-10"}
	tests := []struct {
		name       string
		redis      string
		wantClose  string
		wantStderr string
	}{
		{"Redis answers", srv.URL(), "2027-03-10T18:00:00Z", "scheduler: applied 1 runtime calendar entries from redis://" + srv.Addr() + "\n"},
		{"Redis does not answer", fmt.Sprintf("redis://:hunter2@127.0.0.1:%d/0", testinfra.FreePort(t)), "2027-03-10T21:00:00Z", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := runCLI(t, append(args, "--redis", tt.redis)...)
			want := ",open,close,break_start,break_end\n2027-03-10T00:00:00Z,2027-03-10T14:30:00Z," + tt.wantClose + ",,\n"
			if got.code != cli.ExitOK || got.stdout != want {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %q", got.code, got.stdout, got.stderr, want)
			}
			if tt.wantStderr == "" {
				requireOfflineNote(t, got)
			} else if got.stderr != tt.wantStderr {
				t.Fatalf("stderr %q, want %q", got.stderr, tt.wantStderr)
			}
			if strings.Contains(got.stderr, "hunter2") {
				t.Fatalf("stderr %q shows the password", got.stderr)
			}
		})
	}
}
