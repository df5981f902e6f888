package market

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"
)

// The tests below check chosen days of each market, most of them after its
// answer file (testdata, checked by oracle_test.go) ends: published holiday
// calendars and exchange notices, and consequences of the rules in later
// years. They also check where each calendar's coverage ends.

// knownDay is one date whose answer is known: either a closure, with the
// name Calendar.Holiday gives it, or a session, with its instants in UTC
// (RFC 3339).
type knownDay struct {
	date       string // YYYY-MM-DD, the session's label
	holiday    string // the closure's name; empty when the market trades
	open       string // the session's open; empty for a closure
	close      string // the session's close; empty for a closure
	breakStart string // the lunch break's start; empty for a session without one
	breakEnd   string // the lunch break's end; empty for a session without one
	note       string // why the date is worth checking, or its source
}

// knownDays holds each market's known days.
var knownDays = map[Code][]knownDay{
	// NYSE's published holiday and early-close calendars for 2023-2027,
	// after xnys.csv ends (2023-01-13). Sessions run 09:30-16:00 New York;
	// early closes at 13:00.
	XNYS: {
		{date: "2023-06-19", holiday: "Juneteenth", note: "first years of the Juneteenth rule"},
		{date: "2024-01-15", holiday: "Martin Luther King Jr. Day"},
		{date: "2025-01-09", holiday: "National Day of Mourning for Jimmy Carter", note: "one-off closure"},
		{date: "2025-04-18", holiday: "Good Friday"},
		{date: "2025-07-03", open: "2025-07-03T13:30:00Z", close: "2025-07-03T17:00:00Z", note: "day before Independence Day"},
		{date: "2026-07-03", holiday: "Independence Day", note: "July 4 is a Saturday: observed Friday"},
		{date: "2026-07-02", open: "2026-07-02T13:30:00Z", close: "2026-07-02T20:00:00Z", note: "no early close when the holiday is observed on July 3"},
		{date: "2026-11-26", holiday: "Thanksgiving Day"},
		{date: "2026-11-27", open: "2026-11-27T14:30:00Z", close: "2026-11-27T18:00:00Z", note: "day after Thanksgiving"},
		{date: "2026-12-24", open: "2026-12-24T14:30:00Z", close: "2026-12-24T18:00:00Z", note: "Christmas Eve"},
		{date: "2026-12-25", holiday: "Christmas Day"},
		{date: "2027-06-18", holiday: "Juneteenth", note: "June 19 is a Saturday: observed Friday"},
		{date: "2027-12-24", holiday: "Christmas Day", note: "December 25 is a Saturday: observed Friday"},
		{date: "2027-12-31", open: "2027-12-31T14:30:00Z", close: "2027-12-31T21:00:00Z", note: "New Year's Day 2028 is a Saturday: not observed on Friday"},
	},
	// TMX's published calendars and the consequences of the rules, after
	// xtse.csv ends (2019-10-04). Sessions run 09:30-16:00 Toronto; the
	// Christmas Eve half day closes at 13:00.
	XTSE: {
		{date: "2025-02-17", holiday: "Family Day"},
		{date: "2025-05-19", holiday: "Victoria Day"},
		{date: "2025-07-01", holiday: "Canada Day"},
		{date: "2025-08-04", holiday: "Civic Holiday"},
		{date: "2025-10-13", holiday: "Thanksgiving Day"},
		{date: "2025-09-30", open: "2025-09-30T13:30:00Z", close: "2025-09-30T20:00:00Z", note: "National Day for Truth and Reconciliation: TSX trades"},
		{date: "2025-12-24", open: "2025-12-24T14:30:00Z", close: "2025-12-24T18:00:00Z"},
		{date: "2025-12-26", holiday: "Boxing Day"},
		{date: "2026-04-03", holiday: "Good Friday"},
		{date: "2026-05-18", holiday: "Victoria Day"},
		{date: "2026-12-25", holiday: "Christmas Day"},
		{date: "2026-12-28", holiday: "Boxing Day"},
		{date: "2027-12-24", open: "2027-12-24T14:30:00Z", close: "2027-12-24T18:00:00Z"},
		{date: "2027-12-27", holiday: "Christmas Day"},
		{date: "2027-12-28", holiday: "Boxing Day"},
		{date: "2027-12-29", open: "2027-12-29T14:30:00Z", close: "2027-12-29T21:00:00Z"},
		{date: "2028-07-03", holiday: "Canada Day"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2033-01-03", holiday: "New Year's Day"},
	},

	// The BMV's published holiday calendars and trading-hours notices, and
	// the consequences of the rules, after xmex.csv ends (2020-09-18).
	// While New York is on daylight saving time and Mexico City is not,
	// the session runs 07:30-14:00 Mexico City (13:30-20:00 UTC);
	// otherwise 08:30-15:00.
	XMEX: {
		{date: "2020-10-26", open: "2020-10-26T13:30:00Z", close: "2020-10-26T20:00:00Z"},
		{date: "2020-11-02", holiday: "Day of the Dead"},
		{date: "2020-11-03", open: "2020-11-03T14:30:00Z", close: "2020-11-03T21:00:00Z"},
		{date: "2021-03-22", open: "2021-03-22T13:30:00Z", close: "2021-03-22T20:00:00Z"},
		{date: "2021-04-05", open: "2021-04-05T13:30:00Z", close: "2021-04-05T20:00:00Z"},
		{date: "2022-10-31", open: "2022-10-31T13:30:00Z", close: "2022-10-31T20:00:00Z"},
		{date: "2024-10-01", holiday: "Transmission of Federal Executive Power"},
		{date: "2025-02-03", holiday: "Constitution Day"},
		{date: "2025-03-07", open: "2025-03-07T14:30:00Z", close: "2025-03-07T21:00:00Z"},
		{date: "2025-03-10", open: "2025-03-10T13:30:00Z", close: "2025-03-10T20:00:00Z"},
		{date: "2025-03-17", holiday: "Benito Juárez's Birthday"},
		{date: "2025-04-17", holiday: "Holy Thursday"},
		{date: "2025-04-18", holiday: "Good Friday"},
		{date: "2025-10-31", open: "2025-10-31T13:30:00Z", close: "2025-10-31T20:00:00Z"},
		{date: "2025-11-03", open: "2025-11-03T14:30:00Z", close: "2025-11-03T21:00:00Z"},
		{date: "2025-11-17", holiday: "Revolution Day"},
		{date: "2025-12-12", holiday: "Bank Employees' Day"},
		{date: "2026-11-02", holiday: "Day of the Dead"},
		{date: "2026-12-11", open: "2026-12-11T14:30:00Z", close: "2026-12-11T21:00:00Z"},
		{date: "2030-04-18", holiday: "Holy Thursday"},
		{date: "2030-10-01", holiday: "Transmission of Federal Executive Power"},
	},

	// CME Group's holiday calendar rules, after cmes.csv ends (2027-07-16).
	// Each session opens at 17:00 Chicago the day before its date.
	CMES: {
		{date: "2027-09-06", open: "2027-09-05T22:00:00Z", close: "2027-09-06T17:00:00Z"},
		{date: "2027-09-07", open: "2027-09-06T22:00:00Z", close: "2027-09-07T21:00:00Z"},
		{date: "2027-11-25", open: "2027-11-24T23:00:00Z", close: "2027-11-25T18:00:00Z"},
		{date: "2027-11-26", open: "2027-11-25T23:00:00Z", close: "2027-11-26T18:00:00Z"},
		{date: "2027-12-24", holiday: "Christmas Day"},
		{date: "2027-12-27", open: "2027-12-26T23:00:00Z", close: "2027-12-27T22:00:00Z"},
		{date: "2027-12-31", open: "2027-12-30T23:00:00Z", close: "2027-12-31T22:00:00Z"},
		{date: "2028-01-17", open: "2028-01-16T23:00:00Z", close: "2028-01-17T18:00:00Z"},
		{date: "2028-04-14", holiday: "Good Friday"},
		{date: "2028-04-17", open: "2028-04-16T22:00:00Z", close: "2028-04-17T21:00:00Z"},
		{date: "2028-06-19", open: "2028-06-18T22:00:00Z", close: "2028-06-19T17:00:00Z"},
		{date: "2028-07-04", open: "2028-07-03T22:00:00Z", close: "2028-07-04T17:00:00Z"},
		{date: "2028-12-25", holiday: "Christmas Day"},
		{date: "2028-12-26", open: "2028-12-25T23:00:00Z", close: "2028-12-26T22:00:00Z"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2034-01-02", holiday: "New Year's Day"},
	},

	// The published bank holidays for 2023-2027 and rule consequences up to
	// 2035, after xlon.csv ends (2023-09-12). Sessions run 08:00-16:30
	// London; the Christmas Eve and New Year's Eve half days close at 12:30.
	XLON: {
		{date: "2023-12-22", open: "2023-12-22T08:00:00Z", close: "2023-12-22T12:30:00Z", note: "Christmas Eve on Sunday"},
		{date: "2023-12-25", holiday: "Christmas Day"},
		{date: "2023-12-26", holiday: "Boxing Day"},
		{date: "2023-12-29", open: "2023-12-29T08:00:00Z", close: "2023-12-29T12:30:00Z", note: "New Year's Eve on Sunday"},
		{date: "2024-01-01", holiday: "New Year's Day"},
		{date: "2024-03-29", holiday: "Good Friday"},
		{date: "2024-04-01", holiday: "Easter Monday"},
		{date: "2024-05-06", holiday: "Early May Bank Holiday"},
		{date: "2024-05-07", open: "2024-05-07T07:00:00Z", close: "2024-05-07T15:30:00Z"},
		{date: "2024-05-27", holiday: "Spring Bank Holiday"},
		{date: "2024-08-26", holiday: "Summer Bank Holiday"},
		{date: "2024-12-24", open: "2024-12-24T08:00:00Z", close: "2024-12-24T12:30:00Z"},
		{date: "2024-12-31", open: "2024-12-31T08:00:00Z", close: "2024-12-31T12:30:00Z"},
		{date: "2025-05-05", holiday: "Early May Bank Holiday"},
		{date: "2025-05-26", holiday: "Spring Bank Holiday"},
		{date: "2025-08-25", holiday: "Summer Bank Holiday"},
		{date: "2026-12-28", holiday: "Boxing Day", note: "Boxing Day on Saturday"},
		{date: "2027-12-27", holiday: "Christmas Day", note: "Christmas on Saturday"},
		{date: "2027-12-28", holiday: "Boxing Day"},
		{date: "2028-01-03", holiday: "New Year's Day", note: "New Year's Day on Saturday"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2030-04-22", holiday: "Easter Monday"},
		{date: "2035-03-23", holiday: "Good Friday"},
	},

	// Deutsche Börse's published holidays for 2023-2026 (trading on Whit
	// Monday and the Day of German Unity since 2022) and rule consequences
	// up to 2035, after xetr.csv ends (2023-06-06). Sessions run
	// 09:00-17:30 Frankfurt; the weekday before New Year's Eve closes at
	// 14:00.
	XETR: {
		{date: "2023-10-03", open: "2023-10-03T07:00:00Z", close: "2023-10-03T15:30:00Z", note: "Day of German Unity, traded"},
		{date: "2023-12-25", holiday: "Christmas Day"},
		{date: "2023-12-26", holiday: "Boxing Day"},
		{date: "2023-12-29", open: "2023-12-29T08:00:00Z", close: "2023-12-29T13:00:00Z"},
		{date: "2024-01-01", holiday: "New Year's Day"},
		{date: "2024-05-20", open: "2024-05-20T07:00:00Z", close: "2024-05-20T15:30:00Z", note: "Whit Monday, traded"},
		{date: "2024-12-24", holiday: "Christmas Eve"},
		{date: "2024-12-30", open: "2024-12-30T08:00:00Z", close: "2024-12-30T13:00:00Z"},
		{date: "2024-12-31", holiday: "New Year's Eve"},
		{date: "2025-04-18", holiday: "Good Friday"},
		{date: "2025-04-21", holiday: "Easter Monday"},
		{date: "2025-05-01", holiday: "Labour Day"},
		{date: "2025-06-09", open: "2025-06-09T07:00:00Z", close: "2025-06-09T15:30:00Z", note: "Whit Monday, traded"},
		{date: "2026-12-24", holiday: "Christmas Eve"},
		{date: "2026-12-30", open: "2026-12-30T08:00:00Z", close: "2026-12-30T13:00:00Z"},
		{date: "2026-12-31", holiday: "New Year's Eve"},
		{date: "2027-05-17", open: "2027-05-17T07:00:00Z", close: "2027-05-17T15:30:00Z", note: "Whit Monday, traded"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2030-04-22", holiday: "Easter Monday"},
		{date: "2035-12-28", open: "2035-12-28T08:00:00Z", close: "2035-12-28T13:00:00Z", note: "New Year's Eve on Monday"},
	},

	// The ASX trading calendars for 2025-2027 and rule consequences up to
	// 2035, after xasx.csv ends (2025-02-14). Sessions run 10:00-16:00
	// Sydney; the Christmas Eve and New Year's Eve half days close at
	// 14:10.
	XASX: {
		{date: "2025-04-18", holiday: "Good Friday"},
		{date: "2025-04-21", holiday: "Easter Monday"},
		{date: "2025-04-25", holiday: "Anzac Day"},
		{date: "2025-06-09", holiday: "King's Birthday"},
		{date: "2025-06-10", open: "2025-06-10T00:00:00Z", close: "2025-06-10T06:00:00Z"},
		{date: "2025-12-24", open: "2025-12-23T23:00:00Z", close: "2025-12-24T03:10:00Z"},
		{date: "2025-12-25", holiday: "Christmas Day"},
		{date: "2025-12-26", holiday: "Boxing Day"},
		{date: "2025-12-31", open: "2025-12-30T23:00:00Z", close: "2025-12-31T03:10:00Z"},
		{date: "2026-01-01", holiday: "New Year's Day"},
		{date: "2026-01-26", holiday: "Australia Day"},
		{date: "2026-04-27", open: "2026-04-27T00:00:00Z", close: "2026-04-27T06:00:00Z", note: "Anzac Day on Saturday is not moved"},
		{date: "2026-12-28", holiday: "Boxing Day", note: "Boxing Day on Saturday"},
		{date: "2027-01-26", holiday: "Australia Day"},
		{date: "2027-12-24", open: "2027-12-23T23:00:00Z", close: "2027-12-24T03:10:00Z"},
		{date: "2027-12-27", holiday: "Christmas Day", note: "Christmas on Saturday"},
		{date: "2027-12-28", holiday: "Boxing Day"},
		{date: "2027-12-31", open: "2027-12-30T23:00:00Z", close: "2027-12-31T03:10:00Z"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2030-04-22", holiday: "Easter Monday"},
		{date: "2030-04-25", holiday: "Anzac Day"},
	},

	// The rules of the Act on National Holidays and the exchange's New Year
	// holidays, after xtks.csv ends (2026-12-30). Sessions run 09:00-15:30
	// Tokyo with an 11:30-12:30 break.
	XTKS: {
		{date: "2026-12-31", holiday: "Year-end holiday (exchange closed)"},
		{date: "2027-01-01", holiday: "New Year's Day"},
		{date: "2027-01-04", open: "2027-01-04T00:00:00Z", breakStart: "2027-01-04T02:30:00Z", breakEnd: "2027-01-04T03:30:00Z", close: "2027-01-04T06:30:00Z"},
		{date: "2027-01-11", holiday: "Coming of Age Day"},
		{date: "2027-02-11", holiday: "National Foundation Day"},
		{date: "2027-02-23", holiday: "Emperor's Birthday"},
		{date: "2027-03-22", holiday: "Substitute holiday", note: "Vernal Equinox Day 2027 is Sunday March 21 (official gazette)"},
		{date: "2027-04-29", holiday: "Showa Day"},
		{date: "2027-05-03", holiday: "Constitution Memorial Day"},
		{date: "2027-05-04", holiday: "Greenery Day"},
		{date: "2027-05-05", holiday: "Children's Day"},
		{date: "2027-07-19", holiday: "Marine Day"},
		{date: "2027-09-20", holiday: "Respect for the Aged Day"},
		{date: "2027-09-23", holiday: "Autumnal Equinox Day"},
		{date: "2027-10-11", holiday: "Sports Day"},
		{date: "2027-11-03", holiday: "Culture Day"},
		{date: "2027-11-23", holiday: "Labor Thanksgiving Day"},
		{date: "2027-12-30", open: "2027-12-30T00:00:00Z", breakStart: "2027-12-30T02:30:00Z", breakEnd: "2027-12-30T03:30:00Z", close: "2027-12-30T06:30:00Z"},
		{date: "2027-12-31", holiday: "Year-end holiday (exchange closed)"},
		{date: "2028-01-03", holiday: "New Year holiday (exchange closed)"},
		{date: "2028-03-20", holiday: "Vernal Equinox Day"},
		{date: "2028-08-11", holiday: "Mountain Day"},
		{date: "2028-09-22", holiday: "Autumnal Equinox Day"},
		{date: "2030-05-06", holiday: "Substitute holiday", note: "May 5, 2030 is a Sunday; May 6 is its substitute"},
		{
			date: "2032-09-21", holiday: "Citizens' holiday",
			note: "Silver Week: Respect for the Aged Day (Sep 20) and Autumnal Equinox Day (Sep 22) enclose a citizens' holiday",
		},
		{date: "2035-12-28", open: "2035-12-28T00:00:00Z", breakStart: "2035-12-28T02:30:00Z", breakEnd: "2035-12-28T03:30:00Z", close: "2035-12-28T06:30:00Z"},
		{date: "2035-12-31", holiday: "Year-end holiday (exchange closed)", note: "the last date covered"},
	},

	// BSE's 2026 holiday circular (the last year it has announced) and the
	// special Saturday sessions, with the names the calendar gives.
	// Sessions run 09:15-15:30 Kolkata, without a break.
	XBOM: {
		{date: "2024-01-20", open: "2024-01-20T03:45:00Z", close: "2024-01-20T10:00:00Z", note: "special Saturday session"},
		{date: "2024-01-22", holiday: "Ram Mandir Pran Pratishtha"},
		{date: "2025-02-01", open: "2025-02-01T03:45:00Z", close: "2025-02-01T10:00:00Z", note: "special Saturday session"},
		{date: "2026-01-15", holiday: "Municipal Corporation Elections"},
		{date: "2026-01-26", holiday: "Republic Day"},
		{date: "2026-03-03", holiday: "Holi"},
		{date: "2026-03-26", holiday: "Ram Navami"},
		{date: "2026-03-31", holiday: "Mahavir Jayanti"},
		{date: "2026-04-03", holiday: "Good Friday"},
		{date: "2026-04-14", holiday: "Dr. Baba Saheb Ambedkar Jayanti"},
		{date: "2026-05-01", holiday: "Maharashtra Day"},
		{date: "2026-05-28", holiday: "Bakri Id"},
		{date: "2026-06-26", holiday: "Muharram"},
		{date: "2026-09-14", holiday: "Ganesh Chaturthi"},
		{date: "2026-10-02", holiday: "Mahatma Gandhi Jayanti"},
		{date: "2026-10-20", holiday: "Dussehra"},
		{date: "2026-11-10", holiday: "Diwali Balipratipada"},
		{date: "2026-11-24", holiday: "Guru Nanak Jayanti"},
		{date: "2026-12-25", holiday: "Christmas"},
		{date: "2026-12-31", open: "2026-12-31T03:45:00Z", close: "2026-12-31T10:00:00Z"},
	},

	// The Hong Kong general holidays gazetted for 2025 and 2026, and
	// consequences of the rules in later years, after the answer file ends
	// (2025-09-05). Sessions run 09:30-16:00 Hong Kong with a 12:00-13:00
	// break; half days run 09:30-12:00.
	XHKG: {
		{date: "2025-10-07", holiday: "Day following Mid-Autumn Festival"},
		{date: "2025-10-29", holiday: "Chung Yeung Festival"},
		{date: "2025-12-24", open: "2025-12-24T01:30:00Z", close: "2025-12-24T04:00:00Z"},
		{date: "2025-12-26", holiday: "First weekday after Christmas Day"},
		{date: "2026-01-02", open: "2026-01-02T01:30:00Z", breakStart: "2026-01-02T04:00:00Z", breakEnd: "2026-01-02T05:00:00Z", close: "2026-01-02T08:00:00Z"},
		{date: "2026-02-16", open: "2026-02-16T01:30:00Z", close: "2026-02-16T04:00:00Z", note: "Lunar New Year's Eve"},
		{date: "2026-02-17", holiday: "Lunar New Year"},
		{date: "2026-02-19", holiday: "Lunar New Year"},
		{date: "2026-04-03", holiday: "Good Friday"},
		{date: "2026-04-06", holiday: "Easter Monday"},
		{
			date: "2026-04-07", holiday: "Ching Ming Festival",
			note: "Ching Ming (Sunday 5 April) moves to Monday, which is Easter Monday, so the gazette gives Tuesday",
		},
		{date: "2026-05-25", holiday: "Buddha's Birthday", note: "Sunday 24 May"},
		{date: "2026-06-19", holiday: "Tuen Ng Festival"},
		{
			date: "2026-09-28", open: "2026-09-28T01:30:00Z", breakStart: "2026-09-28T04:00:00Z", breakEnd: "2026-09-28T05:00:00Z", close: "2026-09-28T08:00:00Z",
			note: "The day following Mid-Autumn is Saturday 26 September: no substitute",
		},
		{date: "2026-10-19", holiday: "Chung Yeung Festival", note: "Sunday 18 October"},
		// Lunar New Year 2027 is a Saturday: the half day is Friday, and
		// the Sunday second day gives the fourth day (Tuesday).
		{date: "2027-02-05", open: "2027-02-05T01:30:00Z", close: "2027-02-05T04:00:00Z"},
		{date: "2027-02-08", holiday: "Lunar New Year"},
		{date: "2027-02-09", holiday: "Lunar New Year substitute"},
		{date: "2027-12-27", holiday: "First weekday after Christmas Day"},
		{date: "2030-04-19", holiday: "Good Friday"},
		{date: "2030-04-22", holiday: "Easter Monday"},
		{date: "2033-12-27", holiday: "Christmas Day", note: "Sunday Christmas"},
		{date: "2035-12-31", open: "2035-12-31T01:30:00Z", close: "2035-12-31T04:00:00Z"},
	},

	// The State Council's 2026 holiday notice, the last year announced: the
	// answer file ends on 2026-12-31, and so does what anyone can know of
	// Shanghai's closures. Sessions run 09:30-15:00 Shanghai with an
	// 11:30-13:00 break.
	XSHG: {
		{date: "2026-01-02", holiday: "New Year holiday"},
		{date: "2026-01-05", open: "2026-01-05T01:30:00Z", breakStart: "2026-01-05T03:30:00Z", breakEnd: "2026-01-05T05:00:00Z", close: "2026-01-05T07:00:00Z"},
		{date: "2026-02-16", holiday: "Spring Festival", note: "Since 2025 the eve of Lunar New Year is a statutory day"},
		{date: "2026-02-19", holiday: "Spring Festival"},
		{date: "2026-02-23", holiday: "Spring Festival holiday"},
		{date: "2026-02-24", open: "2026-02-24T01:30:00Z", breakStart: "2026-02-24T03:30:00Z", breakEnd: "2026-02-24T05:00:00Z", close: "2026-02-24T07:00:00Z"},
		{date: "2026-04-06", holiday: "Qingming Festival holiday"},
		{date: "2026-05-01", holiday: "Labour Day"},
		{date: "2026-05-05", holiday: "Labour Day holiday"},
		{date: "2026-05-06", open: "2026-05-06T01:30:00Z", breakStart: "2026-05-06T03:30:00Z", breakEnd: "2026-05-06T05:00:00Z", close: "2026-05-06T07:00:00Z"},
		{date: "2026-06-19", holiday: "Dragon Boat Festival"},
		{date: "2026-09-25", holiday: "Mid-Autumn Festival"},
		{date: "2026-10-02", holiday: "National Day"},
		{date: "2026-10-07", holiday: "National Day holiday"},
		{date: "2026-10-08", open: "2026-10-08T01:30:00Z", breakStart: "2026-10-08T03:30:00Z", breakEnd: "2026-10-08T05:00:00Z", close: "2026-10-08T07:00:00Z"},
		{date: "2026-12-31", open: "2026-12-31T01:30:00Z", breakStart: "2026-12-31T03:30:00Z", breakEnd: "2026-12-31T05:00:00Z", close: "2026-12-31T07:00:00Z"},
	},
}

// TestKnownDays checks every known day with Session and Holiday: a closure
// has no session and the expected holiday name; a trading day has no
// holiday name and exactly the expected open, close and lunch break.
func TestKnownDays(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	for _, code := range slices.Sorted(maps.Keys(knownDays)) {
		c := cals[code]
		t.Run(string(code), func(t *testing.T) {
			t.Parallel()
			if c == nil {
				t.Fatalf("no calendar for %s", code)
			}
			for _, tc := range knownDays[code] {
				t.Run(tc.date, func(t *testing.T) {
					t.Parallel()
					checkKnownDay(t, c, tc)
				})
			}
		})
	}
}

// checkKnownDay checks one known day against c, stopping at the first
// difference.
func checkKnownDay(t *testing.T, c *Calendar, tc knownDay) {
	t.Helper()
	if (tc.holiday == "") == (tc.open == "") {
		t.Fatalf("case %s: give either a holiday or a session", tc.date)
	}
	what := tc.date
	if tc.note != "" {
		what += " (" + tc.note + ")"
	}
	d, err := ParseDate(tc.date)
	if err != nil {
		t.Fatal(err)
	}
	s, ok, err := c.Session(d)
	if err != nil {
		t.Fatalf("Session(%s): %v", what, err)
	}
	name, isHoliday := c.Holiday(d)
	if tc.holiday != "" {
		if ok {
			t.Fatalf("Session(%s) = %s-%s; want closed for %q", what, stamp(s.Open), stamp(s.Close), tc.holiday)
		}
		if !isHoliday || name != tc.holiday {
			t.Fatalf("Holiday(%s) = %q, %v; want %q, true", what, name, isHoliday, tc.holiday)
		}
		return
	}
	if !ok {
		t.Fatalf("Session(%s): closed (holiday %q); want a session", what, name)
	}
	if isHoliday {
		t.Fatalf("Holiday(%s) = %q on a trading day; want none", what, name)
	}
	got := [4]string{stamp(s.Open), stamp(s.BreakStart), stamp(s.BreakEnd), stamp(s.Close)}
	want := [4]string{tc.open, tc.breakStart, tc.breakEnd, tc.close}
	if got != want {
		t.Fatalf("Session(%s) (open, break start, break end, close) = %q; want %q", what, got, want)
	}
}

// TestCoverageEnds checks where each calendar stops answering: Coverage
// gives the expected last date, Session answers for it, and each date after
// it fails with a *CoverageError wrapping ErrOutOfCoverage that names the
// market and the last date, instead of a guess.
func TestCoverageEnds(t *testing.T) {
	t.Parallel()
	cals := setup(t)
	tests := []struct {
		code   Code
		last   string
		beyond []string // dates after last
	}{
		{code: XNYS, last: "2035-12-31", beyond: []string{"2036-01-02"}},
		{code: XTSE, last: "2035-12-31", beyond: []string{"2036-01-02"}},
		{code: XMEX, last: "2035-12-31", beyond: []string{"2036-01-02"}},
		{code: CMES, last: "2035-12-31", beyond: []string{"2036-01-02"}},
		{code: XLON, last: "2035-12-31", beyond: []string{"2036-01-01"}},
		{code: XETR, last: "2035-12-31", beyond: []string{"2036-01-01"}},
		{code: XASX, last: "2035-12-31", beyond: []string{"2036-01-01"}},
		{code: XTKS, last: "2035-12-31", beyond: []string{"2036-01-04"}},
		// BSE has announced its holidays through 2026: beyond the answer
		// file's end (2026-12-31) even a fixed-date holiday such as
		// Republic Day 2027 is out of coverage, because the festival dates
		// around it are not yet known.
		{code: XBOM, last: "2026-12-31", beyond: []string{"2027-01-01", "2027-01-26", "2030-08-15"}},
		{code: XHKG, last: "2035-12-31", beyond: []string{"2036-01-02"}},
		// 2027's schedule is not announced yet: no guess.
		{code: XSHG, last: "2026-12-31", beyond: []string{"2027-01-04", "2027-02-08"}},
	}
	for _, tt := range tests {
		c := cals[tt.code]
		t.Run(string(tt.code), func(t *testing.T) {
			t.Parallel()
			if c == nil {
				t.Fatalf("no calendar for %s", tt.code)
			}
			last, err := ParseDate(tt.last)
			if err != nil {
				t.Fatal(err)
			}
			if _, got := c.Coverage(); got != last {
				t.Fatalf("Coverage() last = %s, want %s", got, last)
			}
			if _, _, err := c.Session(last); err != nil {
				t.Fatalf("Session(%s): %v", last, err)
			}
			for _, date := range tt.beyond {
				t.Run(date, func(t *testing.T) {
					t.Parallel()
					d, err := ParseDate(date)
					if err != nil {
						t.Fatal(err)
					}
					_, _, err = c.Session(d)
					if !errors.Is(err, ErrOutOfCoverage) {
						t.Fatalf("Session(%s) error = %v, want ErrOutOfCoverage", d, err)
					}
					var ce *CoverageError
					if !errors.As(err, &ce) || ce.Market != tt.code || ce.Last != last {
						t.Fatalf("Session(%s) error = %v, want a CoverageError for %s ending %s", d, err, tt.code, last)
					}
				})
			}
		})
	}
}

// TestLunisolarTable checks that the table covers every year the calendars
// using it cover, and that each date is plausible: Lunar New Year between
// January 21 and February 20, Qingming on April 4, 5 or 6, and each lunar
// festival (month m, day d) between (m-1) months of 29 days and (m-1)
// months of 30 days plus one leap month after Lunar New Year. That last
// check catches a misplaced leap month, such as the 2034 error of older
// tables.
func TestLunisolarTable(t *testing.T) {
	t.Parallel()
	lunar := []struct {
		f          cnFestival
		month, day int
	}{
		{cnBuddhasBirthday, 4, 8},
		{cnDragonBoat, 5, 5},
		{cnMidAutumn, 8, 15},
		{cnDoubleNinth, 9, 9},
	}
	for y := cnLunisolarFirst; y <= cnLunisolarLast; y++ {
		row, ok := cnLunisolar[y]
		if !ok {
			t.Fatalf("no lunisolar dates for %d", y)
		}
		newYear := row[cnNewYear]
		if newYear.Before(NewDate(y, time.January, 21)) || newYear.After(NewDate(y, time.February, 20)) {
			t.Fatalf("%d: Lunar New Year on %s", y, newYear)
		}
		if qm := row[cnQingming]; qm.Before(NewDate(y, time.April, 4)) || qm.After(NewDate(y, time.April, 6)) {
			t.Fatalf("%d: Qingming on %s", y, qm)
		}
		for _, l := range lunar {
			d := row[l.f]
			earliest := newYear.AddDays((l.month-1)*29 + l.day - 1)
			latest := newYear.AddDays((l.month-1)*30 + l.day - 1 + 30)
			if d.Before(earliest) || d.After(latest) {
				t.Fatalf("%d: lunar %d/%d on %s, not within %s..%s", y, l.month, l.day, d, earliest, latest)
			}
		}
	}
	for _, code := range []Code{XHKG, XSHG} {
		sp := specs[code]()
		if sp.first.Year < cnLunisolarFirst || sp.last.Year > cnLunisolarLast {
			t.Fatalf("%s covers %s..%s, beyond the lunisolar table", code, sp.first, sp.last)
		}
	}
}
