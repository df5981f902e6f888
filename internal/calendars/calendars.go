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

// Entry is a runtime entry as it is stored and as the HTTP API takes and
// shows it: market-local times as HH:MM, only those of its kind set.
type Entry struct {
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

// Encode writes an override as an Entry.
func Encode(o market.Override) Entry {
	e := Entry{Market: string(o.Market), Kind: string(o.Kind), Date: o.Date.String(), Name: o.Name}
	switch o.Kind {
	case market.KindExtraSession:
		e.Open, e.Close = o.Open.String(), o.Close.String()
		if o.BreakStart != 0 || o.BreakEnd != 0 {
			e.BreakStart, e.BreakEnd = o.BreakStart.String(), o.BreakEnd.String()
		}
	case market.KindLateOpen:
		e.Open = o.Open.String()
	case market.KindEarlyClose:
		e.Close = o.Close.String()
	case market.KindHalt:
		e.From, e.To = o.From.String(), o.To.String()
	}
	return e
}

// Override reads an Entry, each bad field an error naming it, and checks
// the result on its own (market.Override.Check).
func (e Entry) Override() (market.Override, error) {
	kind, err := market.ParseKind(e.Kind)
	if err != nil {
		return market.Override{}, fmt.Errorf("kind: %w", err)
	}
	date, err := market.ParseDate(e.Date)
	if err != nil {
		return market.Override{}, fmt.Errorf("date: %w", err)
	}
	o := market.Override{Market: market.Code(e.Market), Kind: kind, Date: date, Name: e.Name}
	for _, f := range []struct {
		name, s string
		to      *market.TimeOfDay
	}{{"open", e.Open, &o.Open}, {"close", e.Close, &o.Close}, {"break_start", e.BreakStart, &o.BreakStart},
		{"break_end", e.BreakEnd, &o.BreakEnd}, {"from", e.From, &o.From}, {"to", e.To, &o.To}} {
		if f.s == "" {
			continue
		}
		if *f.to, err = market.ParseTimeOfDay(f.s); err != nil {
			return o, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return o, o.Check()
}

func decode(s settings.Entry) (market.Override, error) {
	var e Entry
	if err := json.Unmarshal(s.Value, &e); err != nil {
		return market.Override{}, fmt.Errorf("calendar entry %s: %w", s.ID, err)
	}
	o, err := e.Override()
	if err != nil {
		return market.Override{}, fmt.Errorf("calendar entry %s: %w", s.ID, err)
	}
	o.Source = market.Source{Origin: market.OriginRuntime, Ref: s.ID, Actor: s.Actor, At: s.At}
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
	value, err := json.Marshal(Encode(o))
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
