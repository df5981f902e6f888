package bars

import (
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
	"time"

	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// dailyHeader is the first line of every daily file. Rows are sorted by
// (session, symbol); prices and volume are exact decimals, notional the
// integer count of 1e-16 units, trade times RFC 3339 UTC with milliseconds.
const dailyHeader = "symbol,session,open,high,low,close,volume,trades,notional,first_trade,last_trade"

// dailyTimeLayout writes the trade times: always three fractional digits.
const dailyTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// yearFile names one daily file.
type yearFile struct {
	market string
	year   int
}

func (f *Files) dailyPath(yf yearFile) string {
	return filepath.Join(f.dir, yf.market, "daily", strconv.Itoa(yf.year)+".csv")
}

// UpsertDaily merges aggregates into their year files, keeping the one
// with the most trades of each (symbol, session); a file it would not
// change is not rewritten.
func (f *Files) UpsertDaily(ctx context.Context, days []Daily) error {
	if err := validateDaily(days); err != nil {
		return err
	}
	byFile := map[yearFile][]Daily{}
	for _, d := range normalizeDaily(days) {
		yf := yearFile{market: d.Market, year: d.Session.Year}
		byFile[yf] = append(byFile[yf], d)
	}
	files := make([]yearFile, 0, len(byFile))
	for yf := range byFile {
		files = append(files, yf)
	}
	slices.SortFunc(files, func(a, b yearFile) int { return cmp.Or(cmp.Compare(a.market, b.market), cmp.Compare(a.year, b.year)) })

	f.mu.Lock()
	defer f.mu.Unlock()
	for _, yf := range files {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bars: upsert daily: %w", err)
		}
		if err := f.mergeDaily(yf, byFile[yf]); err != nil {
			return err
		}
		for _, d := range byFile[yf] {
			f.written.Store(d.Symbol, d.Market)
		}
	}
	return nil
}

// mergeDaily applies aggregates, in order, to one year file.
func (f *Files) mergeDaily(yf yearFile, days []Daily) error {
	path := f.dailyPath(yf)
	rows, err := readDaily(path, yf.market, "")
	if err != nil {
		return err
	}
	rows, changed := mergeRows(rows, days, dailyKeyOf, func(d, old Daily) bool { return winsDaily(d, old) && !sameDaily(d, old) })
	if !changed {
		return nil
	}
	slices.SortFunc(rows, func(a, b Daily) int { return cmp.Or(a.Session.Compare(b.Session), cmp.Compare(a.Symbol, b.Symbol)) })
	return writeAtomic(path, dailyHeader, len(rows), func(line []byte, i int) []byte { return appendDaily(line, rows[i]) })
}

// DailyRange returns symbol's aggregates of the sessions from through to,
// by session. It finds the symbol's market as Range does.
func (f *Files) DailyRange(ctx context.Context, symbol string, from, to market.Date) ([]Daily, error) {
	if to.Before(from) {
		return nil, nil
	}
	markets, err := f.marketsOf(symbol)
	if err != nil {
		return nil, err
	}
	var out []Daily
	for _, m := range markets {
		for year := from.Year; year <= to.Year; year++ {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("bars: daily range %s: %w", symbol, err)
			}
			rows, err := readDaily(f.dailyPath(yearFile{market: m, year: year}), m, symbol)
			if err != nil {
				return nil, err
			}
			for _, d := range rows {
				if inDates(d.Session, from, to) {
					out = append(out, d)
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Daily) int { return a.Session.Compare(b.Session) })
	return out, nil
}

// readDaily reads a daily file of market, keeping only symbol's rows
// unless symbol is empty. A missing file has no rows.
func readDaily(path, market, symbol string) ([]Daily, error) {
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
	if got := strings.Join(header, ","); got != dailyHeader {
		return nil, fmt.Errorf("bars: %s: %w: header %q, want %q", path, ErrCorruptFile, got, dailyHeader)
	}
	var out []Daily
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
		d, err := parseDaily(rec, market)
		if err != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("bars: %s line %d: %w: %w", path, line, ErrCorruptFile, err)
		}
		out = append(out, d)
	}
}

// parseDaily reads one record in dailyHeader's order.
func parseDaily(rec []string, mkt string) (Daily, error) {
	d := Daily{Symbol: rec[0], Market: mkt}
	var err error
	if d.Session, err = market.ParseDate(rec[1]); err != nil {
		return Daily{}, fmt.Errorf("session: %w", err)
	}
	for i, dst := range []*decimal.Dec{&d.Open, &d.High, &d.Low, &d.Close, &d.Volume} {
		if *dst, err = decimal.Parse(rec[2+i]); err != nil {
			return Daily{}, fmt.Errorf("column %d %q: %w", 3+i, rec[2+i], err)
		}
	}
	if d.Trades, err = strconv.ParseInt(rec[7], 10, 64); err != nil {
		return Daily{}, fmt.Errorf("trades: %w", err)
	}
	if err = d.Notional.UnmarshalText([]byte(rec[8])); err != nil {
		return Daily{}, err
	}
	for i, dst := range []*time.Time{&d.FirstTrade, &d.LastTrade} {
		t, err := time.Parse(time.RFC3339Nano, rec[9+i])
		if err != nil {
			return Daily{}, fmt.Errorf("column %d: %w", 10+i, err)
		}
		*dst = t.UTC()
	}
	return d, nil
}

// appendDaily appends d as a CSV line in dailyHeader's order.
func appendDaily(line []byte, d Daily) []byte {
	line = appendSymbol(line, d.Symbol)
	line = append(line, ',')
	line = append(line, d.Session.String()...)
	for _, v := range []decimal.Dec{d.Open, d.High, d.Low, d.Close, d.Volume} {
		line = append(line, ',')
		line = v.Append(line)
	}
	line = append(line, ',')
	line = strconv.AppendInt(line, d.Trades, 10)
	line = append(line, ',')
	line = append(line, d.Notional.String()...)
	for _, t := range []time.Time{d.FirstTrade, d.LastTrade} {
		line = append(line, ',')
		line = t.UTC().AppendFormat(line, dailyTimeLayout)
	}
	return append(line, '\n')
}
