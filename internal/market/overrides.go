package market

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// An Override changes one session of a market's built-in calendar: a
// closure, an early close, a late open, a halt, or an extra session. They
// come from an overrides file (calendars.overrides) or are entered at run
// time; precedence is runtime entries over the file over the built-in
// rules, and within one source entries apply in the order holidays and
// extra sessions, late opens, early closes, halts.
type Override struct {
	Market Code
	Kind   OverrideKind
	Date   Date   // the session's label, in the market's calendar
	Name   string // what the holiday, halt or change is (the reason)
	// Open is the new open (late_open, extra_session); Close the new
	// close (early_close, extra_session). BreakStart and BreakEnd give an
	// extra session a lunch break; both zero: none.
	Open, Close          TimeOfDay
	BreakStart, BreakEnd TimeOfDay
	// From and To bound a halt.
	From, To TimeOfDay
	Source   Source
}

// OverrideKind is what an Override does.
type OverrideKind string

// The kinds of override, named as the overrides file's lists are (without
// the plural).
const (
	KindHoliday      OverrideKind = "holiday"
	KindEarlyClose   OverrideKind = "early_close"
	KindLateOpen     OverrideKind = "late_open"
	KindHalt         OverrideKind = "halt"
	KindExtraSession OverrideKind = "extra_session"
)

// Kinds lists every kind of override in the order a source's entries apply.
func Kinds() []OverrideKind {
	return []OverrideKind{KindHoliday, KindExtraSession, KindLateOpen, KindEarlyClose, KindHalt}
}

// ParseKind returns the kind named s ("holiday", "early_close", ...).
func ParseKind(s string) (OverrideKind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown override kind %q (known: %v)", s, Kinds())
}

func (k OverrideKind) rank() int {
	for i, x := range Kinds() {
		if x == k {
			return i
		}
	}
	return len(Kinds())
}

// Origins of an override.
const (
	OriginFile    = "file"
	OriginRuntime = "runtime"
)

// Source says where an override comes from: the overrides file (Ref is
// path:line) or a runtime entry (Ref is its ID, Actor who entered it and
// At when).
type Source struct {
	Origin string    `json:"origin"`
	Ref    string    `json:"ref,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// Rejected is a runtime entry the calendar could not apply, and why (the
// file or the built-in calendar changed under it since it was entered).
type Rejected struct {
	Override Override
	Reason   string
	Err      error // the error Reason is the text of
}

// TimeOfDay is a wall-clock time in a market's zone, in minutes after
// midnight (0 to 1440).
type TimeOfDay int

// ParseTimeOfDay parses "HH:MM" (00:00 to 24:00).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(h) != 2 || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 1440 {
		return 0, fmt.Errorf("must be a time HH:MM from 00:00 to 24:00, got %q", s)
	}
	return TimeOfDay(hh*60 + mm), nil
}

// String writes the time as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// OverrideError names the entry and the field an override is wrong in.
type OverrideError struct {
	Market Code
	Entry  string // "halts[0]" in a file, "halt 2027-03-11" at run time
	Ref    string // path:line, when from a file
	Field  string // "to", "date", ...; empty for the entry as a whole
	Reason string
}

// Error reads "XNYS.halts[0] (overrides.yaml:7): to: must be after from".
func (e *OverrideError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Market))
	if e.Entry != "" {
		b.WriteString("." + e.Entry)
	}
	if e.Ref != "" {
		b.WriteString(" (" + e.Ref + ")")
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// entryName is how an error names o: its file list and index when it has
// one, else its kind and date.
func (o Override) entryName() string {
	if o.Source.Origin == OriginFile && strings.Contains(o.Source.Ref, "#") {
		_, entry, _ := strings.Cut(o.Source.Ref, "#")
		return entry
	}
	return string(o.Kind) + " " + o.Date.String()
}

func (o Override) errorf(field, format string, args ...any) error {
	ref := o.Source.Ref
	if i := strings.Index(ref, "#"); i >= 0 {
		ref = ref[:i]
	}
	return &OverrideError{Market: o.Market, Entry: o.entryName(), Ref: ref, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Check validates an entry on its own: its kind, date and times.
// Whether it fits the calendar is known only when it is applied.
func (o Override) Check() error {
	if err := CheckCodeSyntax(string(o.Market)); err != nil {
		return o.errorf("market", "%v", err)
	}
	if o.Kind.rank() == len(Kinds()) {
		return o.errorf("kind", "unknown kind %q", o.Kind)
	}
	if o.Date.IsZero() {
		return o.errorf("date", "is required")
	}
	inDay := func(field string, t TimeOfDay) error {
		if t < 0 || t > 1440 {
			return o.errorf(field, "must be from 00:00 to 24:00")
		}
		return nil
	}
	for _, f := range []struct {
		name string
		t    TimeOfDay
	}{{"open", o.Open}, {"close", o.Close}, {"from", o.From}, {"to", o.To}, {"break_start", o.BreakStart}, {"break_end", o.BreakEnd}} {
		if err := inDay(f.name, f.t); err != nil {
			return err
		}
	}
	switch o.Kind {
	case KindEarlyClose:
		if o.Close == 0 {
			return o.errorf("close", "is required")
		}
	case KindHalt:
		if o.To <= o.From {
			return o.errorf("to", "must be after from (%s), got %s", o.From, o.To)
		}
	case KindExtraSession:
		if o.Open == o.Close {
			return o.errorf("close", "must differ from open (%s)", o.Open)
		}
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			if o.BreakEnd <= o.BreakStart {
				return o.errorf("break_end", "must be after break_start (%s)", o.BreakStart)
			}
		}
	}
	return nil
}

// sortedByKind returns entries in the order they apply: by kind (holidays
// and extra sessions first, halts last), stable within a kind.
func sortedByKind(in []Override) []Override {
	out := append([]Override(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind.rank() < out[j].Kind.rank() })
	return out
}

// Contradiction returns an error when a and b, from the same source, say
// incompatible things about one session: a closure and anything else, two
// entries of a kind that can only be given once (extra session, late
// open, early close), an extra session with a late open or early close
// (give the extra session's own hours), or halts that overlap.
func Contradiction(a, b Override) error {
	if a.Market != b.Market || a.Date != b.Date {
		return nil
	}
	pair := func(x, y OverrideKind) bool {
		return (a.Kind == x && b.Kind == y) || (a.Kind == y && b.Kind == x)
	}
	switch {
	case a.Kind == KindHoliday && b.Kind == KindHoliday:
		return b.errorf("date", "%s is listed as a holiday twice", b.Date)
	case a.Kind == KindHoliday || b.Kind == KindHoliday:
		return b.errorf("date", "%s is both a holiday and a %s", b.Date, other(a, b, KindHoliday))
	case a.Kind == b.Kind && a.Kind != KindHalt:
		return b.errorf("date", "%s has two %s entries", b.Date, a.Kind)
	case pair(KindExtraSession, KindLateOpen) || pair(KindExtraSession, KindEarlyClose):
		return b.errorf("date", "%s has an extra session and a %s: give the extra session's own open and close", b.Date, other(a, b, KindExtraSession))
	case a.Kind == KindHalt && b.Kind == KindHalt && a.From < b.To && b.From < a.To:
		return b.errorf("from", "halt %s-%s overlaps halt %s-%s on %s", b.From, b.To, a.From, a.To, b.Date)
	}
	return nil
}

func other(a, b Override, k OverrideKind) OverrideKind {
	if a.Kind == k {
		return b.Kind
	}
	return a.Kind
}

// sessionInstant returns the instant the wall clock shows t on the session's
// date. For a session that opens the evening before its date (CME
// Globex), a time that would fall after the session's close is taken on
// the evening before.
func sessionInstant(d Date, t TimeOfDay, loc *time.Location, s Session, exists bool) time.Time {
	at := d.At(loc, int(t)).UTC()
	if exists && at.After(s.Close) && d.AddDays(-1).At(loc, int(t)).UTC().Before(s.Close) {
		return d.AddDays(-1).At(loc, int(t)).UTC()
	}
	return at
}

// applyIn applies o to the sessions days (keyed by label) and the holiday
// names, or returns why it cannot and changes nothing.
func (o Override) applyIn(days map[Date]Session, names map[Date]string, loc *time.Location, covered Date) error {
	if o.Date.After(covered) {
		return o.errorf("date", "%s is after the calendar's coverage (through %s): set covered_through", o.Date, covered)
	}
	cur, exists := days[o.Date]
	noSession := func() error {
		if name, ok := names[o.Date]; ok {
			return o.errorf("date", "%s is not a trading day (%s)", o.Date, name)
		}
		return o.errorf("date", "%s is not a trading day", o.Date)
	}
	s := cur
	s.Halts = append([]Halt(nil), cur.Halts...)
	switch o.Kind {
	case KindHoliday:
		if exists {
			delete(days, o.Date)
		}
		name := o.Name
		if name == "" {
			name = "closed"
		}
		names[o.Date] = name
		return nil
	case KindExtraSession:
		open, closeAt := o.Date.At(loc, int(o.Open)).UTC(), o.Date.At(loc, int(o.Close)).UTC()
		if o.Open > o.Close {
			open = o.Date.AddDays(-1).At(loc, int(o.Open)).UTC() // the evening before
		}
		s = Session{Market: o.Market, Date: o.Date, Open: open, Close: closeAt}
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			s.BreakStart, s.BreakEnd = o.Date.At(loc, int(o.BreakStart)).UTC(), o.Date.At(loc, int(o.BreakEnd)).UTC()
			if !s.BreakStart.After(s.Open) || !s.BreakEnd.Before(s.Close) {
				return o.errorf("break_start", "the break %s-%s must lie inside the session %s-%s", o.BreakStart, o.BreakEnd, o.Open, o.Close)
			}
		}
		if prev, ok := days[o.Date.AddDays(-1)]; ok && prev.Close.After(s.Open) {
			return o.errorf("open", "the session would overlap the session of %s", prev.Date)
		}
		if next, ok := days[o.Date.AddDays(1)]; ok && next.Open.Before(s.Close) {
			return o.errorf("close", "the session would overlap the session of %s", next.Date)
		}
	case KindLateOpen:
		if !exists {
			return noSession()
		}
		at := sessionInstant(o.Date, o.Open, loc, cur, exists)
		if !at.After(cur.Open) || !at.Before(cur.Close) {
			return o.errorf("open", "%s must be after the session's open (%s) and before its close (%s)", o.Open,
				TimeOfDayOf(cur.Open, loc), TimeOfDayOf(cur.Close, loc))
		}
		s.Open = at
		if s.HasBreak() && !s.Open.Before(s.BreakStart) {
			s.Open, s.BreakStart, s.BreakEnd = maxTime(s.Open, s.BreakEnd), time.Time{}, time.Time{}
		}
		s.Halts = haltsWithin(s.Halts, s.Open, s.Close)
	case KindEarlyClose:
		if !exists {
			return noSession()
		}
		at := sessionInstant(o.Date, o.Close, loc, cur, exists)
		if !at.After(cur.Open) || !at.Before(cur.Close) {
			return o.errorf("close", "%s must be after the session's open (%s) and before its close (%s)", o.Close,
				TimeOfDayOf(cur.Open, loc), TimeOfDayOf(cur.Close, loc))
		}
		s.Close = at
		// A lunch break that ends before the new close stays; one that
		// does not is dropped.
		if s.HasBreak() && !s.BreakEnd.Before(s.Close) {
			s.BreakStart, s.BreakEnd = time.Time{}, time.Time{}
		}
		s.Halts = haltsWithin(s.Halts, s.Open, s.Close)
	case KindHalt:
		if !exists {
			return noSession()
		}
		h := Halt{From: sessionInstant(o.Date, o.From, loc, cur, exists), To: sessionInstant(o.Date, o.To, loc, cur, exists), Name: o.Name}
		if !h.To.After(h.From) {
			return o.errorf("to", "must be after from (%s)", o.From)
		}
		if h.From.Before(cur.Open) || h.To.After(cur.Close) {
			return o.errorf("from", "the halt %s-%s must lie inside the session %s-%s", o.From, o.To,
				TimeOfDayOf(cur.Open, loc), TimeOfDayOf(cur.Close, loc))
		}
		for _, x := range cur.Halts {
			if h.From.Before(x.To) && x.From.Before(h.To) {
				return o.errorf("from", "the halt %s-%s overlaps the halt %s-%s", o.From, o.To, TimeOfDayOf(x.From, loc), TimeOfDayOf(x.To, loc))
			}
		}
		s.Halts = append(s.Halts, h)
		sort.Slice(s.Halts, func(i, j int) bool { return s.Halts[i].From.Before(s.Halts[j].From) })
	default:
		return o.errorf("kind", "unknown kind %q", o.Kind)
	}
	days[o.Date] = s
	delete(names, o.Date)
	return nil
}

// haltsWithin keeps the parts of halts that lie inside [open, close).
func haltsWithin(hs []Halt, open, closeAt time.Time) []Halt {
	var out []Halt
	for _, h := range hs {
		h.From, h.To = maxTime(h.From, open), minTime(h.To, closeAt)
		if h.To.After(h.From) {
			out = append(out, h)
		}
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// TimeOfDayOf returns the wall-clock time of t in loc.
func TimeOfDayOf(t time.Time, loc *time.Location) TimeOfDay {
	l := t.In(loc)
	return TimeOfDay(l.Hour()*60 + l.Minute())
}
