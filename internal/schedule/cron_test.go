package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	robfig "github.com/robfig/cron/v3"
)

// zone loads an IANA zone for a test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// cronInstants returns the n instants of expr in tz after prev, each from
// the previous one, as RFC 3339 UTC strings.
func cronInstants(t testing.TB, expr, tz, prev string, n int) []string {
	t.Helper()
	c, err := ParseCron(expr, zone(t, tz))
	if err != nil {
		t.Fatalf("ParseCron(%q): %v", expr, err)
	}
	at := utc(t, prev)
	var out []string
	for range n {
		next, err := c.Next(at)
		if err != nil {
			t.Fatalf("Next(%s): %v", at, err)
		}
		if !next.After(at) || next.Location() != time.UTC {
			t.Fatalf("Next(%s) = %s: not strictly after, in UTC", at, next)
		}
		out = append(out, next.Format(time.RFC3339))
		at = next
	}
	return out
}

func TestParseCronErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, want string
	}{
		{"0 0 32 * *", "cron: field 3 (day of month): 32 out of range 1-31"},
		{"0 0 0 32 * *", "cron: field 4 (day of month): 32 out of range 1-31"},
		{"60 * * * * *", "cron: field 1 (second): 60 out of range 0-59"},
		{"* 24 * * *", "cron: field 2 (hour): 24 out of range 0-23"},
		{"* * * 13 *", "cron: field 4 (month): 13 out of range 1-12"},
		{"* * * * 8", "cron: field 5 (day of week): 8 out of range 0-7"},
		{"* * * 0 *", "cron: field 4 (month): 0 out of range 1-12"},
		{"*/0 * * * *", `cron: field 1 (minute): step "0" must be a number from 1 to 59`},
		{"*/x * * * *", `cron: field 1 (minute): step "x" must be a number from 1 to 59`},
		{"5-3 * * * *", "cron: field 1 (minute): range 5-3 is backwards"},
		{"1,,2 * * * *", `cron: field 1 (minute): empty item in list "1,,2"`},
		{"? * * * *", `cron: field 1 (minute): "?" is not a number`},
		{"* * * * funday", `cron: field 5 (day of week): "funday" is not a number or a name (sun-sun)`},
		{"* * * smarch *", `cron: field 4 (month): "smarch" is not a number or a name (jan-dec)`},
		{"+5 * * * *", `cron: field 1 (minute): "+5" is not a number`},
		{"* * * *", `cron: want 5 or 6 fields (seconds first and optional), got 4 in "* * * *"`},
		{"* * * * * * *", `cron: want 5 or 6 fields (seconds first and optional), got 7 in "* * * * * * *"`},
		{"", `cron: want 5 or 6 fields (seconds first and optional), got 0 in ""`},
		{"@every 5s", `cron: want 5 or 6 fields (seconds first and optional), got 2 in "@every 5s"`},
		{"@fortnightly", `cron: unknown shorthand "@fortnightly" (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)`},
		{"0 0 30 2 *", "cron: fields 3 and 4 (day of month, month): no month of the expression has day 30"},
		{"0 0 0 31 4,6,9,11 *", "cron: fields 4 and 5 (day of month, month): no month of the expression has day 31"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCron(tt.expr, nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseCron(%q) error = %v, want %q", tt.expr, err, tt.want)
			}
		})
	}
}

// TestCronNext walks expressions across ordinary days, names, steps, the
// day-field rule and both DST changes in New York and London.
func TestCronNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, expr, tz, prev string
		want                 []string
	}{
		{"every 5 minutes, with seconds", "0 */5 * * * *", "UTC", "2026-11-23T10:02:30Z",
			[]string{"2026-11-23T10:05:00Z", "2026-11-23T10:10:00Z"}},
		{"every 5 minutes, 5 fields", "*/5 * * * *", "UTC", "2026-11-23T10:05:00Z",
			[]string{"2026-11-23T10:10:00Z", "2026-11-23T10:15:00Z"}},
		{"every second from a fraction", "* * * * * *", "UTC", "2026-11-23T10:00:00.5Z",
			[]string{"2026-11-23T10:00:01Z", "2026-11-23T10:00:02Z"}},
		{"weekdays 09:30 New York, over a weekend", "0 30 9 * * mon-fri", "America/New_York", "2026-11-20T15:00:00Z",
			[]string{"2026-11-23T14:30:00Z", "2026-11-24T14:30:00Z"}},
		{"names in any case, lists", "0 0 1 JAN,jul *", "UTC", "2026-03-01T00:00:00Z",
			[]string{"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		{"a/n runs from a to the end", "10/20 * * * *", "UTC", "2026-11-23T10:00:00Z",
			[]string{"2026-11-23T10:10:00Z", "2026-11-23T10:30:00Z", "2026-11-23T10:50:00Z", "2026-11-23T11:10:00Z"}},
		{"ranges with steps", "0 9-17/4 * * *", "UTC", "2026-11-23T00:00:00Z",
			[]string{"2026-11-23T09:00:00Z", "2026-11-23T13:00:00Z", "2026-11-23T17:00:00Z", "2026-11-24T09:00:00Z"}},
		{"Sunday is 0 and 7", "0 12 * * 7", "UTC", "2026-11-20T00:00:00Z",
			[]string{"2026-11-22T12:00:00Z", "2026-11-29T12:00:00Z"}},
		{"*/2 on days of week is 0,2,4,6", "0 12 * * */2", "UTC", "2026-11-21T13:00:00Z", // Saturday
			[]string{"2026-11-22T12:00:00Z", "2026-11-24T12:00:00Z", "2026-11-26T12:00:00Z", "2026-11-28T12:00:00Z"}},
		{"both day fields restricted: either matches", "0 0 13 * fri", "UTC", "2026-11-01T00:00:00Z",
			[]string{"2026-11-06T00:00:00Z", "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z"}},
		{"day of month with a * day of week: both", "0 0 13 * *", "UTC", "2026-11-01T00:00:00Z",
			[]string{"2026-11-13T00:00:00Z", "2026-12-13T00:00:00Z"}},
		{"? is * for the days", "0 0 0 ? * mon", "UTC", "2026-11-20T00:00:00Z",
			[]string{"2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"}},
		{"29 February is years away", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"a step of 1 is every value", "*/1 * * * *", "UTC", "2026-11-23T10:00:30Z",
			[]string{"2026-11-23T10:01:00Z", "2026-11-23T10:02:00Z"}},
		{"the largest step: minutes 0 and 59", "*/59 * * * *", "UTC", "2026-11-23T10:00:30Z",
			[]string{"2026-11-23T10:59:00Z", "2026-11-23T11:00:00Z"}},
		{"a range of one value", "5-5 * * * *", "UTC", "2026-11-23T10:00:00Z",
			[]string{"2026-11-23T10:05:00Z", "2026-11-23T11:05:00Z"}},
		{"New Year's Eve only: December counts for the day check", "0 0 31 12 *", "UTC", "2026-11-01T00:00:00Z",
			[]string{"2026-12-31T00:00:00Z", "2027-12-31T00:00:00Z"}},
		{"@daily in New York", "@daily", "America/New_York", "2026-11-23T12:00:00Z",
			[]string{"2026-11-24T05:00:00Z"}},
		{"@hourly", "@hourly", "UTC", "2026-11-23T12:00:00Z", []string{"2026-11-23T13:00:00Z"}},
		{"@weekly is Sunday midnight", "@weekly", "UTC", "2026-11-23T12:00:00Z", []string{"2026-11-29T00:00:00Z"}},
		{"@monthly", "@monthly", "UTC", "2026-11-23T12:00:00Z", []string{"2026-12-01T00:00:00Z"}},
		{"@yearly", "@yearly", "UTC", "2026-11-23T12:00:00Z", []string{"2027-01-01T00:00:00Z"}},

		// New York springs forward on 2027-03-14: 02:00 EST becomes 03:00 EDT.
		{"NY spring: 02:30 does not exist, so not that day", "0 30 2 * * *", "America/New_York", "2027-03-12T12:00:00Z",
			[]string{"2027-03-13T07:30:00Z", "2027-03-15T06:30:00Z", "2027-03-16T06:30:00Z"}},
		{"NY spring: 03:00 is the first instant after the gap", "0 0 3 * * *", "America/New_York", "2027-03-13T12:00:00Z",
			[]string{"2027-03-14T07:00:00Z", "2027-03-15T07:00:00Z"}},
		{"NY spring: hourly goes from 01:00 EST to 03:00 EDT", "0 0 * * * *", "America/New_York", "2027-03-14T05:30:00Z",
			[]string{"2027-03-14T06:00:00Z", "2027-03-14T07:00:00Z", "2027-03-14T08:00:00Z"}},
		{"NY spring: every 30 minutes skips the gap", "0 */30 * * * *", "America/New_York", "2027-03-14T06:15:00Z",
			[]string{"2027-03-14T06:30:00Z", "2027-03-14T07:00:00Z", "2027-03-14T07:30:00Z"}},

		// New York falls back on 2026-11-01: 02:00 EDT becomes 01:00 EST.
		{"NY fall: 01:30 runs once, at 01:30 EDT", "0 30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}},
		{"NY fall: from inside the repeated hour, the next day", "0 30 1 * * *", "America/New_York", "2026-11-01T06:10:00Z",
			[]string{"2026-11-02T06:30:00Z"}},
		{"NY fall: a restricted hour runs in the first 01:00 only", "0 */20 1 * * *", "America/New_York", "2026-11-01T04:50:00Z",
			[]string{"2026-11-01T05:00:00Z", "2026-11-01T05:20:00Z", "2026-11-01T05:40:00Z", "2026-11-02T06:00:00Z"}},
		{"NY fall: an every-hour expression runs in both", "0 30 * * * *", "America/New_York", "2026-11-01T04:00:00Z",
			[]string{"2026-11-01T04:30:00Z", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z"}},
		{"NY fall: 02:00 exists once, in EST", "0 0 2 * * *", "America/New_York", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T07:00:00Z", "2026-11-02T07:00:00Z"}},

		// London: 01:00 GMT becomes 02:00 BST on 2026-03-29, 02:00 BST
		// becomes 01:00 GMT on 2026-10-25.
		{"London spring: 01:30 does not exist", "0 30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z",
			[]string{"2026-03-30T00:30:00Z", "2026-03-31T00:30:00Z"}},
		{"London fall: 01:30 runs once, in BST", "0 30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{"London fall: every 15 minutes all through", "0 */15 * * * *", "Europe/London", "2026-10-25T00:40:00Z",
			[]string{"2026-10-25T00:45:00Z", "2026-10-25T01:00:00Z", "2026-10-25T01:15:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := cronInstants(t, tt.expr, tt.tz, tt.prev, len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("%q in %s after %s (-want +got):\n%s", tt.expr, tt.tz, tt.prev, diff)
			}
		})
	}
}

// TestCronNextOracle compares Next with a minute-by-minute scan of the
// instants around each DST change, deciding each from the local clock with
// its own predicate: a wall time repeated by the change is taken at its
// first occurrence (an hour earlier it read the same) unless the
// expression runs every hour.
func TestCronNextOracle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr      string
		match     func(l time.Time) bool
		everyHour bool
	}{
		{"*/15 * * * *", func(l time.Time) bool { return l.Minute()%15 == 0 }, true},
		{"30 1 * * *", func(l time.Time) bool { return l.Hour() == 1 && l.Minute() == 30 }, false},
		{"0,45 0-3 * * *", func(l time.Time) bool { return l.Hour() <= 3 && (l.Minute() == 0 || l.Minute() == 45) }, false},
		{"*/10 2 * * *", func(l time.Time) bool { return l.Hour() == 2 && l.Minute()%10 == 0 }, false},
		{"5 */2 * * sat,sun", func(l time.Time) bool {
			return l.Minute() == 5 && l.Hour()%2 == 0 && (l.Weekday() == time.Saturday || l.Weekday() == time.Sunday)
		}, false},
		{"59 * * * *", func(l time.Time) bool { return l.Minute() == 59 }, true},
	}
	spans := []struct {
		tz   string
		from string
	}{
		{"America/New_York", "2027-03-13T00:00:00Z"},
		{"America/New_York", "2026-10-31T00:00:00Z"},
		{"Europe/London", "2026-03-28T00:00:00Z"},
		{"Europe/London", "2026-10-24T00:00:00Z"},
		{"Australia/Lord_Howe", "2026-04-04T00:00:00Z"}, // a half-hour change
	}
	for _, tt := range tests {
		for _, span := range spans {
			t.Run(tt.expr+"/"+span.tz+"/"+span.from[:10], func(t *testing.T) {
				t.Parallel()
				loc := zone(t, span.tz)
				from := utc(t, span.from)
				to := from.AddDate(0, 0, 3)
				var want []string
				for at := from.Add(time.Minute); !at.After(to); at = at.Add(time.Minute) {
					l := at.In(loc)
					if !tt.match(l) {
						continue
					}
					if !tt.everyHour && repeatedWall(at, loc) {
						continue
					}
					want = append(want, at.Format(time.RFC3339))
				}
				c, err := ParseCron(tt.expr, loc)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for at := from; ; {
					next, err := c.Next(at)
					if err != nil {
						t.Fatal(err)
					}
					if next.After(to) {
						break
					}
					got = append(got, next.Format(time.RFC3339))
					at = next
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("(-scan +Next):\n%s", diff)
				}
			})
		}
	}
}

// repeatedWall reports whether the wall clock at t was already read at an
// earlier instant within the two hours before it.
func repeatedWall(at time.Time, loc *time.Location) bool {
	wall := at.In(loc).Format("2006-01-02 15:04")
	for back := time.Minute; back <= 2*time.Hour; back += time.Minute {
		if at.Add(-back).In(loc).Format("2006-01-02 15:04") == wall {
			return true
		}
	}
	return false
}

// TestCronAgainstRobfig records what robfig/cron (which Kubernetes
// CronJob uses) does on the same DST days, as the package documentation
// states: it skips a time the clocks jump over, as this package does, and
// runs a repeated time twice, where this package runs it once.
func TestCronAgainstRobfig(t *testing.T) {
	t.Parallel()
	ny := zone(t, "America/New_York")
	theirs := func(spec string, prev string, n int) []string {
		s, err := robfig.ParseStandard("CRON_TZ=America/New_York " + spec)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for at := utc(t, prev); len(out) < n; {
			at = s.Next(at)
			out = append(out, at.UTC().Format(time.RFC3339))
		}
		return out
	}
	tests := []struct {
		name, spec, prev string
		robfig, ours     []string
	}{
		{"spring gap: both skip the day", "30 2 * * *", "2027-03-13T12:00:00Z",
			[]string{"2027-03-15T06:30:00Z"}, []string{"2027-03-15T06:30:00Z"}},
		{"fall overlap: robfig runs twice, we once", "30 1 * * *", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"},
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.robfig, theirs(tt.spec, tt.prev, len(tt.robfig))); diff != "" {
				t.Fatalf("robfig/cron (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.ours, cronInstants(t, tt.spec, ny.String(), tt.prev, len(tt.ours))); diff != "" {
				t.Fatalf("ours (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseCron checks that any expression either fails with an error
// naming cron, or parses to one whose canonical text parses to the same
// schedule and whose next instants are matching instants strictly after
// the previous, in UTC.
func FuzzParseCron(f *testing.F) {
	for _, seed := range []string{
		"0 */5 * * * *", "*/5 * * * *", "0 30 9 * * mon-fri", "0 0 13 * fri", "0 0 29 2 *",
		"@daily", "@HOURLY", "10/20 1-5,7 * JAN-mar ?", "0 0 32 * *", "5-3 * * * *", "* * * * 7",
		"*/0 * * * *", "1,,2 * * * *", "0 0 30 2 *", "", "   0  0  *  *  *  ",
	} {
		f.Add(seed)
	}
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	from := time.Date(2026, time.October, 31, 23, 59, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := ParseCron(expr, loc)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cron: ") {
				t.Fatalf("error %q does not name cron", err)
			}
			return
		}
		again, err := ParseCron(c.String(), loc)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", c.String(), expr, err)
		}
		if diff := cmp.Diff(c, again, cmp.AllowUnexported(Cron{}), cmp.Comparer(func(a, b *time.Location) bool { return a == b })); diff != "" {
			t.Fatalf("canonical %q of %q parses differently (-first +again):\n%s", c.String(), expr, diff)
		}
		at := from
		for range 3 {
			next, err := c.Next(at)
			if errors.Is(err, ErrNoCronMatch) {
				return // a valid expression may match only once in years (29 February on a Friday)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !next.After(at) || !c.Matches(next) || next.Location() != time.UTC {
				t.Fatalf("%q: Next(%s) = %s: not a matching instant after it, in UTC", expr, at, next)
			}
			at = next
		}
	})
}
