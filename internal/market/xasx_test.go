package market

import (
	"testing"
	"time"
)

// TestXASXBeyondAnswerFile checks ASX sessions after xasx.csv ends
// (2025-02-14): the ASX trading calendars for 2025-2027 and rule
// consequences up to 2035.
func TestXASXBeyondAnswerFile(t *testing.T) {
	t.Parallel()
	euCheckSessions(t, XASX, []euSessionCase{
		{date: ymd(2025, time.April, 18), holiday: "Good Friday"},
		{date: ymd(2025, time.April, 21), holiday: "Easter Monday"},
		{date: ymd(2025, time.April, 25), holiday: "Anzac Day"},
		{date: ymd(2025, time.June, 9), holiday: "King's Birthday"},
		{date: ymd(2025, time.June, 10), open: "10:00", close: "16:00"},
		{date: ymd(2025, time.December, 24), open: "10:00", close: "14:10"},
		{date: ymd(2025, time.December, 25), holiday: "Christmas Day"},
		{date: ymd(2025, time.December, 26), holiday: "Boxing Day"},
		{date: ymd(2025, time.December, 31), open: "10:00", close: "14:10"},
		{date: ymd(2026, time.January, 1), holiday: "New Year's Day"},
		{date: ymd(2026, time.January, 26), holiday: "Australia Day"},
		{date: ymd(2026, time.April, 27), open: "10:00", close: "16:00"}, // Anzac Day on Saturday is not moved
		{date: ymd(2026, time.December, 28), holiday: "Boxing Day"},      // Boxing Day on Saturday
		{date: ymd(2027, time.January, 26), holiday: "Australia Day"},
		{date: ymd(2027, time.December, 24), open: "10:00", close: "14:10"},
		{date: ymd(2027, time.December, 27), holiday: "Christmas Day"}, // Christmas on Saturday
		{date: ymd(2027, time.December, 28), holiday: "Boxing Day"},
		{date: ymd(2027, time.December, 31), open: "10:00", close: "14:10"},
		{date: ymd(2030, time.April, 19), holiday: "Good Friday"},
		{date: ymd(2030, time.April, 22), holiday: "Easter Monday"},
		{date: ymd(2030, time.April, 25), holiday: "Anzac Day"},
	})
}

// TestXASXCoverage checks that the ASX calendar answers through 2035 and no
// further.
func TestXASXCoverage(t *testing.T) {
	t.Parallel()
	euCheckCoverageEnd(t, XASX, ymd(2035, time.December, 31))
}
