package market

import "time"

// xtse is the Toronto Stock Exchange: 09:30-16:00 Toronto, no lunch break,
// a 13:00 early close on Christmas Eve, and the Ontario statutory holidays
// the exchange observes. The rules follow exchange_calendars
// (exchange_calendar_xtse.py, Apache-2.0) and TMX's published calendars.
func xtse() spec {
	return spec{
		code:  XTSE,
		name:  "Toronto Stock Exchange",
		zone:  "America/Toronto",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: []hours{{open: hm(9, 30), close: hm(16, 0)}},
		holidays: []rule{
			fixed("New Year's Day", time.January, 1, weekendToMonday),
			// Ontario's Family Day, first held in 2008.
			nthWeekday("Family Day", time.February, time.Monday, 3).since(ymd(2008, time.January, 1)),
			easterOffset("Good Friday", -2),
			caVictoriaDay(),
			fixed("Canada Day", time.July, 1, weekendToMonday),
			nthWeekday("Civic Holiday", time.August, time.Monday, 1),
			nthWeekday("Labour Day", time.September, time.Monday, 1),
			nthWeekday("Thanksgiving Day", time.October, time.Monday, 2),
			fixed("Christmas Day", time.December, 25, weekendToMonday),
			caBoxingDay(),
			onDates("September 11 attacks", ymd(2001, 9, 11), ymd(2001, 9, 12)),
		},
		earlyCloses: []timedRule{
			// TMX closes at 13:00 on a weekday Christmas Eve. exchange_calendars
			// (and so the answer file) starts this in 2010.
			fixed("Christmas Eve", time.December, 24, weekdaysOnly).since(ymd(2010, time.January, 1)).at(hm(13, 0)),
		},
	}
}

// caVictoriaDay is Victoria Day: the Monday before May 25 (the last Monday
// on or before May 24).
func caVictoriaDay() rule {
	return yearly("Victoria Day", func(y int) []Date {
		d := rollBack(ymd(y, time.May, 24), func(d Date) bool { return d.Weekday() != time.Monday })
		return []Date{d}
	})
}

// caBoxingDay is Boxing Day, December 26, observed on the first weekday after
// the day Christmas is observed: a Saturday or Sunday Boxing Day moves past
// the weekend and past a Monday already taken by Christmas (Christmas on
// Friday gives Monday 28; on Saturday, Tuesday 28; on Sunday, Tuesday 27).
func caBoxingDay() rule {
	return yearly("Boxing Day", func(y int) []Date {
		christmas, _ := weekendToMonday(ymd(y, time.December, 25))
		return []Date{rollForward(christmas.AddDays(1), Date.IsWeekend)}
	})
}
