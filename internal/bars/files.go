package bars

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// fileHeader is the first line of every day file.
const fileHeader = "symbol,start,open,high,low,close,volume,trades,notional,revision"

// ErrCorruptFile is wrapped by errors about a day file that is not in the
// format Files writes.
var ErrCorruptFile = errors.New("corrupt bar file")

// dayLayout names day files: the bar start's date in the market's zone.
const dayLayout = "2006-01-02"

// Files is a Store of CSV files on local disk. Bars live in one file per
// market per day:
// DIR/<MARKET>/<YYYY-MM-DD>.csv, where the day is the bar start's date in
// the market's time zone. A file starts with the line
//
//	symbol,start,open,high,low,close,volume,trades,notional,revision
//
// and holds one bar per row, sorted by (start, symbol): start in RFC 3339
// UTC, prices and volume as exact decimals, notional as the integer count
// of 1e-16 units (decimal.Notional's text form). The market is the
// directory's name. Daily aggregates live in one file per market per year
// of their session label, DIR/<MARKET>/daily/<YYYY>.csv (see
// dailyHeader).
//
// Upsert (and UpsertDaily) rewrites each day file it changes atomically (a temporary file in
// the same directory, fsync, rename, fsync of the directory), so a reader
// or a crash sees the old file or the new one, never a mix. A batch that
// spans several days is atomic per day only; Upsert is idempotent, so a
// failed one is simply retried. Files serialises its writers with a
// mutex: it is safe for concurrent use by one process, and a directory
// must have only one writing process.
//
// Range gets only a symbol, so it must first find the symbol's market. It
// asks, in order: the WithMarkets resolver; the market the symbol was last
// written under by this Files; and, failing both (say, after a restart
// without a resolver), every market directory on disk. In each market it
// reads only the day files whose date can hold a start in [from, to).
// This relies on a symbol's bars all living in one market, as the
// configured instruments guarantee.
type Files struct {
	dir     string
	markets func(symbol string) (string, bool)
	book    *market.Book
	written sync.Map   // symbol -> market, learned from Upsert
	mu      sync.Mutex // serialises Upsert's read-merge-rewrite cycles
}

var _ Store = (*Files)(nil)

// OpenFiles opens (creating it if needed) the file store rooted at dir.
func OpenFiles(dir string, opts ...Option) (*Files, error) {
	if dir == "" {
		return nil, errors.New("bars: open files: empty directory")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bars: open files: %w", err)
	}
	book := o.book
	if book == nil {
		book = market.Builtin()
	}
	return &Files{dir: dir, markets: o.markets, book: book}, nil
}

// dayFile names one day file.
type dayFile struct {
	market string
	day    string // YYYY-MM-DD
}

// Upsert merges bars into their day files, keeping the highest revision of
// each (symbol, start); a file it would not change is not rewritten.
func (f *Files) Upsert(ctx context.Context, bars []Bar) error {
	if err := validate(bars); err != nil {
		return err
	}
	byFile := map[dayFile][]Bar{}
	for _, b := range bars {
		loc, err := f.location(b.Market)
		if err != nil {
			return err
		}
		b.Start = b.Start.UTC()
		df := dayFile{market: b.Market, day: b.Start.In(loc).Format(dayLayout)}
		byFile[df] = append(byFile[df], b)
	}
	files := make([]dayFile, 0, len(byFile))
	for df := range byFile {
		files = append(files, df)
	}
	slices.SortFunc(files, func(a, b dayFile) int { return cmp.Or(cmp.Compare(a.market, b.market), cmp.Compare(a.day, b.day)) })

	f.mu.Lock()
	defer f.mu.Unlock()
	for _, df := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bars: upsert: %w", err)
		}
		if err := f.merge(df, byFile[df]); err != nil {
			return err
		}
		for _, b := range byFile[df] {
			f.written.Store(b.Symbol, b.Market)
		}
	}
	return nil
}

// mergeRows applies incoming rows, in order, to rows: a row with a new
// key is appended, one whose key is present replaces the present row when
// replaces says so. It reports whether anything changed. The day files
// of bars and the year files of daily aggregates both merge this way.
func mergeRows[T any, K comparable](rows, incoming []T, keyOf func(T) K, replaces func(incoming, present T) bool) ([]T, bool) {
	at := make(map[K]int, len(rows)+len(incoming))
	for i, r := range rows {
		at[keyOf(r)] = i
	}
	changed := false
	for _, x := range incoming {
		k := keyOf(x)
		i, ok := at[k]
		switch {
		case !ok:
			at[k] = len(rows)
			rows = append(rows, x)
		case replaces(x, rows[i]):
			rows[i] = x
		default:
			continue
		}
		changed = true
	}
	return rows, changed
}

// merge applies bars, in order, to one day file.
func (f *Files) merge(df dayFile, bars []Bar) error {
	path := f.path(df)
	rows, err := readDay(path, df.market, "")
	if err != nil {
		return err
	}
	rows, changed := mergeRows(rows, bars, keyOf, func(b, old Bar) bool { return wins(b, old) && !same(b, old) })
	if !changed {
		return nil
	}
	slices.SortFunc(rows, func(a, b Bar) int { return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.Symbol, b.Symbol)) })
	return writeDay(path, rows)
}

// Range returns symbol's bars with Start in [from, to), by Start.
func (f *Files) Range(ctx context.Context, symbol string, from, to time.Time) ([]Bar, error) {
	if !from.Before(to) {
		return nil, nil
	}
	markets, err := f.marketsOf(symbol)
	if err != nil {
		return nil, err
	}
	var out []Bar
	for _, m := range markets {
		loc, err := f.location(m)
		if err != nil {
			return nil, err
		}
		days, err := f.days(m, localDay(from, loc), localDay(to.Add(-time.Nanosecond), loc))
		if err != nil {
			return nil, err
		}
		for _, day := range days {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("bars: range %s: %w", symbol, err)
			}
			rows, err := readDay(f.path(dayFile{market: m, day: day}), m, symbol)
			if err != nil {
				return nil, err
			}
			for _, b := range rows {
				if !b.Start.Before(from) && b.Start.Before(to) {
					out = append(out, b)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Bar) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// marketsOf returns the markets whose files may hold symbol's bars.
func (f *Files) marketsOf(symbol string) ([]string, error) {
	if f.markets != nil {
		if m, ok := f.markets(symbol); ok {
			return []string{m}, nil
		}
	}
	if m, ok := f.written.Load(symbol); ok {
		return []string{m.(string)}, nil
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("bars: list markets: %w", err)
	}
	var out []string
	for _, e := range entries {
		if err := market.CheckCodeSyntax(e.Name()); err == nil && e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// days returns, sorted, the days in [first, last] (UTC midnights standing
// for local dates) that have a file in market's directory.
func (f *Files) days(market string, first, last time.Time) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(f.dir, market))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bars: list %s days: %w", market, err)
	}
	var out []string
	for _, e := range entries {
		day, ok := strings.CutSuffix(e.Name(), ".csv")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		d, err := time.Parse(dayLayout, day)
		if err != nil || d.Before(first) || d.After(last) {
			continue
		}
		out = append(out, day)
	}
	return out, nil // ReadDir sorts by name, which for YYYY-MM-DD is by date
}

func (f *Files) path(df dayFile) string {
	return filepath.Join(f.dir, df.market, df.day+".csv")
}

// Close does nothing: Files holds no open files between calls.
func (f *Files) Close() error { return nil }

// location returns the time zone of a market.
func (f *Files) location(code string) (*time.Location, error) {
	cal, err := f.book.Lookup(market.Code(code))
	if err != nil {
		return nil, fmt.Errorf("bars: %w", err)
	}
	return cal.Location(), nil
}

// localDay returns t's date in loc, as that date's UTC midnight.
func localDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// readDay reads a day file of market, keeping only symbol's rows unless
// symbol is empty. A missing file has no rows.
func readDay(path, market, symbol string) ([]Bar, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bars: %w", err)
	}
	defer file.Close()
	r := csv.NewReader(file)
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("bars: %s: %w: header: %w", path, ErrCorruptFile, err)
	}
	if strings.Join(header, ",") != fileHeader {
		return nil, fmt.Errorf("bars: %s: %w: header %q, want %q", path, ErrCorruptFile, strings.Join(header, ","), fileHeader)
	}
	var out []Bar
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		var parseErr *csv.ParseError
		if errors.As(err, &parseErr) {
			return nil, fmt.Errorf("bars: %s: %w: %w", path, ErrCorruptFile, err)
		}
		if err != nil {
			return nil, fmt.Errorf("bars: %s: %w", path, err)
		}
		if symbol != "" && rec[0] != symbol {
			continue
		}
		b, err := parseRow(rec, market)
		if err != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("bars: %s line %d: %w: %w", path, line, ErrCorruptFile, err)
		}
		out = append(out, b)
	}
}

// parseRow reads one record in fileHeader's order.
func parseRow(rec []string, market string) (Bar, error) {
	b := Bar{Symbol: rec[0], Market: market}
	var err error
	if b.Start, err = time.Parse(time.RFC3339, rec[1]); err != nil {
		return Bar{}, fmt.Errorf("start: %w", err)
	}
	b.Start = b.Start.UTC()
	for i, dst := range []*decimal.Dec{&b.Open, &b.High, &b.Low, &b.Close, &b.Volume} {
		if *dst, err = decimal.Parse(rec[2+i]); err != nil {
			return Bar{}, fmt.Errorf("column %d %q: %w", 3+i, rec[2+i], err)
		}
	}
	if b.Trades, err = strconv.ParseInt(rec[7], 10, 64); err != nil {
		return Bar{}, fmt.Errorf("trades: %w", err)
	}
	if err = b.Notional.UnmarshalText([]byte(rec[8])); err != nil {
		return Bar{}, err
	}
	if b.Revision, err = strconv.Atoi(rec[9]); err != nil {
		return Bar{}, fmt.Errorf("revision: %w", err)
	}
	return b, nil
}

// writeDay replaces the file at path with rows, atomically.
func writeDay(path string, rows []Bar) error {
	return writeAtomic(path, fileHeader, len(rows), func(line []byte, i int) []byte { return appendRow(line, rows[i]) })
}

// writeAtomic replaces the file at path with header and n lines made by
// appendLine, atomically.
func writeAtomic(path, header string, n int, appendLine func(line []byte, i int) []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bars: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("bars: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("bars: write %s: %w", path, err)
		}
	}()
	w := bufio.NewWriterSize(tmp, 64<<10)
	w.WriteString(header + "\n")
	line := make([]byte, 0, 256)
	for i := range n {
		line = appendLine(line[:0], i)
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// appendRow appends b as a CSV line in fileHeader's order.
func appendRow(line []byte, b Bar) []byte {
	line = appendSymbol(line, b.Symbol)
	line = append(line, ',')
	line = b.Start.UTC().AppendFormat(line, time.RFC3339)
	for _, d := range []decimal.Dec{b.Open, b.High, b.Low, b.Close, b.Volume} {
		line = append(line, ',')
		line = d.Append(line)
	}
	line = append(line, ',')
	line = strconv.AppendInt(line, b.Trades, 10)
	line = append(line, ',')
	line = append(line, b.Notional.String()...)
	line = append(line, ',')
	line = strconv.AppendInt(line, int64(b.Revision), 10)
	return append(line, '\n')
}

// appendSymbol appends a symbol as a CSV field, quoted when it must be.
func appendSymbol(line []byte, symbol string) []byte {
	if !strings.ContainsAny(symbol, `," `) {
		return append(line, symbol...)
	}
	line = append(line, '"')
	line = append(line, strings.ReplaceAll(symbol, `"`, `""`)...)
	return append(line, '"')
}
