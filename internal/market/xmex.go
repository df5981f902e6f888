package market

import "time"

// xmex is the Bolsa Mexicana de Valores (BMV): 08:30-15:00 Mexico City, no
// lunch break, no early closes. Its holidays are the banking holidays the
// CNBV sets each year (the federal holidays, Holy Thursday and Good Friday,
// All Souls' Day and the bank employees' day of December 12); one falling on
// a weekend is not moved. The rules follow exchange_calendars
// (exchange_calendar_xmex.py, Apache-2.0) and the BMV's published holiday
// calendars.
func xmex() spec {
	return spec{
		code:  XMEX,
		name:  "Bolsa Mexicana de Valores",
		zone:  "America/Mexico_City",
		first: ymd(2000, time.January, 1),
		last:  ymd(2035, time.December, 31),
		hours: mxHours(mxAnswerFileEnd, 2035),
		holidays: []rule{
			fixed("New Year's Day", time.January, 1, weekdaysOnly),
			// The 2006 reform of the Federal Labour Law (art. 74) moved three
			// holidays to Mondays from 2007 on.
			fixed("Constitution Day", time.February, 5, weekdaysOnly).until(ymd(2006, time.December, 31)),
			nthWeekday("Constitution Day", time.February, time.Monday, 1).since(ymd(2007, time.January, 1)),
			fixed("Benito Juárez's Birthday", time.March, 21, weekdaysOnly).until(ymd(2006, time.December, 31)),
			nthWeekday("Benito Juárez's Birthday", time.March, time.Monday, 3).since(ymd(2007, time.January, 1)),
			easterOffset("Holy Thursday", -3),
			easterOffset("Good Friday", -2),
			fixed("Labour Day", time.May, 1, weekdaysOnly),
			fixed("Independence Day", time.September, 16, weekdaysOnly),
			mxInauguration(),
			// A banking holiday since 2006.
			fixed("Day of the Dead", time.November, 2, weekdaysOnly).since(ymd(2006, time.January, 1)),
			fixed("Revolution Day", time.November, 20, weekdaysOnly).until(ymd(2006, time.December, 31)),
			nthWeekday("Revolution Day", time.November, time.Monday, 3).since(ymd(2007, time.January, 1)),
			// Our Lady of Guadalupe, the bank employees' day.
			fixed("Bank Employees' Day", time.December, 12, weekdaysOnly),
			fixed("Christmas Day", time.December, 25, weekdaysOnly),
			onDates("Bicentennial of Independence", ymd(2010, 9, 17)),
		},
	}
}

// mxAnswerFileEnd is the last session of the answer file xmex.csv; the BMV's
// hours follow exchange_calendars' model up to it (see mxHours).
var mxAnswerFileEnd = ymd(2020, time.September, 18)

// mxInauguration is the day the federal executive power changes hands, a
// Federal Labour Law holiday (art. 74) every six years. Since the 2014
// constitutional reform the new president takes office on October 1, from
// 2024 on; the BMV closed on 2024-10-01. The answer file has sessions on the
// earlier December 1 inaugurations that fell on weekdays (2000, 2006), so
// only the October ones are rules here.
func mxInauguration() rule {
	return yearly("Transmission of Federal Executive Power", func(y int) []Date {
		if y < 2024 || (y-2024)%6 != 0 {
			return nil
		}
		d, ok := weekdaysOnly(ymd(y, time.October, 1))
		if !ok {
			return nil
		}
		return []Date{d}
	})
}

// mxHours returns the BMV's regular hours in Mexico City time through
// lastYear. The BMV keeps its session at 09:30-16:00 New York time: 08:30-15:00
// in Mexico City when both cities are on standard (or both on summer) time,
// 07:30-14:00 while New York is on daylight saving time and Mexico City is
// not. That happened in the weeks between the US and Mexican clock changes
// until Mexico abolished daylight saving time after 2022-10-30, and has
// happened for all of US summer time since.
//
// exchange_calendars ignores this re-timing and writes 08:30-15:00 Mexico
// City throughout, so the answer file (and this calendar up to its last
// session, until) has 08:30 in those weeks too. Eras begin after until.
func mxHours(until Date, lastYear int) []hours {
	regular := hours{open: hm(8, 30), close: hm(15, 0)}
	early := hours{open: hm(7, 30), close: hm(14, 0)}
	out := []hours{regular}
	// shift runs sessions dated from..to-1 an hour early.
	shift := func(from, to Date) {
		if !from.After(until) {
			return
		}
		e, r := early, regular
		e.from, r.from = from, to
		out = append(out, e, r)
	}
	for y := until.Year; y <= lastYear; y++ {
		// US daylight saving time since 2007: second Sunday of March to
		// first Sunday of November.
		usStart := NthWeekday(y, time.March, time.Sunday, 2)
		usEnd := NthWeekday(y, time.November, time.Sunday, 1)
		if y <= 2022 {
			// Mexico's daylight saving time: first Sunday of April to
			// last Sunday of October, last observed in 2022.
			shift(usStart, NthWeekday(y, time.April, time.Sunday, 1))
			shift(NthWeekday(y, time.October, time.Sunday, -1), usEnd)
			continue
		}
		shift(usStart, usEnd)
	}
	return out
}
