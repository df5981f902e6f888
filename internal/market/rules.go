package market

import (
	"slices"
	"time"
)

// A rule names a recurring or one-off calendar event (a holiday, an early
// close, a late open) and yields the dates it falls on in a given year.
// Rules are the calendar's data: each market file lists its rules, and the
// engine expands them year by year.
type rule struct {
	name     string
	from, to Date // validity range, inclusive; zero means unbounded
	dates    func(year int) []Date
}

// in returns the dates of r in year y that fall inside r's validity range.
func (r rule) in(y int) []Date {
	var out []Date
	for _, d := range r.dates(y) {
		if !r.from.IsZero() && d.Before(r.from) {
			continue
		}
		if !r.to.IsZero() && d.After(r.to) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// between limits r to the dates from..to inclusive (either may be zero).
func (r rule) between(from, to Date) rule {
	r.from, r.to = from, to
	return r
}

// since limits r to dates on or after from.
func (r rule) since(from Date) rule { return r.between(from, r.to) }

// until limits r to dates on or before to.
func (r rule) until(to Date) rule { return r.between(r.from, to) }

// except drops the dates of r that fall in any of years: the years an
// exchange made an exception to a rule that otherwise holds (XNYS had no
// July 3 half day in 2002, XASX no year-end half days in 2022).
func (r rule) except(years ...int) rule {
	dates := r.dates
	r.dates = func(y int) []Date {
		var out []Date
		for _, d := range dates(y) {
			if !slices.Contains(years, d.Year) {
				out = append(out, d)
			}
		}
		return out
	}
	return r
}

// observance moves a date that falls on a non-working day to the day the
// holiday is observed; it returns ok=false when the holiday is not observed
// at all that year.
type observance func(Date) (Date, bool)

// asIs observes a holiday on its own date (a weekend date simply has no
// session anyway).
func asIs(d Date) (Date, bool) { return d, true }

// nearestWeekday moves Saturday to Friday and Sunday to Monday (US federal
// style).
func nearestWeekday(d Date) (Date, bool) {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDays(-1), true
	case time.Sunday:
		return d.AddDays(1), true
	}
	return d, true
}

// sundayToMonday moves Sunday to Monday; a Saturday holiday is lost.
func sundayToMonday(d Date) (Date, bool) {
	if d.Weekday() == time.Sunday {
		return d.AddDays(1), true
	}
	return d, true
}

// weekendToMonday moves Saturday and Sunday to the following Monday.
func weekendToMonday(d Date) (Date, bool) {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDays(2), true
	case time.Sunday:
		return d.AddDays(1), true
	}
	return d, true
}

// weekdaysOnly drops a holiday that falls on a weekend (no substitute).
func weekdaysOnly(d Date) (Date, bool) { return d, !d.IsWeekend() }

// weekendPlusTwo moves a Saturday or Sunday two days later, the British
// substitute for Christmas Day and Boxing Day that keeps the two holidays
// on two weekdays: Christmas on Saturday gives Monday 27 and Tuesday 28,
// Christmas on Sunday gives Monday 26 and Tuesday 27, Boxing Day on
// Saturday gives Monday 28. The United Kingdom and Australia both do this.
func weekendPlusTwo(d Date) (Date, bool) {
	if d.IsWeekend() {
		return d.AddDays(2), true
	}
	return d, true
}

// weekendToFriday moves a Saturday or Sunday to the Friday before, for
// events tied to the last trading day on or before a date (the Christmas
// Eve and New Year's Eve half days of London and Sydney).
func weekendToFriday(d Date) (Date, bool) { return lastWeekdayBefore(d.AddDays(1)), true }

// lastWeekdayBefore returns the last Monday to Friday strictly before d.
func lastWeekdayBefore(d Date) Date { return rollBack(d.AddDays(-1), Date.IsWeekend) }

// rollForward returns d, or the first date after d, that skip does not
// reject: the day a substitute holiday lands on, skipping weekends or days
// already taken by other holidays.
func rollForward(d Date, skip func(Date) bool) Date {
	for skip(d) {
		d = d.AddDays(1)
	}
	return d
}

// rollBack returns d, or the last date before d, that skip does not
// reject.
func rollBack(d Date, skip func(Date) bool) Date {
	for skip(d) {
		d = d.AddDays(-1)
	}
	return d
}

// fixed is a holiday on the same month and day every year, moved by obs.
func fixed(name string, m time.Month, day int, obs observance) rule {
	return rule{name: name, dates: func(y int) []Date {
		d, ok := obs(NewDate(y, m, day))
		if !ok {
			return nil
		}
		return []Date{d}
	}}
}

// nthWeekday is the n-th given weekday of a month (n = 1..5), or counted
// from the end of the month when n is negative (-1 is the last).
func nthWeekday(name string, m time.Month, wd time.Weekday, n int) rule {
	return rule{name: name, dates: func(y int) []Date {
		return []Date{NthWeekday(y, m, wd, n)}
	}}
}

// easterOffset is a holiday a fixed number of days from Western Easter
// Sunday (-2 is Good Friday, +1 Easter Monday).
func easterOffset(name string, days int) rule {
	return rule{name: name, dates: func(y int) []Date {
		return []Date{Easter(y).AddDays(days)}
	}}
}

// relativeTo is a holiday a fixed number of days from each date of base
// (the day after Thanksgiving is one day after the fourth Thursday of
// November). base's validity range applies to its own dates.
func relativeTo(name string, base rule, days int) rule {
	return rule{name: name, dates: func(y int) []Date {
		var out []Date
		for _, d := range base.in(y) {
			out = append(out, d.AddDays(days))
		}
		return out
	}}
}

// onDates is a table of explicit dates: one-off closures, or dates that only
// the exchange's announcement fixes.
func onDates(name string, dates ...Date) rule {
	byYear := map[int][]Date{}
	for _, d := range dates {
		byYear[d.Year] = append(byYear[d.Year], d)
	}
	return rule{name: name, dates: func(y int) []Date { return byYear[y] }}
}

// yearly is a rule computed by an arbitrary function of the year.
func yearly(name string, f func(y int) []Date) rule {
	return rule{name: name, dates: f}
}

// ymd is shorthand for NewDate in the rule tables of the market files.
func ymd(y int, m time.Month, day int) Date { return NewDate(y, m, day) }

// NthWeekday returns the n-th weekday wd of month m in year y (n = 1..5), or
// counted from the end of the month when n < 0 (-1 is the last).
func NthWeekday(y int, m time.Month, wd time.Weekday, n int) Date {
	if n > 0 {
		first := NewDate(y, m, 1)
		shift := (int(wd) - int(first.Weekday()) + 7) % 7
		return first.AddDays(shift + 7*(n-1))
	}
	last := NewDate(y, m+1, 0)
	shift := (int(last.Weekday()) - int(wd) + 7) % 7
	return last.AddDays(-shift + 7*(n+1))
}

// Easter returns Western (Gregorian) Easter Sunday of year y, by the
// anonymous Gregorian algorithm (Meeus/Jones/Butcher).
func Easter(y int) Date {
	a := y % 19
	b, c := y/100, y%100
	dd, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - dd - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return NewDate(y, time.Month(month), day)
}

// hm returns the minutes after midnight of hour:minute, the unit session
// times are written in.
func hm(hour, minute int) int { return hour*60 + minute }

// timedRule is a rule whose dates carry a local time: an early close or a
// late open, in minutes after midnight of the session's date.
type timedRule struct {
	rule
	at int
}

// at attaches a local time (minutes after midnight) to a rule.
func (r rule) at(minutes int) timedRule { return timedRule{rule: r, at: minutes} }
