package market

import "time"

// xasx is the Australian Securities Exchange (cash market) in Sydney:
// 10:00-16:00 Sydney, no lunch break, 14:10 early closes on the last trading
// days before Christmas and before New Year since 2010. Its holidays are the
// national and New South Wales public holidays. The rules follow the
// exchange_calendars XASX calendar (Apache-2.0) and the ASX trading
// calendars.
func xasx() spec {
	// The half days fall on the last weekday before Christmas Day and
	// before New Year's Day: the Friday before when the eve is on a
	// weekend. ASX traded full days at the end of 2022.
	christmasEve := fixed("Last trading day before Christmas", time.December, 24, weekendToFriday)
	newYearsEve := fixed("Last trading day of the year", time.December, 31, weekendToFriday)
	return spec{
		code:  XASX,
		name:  "Australian Securities Exchange",
		zone:  "Australia/Sydney",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: []hours{{open: hm(10, 0), close: hm(16, 0)}},
		holidays: []rule{
			fixed("New Year's Day", time.January, 1, weekendToMonday),
			// Since 1994 all states observe Australia Day on 26 January,
			// on the Monday after when it falls on a weekend.
			fixed("Australia Day", time.January, 26, weekendToMonday),
			easterOffset("Good Friday", -2),
			easterOffset("Easter Monday", 1),
			// Anzac Day is not moved off a weekend, except in 2010 when
			// the Sunday holiday was observed on Monday 26 April.
			fixed("Anzac Day", time.April, 25, weekdaysOnly),
			onDates("Anzac Day (observed)", ymd(2010, time.April, 26)),
			// Anzac Day fell on Easter Monday in 2011, so Easter Tuesday
			// was a public holiday too.
			onDates("Easter Tuesday", ymd(2011, time.April, 26)),
			// Second Monday of June; renamed after the accession of
			// Charles III in September 2022.
			nthWeekday("Queen's Birthday", time.June, time.Monday, 2).until(ymd(2022, time.December, 31)),
			nthWeekday("King's Birthday", time.June, time.Monday, 2).since(ymd(2023, time.January, 1)),
			fixed("Christmas Day", time.December, 25, weekendPlusTwo),
			fixed("Boxing Day", time.December, 26, weekendPlusTwo),
			onDates("National Day of Mourning for Queen Elizabeth II", ymd(2022, time.September, 22)),
		},
		earlyCloses: []timedRule{
			christmasEve.since(ymd(2010, time.January, 1)).except(2022).at(hm(14, 10)),
			newYearsEve.since(ymd(2010, time.January, 1)).except(2022).at(hm(14, 10)),
		},
	}
}
