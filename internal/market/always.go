package market

import "time"

// always is a market that trades around the clock every day (crypto). Its
// sessions are UTC calendar days, as in the answer file 24-7.csv.
func always() spec {
	return spec{
		code:     ALWAYS,
		name:     "Always open (24/7)",
		zone:     "UTC",
		first:    ymd(2000, time.January, 1),
		last:     ymd(2040, time.December, 31),
		hours:    []hours{{open: 0, close: hm(24, 0)}},
		everyDay: true,
	}
}
