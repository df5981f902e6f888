package market

import "time"

// xlon is the London Stock Exchange: 08:00-16:30 London, no lunch break,
// 12:30 early closes on Christmas Eve and New Year's Eve. Its holidays are
// the bank holidays of England and Wales plus the one-off closures for royal
// occasions. The rules follow the Banking and Financial Dealings Act 1971
// and the exchange_calendars XLON calendar (Apache-2.0).
func xlon() spec {
	return spec{
		code:  XLON,
		name:  "London Stock Exchange",
		zone:  "Europe/London",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: []hours{{open: hm(8, 0), close: hm(16, 30)}},
		holidays: []rule{
			// A weekend New Year's Day gives a substitute bank holiday on
			// the following Monday.
			fixed("New Year's Day", time.January, 1, weekendToMonday),
			easterOffset("Good Friday", -2),
			easterOffset("Easter Monday", 1),
			// First Monday of May, moved to Friday 8 May in 2020 for the
			// 75th anniversary of VE Day.
			yearly("Early May Bank Holiday", func(y int) []Date {
				if d, ok := ukEarlyMayMoved[y]; ok {
					return []Date{d}
				}
				return []Date{NthWeekday(y, time.May, time.Monday, 1)}
			}),
			// Last Monday of May, moved next to the extra bank holiday
			// of a royal jubilee.
			yearly("Spring Bank Holiday", func(y int) []Date {
				if d, ok := ukSpringMoved[y]; ok {
					return []Date{d}
				}
				return []Date{NthWeekday(y, time.May, time.Monday, -1)}
			}),
			nthWeekday("Summer Bank Holiday", time.August, time.Monday, -1),
			fixed("Christmas Day", time.December, 25, weekendPlusTwo),
			fixed("Boxing Day", time.December, 26, weekendPlusTwo),
			// One-off bank holidays proclaimed for royal occasions.
			onDates("Golden Jubilee of Elizabeth II", ymd(2002, time.June, 3)),
			onDates("Wedding of Prince William and Catherine Middleton", ymd(2011, time.April, 29)),
			onDates("Diamond Jubilee of Elizabeth II", ymd(2012, time.June, 5)),
			onDates("Platinum Jubilee of Elizabeth II", ymd(2022, time.June, 3)),
			onDates("State Funeral of Elizabeth II", ymd(2022, time.September, 19)),
			onDates("Coronation of Charles III", ymd(2023, time.May, 8)),
		},
		earlyCloses: []timedRule{
			// The half days fall on the last weekday before Christmas and
			// before New Year's Day: the Friday before when the eve is on
			// a weekend.
			fixed("Christmas Eve", time.December, 24, weekendToFriday).at(hm(12, 30)),
			fixed("New Year's Eve", time.December, 31, weekendToFriday).at(hm(12, 30)),
		},
	}
}

// ukEarlyMayMoved lists the years the Early May Bank Holiday left the first
// Monday of May, by proclamation.
var ukEarlyMayMoved = map[int]Date{
	2020: ymd(2020, time.May, 8), // VE Day 75th anniversary
}

// ukSpringMoved lists the years the Spring Bank Holiday left the last Monday
// of May to sit beside a jubilee bank holiday, by proclamation.
var ukSpringMoved = map[int]Date{
	2002: ymd(2002, time.June, 4), // Golden Jubilee on Monday 3 June
	2012: ymd(2012, time.June, 4), // Diamond Jubilee on Tuesday 5 June
	2022: ymd(2022, time.June, 2), // Platinum Jubilee on Friday 3 June
}
