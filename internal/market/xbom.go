package market

import "time"

// xbom is BSE (Bombay Stock Exchange): 09:15-15:30 Kolkata, no lunch break.
// National and state holidays on fixed dates and Good Friday come from
// rules; the Hindu, Muslim and Sikh festivals, whose dates BSE announces
// each December for the next year, and one-off closures come from tables.
// The tables end with 2026, the last year BSE has announced, so the
// calendar covers 2000 through 2026 only.
//
// On Diwali BSE holds a one-hour evening "Muhurat" session; like the answer
// file, the calendar treats the day as a holiday and does not model it.
func xbom() spec {
	holidays := []rule{
		fixed("Republic Day", time.January, 26, asIs),
		easterOffset("Good Friday", -2),
		fixed("Dr. Baba Saheb Ambedkar Jayanti", time.April, 14, asIs),
		// Maharashtra's state day, a holiday in Mumbai.
		fixed("Maharashtra Day", time.May, 1, asIs),
		fixed("Independence Day", time.August, 15, asIs),
		fixed("Mahatma Gandhi Jayanti", time.October, 2, asIs),
		fixed("Christmas", time.December, 25, asIs),
	}
	holidays = append(holidays, bomAnnouncedHolidays()...)
	return spec{
		code:  XBOM,
		name:  "BSE (Bombay Stock Exchange)",
		zone:  "Asia/Kolkata",
		first: ymd(2000, time.January, 1),
		// The end of the announced festival table: BSE publishes each
		// year's holidays only in the December before.
		last:     ymd(2026, time.December, 31),
		hours:    []hours{{open: hm(9, 15), close: hm(15, 30)}},
		holidays: holidays,
		extraSessions: []rule{
			// A full Saturday session in place of Monday 2024-01-22, which
			// was declared a holiday at short notice.
			onDates("Special Saturday session", ymd(2024, time.January, 20)),
			// The Union Budget was presented on a Saturday.
			onDates("Union Budget session", ymd(2025, time.February, 1)),
		},
	}
}

// bomAnnouncedHolidays are BSE's weekday closures that no rule predicts:
// lunisolar Hindu and Sikh festivals, Islamic festivals (observed on the
// sighting of the moon), elections in Mumbai and one-off closures.
//
// The dates are those of exchange_calendars' precomputed BSE holidays
// (exchange_calendar_xbom.py, Apache License 2.0), which come from BSE's
// annual holiday circulars; weekend dates are left out. The names follow
// the circulars where we have them (2012, 2016, 2018-2026); for the other
// years they are inferred by matching each date to that year's festival
// calendar.
func bomAnnouncedHolidays() []rule {
	return []rule{
		onDates("Mahashivratri",
			ymd(2007, 2, 16), ymd(2008, 3, 6), ymd(2009, 2, 23), ymd(2010, 2, 12), ymd(2011, 3, 2),
			ymd(2012, 2, 20), ymd(2014, 2, 27), ymd(2015, 2, 17), ymd(2016, 3, 7), ymd(2017, 2, 24),
			ymd(2018, 2, 13), ymd(2019, 3, 4), ymd(2020, 2, 21), ymd(2021, 3, 11), ymd(2022, 3, 1),
			ymd(2024, 3, 8), ymd(2025, 2, 26),
		),
		onDates("Holi",
			ymd(2000, 3, 20), ymd(2003, 3, 18), ymd(2006, 3, 15), ymd(2009, 3, 11), ymd(2010, 3, 1),
			ymd(2012, 3, 8), ymd(2013, 3, 27), ymd(2014, 3, 17), ymd(2015, 3, 6), ymd(2016, 3, 24),
			ymd(2017, 3, 13), ymd(2018, 3, 2), ymd(2019, 3, 21), ymd(2020, 3, 10), ymd(2021, 3, 29),
			ymd(2022, 3, 18), ymd(2023, 3, 7), ymd(2024, 3, 25), ymd(2025, 3, 14), ymd(2026, 3, 3),
		),
		onDates("Ram Navami",
			ymd(2006, 4, 6), ymd(2007, 3, 27), ymd(2009, 4, 3), ymd(2010, 3, 24), ymd(2011, 4, 12),
			ymd(2013, 4, 19), ymd(2014, 4, 8), ymd(2016, 4, 15), ymd(2017, 4, 4), ymd(2020, 4, 2),
			ymd(2021, 4, 21), ymd(2023, 3, 30), ymd(2024, 4, 17), ymd(2026, 3, 26),
		),
		onDates("Mahavir Jayanti",
			ymd(2008, 4, 18), ymd(2009, 4, 7), ymd(2012, 4, 5), ymd(2013, 4, 24), ymd(2015, 4, 2),
			ymd(2016, 4, 19), ymd(2018, 3, 29), ymd(2019, 4, 17), ymd(2020, 4, 6), ymd(2023, 4, 4),
			ymd(2025, 4, 10), ymd(2026, 3, 31),
		),
		onDates("Mahavir Jayanti / Id-e-Milad",
			ymd(2006, 4, 11),
		),
		onDates("Buddha Pournima",
			ymd(2007, 5, 2), ymd(2008, 5, 19),
		),
		onDates("Id-e-Milad",
			ymd(2008, 3, 20), ymd(2009, 3, 10),
		),
		onDates("Id-ul-Fitr (Ramzan Id)",
			ymd(2001, 12, 17), ymd(2003, 11, 26), ymd(2004, 11, 15), ymd(2005, 11, 4), ymd(2006, 10, 24),
			ymd(2006, 10, 25), ymd(2009, 9, 21), ymd(2010, 9, 10), ymd(2011, 8, 31), ymd(2012, 8, 20),
			ymd(2013, 8, 9), ymd(2014, 7, 29), ymd(2016, 7, 6), ymd(2017, 6, 26), ymd(2019, 6, 5),
			ymd(2020, 5, 25), ymd(2021, 5, 13), ymd(2022, 5, 3), ymd(2024, 4, 11), ymd(2025, 3, 31),
		),
		onDates("Bakri Id",
			ymd(2000, 3, 17), ymd(2001, 3, 6), ymd(2003, 2, 13), ymd(2004, 2, 2), ymd(2005, 1, 21),
			ymd(2006, 1, 11), ymd(2007, 1, 1), ymd(2007, 12, 21), ymd(2008, 12, 9), ymd(2010, 11, 17),
			ymd(2011, 11, 7), ymd(2013, 10, 16), ymd(2014, 10, 6), ymd(2015, 9, 25), ymd(2016, 9, 13),
			ymd(2018, 8, 22), ymd(2019, 8, 12), ymd(2021, 7, 21), ymd(2023, 6, 29), ymd(2024, 6, 17),
			ymd(2026, 5, 28),
		),
		onDates("Muharram",
			ymd(2001, 4, 5), ymd(2002, 3, 25), ymd(2003, 3, 14), ymd(2004, 3, 2), ymd(2006, 2, 9),
			ymd(2007, 1, 30), ymd(2009, 1, 8), ymd(2009, 12, 28), ymd(2010, 12, 17), ymd(2011, 12, 6),
			ymd(2013, 11, 14), ymd(2014, 11, 4), ymd(2016, 10, 12), ymd(2018, 9, 20), ymd(2019, 9, 10),
			ymd(2021, 8, 19), ymd(2022, 8, 9), ymd(2024, 7, 17), ymd(2026, 6, 26),
		),
		onDates("Ganesh Chaturthi",
			ymd(2000, 9, 1), ymd(2001, 8, 22), ymd(2002, 9, 10), ymd(2005, 9, 7), ymd(2008, 9, 3),
			ymd(2011, 9, 1), ymd(2012, 9, 19), ymd(2013, 9, 9), ymd(2014, 8, 29), ymd(2015, 9, 17),
			ymd(2016, 9, 5), ymd(2017, 8, 25), ymd(2018, 9, 13), ymd(2019, 9, 2), ymd(2021, 9, 10),
			ymd(2022, 8, 31), ymd(2023, 9, 19), ymd(2025, 8, 27), ymd(2026, 9, 14),
		),
		onDates("Dussehra",
			ymd(2001, 10, 26), ymd(2002, 10, 15), ymd(2004, 10, 22), ymd(2005, 10, 12), ymd(2008, 10, 9),
			ymd(2009, 9, 28), ymd(2011, 10, 6), ymd(2012, 10, 24), ymd(2014, 10, 3), ymd(2015, 10, 22),
			ymd(2016, 10, 11), ymd(2018, 10, 18), ymd(2019, 10, 8), ymd(2021, 10, 15), ymd(2022, 10, 5),
			ymd(2023, 10, 24), ymd(2026, 10, 20),
		),
		onDates("Diwali Laxmi Pujan",
			ymd(2014, 10, 23), ymd(2015, 11, 11), ymd(2017, 10, 19), ymd(2018, 11, 7), ymd(2021, 11, 4),
			ymd(2022, 10, 24), ymd(2024, 11, 1), ymd(2025, 10, 21),
		),
		onDates("Diwali Balipratipada",
			ymd(2001, 11, 16), ymd(2002, 11, 6), ymd(2005, 11, 3), ymd(2008, 10, 30), ymd(2009, 10, 19),
			ymd(2011, 10, 27), ymd(2012, 11, 14), ymd(2013, 11, 4), ymd(2014, 10, 24), ymd(2015, 11, 12),
			ymd(2016, 10, 31), ymd(2017, 10, 20), ymd(2018, 11, 8), ymd(2019, 10, 28), ymd(2020, 11, 16),
			ymd(2021, 11, 5), ymd(2022, 10, 26), ymd(2023, 11, 14), ymd(2025, 10, 22), ymd(2026, 11, 10),
		),
		onDates("Guru Nanak Jayanti",
			ymd(2001, 11, 30), ymd(2002, 11, 19), ymd(2004, 11, 26), ymd(2005, 11, 15), ymd(2008, 11, 13),
			ymd(2009, 11, 2), ymd(2011, 11, 10), ymd(2012, 11, 28), ymd(2014, 11, 6), ymd(2015, 11, 25),
			ymd(2016, 11, 14), ymd(2018, 11, 23), ymd(2019, 11, 12), ymd(2020, 11, 30), ymd(2021, 11, 19),
			ymd(2022, 11, 8), ymd(2023, 11, 27), ymd(2024, 11, 15), ymd(2025, 11, 5), ymd(2026, 11, 24),
		),
		onDates("New Year's Day",
			ymd(2001, 1, 1), ymd(2004, 1, 1), ymd(2010, 1, 1),
		),
		// Polling days in Mumbai: Lok Sabha, Maharashtra Legislative
		// Assembly and municipal corporation elections.
		onDates("General Elections (Lok Sabha)",
			ymd(2004, 4, 26), ymd(2009, 4, 30), ymd(2014, 4, 24), ymd(2019, 4, 29), ymd(2024, 5, 20),
		),
		onDates("Maharashtra Assembly Elections",
			ymd(2004, 10, 13), ymd(2009, 10, 13), ymd(2014, 10, 15), ymd(2019, 10, 21), ymd(2024, 11, 20),
		),
		onDates("Municipal Corporation Elections", ymd(2026, 1, 15)),
		onDates("Mumbai floods", ymd(2005, 7, 28)),
		onDates("Mumbai terrorist attacks", ymd(2008, 11, 27)),
		onDates("Ram Mandir Pran Pratishtha", ymd(2024, 1, 22)),
	}
}
