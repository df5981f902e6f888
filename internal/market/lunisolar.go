package market

// The Chinese lunisolar calendar fixes most holidays of Hong Kong and
// mainland China. No simple rule predicts it (months follow new moons and
// the solar terms as observed at Beijing, UTC+8), so its dates are a table.
//
// Source: computed with the astronomical algorithm of the lunar-javascript
// library (6tail, MIT licence, version 1.7.7), in UTC+8, the reckoning the
// Hong Kong Observatory and the Purple Mountain Observatory publish. It was
// checked date by date against lunisolar_holidays.py of trading_calendars,
// the ancestor of exchange_calendars (both Apache License 2.0): they agree
// for every year but 2034, where that table puts Buddha's Birthday, Dragon
// Boat, Mid-Autumn and Double Ninth a month early (it misplaces the leap
// month of the 2033-2034 lunar year, the "2033 problem"); this table has
// the corrected dates.

// cnFestival names a column of cnLunisolar.
type cnFestival int

// The festivals of cnLunisolar, in the order of its columns.
const (
	// cnNewYear is Lunar New Year's Day (Spring Festival), the first day of
	// the first month.
	cnNewYear cnFestival = iota
	// cnQingming is the day of the Qingming (Ching Ming) solar term, when the
	// sun reaches ecliptic longitude 15 degrees (April 4 or 5).
	cnQingming
	// cnBuddhasBirthday is the eighth day of the fourth month.
	cnBuddhasBirthday
	// cnDragonBoat is the Dragon Boat (Tuen Ng, Duanwu) Festival, the fifth
	// day of the fifth month.
	cnDragonBoat
	// cnMidAutumn is the Mid-Autumn Festival, the fifteenth day of the eighth
	// month.
	cnMidAutumn
	// cnDoubleNinth is the Double Ninth (Chung Yeung) Festival, the ninth day
	// of the ninth month.
	cnDoubleNinth
)

// cnLunisolarFirst and cnLunisolarLast are the years cnLunisolar covers; a
// calendar using it must not reach beyond them.
const (
	cnLunisolarFirst = 2000
	cnLunisolarLast  = 2035
)

// cnLunisolar maps each Gregorian year to the dates of its festivals:
// Lunar New Year, Qingming, Buddha's Birthday, Dragon Boat, Mid-Autumn and
// Double Ninth.
var cnLunisolar = map[int][6]Date{
	2000: {ymd(2000, 2, 5), ymd(2000, 4, 4), ymd(2000, 5, 11), ymd(2000, 6, 6), ymd(2000, 9, 12), ymd(2000, 10, 6)},
	2001: {ymd(2001, 1, 24), ymd(2001, 4, 5), ymd(2001, 4, 30), ymd(2001, 6, 25), ymd(2001, 10, 1), ymd(2001, 10, 25)},
	2002: {ymd(2002, 2, 12), ymd(2002, 4, 5), ymd(2002, 5, 19), ymd(2002, 6, 15), ymd(2002, 9, 21), ymd(2002, 10, 14)},
	2003: {ymd(2003, 2, 1), ymd(2003, 4, 5), ymd(2003, 5, 8), ymd(2003, 6, 4), ymd(2003, 9, 11), ymd(2003, 10, 4)},
	2004: {ymd(2004, 1, 22), ymd(2004, 4, 4), ymd(2004, 5, 26), ymd(2004, 6, 22), ymd(2004, 9, 28), ymd(2004, 10, 22)},
	2005: {ymd(2005, 2, 9), ymd(2005, 4, 5), ymd(2005, 5, 15), ymd(2005, 6, 11), ymd(2005, 9, 18), ymd(2005, 10, 11)},
	2006: {ymd(2006, 1, 29), ymd(2006, 4, 5), ymd(2006, 5, 5), ymd(2006, 5, 31), ymd(2006, 10, 6), ymd(2006, 10, 30)},
	2007: {ymd(2007, 2, 18), ymd(2007, 4, 5), ymd(2007, 5, 24), ymd(2007, 6, 19), ymd(2007, 9, 25), ymd(2007, 10, 19)},
	2008: {ymd(2008, 2, 7), ymd(2008, 4, 4), ymd(2008, 5, 12), ymd(2008, 6, 8), ymd(2008, 9, 14), ymd(2008, 10, 7)},
	2009: {ymd(2009, 1, 26), ymd(2009, 4, 4), ymd(2009, 5, 2), ymd(2009, 5, 28), ymd(2009, 10, 3), ymd(2009, 10, 26)},
	2010: {ymd(2010, 2, 14), ymd(2010, 4, 5), ymd(2010, 5, 21), ymd(2010, 6, 16), ymd(2010, 9, 22), ymd(2010, 10, 16)},
	2011: {ymd(2011, 2, 3), ymd(2011, 4, 5), ymd(2011, 5, 10), ymd(2011, 6, 6), ymd(2011, 9, 12), ymd(2011, 10, 5)},
	2012: {ymd(2012, 1, 23), ymd(2012, 4, 4), ymd(2012, 4, 28), ymd(2012, 6, 23), ymd(2012, 9, 30), ymd(2012, 10, 23)},
	2013: {ymd(2013, 2, 10), ymd(2013, 4, 4), ymd(2013, 5, 17), ymd(2013, 6, 12), ymd(2013, 9, 19), ymd(2013, 10, 13)},
	2014: {ymd(2014, 1, 31), ymd(2014, 4, 5), ymd(2014, 5, 6), ymd(2014, 6, 2), ymd(2014, 9, 8), ymd(2014, 10, 2)},
	2015: {ymd(2015, 2, 19), ymd(2015, 4, 5), ymd(2015, 5, 25), ymd(2015, 6, 20), ymd(2015, 9, 27), ymd(2015, 10, 21)},
	2016: {ymd(2016, 2, 8), ymd(2016, 4, 4), ymd(2016, 5, 14), ymd(2016, 6, 9), ymd(2016, 9, 15), ymd(2016, 10, 9)},
	2017: {ymd(2017, 1, 28), ymd(2017, 4, 4), ymd(2017, 5, 3), ymd(2017, 5, 30), ymd(2017, 10, 4), ymd(2017, 10, 28)},
	2018: {ymd(2018, 2, 16), ymd(2018, 4, 5), ymd(2018, 5, 22), ymd(2018, 6, 18), ymd(2018, 9, 24), ymd(2018, 10, 17)},
	2019: {ymd(2019, 2, 5), ymd(2019, 4, 5), ymd(2019, 5, 12), ymd(2019, 6, 7), ymd(2019, 9, 13), ymd(2019, 10, 7)},
	2020: {ymd(2020, 1, 25), ymd(2020, 4, 4), ymd(2020, 4, 30), ymd(2020, 6, 25), ymd(2020, 10, 1), ymd(2020, 10, 25)},
	2021: {ymd(2021, 2, 12), ymd(2021, 4, 4), ymd(2021, 5, 19), ymd(2021, 6, 14), ymd(2021, 9, 21), ymd(2021, 10, 14)},
	2022: {ymd(2022, 2, 1), ymd(2022, 4, 5), ymd(2022, 5, 8), ymd(2022, 6, 3), ymd(2022, 9, 10), ymd(2022, 10, 4)},
	2023: {ymd(2023, 1, 22), ymd(2023, 4, 5), ymd(2023, 5, 26), ymd(2023, 6, 22), ymd(2023, 9, 29), ymd(2023, 10, 23)},
	2024: {ymd(2024, 2, 10), ymd(2024, 4, 4), ymd(2024, 5, 15), ymd(2024, 6, 10), ymd(2024, 9, 17), ymd(2024, 10, 11)},
	2025: {ymd(2025, 1, 29), ymd(2025, 4, 4), ymd(2025, 5, 5), ymd(2025, 5, 31), ymd(2025, 10, 6), ymd(2025, 10, 29)},
	2026: {ymd(2026, 2, 17), ymd(2026, 4, 5), ymd(2026, 5, 24), ymd(2026, 6, 19), ymd(2026, 9, 25), ymd(2026, 10, 18)},
	2027: {ymd(2027, 2, 6), ymd(2027, 4, 5), ymd(2027, 5, 13), ymd(2027, 6, 9), ymd(2027, 9, 15), ymd(2027, 10, 8)},
	2028: {ymd(2028, 1, 26), ymd(2028, 4, 4), ymd(2028, 5, 2), ymd(2028, 5, 28), ymd(2028, 10, 3), ymd(2028, 10, 26)},
	2029: {ymd(2029, 2, 13), ymd(2029, 4, 4), ymd(2029, 5, 20), ymd(2029, 6, 16), ymd(2029, 9, 22), ymd(2029, 10, 16)},
	2030: {ymd(2030, 2, 3), ymd(2030, 4, 5), ymd(2030, 5, 9), ymd(2030, 6, 5), ymd(2030, 9, 12), ymd(2030, 10, 5)},
	2031: {ymd(2031, 1, 23), ymd(2031, 4, 5), ymd(2031, 5, 28), ymd(2031, 6, 24), ymd(2031, 10, 1), ymd(2031, 10, 24)},
	2032: {ymd(2032, 2, 11), ymd(2032, 4, 4), ymd(2032, 5, 16), ymd(2032, 6, 12), ymd(2032, 9, 19), ymd(2032, 10, 12)},
	2033: {ymd(2033, 1, 31), ymd(2033, 4, 4), ymd(2033, 5, 6), ymd(2033, 6, 1), ymd(2033, 9, 8), ymd(2033, 10, 1)},
	2034: {ymd(2034, 2, 19), ymd(2034, 4, 5), ymd(2034, 5, 25), ymd(2034, 6, 20), ymd(2034, 9, 27), ymd(2034, 10, 20)},
	2035: {ymd(2035, 2, 8), ymd(2035, 4, 5), ymd(2035, 5, 15), ymd(2035, 6, 10), ymd(2035, 9, 16), ymd(2035, 10, 9)},
}

// cnDate returns the date of festival f in Gregorian year y; ok is false
// when the table does not cover y.
func cnDate(f cnFestival, y int) (d Date, ok bool) {
	row, ok := cnLunisolar[y]
	if !ok {
		return Date{}, false
	}
	return row[f], true
}

// cnRule is a holiday on the days of festival f shifted by each of offsets
// (0 is the festival itself, -1 the day before, 1 the day after). The
// dates are not moved off weekends: the market files say what is observed.
func cnRule(name string, f cnFestival, offsets ...int) rule {
	return yearly(name, func(y int) []Date {
		d, ok := cnDate(f, y)
		if !ok {
			return nil
		}
		out := make([]Date, 0, len(offsets))
		for _, n := range offsets {
			out = append(out, d.AddDays(n))
		}
		return out
	})
}
