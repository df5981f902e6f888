package market

import (
	"testing"
	"time"
)

// TestXETRBeyondAnswerFile checks Xetra sessions after xetr.csv ends
// (2023-06-06): Deutsche Börse's published holidays for 2023-2026 (trading
// on Whit Monday and the Day of German Unity since 2022) and rule
// consequences up to 2035.
func TestXETRBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	euCheckSessions(t, XETR, []euSessionCase{
		{date: ymd(2023, time.October, 3), open: "09:00", close: "17:30"}, // Day of German Unity, traded
		{date: ymd(2023, time.December, 25), holiday: "Christmas Day"},
		{date: ymd(2023, time.December, 26), holiday: "Boxing Day"},
		{date: ymd(2023, time.December, 29), open: "09:00", close: "14:00"},
		{date: ymd(2024, time.January, 1), holiday: "New Year's Day"},
		{date: ymd(2024, time.May, 20), open: "09:00", close: "17:30"}, // Whit Monday, traded
		{date: ymd(2024, time.December, 24), holiday: "Christmas Eve"},
		{date: ymd(2024, time.December, 30), open: "09:00", close: "14:00"},
		{date: ymd(2024, time.December, 31), holiday: "New Year's Eve"},
		{date: ymd(2025, time.April, 18), holiday: "Good Friday"},
		{date: ymd(2025, time.April, 21), holiday: "Easter Monday"},
		{date: ymd(2025, time.May, 1), holiday: "Labour Day"},
		{date: ymd(2025, time.June, 9), open: "09:00", close: "17:30"}, // Whit Monday, traded
		{date: ymd(2026, time.December, 24), holiday: "Christmas Eve"},
		{date: ymd(2026, time.December, 30), open: "09:00", close: "14:00"},
		{date: ymd(2026, time.December, 31), holiday: "New Year's Eve"},
		{date: ymd(2027, time.May, 17), open: "09:00", close: "17:30"}, // Whit Monday, traded
		{date: ymd(2030, time.April, 19), holiday: "Good Friday"},
		{date: ymd(2030, time.April, 22), holiday: "Easter Monday"},
		{date: ymd(2035, time.December, 28), open: "09:00", close: "14:00"}, // New Year's Eve on Monday
	})
}

// TestXETRCoverage checks that Xetra answers through 2035 and no further.
func TestXETRCoverage(t *testing.T) {
	t.Parallel()
	euCheckCoverageEnd(t, XETR, ymd(2035, time.December, 31))
}
