package market

import (
	"fmt"
	"sync"
)

// order is the order markets are listed in: the Americas, Europe, Asia
// Pacific, then the around-the-clock markets.
var order = []Code{XNYS, XTSE, XMEX, XLON, XETR, XTKS, XSHG, XHKG, XBOM, XASX, CMES, ALWAYS}

// specs maps each market to the function returning its calendar data.
var specs = map[Code]func() spec{
	XNYS:   xnys,
	XLON:   xlon,
	XETR:   xetr,
	XASX:   xasx,
	XTSE:   xtse,
	XMEX:   xmex,
	CMES:   cmes,
	XTKS:   xtks,
	XBOM:   xbom,
	XSHG:   xshg,
	XHKG:   xhkg,
	ALWAYS: always,
}

var (
	buildOnce sync.Map // Code -> func() (*Calendar, error)
)

// Lookup returns the calendar of a market. Calendars are built on first use
// and shared.
func Lookup(code Code) (*Calendar, error) {
	mk, ok := specs[code]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMarket, code)
	}
	f, _ := buildOnce.LoadOrStore(code, sync.OnceValues(func() (*Calendar, error) { return build(mk()) }))
	return f.(func() (*Calendar, error))()
}

// Builtin returns the book of the built-in calendars with no overrides,
// shared by the process.
var Builtin = sync.OnceValue(func() *Book {
	b, err := NewBook(BookConfig{})
	if err != nil {
		panic(fmt.Sprintf("built-in calendars: %v", err)) // the specs are code; their tests build them
	}
	return b
})

// Codes returns every market code in display order.
func Codes() []Code { return append([]Code(nil), order...) }

// All returns every market's calendar in display order.
func All() ([]*Calendar, error) {
	out := make([]*Calendar, 0, len(order))
	for _, code := range order {
		c, err := Lookup(code)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ParseCode returns the Code for s (case-sensitive, as listed by Codes).
func ParseCode(s string) (Code, error) {
	code := Code(s)
	if _, ok := specs[code]; !ok {
		return "", fmt.Errorf("%w: %q (known: %v)", ErrUnknownMarket, s, order)
	}
	return code, nil
}

// CheckCodeSyntax reports whether s can be a market code: 2 to 12
// capital letters or digits (codes name files of the CSV bar store).
func CheckCodeSyntax(s string) error {
	if len(s) < 2 || len(s) > 12 {
		return fmt.Errorf("market code %q must be 2 to 12 characters A-Z or 0-9", s)
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return fmt.Errorf("market code %q must be 2 to 12 characters A-Z or 0-9", s)
		}
	}
	return nil
}
