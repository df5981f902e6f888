package ticks

import (
	"errors"
	"math"
	"strconv"
	"time"

	"heartbeat/internal/decimal"
)

// Reason says why a stream entry was rejected to the dead-letter stream.
// Reasons are counted, logged and stored with the dead letter.
type Reason string

// The reasons a tick is rejected.
const (
	ReasonMissingField  Reason = "missing_field"
	ReasonBadNumber     Reason = "bad_number"    // not a decimal, NaN, too precise, out of range
	ReasonBadPrice      Reason = "bad_price"     // zero or negative
	ReasonBadSize       Reason = "bad_size"      // negative
	ReasonBadTimestamp  Reason = "bad_timestamp" // not integer milliseconds, or before 2000
	ReasonFuture        Reason = "future"        // too far ahead of the processing time
	ReasonUnknownSymbol Reason = "unknown_symbol"
	ReasonLate          Reason = "late" // its minute's bar closed longer ago than the late window
	// ReasonCorruptBar is not a tick's: a closed bar or finished session
	// the flush could not decode, or the bar store refused as invalid.
	ReasonCorruptBar Reason = "corrupt_bar"
)

// earliest is the oldest timestamp accepted: calendars start in 2000.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Validator turns stream fields into Ticks.
type Validator struct {
	// Known reports whether a symbol is a configured instrument.
	Known func(symbol string) bool
	// MaxFuture is how far a timestamp may be ahead of now.
	MaxFuture time.Duration
}

// Parse validates one stream entry's fields at processing time now. A tick
// that fails returns its Reason and a short detail; ok is true otherwise.
func (v Validator) Parse(fields map[string]any, now time.Time) (t Tick, reason Reason, detail string) {
	return v.parse(func(name string) (string, bool) {
		s, ok := fields[name].(string)
		return s, ok && s != ""
	}, now)
}

// ParsePairs is Parse for an entry's fields as the flat field, value list
// Redis returns (what Intraday reads, without building a map per entry).
// A field given twice counts once, its first value.
func (v Validator) ParsePairs(pairs []any, now time.Time) (t Tick, reason Reason, detail string) {
	return v.parse(func(name string) (string, bool) {
		for i := 0; i+1 < len(pairs); i += 2 {
			if k, _ := pairs[i].(string); k == name {
				s, ok := pairs[i+1].(string)
				return s, ok && s != ""
			}
		}
		return "", false
	}, now)
}

func (v Validator) parse(str func(name string) (string, bool), now time.Time) (t Tick, reason Reason, detail string) {
	sym, ok := str(FieldSymbol)
	if !ok {
		return t, ReasonMissingField, FieldSymbol
	}
	t.Symbol = sym
	for _, f := range [...]struct {
		name     string
		dst      *decimal.Dec
		required bool
	}{
		{FieldPrice, &t.Price, true}, {FieldSize, &t.Size, true},
		{FieldBid, &t.Bid, false}, {FieldAsk, &t.Ask, false},
		{FieldBidSize, &t.BidSize, false}, {FieldAskSize, &t.AskSize, false},
	} {
		s, ok := str(f.name)
		if !ok {
			if f.required {
				return t, ReasonMissingField, f.name
			}
			continue
		}
		d, err := decimal.Parse(s)
		if err != nil {
			return t, ReasonBadNumber, f.name + ": " + numberProblem(err)
		}
		*f.dst = d
	}
	ts, ok := str(FieldTS)
	if !ok {
		return t, ReasonMissingField, FieldTS
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ms < earliest.UnixMilli() || ms > math.MaxInt64/int64(time.Millisecond) {
		return t, ReasonBadTimestamp, "ts must be integer Unix milliseconds after 2000"
	}
	t.Time = time.UnixMilli(ms).UTC()
	switch {
	case t.Price <= 0:
		return t, ReasonBadPrice, "price must be > 0"
	case t.Size < 0:
		return t, ReasonBadSize, "size must be >= 0"
	case t.Bid < 0 || t.Ask < 0 || t.BidSize < 0 || t.AskSize < 0:
		return t, ReasonBadNumber, "quote fields must be >= 0"
	case t.Time.After(now.Add(v.MaxFuture)):
		return t, ReasonFuture, "ts is " + t.Time.Sub(now).Round(time.Millisecond).String() + " ahead"
	case v.Known != nil && !v.Known(sym):
		return t, ReasonUnknownSymbol, sym
	}
	return t, "", ""
}

func numberProblem(err error) string {
	switch {
	case errors.Is(err, decimal.ErrPrecision):
		return "more than 8 decimal places"
	case errors.Is(err, decimal.ErrRange):
		return "out of range"
	}
	return "not a decimal number"
}
