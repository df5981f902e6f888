package market

import (
	"fmt"
	"sort"
)

// Instrument is a tradable symbol and the market whose calendar governs it.
type Instrument struct {
	Symbol   string
	Market   Code
	Calendar *Calendar
	Weight   float64 // weight in the market's composite
}

// Instruments maps symbols to markets. It is built once from config and
// read-only afterwards; its calendars are those of its Book, so they
// follow the book's runtime overrides.
type Instruments struct {
	book     *Book
	bySymbol map[string]*Instrument
	symbols  []string // sorted
}

// NewInstruments builds the mapping on the calendars of book (nil: the
// built-in calendars, Builtin()); weights are taken as given.
func NewInstruments(book *Book, list []Instrument) (*Instruments, error) {
	if book == nil {
		book = Builtin()
	}
	in := &Instruments{book: book, bySymbol: make(map[string]*Instrument, len(list))}
	for _, x := range list {
		if _, dup := in.bySymbol[x.Symbol]; dup {
			return nil, fmt.Errorf("instrument %q listed twice", x.Symbol)
		}
		cal, err := book.Lookup(x.Market)
		if err != nil {
			return nil, fmt.Errorf("instrument %q: %w", x.Symbol, err)
		}
		x.Calendar = cal
		in.bySymbol[x.Symbol] = &x
		in.symbols = append(in.symbols, x.Symbol)
	}
	sort.Strings(in.symbols)
	return in, nil
}

// Get returns the instrument of a symbol.
func (in *Instruments) Get(symbol string) (*Instrument, bool) {
	x, ok := in.bySymbol[symbol]
	return x, ok
}

// Known reports whether symbol is configured.
func (in *Instruments) Known(symbol string) bool {
	_, ok := in.bySymbol[symbol]
	return ok
}

// Symbols returns every symbol, sorted.
func (in *Instruments) Symbols() []string { return in.symbols }

// Markets returns the distinct markets of the instruments, in display
// order.
func (in *Instruments) Markets() []Code {
	seen := map[Code]bool{}
	for _, x := range in.bySymbol {
		seen[x.Market] = true
	}
	var out []Code
	for _, c := range in.book.Codes() {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}

// Calendars returns the Set of the instruments' markets.
func (in *Instruments) Calendars() Set {
	var s Set
	for _, c := range in.Markets() {
		cal, _ := in.book.Lookup(c)
		s = append(s, cal)
	}
	return s
}

// OfMarket returns the instruments of one market, sorted by symbol.
func (in *Instruments) OfMarket(code Code) []*Instrument {
	var out []*Instrument
	for _, s := range in.symbols {
		if x := in.bySymbol[s]; x.Market == code {
			out = append(out, x)
		}
	}
	return out
}

// MarketOf returns the market code of a symbol: the resolver the file bar
// store takes.
func (in *Instruments) MarketOf(symbol string) (string, bool) {
	x, ok := in.bySymbol[symbol]
	if !ok {
		return "", false
	}
	return string(x.Market), true
}

// Book returns the calendars the instruments are mapped on.
func (in *Instruments) Book() *Book { return in.book }
