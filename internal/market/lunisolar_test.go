package market

import (
	"testing"
	"time"
)

// TestLunisolarTable checks that the table covers every year the calendars
// using it cover, and that each date is plausible: Lunar New Year between
// January 21 and February 20, Qingming on April 4, 5 or 6, and each lunar
// festival (month m, day d) between (m-1) months of 29 days and (m-1)
// months of 30 days plus one leap month after Lunar New Year. That last
// check catches a misplaced leap month, such as the 2034 error of older
// tables.
func TestLunisolarTable(t *testing.T) {
	t.Parallel()
	lunar := []struct {
		f          cnFestival
		month, day int
	}{
		{cnBuddhasBirthday, 4, 8},
		{cnDragonBoat, 5, 5},
		{cnMidAutumn, 8, 15},
		{cnDoubleNinth, 9, 9},
	}
	for y := cnLunisolarFirst; y <= cnLunisolarLast; y++ {
		row, ok := cnLunisolar[y]
		if !ok {
			t.Fatalf("no lunisolar dates for %d", y)
		}
		newYear := row[cnNewYear]
		if newYear.Before(NewDate(y, time.January, 21)) || newYear.After(NewDate(y, time.February, 20)) {
			t.Fatalf("%d: Lunar New Year on %s", y, newYear)
		}
		if qm := row[cnQingming]; qm.Before(NewDate(y, time.April, 4)) || qm.After(NewDate(y, time.April, 6)) {
			t.Fatalf("%d: Qingming on %s", y, qm)
		}
		for _, l := range lunar {
			d := row[l.f]
			earliest := newYear.AddDays((l.month-1)*29 + l.day - 1)
			latest := newYear.AddDays((l.month-1)*30 + l.day - 1 + 30)
			if d.Before(earliest) || d.After(latest) {
				t.Fatalf("%d: lunar %d/%d on %s, not within %s..%s", y, l.month, l.day, d, earliest, latest)
			}
		}
	}
	for _, code := range []Code{XHKG, XSHG} {
		sp := specs[code]()
		if sp.first.Year < cnLunisolarFirst || sp.last.Year > cnLunisolarLast {
			t.Fatalf("%s covers %s..%s, beyond the lunisolar table", code, sp.first, sp.last)
		}
	}
}
