package market

import "time"

// xnys is the New York Stock Exchange: 09:30-16:00 New York, no lunch break,
// 13:00 early closes around Independence Day, Thanksgiving and Christmas.
func xnys() spec {
	return spec{
		code:  XNYS,
		name:  "New York Stock Exchange",
		zone:  "America/New_York",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: []hours{{open: hm(9, 30), close: hm(16, 0)}},
		holidays: []rule{
			// A Saturday New Year's Day is not moved to Friday: it would
			// close the last day of the year.
			fixed("New Year's Day", time.January, 1, sundayToMonday),
			nthWeekday("Martin Luther King Jr. Day", time.January, time.Monday, 3),
			nthWeekday("Washington's Birthday", time.February, time.Monday, 3),
			easterOffset("Good Friday", -2),
			nthWeekday("Memorial Day", time.May, time.Monday, -1),
			fixed("Juneteenth", time.June, 19, nearestWeekday).since(ymd(2022, time.January, 1)),
			fixed("Independence Day", time.July, 4, nearestWeekday),
			nthWeekday("Labor Day", time.September, time.Monday, 1),
			nthWeekday("Thanksgiving Day", time.November, time.Thursday, 4),
			fixed("Christmas Day", time.December, 25, nearestWeekday),
			onDates("September 11 attacks", ymd(2001, 9, 11), ymd(2001, 9, 12), ymd(2001, 9, 13), ymd(2001, 9, 14)),
			onDates("National Day of Mourning for Ronald Reagan", ymd(2004, 6, 11)),
			onDates("National Day of Mourning for Gerald Ford", ymd(2007, 1, 2)),
			onDates("Hurricane Sandy", ymd(2012, 10, 29), ymd(2012, 10, 30)),
			onDates("National Day of Mourning for George H. W. Bush", ymd(2018, 12, 5)),
			onDates("National Day of Mourning for Jimmy Carter", ymd(2025, 1, 9)),
		},
		earlyCloses: []timedRule{
			// Only Monday to Thursday: a Friday July 3 is the Independence
			// Day holiday itself. In 2002 the half day moved to Friday July 5.
			yearly("Day before Independence Day", func(y int) []Date {
				d := ymd(y, time.July, 3)
				if wd := d.Weekday(); wd >= time.Monday && wd <= time.Thursday {
					return []Date{d}
				}
				return nil
			}).except(2002).at(hm(13, 0)),
			relativeTo("Day after Thanksgiving", nthWeekday("Thanksgiving Day", time.November, time.Thursday, 4), 1).at(hm(13, 0)),
			fixed("Christmas Eve", time.December, 24, weekdaysOnly).at(hm(13, 0)),
			onDates("Day after Independence Day", ymd(2002, 7, 5)).at(hm(13, 0)),
			onDates("Day after Christmas", ymd(2003, 12, 26)).at(hm(13, 0)),
		},
	}
}
