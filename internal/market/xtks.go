package market

import "time"

// xtks is the Tokyo Stock Exchange: 09:00-15:00 Tokyo with a lunch break
// from 11:30 to 12:30, the close moved to 15:30 on 2024-11-05. It is closed
// on Japan's national holidays (Act on National Holidays, with its
// substitute and citizens' holidays) and on the exchange's New Year holidays,
// December 31 to January 3.
//
// The answer file (exchange_calendars) keeps the 11:30 break start for every
// year; the real morning session ended at 11:00 until November 2011. We follow
// the file.
func xtks() spec {
	national := jpNationalHolidays()
	holidays := append([]rule(nil), national...)
	holidays = append(holidays,
		jpSubstituteHoliday(national),
		jpCitizensHoliday(national),
		// The exchange's own New Year holidays (TSE business regulations).
		fixed("New Year holiday (exchange closed)", time.January, 2, asIs),
		fixed("New Year holiday (exchange closed)", time.January, 3, asIs),
		fixed("Year-end holiday (exchange closed)", time.December, 31, asIs),
		// The arrowhead equity trading system failed at the open and the
		// exchange did not trade all day.
		onDates("Equity trading system failure", ymd(2020, time.October, 1)),
	)
	return spec{
		code:  XTKS,
		name:  "Tokyo Stock Exchange",
		zone:  "Asia/Tokyo",
		first: ymd(2000, time.January, 1),
		// Every closure is predicted by rules, the equinox formula included.
		// The Emperor's Birthday would move with a future succession.
		last: ymd(2035, time.December, 31),
		hours: []hours{
			{open: hm(9, 0), close: hm(15, 0), breakStart: hm(11, 30), breakEnd: hm(12, 30)},
			// Trading hours extended by 30 minutes with arrowhead 3.0.
			{from: ymd(2024, time.November, 5), open: hm(9, 0), close: hm(15, 30), breakStart: hm(11, 30), breakEnd: hm(12, 30)},
		},
		holidays: holidays,
	}
}

// jpNationalHolidays returns the days the Act on National Holidays (Law
// No. 178 of 1948, as amended) names, from 2000 on, without the substitute
// and citizens' holidays that follow from them.
func jpNationalHolidays() []rule {
	return []rule{
		fixed("New Year's Day", time.January, 1, asIs),
		// Happy Monday system: second Monday of January since 2000.
		nthWeekday("Coming of Age Day", time.January, time.Monday, 2),
		fixed("National Foundation Day", time.February, 11, asIs),
		// Moved with the imperial succession: Emperor Akihito's birthday
		// until 2018, none in 2019, Emperor Naruhito's from 2020.
		fixed("Emperor's Birthday", time.February, 23, asIs).since(ymd(2020, time.January, 1)),
		yearly("Vernal Equinox Day", func(y int) []Date { return []Date{jpVernalEquinox(y)} }),
		// April 29 was Greenery Day until 2006 and is Showa Day since 2007,
		// when Greenery Day moved to May 4 (2005 amendment).
		fixed("Greenery Day", time.April, 29, asIs).until(ymd(2006, time.December, 31)),
		fixed("Showa Day", time.April, 29, asIs).since(ymd(2007, time.January, 1)),
		fixed("Constitution Memorial Day", time.May, 3, asIs),
		fixed("Greenery Day", time.May, 4, asIs).since(ymd(2007, time.January, 1)),
		fixed("Children's Day", time.May, 5, asIs),
		// Marine Day: July 20 until 2002, third Monday of July since 2003.
		// In 2020 and 2021 the Tokyo Olympics special measures law moved
		// Marine Day, Mountain Day and Sports Day next to the games.
		fixed("Marine Day", time.July, 20, asIs).until(ymd(2002, time.December, 31)),
		nthWeekday("Marine Day", time.July, time.Monday, 3).between(ymd(2003, time.January, 1), ymd(2019, time.December, 31)),
		onDates("Marine Day", ymd(2020, time.July, 23), ymd(2021, time.July, 22)),
		nthWeekday("Marine Day", time.July, time.Monday, 3).since(ymd(2022, time.January, 1)),
		// Mountain Day: August 11 since 2016.
		fixed("Mountain Day", time.August, 11, asIs).between(ymd(2016, time.January, 1), ymd(2019, time.December, 31)),
		onDates("Mountain Day", ymd(2020, time.August, 10), ymd(2021, time.August, 8)),
		fixed("Mountain Day", time.August, 11, asIs).since(ymd(2022, time.January, 1)),
		// Respect for the Aged Day: September 15 until 2002, third Monday
		// of September since 2003.
		fixed("Respect for the Aged Day", time.September, 15, asIs).until(ymd(2002, time.December, 31)),
		nthWeekday("Respect for the Aged Day", time.September, time.Monday, 3).since(ymd(2003, time.January, 1)),
		yearly("Autumnal Equinox Day", func(y int) []Date { return []Date{jpAutumnalEquinox(y)} }),
		// Second Monday of October since 2000: Health and Sports Day, renamed
		// Sports Day in 2020.
		nthWeekday("Health and Sports Day", time.October, time.Monday, 2).until(ymd(2019, time.December, 31)),
		onDates("Sports Day", ymd(2020, time.July, 24), ymd(2021, time.July, 23)),
		nthWeekday("Sports Day", time.October, time.Monday, 2).since(ymd(2022, time.January, 1)),
		fixed("Culture Day", time.November, 3, asIs),
		fixed("Labor Thanksgiving Day", time.November, 23, asIs),
		fixed("Emperor's Birthday", time.December, 23, asIs).until(ymd(2018, time.December, 31)),
		// The 2019 imperial succession (special law of 2018); the days
		// around May 1 became citizens' holidays.
		onDates("Enthronement Day", ymd(2019, time.May, 1)),
		onDates("Enthronement Ceremony Day", ymd(2019, time.October, 22)),
	}
}

// jpHolidaySet returns the dates the national holidays fall on in year y.
func jpHolidaySet(national []rule, y int) map[Date]bool {
	set := map[Date]bool{}
	for _, r := range national {
		for _, d := range r.in(y) {
			set[d] = true
		}
	}
	return set
}

// jpSubstituteHoliday is the substitute holiday (furikae kyujitsu) for a
// national holiday that falls on a Sunday: until 2006 the Monday after it;
// since 2007 the first following day that is not itself a national holiday
// (so a Sunday May 3 moves to May 6).
func jpSubstituteHoliday(national []rule) rule {
	since2007 := ymd(2007, time.January, 1)
	return yearly("Substitute holiday", func(y int) []Date {
		set := jpHolidaySet(national, y)
		var out []Date
		for d := range set {
			if d.Weekday() != time.Sunday {
				continue
			}
			next := d.AddDays(1)
			if !next.Before(since2007) {
				next = rollForward(next, func(d Date) bool { return set[d] })
			}
			if !set[next] {
				out = append(out, next)
			}
		}
		return out
	})
}

// jpCitizensHoliday is the citizens' holiday (kokumin no kyujitsu): a day
// that is not a Sunday or a holiday itself but lies between two national
// holidays (May 4 until 2006, Silver Week days such as 2015-09-22, and
// 2019-04-30 and 2019-05-02 around the enthronement).
func jpCitizensHoliday(national []rule) rule {
	return yearly("Citizens' holiday", func(y int) []Date {
		set := jpHolidaySet(national, y)
		var out []Date
		for d := range set {
			mid := d.AddDays(1)
			if mid.Year == y && !set[mid] && mid.Weekday() != time.Sunday && set[mid.AddDays(1)] {
				out = append(out, mid)
			}
		}
		return out
	})
}

// jpVernalEquinox returns the day of Vernal Equinox Day in year y by the
// standard approximation of the equinox in Japan Standard Time (valid
// 1980-2099). The official date is fixed each February for the next year
// from the National Astronomical Observatory's ephemeris; the formula
// reproduces every official date from 2000 through 2027.
func jpVernalEquinox(y int) Date {
	return NewDate(y, time.March, jpEquinoxDay(y, 20843100))
}

// jpAutumnalEquinox returns the day of Autumnal Equinox Day in year y (see
// jpVernalEquinox).
func jpAutumnalEquinox(y int) Date {
	return NewDate(y, time.September, jpEquinoxDay(y, 23248800))
}

// jpEquinoxDay computes int(base + 0.242194*(y-1980)) - int((y-1980)/4)
// in integer arithmetic, with base (the 1980 day of the month) given in
// millionths: 20.8431 for March, 23.2488 for September.
func jpEquinoxDay(y, base int) int {
	n := y - 1980
	return (base+242194*n)/1000000 - n/4
}
