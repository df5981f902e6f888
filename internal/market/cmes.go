package market

import "time"

// cmes is CME Globex equity index futures (E-mini S&P 500 and the like). The
// session labelled D opens at 17:00 Chicago on the calendar day before D
// (Monday's opens on Sunday evening) and closes at 16:00 Chicago on D; the
// 16:00-17:00 daily halt is closed. New Year's Day, Good Friday and
// Christmas close the market; the other US federal holidays, the day after
// Thanksgiving and Christmas Eve end the session at 12:00. The rules follow
// exchange_calendars (exchange_calendar_cmes.py, Apache-2.0) and CME Group's
// holiday calendar.
func cmes() spec {
	return spec{
		code:  CMES,
		name:  "CME Globex equity index futures",
		zone:  "America/Chicago",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: []hours{{open: -hm(7, 0), close: hm(16, 0)}},
		holidays: []rule{
			// A Saturday New Year's Day is not moved to Friday: it would
			// close the last session of the year.
			fixed("New Year's Day", time.January, 1, sundayToMonday),
			easterOffset("Good Friday", -2),
			fixed("Christmas Day", time.December, 25, nearestWeekday),
			onDates("National Day of Mourning for Ronald Reagan", ymd(2004, 6, 11)),
			onDates("National Day of Mourning for Gerald Ford", ymd(2007, 1, 2)),
			onDates("National Day of Mourning for George H. W. Bush", ymd(2018, 12, 5)),
			onDates("National Day of Mourning for Jimmy Carter", ymd(2025, 1, 9)),
		},
		earlyCloses: []timedRule{
			nthWeekday("Martin Luther King Jr. Day", time.January, time.Monday, 3).at(hm(12, 0)),
			nthWeekday("Washington's Birthday", time.February, time.Monday, 3).at(hm(12, 0)),
			nthWeekday("Memorial Day", time.May, time.Monday, -1).at(hm(12, 0)),
			// A federal holiday since 2021; CME first observed it in 2022.
			fixed("Juneteenth", time.June, 19, nearestWeekday).since(ymd(2022, time.January, 1)).at(hm(12, 0)),
			fixed("Independence Day", time.July, 4, nearestWeekday).at(hm(12, 0)),
			nthWeekday("Labor Day", time.September, time.Monday, 1).at(hm(12, 0)),
			nthWeekday("Thanksgiving Day", time.November, time.Thursday, 4).at(hm(12, 0)),
			relativeTo("Day after Thanksgiving", nthWeekday("Thanksgiving Day", time.November, time.Thursday, 4), 1).at(hm(12, 0)),
			// When Christmas falls on a Saturday, Friday December 24 is the
			// Christmas holiday, which takes precedence.
			fixed("Christmas Eve", time.December, 24, weekdaysOnly).at(hm(12, 0)),
		},
	}
}
