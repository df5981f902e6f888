package schedule

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed cron expression in a time zone: the instants whose wall
// clock there matches its fields. See the package documentation for what
// it does on DST changes.
type Cron struct {
	text string // the canonical expression
	loc  *time.Location
	// One bit per allowed value: second, minute, hour, day of month,
	// month (1-12), day of week (0-6, Sunday 0).
	second, minute, hour, dom, month, dow uint64
	// domStar and dowStar are set when the field starts with * or ?: the
	// day then matches on the other field alone (Vixie cron's rule); when
	// neither is, a day matches either.
	domStar, dowStar bool
}

// cronField describes one field of a cron expression.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i ("jan" is 1), case-insensitive
}

var (
	monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	dayNames   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	cronFields = [6]cronField{
		{name: "second", min: 0, max: 59},
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day of week", min: 0, max: 7, names: dayNames}, // 7 is Sunday too
	}
	// cronDescriptors are the @ shorthands, in 6-field form.
	cronDescriptors = map[string]string{
		"@yearly":   "0 0 0 1 1 *",
		"@annually": "0 0 0 1 1 *",
		"@monthly":  "0 0 0 1 * *",
		"@weekly":   "0 0 0 * * 0",
		"@daily":    "0 0 0 * * *",
		"@midnight": "0 0 0 * * *",
		"@hourly":   "0 0 * * * *",
	}
)

// ParseCron parses a cron expression read in loc (nil: UTC): 6 fields
// "second minute hour day-of-month month day-of-week", or 5 without the
// seconds (second 0), or a shorthand (@yearly, @monthly, @weekly, @daily,
// @hourly). A field is * (or ? for the days), a value, a range a-b, a
// step */n, a-b/n or a/n (a to the maximum), or a comma-separated list of
// those. Months and days of the week may be named (jan, mon; any case);
// day of week 0 and 7 are Sunday. When both day fields are restricted a
// day matching either runs (Vixie cron). Errors name the field as written:
// "cron: field 3 (day of month): 32 out of range 1-31".
func ParseCron(expr string, loc *time.Location) (*Cron, error) {
	if loc == nil {
		loc = time.UTC
	}
	fields := strings.Fields(expr)
	c := &Cron{text: strings.Join(fields, " "), loc: loc}
	if len(fields) == 1 && strings.HasPrefix(fields[0], "@") {
		six, ok := cronDescriptors[strings.ToLower(fields[0])]
		if !ok {
			return nil, fmt.Errorf("cron: unknown shorthand %q (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", fields[0])
		}
		c.text = strings.ToLower(fields[0])
		fields = strings.Fields(six)
	}
	first := 0 // index in cronFields of the first field written
	switch len(fields) {
	case 6:
	case 5:
		first = 1
		c.second = 1
	default:
		return nil, fmt.Errorf("cron: want 5 or 6 fields (seconds first and optional), got %d in %q", len(fields), expr)
	}
	sets := [6]*uint64{&c.second, &c.minute, &c.hour, &c.dom, &c.month, &c.dow}
	for i, text := range fields {
		f := cronFields[first+i]
		set, err := f.parse(text)
		if err != nil {
			return nil, fmt.Errorf("cron: field %d (%s): %w", i+1, f.name, err)
		}
		*sets[first+i] = set
	}
	if c.dow&(1<<7) != 0 {
		c.dow = c.dow&^(1<<7) | 1
	}
	c.domStar = strings.HasPrefix(fields[len(fields)-3], "*") || strings.HasPrefix(fields[len(fields)-3], "?")
	c.dowStar = strings.HasPrefix(fields[len(fields)-1], "*") || strings.HasPrefix(fields[len(fields)-1], "?")
	if err := c.checkDays(len(fields)); err != nil {
		return nil, err
	}
	return c, nil
}

// checkDays rejects a day of month that no month of the expression has
// ("0 0 0 30 2 *"), which would never run.
func (c *Cron) checkDays(n int) error {
	if !c.dowStar || c.domStar {
		return nil // the day of week matches alone (some weekday comes), or the day of month is every day
	}
	longest := 0
	for m := 1; m <= 12; m++ {
		if c.month&(1<<m) != 0 {
			longest = max(longest, daysIn(time.Month(m), 2000)) // 2000: a leap year
		}
	}
	if first := bits.TrailingZeros64(c.dom); first > longest {
		return fmt.Errorf("cron: fields %d and %d (day of month, month): no month of the expression has day %d", n-2, n-1, first)
	}
	return nil
}

// parse returns the bit set of the values a field allows.
func (f cronField) parse(text string) (uint64, error) {
	var set uint64
	for item := range strings.SplitSeq(text, ",") {
		if item == "" {
			return 0, fmt.Errorf("empty item in list %q", text)
		}
		span, stepText, stepped := strings.Cut(item, "/")
		step := 1
		if stepped {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 || n > f.max {
				return 0, fmt.Errorf("step %q must be a number from 1 to %d", stepText, f.max)
			}
			step = n
		}
		// An open range of the days of week ends on Saturday: 7 is only
		// another name for Sunday.
		top := f.max
		if f.name == "day of week" {
			top = 6
		}
		lo, hi := f.min, top
		switch {
		case span == "*" || (span == "?" && (f.name == "day of month" || f.name == "day of week")):
		case strings.Contains(span, "-"):
			a, b, _ := strings.Cut(span, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, err
			}
			if hi, err = f.value(b); err != nil {
				return 0, err
			}
			if lo > hi {
				return 0, fmt.Errorf("range %s is backwards", span)
			}
		default:
			v, err := f.value(span)
			if err != nil {
				return 0, err
			}
			lo = v
			if !stepped {
				hi = v
			}
		}
		for v := lo; v <= hi; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

// value parses one value of the field, a number or a name.
func (f cronField) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || strings.HasPrefix(s, "+") || strings.HasPrefix(s, "-") {
		if f.names != nil {
			return 0, fmt.Errorf("%q is not a number or a name (%s-%s)", s, f.names[0], f.names[len(f.names)-1])
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d out of range %d-%d", n, f.min, f.max)
	}
	return n, nil
}

// String returns the expression with its fields separated by one space.
func (c *Cron) String() string { return c.text }

// Location returns the zone the expression is read in.
func (c *Cron) Location() *time.Location { return c.loc }

// everyHour reports whether the hour field allows every hour: such an
// expression follows the clock through a repeated hour instead of running
// once in it.
func (c *Cron) everyHour() bool { return c.hour == 1<<24-1 }

// cronSearchYears bounds the search for the next match (a 29 February
// can be eight years away).
const cronSearchYears = 10

// ErrNoCronMatch is returned by Cron.Next when no instant within ten
// years matches.
var ErrNoCronMatch = errors.New("cron: no match within ten years")

// Next returns the first instant strictly after prev whose wall clock in
// the expression's zone matches, in UTC. A wall-clock time a DST change
// skips does not run that day; one a DST change repeats runs once, at its
// first occurrence, unless the hour field is * (every hour), which runs in
// both. It fails only for an expression that matches nothing within ten
// years.
func (c *Cron) Next(prev time.Time) (time.Time, error) {
	t := prev.Truncate(time.Second).Add(time.Second)
	limit := t.AddDate(cronSearchYears, 0, 0)
	for t.Before(limit) {
		local := t.In(c.loc)
		_, offset := local.Zone()
		start, end := local.ZoneBounds()
		// In [start, end) the offset is fixed, so wall clock and instant
		// move together: find the wall time, then check it is in the span.
		wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, time.UTC)
		w, ok := c.nextWall(wall, wall.AddDate(cronSearchYears, 0, 0))
		if !ok {
			break
		}
		at := w.Add(-time.Duration(offset) * time.Second)
		switch {
		case !end.IsZero() && !at.Before(end):
			t = end // not in this span: look in the next one
		case !c.everyHour() && c.repeated(w, start):
			t = at.Add(time.Second) // the second occurrence of a repeated wall time
		default:
			return at, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w after %s: %q in %s", ErrNoCronMatch, prev.UTC().Format(time.RFC3339), c.text, c.loc)
}

// repeated reports whether wall time w, read in the span of constant
// offset that starts at start, also occurred in the span before it (the
// clocks were set back).
func (c *Cron) repeated(w, start time.Time) bool {
	if start.IsZero() {
		return false
	}
	before := start.Add(-time.Nanosecond).In(c.loc)
	_, offset := before.Zone()
	first := w.Add(-time.Duration(offset) * time.Second)
	if !first.Before(start) {
		return false
	}
	prevStart, _ := before.ZoneBounds()
	return prevStart.IsZero() || !first.Before(prevStart)
}

// nextWall returns the first wall-clock time at or after w (a time in UTC
// standing for a wall clock) that the fields match, or false when there is
// none before limit.
func (c *Cron) nextWall(w, limit time.Time) (time.Time, bool) {
	for t := w; t.Before(limit); {
		y, mo, d := t.Date()
		h, mi, s := t.Clock()
		switch {
		case c.month&(1<<mo) == 0:
			t = time.Date(y, mo+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(d, t.Weekday()):
			t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
		case c.hour&(1<<h) == 0:
			if n := nextBit(c.hour, h); n < 24 {
				t = time.Date(y, mo, d, n, 0, 0, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC)
			}
		case c.minute&(1<<mi) == 0:
			if n := nextBit(c.minute, mi); n < 60 {
				t = time.Date(y, mo, d, h, n, 0, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d, h+1, 0, 0, 0, time.UTC)
			}
		case c.second&(1<<s) == 0:
			if n := nextBit(c.second, s); n < 60 {
				t = time.Date(y, mo, d, h, mi, n, 0, time.UTC)
			} else {
				t = time.Date(y, mo, d, h, mi+1, 0, 0, time.UTC)
			}
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

// Matches reports whether t's wall clock in the expression's zone matches
// the fields (whether t is one of its instants, DST aside).
func (c *Cron) Matches(t time.Time) bool {
	l := t.In(c.loc)
	return l.Nanosecond() == 0 && c.second&(1<<l.Second()) != 0 && c.minute&(1<<l.Minute()) != 0 &&
		c.hour&(1<<l.Hour()) != 0 && c.month&(1<<l.Month()) != 0 && c.dayMatches(l.Day(), l.Weekday())
}

// dayMatches applies the day-of-month and day-of-week fields.
func (c *Cron) dayMatches(day int, weekday time.Weekday) bool {
	domMatch := c.dom&(1<<day) != 0
	dowMatch := c.dow&(1<<weekday) != 0
	if c.domStar || c.dowStar {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

// nextBit returns the lowest set bit of set above from, or 64.
func nextBit(set uint64, from int) int {
	return bits.TrailingZeros64(set >> (from + 1) << (from + 1))
}

// daysIn returns the number of days of month m in year y.
func daysIn(m time.Month, y int) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
