package feed

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/ticks"
)

// FuzzTradeReader feeds arbitrary rows after a fixed header and checks
// that every row comes back as writable stream fields: nothing panics,
// nothing is dropped, and a converted ts is integer milliseconds.
func FuzzTradeReader(f *testing.F) {
	for _, seed := range []string{
		"1773151200000,ES,5000.25,3,5000,5000.25\n",
		"2026-03-10T14:00:00.123456789Z,SPY,520.1,100,,\n",
		"2026-03-10 10:00:00-04:00,BTCUSD,65000,0.0001,1,2\n",
		"yesterday,ES,abc,-1,,\n",
		"1773151200000,ES,1,234.50,3,4,5\n",
		"1773151200000,ES\n",
		"\n\n,,,,,\n",
		"\"1773151200000\",\"E\"\"S\",1,1,,\n",
		"\"unterminated,ES,1,1,,\n2,ES,1,1,,\n",
		"99999999999999999999,ES,1,1,,\n",
		"-62135596800001,ES,1,1,,\n",
		"1773151200000,ES,1,1,,\r\n",
	} {
		f.Add(seed)
	}
	const header = "ts,symbol,price,size,bid,ask\n"
	known := map[string]bool{FieldRaw: true}
	for _, c := range columns {
		known[c.name] = true
	}
	f.Fuzz(func(t *testing.T, rows string) {
		tr, err := NewTradeReader(strings.NewReader(header + rows))
		if err != nil {
			t.Fatalf("header rejected: %v", err)
		}
		lastLine := 1
		for {
			r, err := tr.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if r.Line <= lastLine {
				t.Fatalf("line %d after line %d", r.Line, lastLine)
			}
			lastLine = r.Line
			if len(r.Fields) == 0 || len(r.Fields)%2 != 0 {
				t.Fatalf("line %d: %d field strings, want non-empty pairs", r.Line, len(r.Fields))
			}
			got := map[string]string{}
			for i := 0; i < len(r.Fields); i += 2 {
				if !known[r.Fields[i]] {
					t.Fatalf("line %d: unknown field %q", r.Line, r.Fields[i])
				}
				if _, dup := got[r.Fields[i]]; dup {
					t.Fatalf("line %d: field %q twice", r.Line, r.Fields[i])
				}
				got[r.Fields[i]] = r.Fields[i+1]
			}
			switch {
			case errors.Is(r.Err, ErrFieldCount):
				if _, ok := got[FieldRaw]; !ok {
					t.Fatalf("line %d: a row with the wrong cell count lost its cells: %q", r.Line, r.Fields)
				}
			case r.Err == nil:
				ms, err := strconv.ParseInt(got[ticks.FieldTS], 10, 64)
				if err != nil || ms != r.Time.UnixMilli() {
					t.Fatalf("line %d: ts %q is not the row's time %v in ms", r.Line, got[ticks.FieldTS], r.Time)
				}
			case errors.Is(r.Err, ErrTimestamp):
				if !r.Time.IsZero() {
					t.Fatalf("line %d: bad ts but Time %v", r.Line, r.Time)
				}
			default:
				t.Fatalf("line %d: unexpected Err %v", r.Line, r.Err)
			}
		}
	})
}

// FuzzParseTS checks that an accepted timestamp round-trips through its
// millisecond form.
func FuzzParseTS(f *testing.F) {
	for _, s := range []string{"1773151200000", "2026-03-10T14:00:00.5Z", "2026-03-10 14:00:00+05:30", "-1", "+7", "", "T", "2026-03-10T14:00:00.1234567891Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTS(s)
		if err != nil {
			if !errors.Is(err, ErrTimestamp) {
				t.Fatalf("ParseTS(%q) error %v does not wrap ErrTimestamp", s, err)
			}
			return
		}
		if tm.Location() != time.UTC || tm.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("ParseTS(%q) = %v: not UTC milliseconds", s, tm)
		}
		back, err := ParseTS(strconv.FormatInt(tm.UnixMilli(), 10))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("ParseTS(%q) = %v does not round-trip: %v, %v", s, tm, back, err)
		}
	})
}
