package market

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Book is the set of calendars one process works with: the built-in
// markets, markets defined in config, an overrides file and the runtime
// entries an operator made. Its calendars are handles (see Calendar): a
// change of the runtime entries swaps their sessions at once, so the job
// plans, the instruments and the feed that hold them follow without a
// restart. A Book is safe for concurrent use.
type Book struct {
	specs  map[Code]spec
	custom map[Code]bool // defined in config (Markets), not built in
	order  []Code
	file   map[Code][]Override
	cover  map[Code]Date
	assume bool
	cals   map[Code]*Calendar

	mu      sync.Mutex // serialises SetRuntime
	runtime map[Code][]Override
	version atomic.Uint64
}

// Version counts the changes SetRuntime made to the book's calendars, so
// a loop that decided something from them can tell it must decide again.
func (b *Book) Version() uint64 { return b.version.Load() }

// BookConfig is what a Book is built from.
type BookConfig struct {
	// Markets are defined in config, after the built-in ones.
	Markets []Definition
	// File is the parsed overrides file; nil when there is none.
	File *OverridesFile
	// AssumeWeekdays answers past a calendar's coverage with regular
	// hours Monday to Friday, each such session marked Assumed
	// (calendars.on_coverage_end: weekdays). Otherwise the market is
	// closed there and every query is a CoverageError.
	AssumeWeekdays bool
}

// Definition is a market defined in config: an alias of a built-in market
// under its own code (Like), or simple rules.
type Definition struct {
	Code Code
	Name string
	// Like makes the market an alias: the calendar of Like under Code.
	Like Code
	// Rules, when Like is empty: the zone, the regular hours, the days of
	// the week it trades, its holidays and how far they are known.
	Zone                 string
	Open, Close          TimeOfDay
	BreakStart, BreakEnd TimeOfDay // both zero: no break
	Weekdays             []time.Weekday
	Holidays             []DatedName
	From, CoveredThrough Date
}

// DefinitionError names the market and the field of a Definition that is
// wrong.
type DefinitionError struct {
	Market Code
	Field  string // "zone", "holidays[2].date"; empty for the whole entry
	Err    error
}

// Error reads "markets.XNAS.zone: reason".
func (e *DefinitionError) Error() string {
	if e.Field == "" {
		return "markets." + string(e.Market) + ": " + e.Err.Error()
	}
	return "markets." + string(e.Market) + "." + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *DefinitionError) Unwrap() error { return e.Err }

// DatedName is a holiday of a rule-defined market.
type DatedName struct {
	Date Date
	Name string
}

// DefaultFrom is the first date of a rule-defined market without From.
var DefaultFrom = NewDate(2000, time.January, 1)

// spec returns the calendar data of a definition.
func (d Definition) spec(builtin map[Code]spec) (spec, error) {
	field := func(f string, err error) error { return &DefinitionError{Market: d.Code, Field: f, Err: err} }
	if err := CheckCodeSyntax(string(d.Code)); err != nil {
		return spec{}, field("", err)
	}
	if _, dup := builtin[d.Code]; dup {
		return spec{}, field("", fmt.Errorf("%s is a built-in market; use calendars.overrides to change it", d.Code))
	}
	if d.Like != "" {
		base, ok := builtin[d.Like]
		if !ok {
			return spec{}, field("like", fmt.Errorf("%w: %q", ErrUnknownMarket, d.Like))
		}
		sp := base
		sp.code = d.Code
		sp.name = d.Name
		if sp.name == "" {
			sp.name = base.name + " calendar (as " + string(d.Like) + ")"
		}
		return sp, nil
	}
	if _, err := time.LoadLocation(d.Zone); err != nil || d.Zone == "" {
		return spec{}, field("zone", fmt.Errorf("must be an IANA time zone such as Europe/Zurich, got %q", d.Zone))
	}
	if d.Close <= d.Open {
		return spec{}, field("close", fmt.Errorf("must be after open (%s), got %s", d.Open, d.Close))
	}
	if d.BreakStart != 0 || d.BreakEnd != 0 {
		if d.BreakStart <= d.Open || d.BreakEnd <= d.BreakStart || d.BreakEnd >= d.Close {
			return spec{}, field("break", fmt.Errorf("must lie inside %s-%s with its end after its start", d.Open, d.Close))
		}
	}
	from := d.From
	if from.IsZero() {
		from = DefaultFrom
	}
	if d.CoveredThrough.IsZero() {
		return spec{}, field("covered_through", errors.New("is required: the last date its holidays are known for"))
	}
	if d.CoveredThrough.Before(from) {
		return spec{}, field("covered_through", fmt.Errorf("%s is before from (%s)", d.CoveredThrough, from))
	}
	var days [7]bool
	for _, wd := range d.Weekdays {
		days[wd] = true
	}
	if len(d.Weekdays) == 0 {
		for wd := time.Monday; wd <= time.Friday; wd++ {
			days[wd] = true
		}
	}
	name := d.Name
	if name == "" {
		name = string(d.Code)
	}
	sp := spec{code: d.Code, name: name, zone: d.Zone, first: from, last: d.CoveredThrough, weekdays: &days,
		hours: []hours{{open: int(d.Open), close: int(d.Close), breakStart: int(d.BreakStart), breakEnd: int(d.BreakEnd)}}}
	for i, h := range d.Holidays {
		if h.Date.Before(from) || h.Date.After(d.CoveredThrough) {
			return spec{}, field(fmt.Sprintf("holidays[%d].date", i), fmt.Errorf("%s is outside %s..%s", h.Date, from, d.CoveredThrough))
		}
		name := h.Name
		if name == "" {
			name = "holiday"
		}
		sp.holidays = append(sp.holidays, onDates(name, h.Date))
	}
	return sp, nil
}

// NewBook builds every calendar: the built-in ones, the defined ones, each
// with the overrides file applied. A file entry that does not fit its
// calendar is an error naming the market, the entry and the field.
func NewBook(cfg BookConfig) (*Book, error) {
	b := &Book{specs: map[Code]spec{}, file: map[Code][]Override{}, cover: map[Code]Date{}, assume: cfg.AssumeWeekdays,
		cals: map[Code]*Calendar{}, runtime: map[Code][]Override{}, custom: map[Code]bool{}}
	for _, code := range order {
		b.specs[code] = specs[code]()
		b.order = append(b.order, code)
	}
	builtin := b.specs
	for _, d := range cfg.Markets {
		if _, dup := b.specs[d.Code]; dup && !isBuiltin(d.Code) {
			return nil, &DefinitionError{Market: d.Code, Err: errors.New("defined twice")}
		}
		sp, err := d.spec(builtin)
		if err != nil {
			return nil, err
		}
		b.specs[d.Code] = sp
		b.custom[d.Code] = true
		b.order = append(b.order, d.Code)
	}
	if f := cfg.File; f != nil {
		for code, through := range f.CoveredThrough {
			sp, ok := b.specs[code]
			if !ok {
				return nil, &OverrideError{Market: code, Ref: f.Path, Field: "covered_through", Reason: "unknown market"}
			}
			if through.Before(sp.last) {
				return nil, &OverrideError{Market: code, Ref: f.Path, Field: "covered_through",
					Reason: fmt.Sprintf("%s is before the built-in coverage end %s", through, sp.last)}
			}
			b.cover[code] = through
		}
		for _, o := range f.Entries {
			if _, ok := b.specs[o.Market]; !ok {
				return nil, o.errorf("", "unknown market %s (built-in: %v; define others under markets:)", o.Market, order)
			}
			b.file[o.Market] = append(b.file[o.Market], o)
		}
	}
	for _, code := range b.order {
		d, err := b.expand(code, nil)
		if err != nil {
			return nil, err
		}
		b.cals[code] = newCalendar(d)
	}
	return b, nil
}

func isBuiltin(c Code) bool { _, ok := specs[c]; return ok }

func (b *Book) expand(code Code, runtime []Override) (*calData, error) {
	ls := layers{coveredThrough: b.cover[code], file: b.file[code], runtime: runtime, assume: b.assume}
	if b.custom[code] || !ls.coveredThrough.IsZero() || len(ls.file) > 0 || len(runtime) > 0 {
		return expand(b.specs[code], ls)
	}
	k := plainKey{code: code, assume: b.assume}
	if d, ok := plain.Load(k); ok {
		return d.(*calData), nil
	}
	d, err := expand(b.specs[code], ls)
	if err == nil {
		plain.Store(k, d)
	}
	return d, err
}

// plain holds each built-in market's calendar as its code alone gives it
// (no overrides file, no runtime entry, no coverage extension), built once
// per process: every Book of a process (a scheduler, its config check,
// and the many of a test binary) shares it. Sharing is safe because a
// calData is never changed after expand: a change of entries builds a new
// one, and readers get copies of its sessions.
var plain sync.Map // plainKey -> *calData

type plainKey struct {
	code   Code
	assume bool
}

// Lookup returns the calendar of a market.
func (b *Book) Lookup(code Code) (*Calendar, error) {
	c, ok := b.cals[code]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMarket, code)
	}
	return c, nil
}

// ParseCode returns the Code for s if the book has that market.
func (b *Book) ParseCode(s string) (Code, error) {
	if _, ok := b.cals[Code(s)]; !ok {
		return "", fmt.Errorf("%w: %q (known: %v)", ErrUnknownMarket, s, b.order)
	}
	return Code(s), nil
}

// Codes returns every market code: the built-in ones in display order,
// then those defined in config.
func (b *Book) Codes() []Code { return append([]Code(nil), b.order...) }

// All returns every calendar in the order of Codes.
func (b *Book) All() []*Calendar {
	out := make([]*Calendar, len(b.order))
	for i, c := range b.order {
		out[i] = b.cals[c]
	}
	return out
}

// SetRuntime replaces the runtime entries (all markets) and swaps the
// calendars whose entries changed. Entries that do not fit their
// calendar are kept aside (Calendar.Rejected), not applied. Entries for
// markets the book does not have are returned as rejected.
func (b *Book) SetRuntime(entries []Override) (unknown []Rejected) {
	b.mu.Lock()
	defer b.mu.Unlock()
	by := map[Code][]Override{}
	for _, o := range entries {
		if _, ok := b.cals[o.Market]; !ok {
			unknown = append(unknown, Rejected{Override: o, Reason: "unknown market " + string(o.Market)})
			continue
		}
		by[o.Market] = append(by[o.Market], o)
	}
	for _, code := range b.order {
		if sameOverrides(b.runtime[code], by[code]) {
			continue
		}
		d, err := b.expand(code, by[code])
		if err != nil {
			// Runtime entries are checked one by one, so this is only an
			// entry that makes two sessions overlap: keep the old version.
			unknown = append(unknown, Rejected{Reason: err.Error()})
			continue
		}
		b.cals[code].cur.Store(d)
		b.runtime[code] = by[code]
		b.version.Add(1)
	}
	return unknown
}

// Runtime returns the runtime entries the book was last given, by market
// in the order of Codes.
func (b *Book) Runtime() []Override {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Override
	for _, code := range b.order {
		out = append(out, b.runtime[code]...)
	}
	return out
}

// CheckRuntime returns why entry o cannot be added to the runtime entries
// present: it is malformed, names an unknown market, contradicts an
// entry already entered, or does not fit the effective calendar.
func (b *Book) CheckRuntime(o Override, present []Override) error {
	if err := o.Check(); err != nil {
		return err
	}
	if _, ok := b.specs[o.Market]; !ok {
		return o.errorf("market", "unknown market %s (known: %v)", o.Market, b.order)
	}
	var same []Override
	for _, x := range present {
		if x.Market != o.Market {
			continue
		}
		if err := Contradiction(x, o); err != nil {
			return err
		}
		same = append(same, x)
	}
	d, err := b.expand(o.Market, append(same, o))
	if err != nil {
		return err
	}
	for _, r := range d.rejected {
		if r.Override.Source == o.Source && r.Override.Date == o.Date && r.Override.Kind == o.Kind {
			return r.Err
		}
	}
	return nil
}

func sameOverrides(a, b []Override) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Export returns the overrides in force (the file's, then the runtime
// ones) as one file layer: loading it as calendars.overrides gives the
// same effective calendars with no runtime entries. A file entry that a
// runtime entry supersedes (a closure over an early close, an extra
// session over a holiday) is left out.
func (b *Book) Export() *OverridesFile {
	out := &OverridesFile{CoveredThrough: map[Code]Date{}}
	for code, d := range b.cover {
		out.CoveredThrough[code] = d
	}
	for _, code := range b.order {
		var kept []Override
		for _, o := range b.cals[code].Overrides() {
			for i := 0; i < len(kept); i++ {
				replaces := o.Kind == KindExtraSession && kept[i].Market == o.Market && kept[i].Date == o.Date
				if replaces || Contradiction(kept[i], o) != nil {
					kept = append(kept[:i], kept[i+1:]...)
					i--
				}
			}
			kept = append(kept, o)
		}
		out.Entries = append(out.Entries, kept...)
	}
	sort.SliceStable(out.Entries, func(i, j int) bool {
		a, c := out.Entries[i], out.Entries[j]
		if a.Market != c.Market {
			return false
		}
		if a.Kind != c.Kind {
			return a.Kind.rank() < c.Kind.rank()
		}
		return a.Date.Before(c.Date)
	})
	return out
}
