package feed

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"heartbeat/internal/clock"
	"heartbeat/internal/ticks"
)

// FieldRaw is the stream field that carries a whole row whose number of
// cells differs from the header's: its cells cannot be matched to columns,
// so the row is written as it is, for Intraday to dead-letter.
const FieldRaw = "raw"

// Errors of the trades CSV.
var (
	// ErrHeader is wrapped by every problem with a file's header.
	ErrHeader = errors.New("bad trades CSV header")
	// ErrFieldCount marks a row with more or fewer cells than the header.
	ErrFieldCount = errors.New("wrong number of cells")
	// ErrTimestamp marks a ts that is neither integer Unix milliseconds
	// nor an RFC 3339 instant.
	ErrTimestamp = errors.New("ts is neither Unix milliseconds nor RFC 3339")
)

// columns of a trades CSV, in contract order, and whether each is
// required.
var columns = []struct {
	name     string
	required bool
}{
	{ticks.FieldSymbol, true}, {ticks.FieldPrice, true}, {ticks.FieldSize, true}, {ticks.FieldTS, true},
	{ticks.FieldBid, false}, {ticks.FieldAsk, false}, {ticks.FieldBidSize, false}, {ticks.FieldAskSize, false},
}

// TradeRow is one data row of a trades CSV.
type TradeRow struct {
	// Line is the line the row starts on; the header is line 1.
	Line int
	// Time is the row's timestamp, zero when its ts did not convert.
	Time time.Time
	// Fields are the row's stream fields, field/value pairs in contract
	// order: ts as integer Unix milliseconds when it converted, every other
	// cell as written (trimmed of spaces); an empty bid, ask, bid_size or
	// ask_size is left out. A row with the wrong number of cells is kept
	// whole instead, as FieldRaw (its cells joined by commas), after its
	// symbol when that cell exists.
	Fields []string
	// Err is why ts did not convert or the cells did not match the header
	// (wrapping ErrTimestamp or ErrFieldCount); nil otherwise. A nil Err
	// does not make the row a valid tick: ticks.Validator decides that.
	Err error
}

// TradeReader streams the rows of a trades CSV: a header naming the
// columns ts, symbol, price and size, and optionally bid, ask, bid_size and
// ask_size, in any order; then one trade per line. It holds one row at a
// time, so files of any length can be read.
type TradeReader struct {
	csv   *csv.Reader
	index []int // column of each entry of columns, -1 when absent
	width int   // cells in the header
	sym   int   // column of symbol
}

// NewTradeReader reads the header from r and returns a reader of the rows
// after it. A header that is missing a required column, repeats one or
// names an unknown one is an error wrapping ErrHeader.
func NewTradeReader(r io.Reader) (*TradeReader, error) {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1 // rows with the wrong number of cells are data, not errors
	c.LazyQuotes = true
	c.ReuseRecord = true
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: the file is empty", ErrHeader)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrHeader, err)
	}
	tr := &TradeReader{csv: c, index: make([]int, len(columns)), width: len(header)}
	for i := range tr.index {
		tr.index[i] = -1
	}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		name = strings.ToLower(strings.TrimSpace(name))
		j := columnIndex(name)
		switch {
		case j < 0:
			return nil, fmt.Errorf("%w: unknown column %q (known: ts, symbol, price, size, bid, ask, bid_size, ask_size)", ErrHeader, name)
		case tr.index[j] >= 0:
			return nil, fmt.Errorf("%w: column %q appears twice", ErrHeader, name)
		}
		tr.index[j] = i
	}
	for j, col := range columns {
		if col.required && tr.index[j] < 0 {
			return nil, fmt.Errorf("%w: missing column %q (ts, symbol, price and size are required)", ErrHeader, col.name)
		}
	}
	tr.sym = tr.index[0]
	return tr, nil
}

func columnIndex(name string) int {
	for j, col := range columns {
		if col.name == name {
			return j
		}
	}
	return -1
}

// Read returns the next row, or io.EOF after the last one. Other errors
// are read errors of the underlying reader.
func (tr *TradeReader) Read() (TradeRow, error) {
	rec, err := tr.csv.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return TradeRow{}, io.EOF
		}
		return TradeRow{}, fmt.Errorf("read trades CSV: %w", err)
	}
	line, _ := tr.csv.FieldPos(0)
	return tr.row(line, rec), nil
}

// row converts one record.
func (tr *TradeReader) row(line int, rec []string) TradeRow {
	r := TradeRow{Line: line}
	if len(rec) != tr.width {
		r.Err = fmt.Errorf("%w: %d, the header has %d", ErrFieldCount, len(rec), tr.width)
		r.Fields = make([]string, 0, 4)
		if tr.sym < len(rec) {
			if s := strings.TrimSpace(rec[tr.sym]); s != "" {
				r.Fields = append(r.Fields, ticks.FieldSymbol, s)
			}
		}
		r.Fields = append(r.Fields, FieldRaw, strings.Join(rec, ","))
		return r
	}
	r.Fields = make([]string, 0, 2*len(columns))
	for j, col := range columns {
		i := tr.index[j]
		if i < 0 {
			continue
		}
		v := strings.TrimSpace(rec[i])
		if col.name == ticks.FieldTS {
			t, err := ParseTS(v)
			if err != nil {
				r.Err = err
			} else {
				r.Time, v = t, strconv.FormatInt(t.UnixMilli(), 10)
			}
		} else if v == "" && !col.required {
			continue
		}
		r.Fields = append(r.Fields, col.name, v)
	}
	return r
}

// ParseTS reads a trade timestamp: integer Unix epoch milliseconds (or
// microseconds or nanoseconds, told apart by magnitude, as some exchanges
// publish them), or an RFC 3339 instant with any fraction of a second (a
// space may stand for the T). The result is in UTC, truncated to the
// millisecond.
func ParseTS(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: empty", ErrTimestamp)
	}
	if isInteger(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %q is out of range", ErrTimestamp, s)
		}
		// Epoch milliseconds; exchange files in microseconds or
		// nanoseconds are told apart by magnitude (10^14 ms is the year
		// 5138, 10^17 µs the year 5138 too).
		switch {
		case n >= 1e17 || n <= -1e17:
			n /= 1e6
		case n >= 1e14 || n <= -1e14:
			n /= 1e3
		}
		return time.UnixMilli(n).UTC(), nil
	}
	v := s
	if len(v) > 10 && v[10] == ' ' {
		v = v[:10] + "T" + v[11:]
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q", ErrTimestamp, s)
	}
	// Beyond ±10^14 ms (the year 5138) epoch milliseconds are read as
	// microseconds: such an instant could not be written back as a tick.
	if ms := t.UnixMilli(); ms >= 1e14 || ms <= -1e14 {
		return time.Time{}, fmt.Errorf("%w: %q is beyond the years epoch milliseconds express (before 5138)", ErrTimestamp, s)
	}
	return time.UnixMilli(t.UnixMilli()).UTC(), nil
}

// isInteger reports whether s is an optionally signed run of digits.
func isInteger(s string) bool {
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// RawWriter is where Replay writes: valid ticks through Write, which also
// updates the latest quotes, and every other row through WriteRaw.
// *ticks.Writer is one.
type RawWriter interface {
	TickWriter
	// WriteRaw appends field/value entries as they are, without quotes.
	WriteRaw(ctx context.Context, entries [][]string) error
}

// ReplayConfig configures Replay. Zero durations and counts take the
// documented defaults.
type ReplayConfig struct {
	// Speed replays Speed times faster than the recorded timestamps,
	// measured from the first valid row's; 1 is real time. Ignored when
	// Max is set; otherwise it must be > 0.
	Speed float64
	// Max writes as fast as Redis takes the rows, in pipelines of MaxBatch.
	Max bool
	// Validator sorts the rows that are valid ticks (written with their
	// quote) from the rest (written raw, for Intraday to dead-letter);
	// it is applied at the clock's time when each row is read.
	Validator ticks.Validator
	// BatchInterval is, when paced, the shortest time between two writes.
	// Default 10ms.
	BatchInterval time.Duration
	// MaxBatch is the most rows in one pipeline. Default 5000.
	MaxBatch int
	// MaxAttempts is how many times a pipeline is tried before Replay
	// fails. Default 4.
	MaxAttempts int
	// Backoff is the wait after the first failed write; it doubles with
	// each consecutive failure up to MaxBackoff. Defaults 50ms and 2s.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// ReplayDeps are Replay's collaborators.
type ReplayDeps struct {
	// Writer receives the rows. Required.
	Writer RawWriter
	// Clock paces the rows and is the validation time. Default clock.Real.
	Clock clock.Clock
	// Logger receives error reports. Default: none.
	Logger zerolog.Logger
}

// ReplayStats count what Replay did. Every row read is in Ticks or Raw
// once written; Rows - Ticks - Raw were read but not written because
// Replay stopped early.
type ReplayStats struct {
	// Rows is how many data rows were read.
	Rows uint64
	// Ticks is how many rows were written as valid ticks.
	Ticks uint64
	// Raw is how many rows were written raw: not valid ticks.
	Raw uint64
	// Batches is how many pipelines were written.
	Batches uint64
	// Errors is how many write attempts failed.
	Errors uint64
}

// Replay writes every row of tr, paced by its timestamps or as fast as
// possible, and returns when the file ends, a write fails MaxAttempts
// times, or ctx is done. Rows that are valid ticks go through Write; the
// others are written raw, so that nothing in the file is dropped silently.
// Only valid ticks set the pace: the other rows, and rows timed earlier
// than a previous one, are written without waiting.
func Replay(ctx context.Context, tr *TradeReader, cfg ReplayConfig, deps ReplayDeps) (ReplayStats, error) {
	if !cfg.Max && (!(cfg.Speed > 0) || math.IsInf(cfg.Speed, 0)) {
		return ReplayStats{}, fmt.Errorf("replay: speed must be > 0, got %g", cfg.Speed)
	}
	if deps.Writer == nil {
		return ReplayStats{}, errors.New("replay: no Writer")
	}
	if cfg.BatchInterval <= 0 {
		cfg.BatchInterval = DefaultBatchInterval
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if deps.Clock == nil {
		deps.Clock = clock.Real{}
	}
	rp := &replayer{cfg: cfg, w: deps.Writer, clock: deps.Clock, fields: map[string]any{}}
	rp.retry = &retrier{clock: deps.Clock, log: &deps.Logger, maxAttempts: cfg.MaxAttempts,
		base: cfg.Backoff, limit: cfg.MaxBackoff, errors: &rp.errs}
	err := rp.run(ctx, tr)
	rp.stats.Errors = rp.errs.Load()
	return rp.stats, err
}

// pendingRow is a row read and classified, waiting to be written.
type pendingRow struct {
	line   int
	fields []string
	tick   ticks.Tick
	valid  bool
}

type replayer struct {
	cfg   ReplayConfig
	w     RawWriter
	clock clock.Clock
	retry *retrier
	stats ReplayStats
	errs  atomic.Uint64

	pending   []pendingRow
	lastFlush time.Time
	// Reused per flush.
	fields map[string]any
	valid  []ticks.Tick
	raw    [][]string
}

func (rp *replayer) run(ctx context.Context, tr *TradeReader) error {
	var first, start time.Time // first recorded instant and when it was written
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("replay interrupted after %d rows: %w", rp.stats.Ticks+rp.stats.Raw, err)
		}
		row, err := tr.Read()
		if errors.Is(err, io.EOF) {
			return rp.flush(ctx)
		}
		if err != nil {
			if ferr := rp.flush(ctx); ferr != nil {
				return ferr
			}
			return err
		}
		rp.stats.Rows++
		p := pendingRow{line: row.Line, fields: row.Fields}
		p.tick, p.valid = rp.classify(row)
		// Only valid ticks set the pace: a row with a mistyped timestamp
		// must not hold the replay up for years.
		if !rp.cfg.Max && p.valid {
			if start.IsZero() {
				first, start = p.tick.Time, rp.clock.Now()
			}
			due := start.Add(time.Duration(float64(p.tick.Time.Sub(first)) / rp.cfg.Speed))
			if due.After(rp.clock.Now()) {
				if err := rp.flush(ctx); err != nil {
					return err
				}
				wake := due
				if earliest := rp.lastFlush.Add(rp.cfg.BatchInterval); wake.Before(earliest) {
					wake = earliest
				}
				if err := rp.clock.SleepUntil(ctx, wake); err != nil {
					return fmt.Errorf("replay interrupted after %d rows: %w", rp.stats.Ticks+rp.stats.Raw, err)
				}
			}
		}
		rp.pending = append(rp.pending, p)
		if len(rp.pending) >= rp.cfg.MaxBatch {
			if err := rp.flush(ctx); err != nil {
				return err
			}
		}
	}
}

// flush writes the pending rows in file order: each run of consecutive
// valid rows in one Write, each run of other rows in one WriteRaw.
func (rp *replayer) flush(ctx context.Context) error {
	if len(rp.pending) == 0 {
		return nil
	}
	rp.lastFlush = rp.clock.Now()
	runStart := 0
	for i, p := range rp.pending {
		if p.valid && len(rp.raw) > 0 || !p.valid && len(rp.valid) > 0 {
			if err := rp.writeRun(ctx, rp.pending[runStart].line); err != nil {
				return err
			}
			runStart = i
		}
		if p.valid {
			rp.valid = append(rp.valid, p.tick)
		} else {
			rp.raw = append(rp.raw, p.fields)
		}
	}
	err := rp.writeRun(ctx, rp.pending[runStart].line)
	clear(rp.pending) // drop references to the rows' strings
	rp.pending = rp.pending[:0]
	return err
}

// classify returns the row as a valid tick at the clock's time, or valid
// false when it must be written raw.
func (rp *replayer) classify(row TradeRow) (tk ticks.Tick, valid bool) {
	if row.Err != nil {
		return tk, false
	}
	clear(rp.fields)
	for i := 0; i+1 < len(row.Fields); i += 2 {
		rp.fields[row.Fields[i]] = row.Fields[i+1]
	}
	tk, reason, _ := rp.cfg.Validator.Parse(rp.fields, rp.clock.Now())
	return tk, reason == ""
}

// writeRun writes the current run (rp.valid or rp.raw, one of them empty)
// with retries; line is its first row's, for the error. A cancelled ctx
// stops the retries but not a write in flight, so the stats say what
// Redis has.
func (rp *replayer) writeRun(ctx context.Context, line int) error {
	wctx := context.WithoutCancel(ctx)
	var n int
	var write func() error
	switch {
	case len(rp.valid) > 0:
		n = len(rp.valid)
		write = func() error { return rp.w.Write(wctx, rp.valid) }
	case len(rp.raw) > 0:
		n = len(rp.raw)
		write = func() error { return rp.w.WriteRaw(wctx, rp.raw) }
	default:
		return nil
	}
	if err := rp.retry.do(ctx, "replay", n, write); err != nil {
		return fmt.Errorf("replay: write %d rows from line %d (after %d rows written): %w",
			n, line, rp.stats.Ticks+rp.stats.Raw, err)
	}
	rp.stats.Batches++
	if len(rp.valid) > 0 {
		rp.stats.Ticks += uint64(n)
	} else {
		rp.stats.Raw += uint64(n)
	}
	rp.valid = rp.valid[:0]
	clear(rp.raw)
	rp.raw = rp.raw[:0]
	return nil
}
