package market

import (
	"sort"
	"time"
)

// xhkg is the Stock Exchange of Hong Kong: 09:30-16:00 Hong Kong time
// (10:00-16:00 before 2011-03-07) with a lunch break from 12:00 to 13:00,
// closed on Hong Kong's general holidays, with half-day sessions on the
// eves of Christmas, New Year and Lunar New Year.
//
// The rules follow the General Holidays Ordinance (Cap. 149) and the
// exchange_calendars XHKG calendar (Apache License 2.0), whose answer file
// they reproduce. Two simplifications of that answer file are kept: the
// lunch break is 12:00-13:00 throughout (in fact it was 12:30-14:30 until
// 2011-03-04 and 12:00-13:30 until 2012-03-02), and the closing auction
// session after 16:00 (since 2016) is not modelled.
func xhkg() spec {
	return spec{
		code:  XHKG,
		name:  "Hong Kong Stock Exchange",
		zone:  "Asia/Hong_Kong",
		first: ymd(2000, time.January, 1),
		// The lunisolar table reaches 2035 and everything else is rules.
		last: ymd(cnLunisolarLast, time.December, 31),
		hours: []hours{
			// The answer file's lunch break, kept for the years it was
			// really 12:30-14:30 (see above).
			{open: hm(10, 0), close: hm(16, 0), breakStart: hm(12, 0), breakEnd: hm(13, 0)},
			// The morning session was extended to start at 09:30 in 2011.
			{from: ymd(2011, time.March, 7), open: hm(9, 30), close: hm(16, 0), breakStart: hm(12, 0), breakEnd: hm(13, 0)},
		},
		holidays: append(hkGeneralHolidays(
			// The schedule of Cap. 149, in its order except that the
			// holidays on fixed Gregorian or Easter dates come first: when
			// two holidays fall on the same day, the later one in this list
			// is the one moved (see hkGeneralHolidays).
			fixed("New Year's Day", time.January, 1, sundayToMonday),
			easterOffset("Good Friday", -2),
			easterOffset("Day following Good Friday", -1),
			easterOffset("Easter Monday", 1),
			fixed("Labour Day", time.May, 1, sundayToMonday),
			// Since the handover on 1997-07-01.
			fixed("Hong Kong SAR Establishment Day", time.July, 1, sundayToMonday),
			fixed("National Day", time.October, 1, sundayToMonday),
			// A Sunday Christmas is replaced by the second weekday after it.
			fixed("Christmas Day", time.December, 25, hkChristmasDay),
			fixed("First weekday after Christmas Day", time.December, 26, sundayToMonday),
			cnRule("Lunar New Year", cnNewYear, 0, 1, 2),
			yearly("Lunar New Year substitute", hkLunarNewYearSubstitute),
			hkLunar("Ching Ming Festival", cnQingming),
			// A general holiday since 1999.
			hkLunar("Buddha's Birthday", cnBuddhasBirthday),
			hkLunar("Tuen Ng Festival", cnDragonBoat),
			yearly("Day following Mid-Autumn Festival", hkDayFollowingMidAutumn),
			hkLunar("Chung Yeung Festival", cnDoubleNinth),
		),
			// One-off general holiday for the 70th anniversary of the
			// victory in the War of Resistance.
			onDates("70th anniversary of the War of Resistance victory", ymd(2015, 9, 3)),
			// Whole days lost to typhoon signal No. 8 (from
			// exchange_calendars' HKAdhocClosures). Since 2024-09-23 the
			// exchange trades through severe weather, so no more such
			// closures are expected.
			onDates("Severe weather (typhoon signal No. 8)",
				ymd(2001, 7, 6),   // Typhoon Utor
				ymd(2001, 7, 25),  // Typhoon Yutu
				ymd(2008, 8, 6),   // Typhoon Kammuri
				ymd(2008, 8, 22),  // Typhoon Nuri
				ymd(2011, 9, 29),  // Typhoon Nesat
				ymd(2013, 8, 14),  // Typhoon Utor
				ymd(2016, 8, 2),   // Typhoon Nida
				ymd(2016, 10, 21), // Typhoon Haima
				ymd(2017, 8, 23),  // Typhoon Hato
				ymd(2020, 10, 13), // Typhoon Nangka
				ymd(2021, 10, 13), // Typhoon Kompasu
				ymd(2023, 7, 17),  // Typhoon Talim
				ymd(2024, 9, 6),   // Typhoon Yagi
			),
		),
		earlyCloses: []timedRule{
			// Half-day sessions end with the morning session: 12:30 while
			// it began at 10:00, 12:00 since 2011-03-07.
			fixed("Christmas Eve", time.December, 24, weekdaysOnly).until(ymd(2011, time.March, 6)).at(hm(12, 30)),
			fixed("New Year's Eve", time.December, 31, weekdaysOnly).until(ymd(2011, time.March, 6)).at(hm(12, 30)),
			fixed("Christmas Eve", time.December, 24, weekdaysOnly).since(ymd(2011, time.March, 7)).at(hm(12, 0)),
			fixed("New Year's Eve", time.December, 31, weekdaysOnly).since(ymd(2011, time.March, 7)).at(hm(12, 0)),
			// Lunar New Year's Eve has been a half day since 2013.
			cnRule("Lunar New Year's Eve", cnNewYear, -1).since(ymd(2013, time.January, 1)).at(hm(12, 0)),
		},
	}
}

// hkSubstitutionAmendment is when the General Holidays and Employment
// Legislation (Substitution of Holidays) (Amendment) Ordinance 2011 took
// effect. Before it, a Sunday among the first three days of the Lunar New
// Year was replaced by the day preceding Lunar New Year's Day, and a Sunday
// day following Mid-Autumn by the (Saturday) festival itself; since, they
// are replaced by the fourth day of the Lunar New Year and by the 17th day
// of the eighth month.
var hkSubstitutionAmendment = ymd(2012, time.February, 24)

// hkLunar is a lunisolar festival, moved to the following Monday when it
// falls on a Sunday (Cap. 149: "or if that day is a Sunday, then the
// following day").
func hkLunar(name string, f cnFestival) rule {
	return yearly(name, func(y int) []Date {
		d, ok := cnDate(f, y)
		if !ok {
			return nil
		}
		d, _ = sundayToMonday(d)
		return []Date{d}
	})
}

// hkChristmasDay moves a Sunday Christmas to the second weekday after it,
// December 27 (the first, December 26, is a holiday of its own).
func hkChristmasDay(d Date) (Date, bool) {
	if d.Weekday() == time.Sunday {
		return d.AddDays(2), true
	}
	return d, true
}

// hkLunarNewYearSubstitute is the holiday given when one of the first three
// days of the Lunar New Year is a Sunday: the day preceding Lunar New
// Year's Day before the 2012 amendment, the fourth day since.
func hkLunarNewYearSubstitute(y int) []Date {
	d, ok := cnDate(cnNewYear, y)
	if !ok {
		return nil
	}
	for i := range 3 {
		if d.AddDays(i).Weekday() != time.Sunday {
			continue
		}
		if d.Before(hkSubstitutionAmendment) {
			return []Date{d.AddDays(-1)}
		}
		return []Date{d.AddDays(3)}
	}
	return nil
}

// hkDayFollowingMidAutumn is the day after the Mid-Autumn Festival; when
// that is a Sunday, the festival itself (a Saturday) before the 2012
// amendment, and the Monday after since.
func hkDayFollowingMidAutumn(y int) []Date {
	d, ok := cnDate(cnMidAutumn, y)
	if !ok {
		return nil
	}
	d = d.AddDays(1)
	if d.Weekday() == time.Sunday {
		if d.Before(hkSubstitutionAmendment) {
			return []Date{d.AddDays(-1)}
		}
		return []Date{d.AddDays(1)}
	}
	return []Date{d}
}

// hkGeneralHolidays applies what Hong Kong does when two general holidays
// fall on the same day: Cap. 149 s. 6(2) lets the Chief Executive appoint
// an additional holiday, and the one appointed has always been the next
// day that is neither a Sunday nor a general holiday (Ching Ming on Easter
// Monday in 2010, 2015, 2021 and 2026; the day following Mid-Autumn on
// National Day in 2012). Each returned rule keeps its name; of two
// holidays on one date, the one listed later moves. The practice is assumed
// to hold for a Saturday coincidence too, whose only case in coverage is
// Chung Yeung on National Day, Saturday 2033-10-01 (moved to Monday
// 2033-10-03): the gazette for 2033 will confirm or correct it.
func hkGeneralHolidays(rules ...rule) []rule {
	out := make([]rule, len(rules))
	for i, r := range rules {
		out[i] = rule{name: r.name, dates: func(y int) []Date { return hkObserve(rules, y)[i] }}
	}
	return out
}

// hkObserve returns the dates of each of rules in year y after moving
// coinciding holidays.
func hkObserve(rules []rule, y int) [][]Date {
	type pending struct {
		rule int
		date Date
	}
	out := make([][]Date, len(rules))
	taken := map[Date]bool{}
	var moved []pending
	for i, r := range rules {
		for _, d := range r.in(y) {
			if taken[d] {
				moved = append(moved, pending{rule: i, date: d})
				continue
			}
			taken[d] = true
			out[i] = append(out[i], d)
		}
	}
	sort.Slice(moved, func(a, b int) bool { return moved[a].date.Before(moved[b].date) })
	for _, m := range moved {
		d := rollForward(m.date.AddDays(1), func(d Date) bool { return d.Weekday() == time.Sunday || taken[d] })
		taken[d] = true
		out[m.rule] = append(out[m.rule], d)
	}
	return out
}
