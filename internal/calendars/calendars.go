// Package calendars owns the runtime calendar overrides: closures, early
// closes, late opens, halts and extra sessions an operator enters while
// the system runs. They are kept in the settings store (Redis, with a
// revision and who/when), checked against the effective calendar before
// they are stored, and applied to every process's market.Book by a
// Watcher within a fast tick. Precedence: runtime entries over the
// overrides file over the built-in rules.
package calendars

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/market"
	"heartbeat/internal/settings"
)

// Kind is the settings kind of calendar entries.
const Kind = "calendar"

// ErrNotFound is returned by Remove for an entry that does not exist.
var ErrNotFound = settings.ErrNotFound

// entry is how an override is stored: market-local times as HH:MM.
type entry struct {
	Market     string `json:"market"`
	Kind       string `json:"kind"`
	Date       string `json:"date"`
	Name       string `json:"name,omitempty"`
	Open       string `json:"open,omitempty"`
	Close      string `json:"close,omitempty"`
	BreakStart string `json:"break_start,omitempty"`
	BreakEnd   string `json:"break_end,omitempty"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
}

func encode(o market.Override) entry {
	e := entry{Market: string(o.Market), Kind: string(o.Kind), Date: o.Date.String(), Name: o.Name}
	set := func(dst *string, t market.TimeOfDay) { *dst = t.String() }
	switch o.Kind {
	case market.KindExtraSession:
		set(&e.Open, o.Open)
		set(&e.Close, o.Close)
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			set(&e.BreakStart, o.BreakStart)
			set(&e.BreakEnd, o.BreakEnd)
		}
	case market.KindLateOpen:
		set(&e.Open, o.Open)
	case market.KindEarlyClose:
		set(&e.Close, o.Close)
	case market.KindHalt:
		set(&e.From, o.From)
		set(&e.To, o.To)
	}
	return e
}

func decode(s settings.Entry) (market.Override, error) {
	var e entry
	if err := json.Unmarshal(s.Value, &e); err != nil {
		return market.Override{}, fmt.Errorf("calendar entry %s: %w", s.ID, err)
	}
	kind, err := market.ParseKind(e.Kind)
	if err != nil {
		return market.Override{}, fmt.Errorf("calendar entry %s: %w", s.ID, err)
	}
	date, err := market.ParseDate(e.Date)
	if err != nil {
		return market.Override{}, fmt.Errorf("calendar entry %s: %w", s.ID, err)
	}
	o := market.Override{Market: market.Code(e.Market), Kind: kind, Date: date, Name: e.Name,
		Source: market.Source{Origin: market.OriginRuntime, Ref: s.ID, Actor: s.Actor, At: s.At}}
	for _, f := range []struct {
		s  string
		to *market.TimeOfDay
	}{{e.Open, &o.Open}, {e.Close, &o.Close}, {e.BreakStart, &o.BreakStart}, {e.BreakEnd, &o.BreakEnd}, {e.From, &o.From}, {e.To, &o.To}} {
		if f.s == "" {
			continue
		}
		if *f.to, err = market.ParseTimeOfDay(f.s); err != nil {
			return market.Override{}, fmt.Errorf("calendar entry %s: %w", s.ID, err)
		}
	}
	return o, nil
}

// ID is the identity of a runtime entry: market, date, kind and, for a
// halt, its start. Entering the same thing twice is refused as existing.
func ID(o market.Override) string {
	id := Kind + ":" + string(o.Market) + ":" + o.Date.String() + ":" + string(o.Kind)
	if o.Kind == market.KindHalt {
		id += ":" + o.From.String()
	}
	return id
}

// Runtime reads, checks and writes the runtime entries, and applies them
// to a book.
type Runtime struct {
	store *settings.Store
	book  *market.Book
}

// New returns the runtime entries of rdb applied to book.
func New(rdb redis.UniversalClient, book *market.Book) *Runtime {
	return &Runtime{store: settings.New(rdb), book: book}
}

// Book returns the book the entries apply to.
func (r *Runtime) Book() *market.Book { return r.book }

// Entries returns the runtime entries stored, oldest first, and the
// settings revision they were read at. An entry that cannot be decoded is
// an error: nothing is guessed.
func (r *Runtime) Entries(ctx context.Context) ([]market.Override, int64, error) {
	list, rev, err := r.store.List(ctx, Kind)
	if err != nil {
		return nil, 0, err
	}
	out := make([]market.Override, 0, len(list))
	for _, e := range list {
		o, err := decode(e)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
	}
	return out, rev, nil
}

// Add checks o against the effective calendar and the entries present,
// and stores it; the stored entry (with its ID, actor and time) is
// returned. It is applied by every Watcher within a fast tick.
func (r *Runtime) Add(ctx context.Context, o market.Override, actor string, at time.Time) (market.Override, error) {
	present, _, err := r.Entries(ctx)
	if err != nil {
		return o, err
	}
	o.Source = market.Source{Origin: market.OriginRuntime, Ref: ID(o), Actor: actor, At: at.UTC()}
	if err := r.book.CheckRuntime(o, present); err != nil {
		return o, err
	}
	value, err := json.Marshal(encode(o))
	if err != nil {
		return o, err
	}
	if _, err := r.store.Create(ctx, settings.Entry{ID: o.Source.Ref, Kind: Kind, Value: value, Actor: actor, At: o.Source.At}); err != nil {
		return o, err
	}
	return o, nil
}

// Remove deletes the entry id and returns what it was.
func (r *Runtime) Remove(ctx context.Context, id string) (market.Override, error) {
	present, _, err := r.Entries(ctx)
	if err != nil {
		return market.Override{}, err
	}
	for _, o := range present {
		if o.Source.Ref == id {
			_, err := r.store.Delete(ctx, id)
			return o, err
		}
	}
	return market.Override{}, fmt.Errorf("%w: %s", ErrNotFound, id)
}

// Sync applies the stored entries to the book when the settings revision
// differs from *last (start with -1), and sets *last; it returns changed
// and the entries that could not be applied. It costs one GET when
// nothing changed.
func (r *Runtime) Sync(ctx context.Context, last *int64) (changed bool, rejected []market.Rejected, err error) {
	rev, err := r.store.Revision(ctx)
	if err != nil {
		return false, nil, err
	}
	if rev == *last {
		return false, nil, nil
	}
	entries, rev, err := r.Entries(ctx)
	if err != nil {
		return false, nil, err
	}
	rejected = r.book.SetRuntime(entries)
	for _, c := range r.book.All() {
		rejected = append(rejected, c.Rejected()...)
	}
	*last = rev
	return true, rejected, nil
}

// IsNotFound reports whether err says an entry does not exist.
func IsNotFound(err error) bool { return errors.Is(err, settings.ErrNotFound) }
