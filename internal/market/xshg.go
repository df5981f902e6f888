package market

import "time"

// xshg is the Shanghai Stock Exchange: 09:30-11:30 and 13:00-15:00 Beijing
// time, closed on the public holidays of mainland China.
//
// The statutory holidays come from the State Council's Regulations on
// National Festivals and Memorial Days (全国年节及纪念日放假办法) in their
// 1999, 2007, 2013 and 2024 versions. Each year the State Council then
// announces how the days off are arranged around weekends (调休), and the
// exchange closes on every weekday of those spans: those announcements are
// the table xshgAnnounced, and they are why the calendar ends with the last
// announced year.
func xshg() spec {
	return spec{
		code:  XSHG,
		name:  "Shanghai Stock Exchange",
		zone:  "Asia/Shanghai",
		first: ymd(2000, time.January, 1),
		// The State Council announces the next year's schedule around
		// November; 2026 is the last one known.
		last:  ymd(2026, time.December, 31),
		hours: []hours{{open: hm(9, 30), close: hm(15, 0), breakStart: hm(11, 30), breakEnd: hm(13, 0)}},
		// Statutory days first, so that they give their name to the day;
		// weekend statutory days are only moved by the announcements.
		holidays: append([]rule{
			fixed("New Year's Day", time.January, 1, asIs),
			// Three days from Lunar New Year's Day (1999 regulations); from
			// the eve instead (2007); from the day again (2013); the eve
			// and three days (2024).
			cnRule("Spring Festival", cnNewYear, 0, 1, 2).until(ymd(2007, time.December, 31)),
			cnRule("Spring Festival", cnNewYear, -1, 0, 1).between(ymd(2008, time.January, 1), ymd(2013, time.December, 31)),
			cnRule("Spring Festival", cnNewYear, 0, 1, 2).between(ymd(2014, time.January, 1), ymd(2024, time.December, 31)),
			cnRule("Spring Festival", cnNewYear, -1, 0, 1, 2).since(ymd(2025, time.January, 1)),
			// Qingming, Dragon Boat and Mid-Autumn became holidays in 2008.
			cnRule("Qingming Festival", cnQingming, 0).since(ymd(2008, time.January, 1)),
			// Labour Day was three days until 2007, one day from 2008, two
			// days from 2025.
			fixed("Labour Day", time.May, 1, asIs),
			fixed("Labour Day", time.May, 2, asIs).until(ymd(2007, time.December, 31)),
			fixed("Labour Day", time.May, 3, asIs).until(ymd(2007, time.December, 31)),
			fixed("Labour Day", time.May, 2, asIs).since(ymd(2025, time.January, 1)),
			cnRule("Dragon Boat Festival", cnDragonBoat, 0).since(ymd(2008, time.January, 1)),
			cnRule("Mid-Autumn Festival", cnMidAutumn, 0).since(ymd(2008, time.January, 1)),
			fixed("National Day", time.October, 1, asIs),
			fixed("National Day", time.October, 2, asIs),
			fixed("National Day", time.October, 3, asIs),
		}, xshgAnnounced()...),
	}
}

// xshgAnnounced lists the exchange's closures as the State Council and the
// exchange announced them each year, from the first to the last weekday of
// each span (weekends inside a span are closed anyway; the make-up working
// Saturdays and Sundays of the announcements are not trading days either).
// Source: the exchange_calendars XSHG answer file and its xshg_holidays.py
// (Apache License 2.0), which transcribe those announcements; 2015-09-03/04
// (the 70th anniversary of the victory in the War of Resistance) and
// 2020-01-31 (the Spring Festival break extended for COVID-19) were
// one-off closures.
func xshgAnnounced() []rule {
	return []rule{
		xshgClosed("New Year holiday", ymd(2000, 1, 3), ymd(2000, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2000, 1, 31), ymd(2000, 2, 11)),
		xshgClosed("Labour Day holiday", ymd(2000, 5, 1), ymd(2000, 5, 5)),
		xshgClosed("National Day holiday", ymd(2000, 10, 2), ymd(2000, 10, 6)),

		xshgClosed("New Year holiday", ymd(2001, 1, 1), ymd(2001, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2001, 1, 22), ymd(2001, 2, 2)),
		xshgClosed("Labour Day holiday", ymd(2001, 5, 1), ymd(2001, 5, 7)),
		xshgClosed("National Day holiday", ymd(2001, 10, 1), ymd(2001, 10, 5)),

		xshgClosed("New Year holiday", ymd(2002, 1, 1), ymd(2002, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2002, 2, 11), ymd(2002, 2, 22)),
		xshgClosed("Labour Day holiday", ymd(2002, 5, 1), ymd(2002, 5, 7)),
		xshgClosed("National Day holiday", ymd(2002, 9, 30), ymd(2002, 10, 7)),

		xshgClosed("New Year holiday", ymd(2003, 1, 1), ymd(2003, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2003, 1, 30), ymd(2003, 2, 7)),
		xshgClosed("Labour Day holiday", ymd(2003, 5, 1), ymd(2003, 5, 9)),
		xshgClosed("National Day holiday", ymd(2003, 10, 1), ymd(2003, 10, 7)),

		xshgClosed("New Year holiday", ymd(2004, 1, 1), ymd(2004, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2004, 1, 19), ymd(2004, 1, 28)),
		xshgClosed("Labour Day holiday", ymd(2004, 5, 3), ymd(2004, 5, 7)),
		xshgClosed("National Day holiday", ymd(2004, 10, 1), ymd(2004, 10, 7)),

		xshgClosed("New Year holiday", ymd(2005, 1, 3), ymd(2005, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2005, 2, 7), ymd(2005, 2, 15)),
		xshgClosed("Labour Day holiday", ymd(2005, 5, 2), ymd(2005, 5, 6)),
		xshgClosed("National Day holiday", ymd(2005, 10, 3), ymd(2005, 10, 7)),

		xshgClosed("New Year holiday", ymd(2006, 1, 2), ymd(2006, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2006, 1, 26), ymd(2006, 2, 3)),
		xshgClosed("Labour Day holiday", ymd(2006, 5, 1), ymd(2006, 5, 5)),
		xshgClosed("National Day holiday", ymd(2006, 10, 2), ymd(2006, 10, 6)),

		xshgClosed("New Year holiday", ymd(2007, 1, 1), ymd(2007, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2007, 2, 19), ymd(2007, 2, 23)),
		xshgClosed("Labour Day holiday", ymd(2007, 5, 1), ymd(2007, 5, 7)),
		xshgClosed("National Day holiday", ymd(2007, 10, 1), ymd(2007, 10, 5)),
		xshgClosed("New Year holiday", ymd(2007, 12, 31), ymd(2008, 1, 1)),

		xshgClosed("Spring Festival holiday", ymd(2008, 2, 6), ymd(2008, 2, 12)),
		xshgClosed("Qingming Festival holiday", ymd(2008, 4, 4), ymd(2008, 4, 4)),
		xshgClosed("Labour Day holiday", ymd(2008, 5, 1), ymd(2008, 5, 2)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2008, 6, 9), ymd(2008, 6, 9)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2008, 9, 15), ymd(2008, 9, 15)),
		xshgClosed("National Day holiday", ymd(2008, 9, 29), ymd(2008, 10, 3)),

		xshgClosed("New Year holiday", ymd(2009, 1, 1), ymd(2009, 1, 2)),
		xshgClosed("Spring Festival holiday", ymd(2009, 1, 26), ymd(2009, 1, 30)),
		xshgClosed("Qingming Festival holiday", ymd(2009, 4, 6), ymd(2009, 4, 6)),
		xshgClosed("Labour Day holiday", ymd(2009, 5, 1), ymd(2009, 5, 1)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2009, 5, 28), ymd(2009, 5, 29)),
		xshgClosed("Mid-Autumn Festival and National Day holiday", ymd(2009, 10, 1), ymd(2009, 10, 8)),

		xshgClosed("New Year holiday", ymd(2010, 1, 1), ymd(2010, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2010, 2, 15), ymd(2010, 2, 19)),
		xshgClosed("Qingming Festival holiday", ymd(2010, 4, 5), ymd(2010, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2010, 5, 3), ymd(2010, 5, 3)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2010, 6, 14), ymd(2010, 6, 16)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2010, 9, 22), ymd(2010, 9, 24)),
		xshgClosed("National Day holiday", ymd(2010, 10, 1), ymd(2010, 10, 7)),

		xshgClosed("New Year holiday", ymd(2011, 1, 3), ymd(2011, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2011, 2, 2), ymd(2011, 2, 8)),
		xshgClosed("Qingming Festival holiday", ymd(2011, 4, 4), ymd(2011, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2011, 5, 2), ymd(2011, 5, 2)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2011, 6, 6), ymd(2011, 6, 6)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2011, 9, 12), ymd(2011, 9, 12)),
		xshgClosed("National Day holiday", ymd(2011, 10, 3), ymd(2011, 10, 7)),

		xshgClosed("New Year holiday", ymd(2012, 1, 2), ymd(2012, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2012, 1, 23), ymd(2012, 1, 27)),
		xshgClosed("Qingming Festival holiday", ymd(2012, 4, 2), ymd(2012, 4, 4)),
		xshgClosed("Labour Day holiday", ymd(2012, 4, 30), ymd(2012, 5, 1)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2012, 6, 22), ymd(2012, 6, 22)),
		xshgClosed("Mid-Autumn Festival and National Day holiday", ymd(2012, 10, 1), ymd(2012, 10, 5)),

		xshgClosed("New Year holiday", ymd(2013, 1, 1), ymd(2013, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2013, 2, 11), ymd(2013, 2, 15)),
		xshgClosed("Qingming Festival holiday", ymd(2013, 4, 4), ymd(2013, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2013, 4, 29), ymd(2013, 5, 1)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2013, 6, 10), ymd(2013, 6, 12)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2013, 9, 19), ymd(2013, 9, 20)),
		xshgClosed("National Day holiday", ymd(2013, 10, 1), ymd(2013, 10, 7)),

		xshgClosed("New Year holiday", ymd(2014, 1, 1), ymd(2014, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2014, 1, 31), ymd(2014, 2, 6)),
		xshgClosed("Qingming Festival holiday", ymd(2014, 4, 7), ymd(2014, 4, 7)),
		xshgClosed("Labour Day holiday", ymd(2014, 5, 1), ymd(2014, 5, 2)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2014, 6, 2), ymd(2014, 6, 2)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2014, 9, 8), ymd(2014, 9, 8)),
		xshgClosed("National Day holiday", ymd(2014, 10, 1), ymd(2014, 10, 7)),

		xshgClosed("New Year holiday", ymd(2015, 1, 1), ymd(2015, 1, 2)),
		xshgClosed("Spring Festival holiday", ymd(2015, 2, 18), ymd(2015, 2, 24)),
		xshgClosed("Qingming Festival holiday", ymd(2015, 4, 6), ymd(2015, 4, 6)),
		xshgClosed("Labour Day holiday", ymd(2015, 5, 1), ymd(2015, 5, 1)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2015, 6, 22), ymd(2015, 6, 22)),
		xshgClosed("70th anniversary of the War of Resistance victory", ymd(2015, 9, 3), ymd(2015, 9, 4)),
		xshgClosed("National Day holiday", ymd(2015, 10, 1), ymd(2015, 10, 7)),

		xshgClosed("New Year holiday", ymd(2016, 1, 1), ymd(2016, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2016, 2, 8), ymd(2016, 2, 12)),
		xshgClosed("Qingming Festival holiday", ymd(2016, 4, 4), ymd(2016, 4, 4)),
		xshgClosed("Labour Day holiday", ymd(2016, 5, 2), ymd(2016, 5, 2)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2016, 6, 9), ymd(2016, 6, 10)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2016, 9, 15), ymd(2016, 9, 16)),
		xshgClosed("National Day holiday", ymd(2016, 10, 3), ymd(2016, 10, 7)),

		xshgClosed("New Year holiday", ymd(2017, 1, 2), ymd(2017, 1, 2)),
		xshgClosed("Spring Festival holiday", ymd(2017, 1, 27), ymd(2017, 2, 2)),
		xshgClosed("Qingming Festival holiday", ymd(2017, 4, 3), ymd(2017, 4, 4)),
		xshgClosed("Labour Day holiday", ymd(2017, 5, 1), ymd(2017, 5, 1)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2017, 5, 29), ymd(2017, 5, 30)),
		xshgClosed("Mid-Autumn Festival and National Day holiday", ymd(2017, 10, 2), ymd(2017, 10, 6)),

		xshgClosed("New Year holiday", ymd(2018, 1, 1), ymd(2018, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2018, 2, 15), ymd(2018, 2, 21)),
		xshgClosed("Qingming Festival holiday", ymd(2018, 4, 5), ymd(2018, 4, 6)),
		xshgClosed("Labour Day holiday", ymd(2018, 4, 30), ymd(2018, 5, 1)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2018, 6, 18), ymd(2018, 6, 18)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2018, 9, 24), ymd(2018, 9, 24)),
		xshgClosed("National Day holiday", ymd(2018, 10, 1), ymd(2018, 10, 5)),
		xshgClosed("New Year holiday", ymd(2018, 12, 31), ymd(2019, 1, 1)),

		xshgClosed("Spring Festival holiday", ymd(2019, 2, 4), ymd(2019, 2, 8)),
		xshgClosed("Qingming Festival holiday", ymd(2019, 4, 5), ymd(2019, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2019, 5, 1), ymd(2019, 5, 3)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2019, 6, 7), ymd(2019, 6, 7)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2019, 9, 13), ymd(2019, 9, 13)),
		xshgClosed("National Day holiday", ymd(2019, 10, 1), ymd(2019, 10, 7)),

		xshgClosed("New Year holiday", ymd(2020, 1, 1), ymd(2020, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2020, 1, 24), ymd(2020, 1, 30)),
		xshgClosed("Spring Festival holiday extended (COVID-19)", ymd(2020, 1, 31), ymd(2020, 1, 31)),
		xshgClosed("Qingming Festival holiday", ymd(2020, 4, 6), ymd(2020, 4, 6)),
		xshgClosed("Labour Day holiday", ymd(2020, 5, 1), ymd(2020, 5, 5)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2020, 6, 25), ymd(2020, 6, 26)),
		xshgClosed("Mid-Autumn Festival and National Day holiday", ymd(2020, 10, 1), ymd(2020, 10, 8)),

		xshgClosed("New Year holiday", ymd(2021, 1, 1), ymd(2021, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2021, 2, 11), ymd(2021, 2, 17)),
		xshgClosed("Qingming Festival holiday", ymd(2021, 4, 5), ymd(2021, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2021, 5, 3), ymd(2021, 5, 5)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2021, 6, 14), ymd(2021, 6, 14)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2021, 9, 20), ymd(2021, 9, 21)),
		xshgClosed("National Day holiday", ymd(2021, 10, 1), ymd(2021, 10, 7)),

		xshgClosed("New Year holiday", ymd(2022, 1, 3), ymd(2022, 1, 3)),
		xshgClosed("Spring Festival holiday", ymd(2022, 1, 31), ymd(2022, 2, 4)),
		xshgClosed("Qingming Festival holiday", ymd(2022, 4, 4), ymd(2022, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2022, 5, 2), ymd(2022, 5, 4)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2022, 6, 3), ymd(2022, 6, 3)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2022, 9, 12), ymd(2022, 9, 12)),
		xshgClosed("National Day holiday", ymd(2022, 10, 3), ymd(2022, 10, 7)),

		xshgClosed("New Year holiday", ymd(2023, 1, 2), ymd(2023, 1, 2)),
		xshgClosed("Spring Festival holiday", ymd(2023, 1, 23), ymd(2023, 1, 27)),
		xshgClosed("Qingming Festival holiday", ymd(2023, 4, 5), ymd(2023, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2023, 5, 1), ymd(2023, 5, 3)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2023, 6, 22), ymd(2023, 6, 23)),
		xshgClosed("Mid-Autumn Festival and National Day holiday", ymd(2023, 9, 29), ymd(2023, 10, 6)),

		xshgClosed("New Year holiday", ymd(2024, 1, 1), ymd(2024, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2024, 2, 9), ymd(2024, 2, 16)),
		xshgClosed("Qingming Festival holiday", ymd(2024, 4, 4), ymd(2024, 4, 5)),
		xshgClosed("Labour Day holiday", ymd(2024, 5, 1), ymd(2024, 5, 3)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2024, 6, 10), ymd(2024, 6, 10)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2024, 9, 16), ymd(2024, 9, 17)),
		xshgClosed("National Day holiday", ymd(2024, 10, 1), ymd(2024, 10, 7)),

		xshgClosed("New Year holiday", ymd(2025, 1, 1), ymd(2025, 1, 1)),
		xshgClosed("Spring Festival holiday", ymd(2025, 1, 28), ymd(2025, 2, 4)),
		xshgClosed("Qingming Festival holiday", ymd(2025, 4, 4), ymd(2025, 4, 4)),
		xshgClosed("Labour Day holiday", ymd(2025, 5, 1), ymd(2025, 5, 5)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2025, 6, 2), ymd(2025, 6, 2)),
		xshgClosed("Mid-Autumn Festival and National Day holiday", ymd(2025, 10, 1), ymd(2025, 10, 8)),

		xshgClosed("New Year holiday", ymd(2026, 1, 1), ymd(2026, 1, 2)),
		xshgClosed("Spring Festival holiday", ymd(2026, 2, 16), ymd(2026, 2, 23)),
		xshgClosed("Qingming Festival holiday", ymd(2026, 4, 6), ymd(2026, 4, 6)),
		xshgClosed("Labour Day holiday", ymd(2026, 5, 1), ymd(2026, 5, 5)),
		xshgClosed("Dragon Boat Festival holiday", ymd(2026, 6, 19), ymd(2026, 6, 19)),
		xshgClosed("Mid-Autumn Festival holiday", ymd(2026, 9, 25), ymd(2026, 9, 25)),
		xshgClosed("National Day holiday", ymd(2026, 10, 1), ymd(2026, 10, 7)),
	}
}

// xshgClosed is a closure on every day from..to inclusive.
func xshgClosed(name string, from, to Date) rule {
	var days []Date
	for d := from; !d.After(to); d = d.AddDays(1) {
		days = append(days, d)
	}
	return onDates(name, days...)
}
