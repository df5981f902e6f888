package market

import "time"

// xetr is Xetra, the electronic market of the Frankfurt Stock Exchange:
// 09:00-17:30 Frankfurt, no lunch break, a 14:00 early close on the last
// trading day before New Year's Eve. Xetra closes on the national holidays
// observed by the German banks (not on regional ones) and on Christmas Eve
// and New Year's Eve; a holiday on a weekend is not moved. The rules follow
// Deutsche Börse's trading calendars as modelled by the exchange_calendars
// XETR calendar (Apache-2.0).
func xetr() spec {
	return spec{
		code:  XETR,
		name:  "Xetra (Frankfurt Stock Exchange)",
		zone:  "Europe/Berlin",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: []hours{{open: hm(9, 0), close: hm(17, 30)}},
		holidays: []rule{
			fixed("New Year's Day", time.January, 1, weekdaysOnly),
			easterOffset("Good Friday", -2),
			easterOffset("Easter Monday", 1),
			fixed("Labour Day", time.May, 1, weekdaysOnly),
			// Xetra closed on Whit Monday once in 2007, then every year
			// from 2015 until Deutsche Börse resumed trading on it in 2022.
			onDates("Whit Monday", ymd(2007, time.May, 28)),
			easterOffset("Whit Monday", 50).between(ymd(2015, time.January, 1), ymd(2021, time.December, 31)),
			// Day of German Unity: closed 2014-2021, traded since 2022.
			fixed("Day of German Unity", time.October, 3, weekdaysOnly).between(ymd(2014, time.January, 1), ymd(2021, time.December, 31)),
			// A national holiday for the 500th anniversary of the
			// Reformation, in 2017 only.
			onDates("Reformation Day", ymd(2017, time.October, 31)),
			fixed("Christmas Eve", time.December, 24, weekdaysOnly),
			fixed("Christmas Day", time.December, 25, weekdaysOnly),
			fixed("Boxing Day", time.December, 26, weekdaysOnly),
			fixed("New Year's Eve", time.December, 31, weekdaysOnly),
		},
		earlyCloses: []timedRule{
			// Since 2010 the weekday before New Year's Eve (itself a
			// holiday) ends at 14:00.
			yearly("Last trading day of the year", func(y int) []Date {
				return []Date{lastWeekdayBefore(ymd(y, time.December, 31))}
			}).since(ymd(2010, time.January, 1)).at(hm(14, 0)),
		},
	}
}
