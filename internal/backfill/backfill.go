// Package backfill runs Heartbeat's ingest and job code over a file of
// historical trades, with a simulated clock on an embedded miniredis, and
// writes the resulting bars, minute VWAP, session volume and rolling 24 h
// figures as CSV. It needs no outside service.
package backfill

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"heartbeat/internal/bars"
	"heartbeat/internal/feed"
	"heartbeat/internal/keys"
	"heartbeat/internal/market"
	"heartbeat/internal/marketdata"
	"heartbeat/internal/ticks"
)

// Config says what to backfill.
type Config struct {
	// Trades is the CSV of trades (see feed.TradeReader), in time order.
	Trades io.Reader
	// OutDir receives bars_1m.csv, vwap_1m.csv, session_volume.csv and
	// rolling_24h.csv.
	OutDir string
	// Instruments map the file's symbols to markets; others are
	// dead-lettered as unknown symbols.
	Instruments *market.Instruments
	// Settings are the computations' settings (from config); the shard
	// count and batch size are the backfill's own.
	Settings marketdata.Settings
	// FlushEvery is how many simulated minutes pass between flushes of
	// closed bars to the output store. Default 10.
	FlushEvery int
}

// Summary is what a backfill did.
type Summary struct {
	Rows         int
	Accepted     int
	OutOfSession int
	DeadLetters  map[string]int
	Bars         int
	VwapPoints   int
	Sessions     int
	RollingRows  int
	Minutes      int // simulated minutes stepped through
	First, Last  time.Time
}

// writeBatch is how many rows go to miniredis in one pipeline.
const writeBatch = 20000

// Run performs the backfill.
func Run(ctx context.Context, cfg Config, log zerolog.Logger) (Summary, error) {
	sum := Summary{DeadLetters: map[string]int{}}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return sum, fmt.Errorf("backfill: start embedded redis: %w", err)
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()

	set := cfg.Settings
	set.Shards = 1
	set.BatchSize = 1 << 30
	store := bars.NewMemory()
	eng, err := marketdata.New(set, marketdata.Deps{Redis: rdb, Instruments: cfg.Instruments, Store: store, Log: log})
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 10
	}
	tr, err := feed.NewTradeReader(cfg.Trades)
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	out, err := newOutputs(cfg.OutDir)
	if err != nil {
		return sum, err
	}
	defer out.close()

	w := ticks.NewWriter(rdb, set.Shards)
	r := &runner{ctx: ctx, eng: eng, out: out, sum: &sum, flushEvery: cfg.FlushEvery, instruments: cfg.Instruments}
	var batch [][]string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := w.WriteRaw(ctx, batch)
		batch = batch[:0]
		return err
	}
	for {
		row, err := tr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sum, fmt.Errorf("backfill: %w", err)
		}
		sum.Rows++
		if !row.Time.IsZero() {
			if sum.First.IsZero() {
				sum.First = row.Time
				r.next = nextMinute(row.Time)
			}
			// Step the clock through every minute that ends before this
			// row, so each minute's ticks are processed at its end.
			if !row.Time.Before(r.next) {
				if err := flush(); err != nil {
					return sum, fmt.Errorf("backfill: %w", err)
				}
				if err := r.stepUntil(row.Time); err != nil {
					return sum, err
				}
			}
			if row.Time.After(sum.Last) {
				sum.Last = row.Time
			}
		}
		batch = append(batch, append([]string(nil), row.Fields...))
		if len(batch) >= writeBatch {
			if err := flush(); err != nil {
				return sum, fmt.Errorf("backfill: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	if sum.First.IsZero() {
		// No row had a timestamp: nothing to step through.
		return sum, fmt.Errorf("backfill: no row of the file has a readable timestamp")
	}
	// Run on until every bar has closed and every minute is final for the
	// VWAP capture (its minute plus the late window).
	end := r.next.Add(set.LateWindow).Add(time.Minute)
	if err := r.stepUntil(end); err != nil {
		return sum, err
	}
	if _, err := eng.FlushClosedBars(ctx, 0, end); err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	if err := r.finish(store); err != nil {
		return sum, err
	}
	counts, err := rdb.HGetAll(ctx, keys.DeadLetterCounts(0)).Result()
	if err != nil {
		return sum, fmt.Errorf("backfill: %w", err)
	}
	for reason, n := range counts {
		sum.DeadLetters[reason], _ = strconv.Atoi(n)
	}
	return sum, out.close()
}

func nextMinute(t time.Time) time.Time { return t.Truncate(time.Minute).Add(time.Minute) }

// runner steps the simulated clock.
type runner struct {
	ctx         context.Context
	eng         *marketdata.Engine
	out         *outputs
	sum         *Summary
	next        time.Time // the next minute end to step to
	lastBar     time.Time // end of the newest minute with a trade
	flushEvery  int
	instruments *market.Instruments
	points      []marketdata.VwapPoint
}

// stepUntil runs every minute end up to and including the last one at or
// before t.
func (r *runner) stepUntil(t time.Time) error {
	for !r.next.After(t) {
		if err := r.step(r.next); err != nil {
			return err
		}
		r.next = r.next.Add(time.Minute)
	}
	return nil
}

// step runs the jobs at one minute end, as the scheduler would.
func (r *runner) step(now time.Time) error {
	ctx := r.ctx
	if err := ctx.Err(); err != nil {
		return err
	}
	r.sum.Minutes++
	st, err := r.eng.Intraday(ctx, 0, now)
	if err != nil {
		return fmt.Errorf("backfill at %s: %w", now, err)
	}
	r.sum.Accepted += st.Accepted
	r.sum.OutOfSession += st.OutOfSession
	if st.Accepted > 0 {
		r.lastBar = now
	}
	points, err := r.eng.VwapMinuteCapture(ctx, 0, now)
	if err != nil {
		return fmt.Errorf("backfill at %s: %w", now, err)
	}
	r.points = append(r.points, points...)
	if !r.lastBar.IsZero() && !now.After(r.lastBar) {
		rows, err := r.eng.TwentyFourHour(ctx, 0, now)
		if err != nil {
			return fmt.Errorf("backfill at %s: %w", now, err)
		}
		for _, x := range rows {
			if err := r.out.rolling.Write([]string{x.Symbol, stamp(x.At), x.Open.String(), x.High.String(), x.Low.String(),
				x.Last.String(), x.Volume.String(), x.VWAP, strconv.FormatInt(x.Trades, 10), x.ChangePct}); err != nil {
				return err
			}
		}
		r.sum.RollingRows += len(rows)
	}
	if r.sum.Minutes%r.flushEvery == 0 {
		if _, err := r.eng.FlushClosedBars(ctx, 0, now); err != nil {
			return fmt.Errorf("backfill at %s: %w", now, err)
		}
	}
	return nil
}

// finish writes the bars and the session volumes.
func (r *runner) finish(store *bars.Memory) error {
	all := store.All()
	sort.Slice(all, func(i, j int) bool {
		if all[i].Symbol != all[j].Symbol {
			return all[i].Symbol < all[j].Symbol
		}
		return all[i].Start.Before(all[j].Start)
	})
	for _, b := range all {
		if err := r.out.bars.Write([]string{b.Symbol, stamp(b.Start), b.Open.String(), b.High.String(), b.Low.String(),
			b.Close.String(), b.Volume.String(), strconv.FormatInt(b.Trades, 10), b.VWAP()}); err != nil {
			return err
		}
	}
	r.sum.Bars = len(all)
	// The VWAP series runs through the last minute with a trade: later
	// minutes would only repeat it for as long as the backfill ran on.
	for _, p := range r.points {
		if !p.Minute.Before(r.lastBar) {
			continue
		}
		if err := r.out.vwap.Write([]string{p.Symbol, stamp(p.Minute), p.Session, p.VWAP, p.Volume.String(), p.Last.String()}); err != nil {
			return err
		}
		r.sum.VwapPoints++
	}
	// Session volumes are the session aggregates Intraday kept: each trade
	// counted once, in the session that contains it.
	for _, sym := range r.instruments.Symbols() {
		days, err := r.eng.DailyFigures(r.ctx, sym)
		if err != nil {
			return err
		}
		for _, f := range days {
			if err := r.out.sessions.Write([]string{sym, f.Session, f.Volume.String(), strconv.FormatInt(f.Trades, 10)}); err != nil {
				return err
			}
			r.sum.Sessions++
		}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// outputs are the four CSV files.
type outputs struct {
	files                         []*os.File
	writers                       []*csv.Writer
	bars, vwap, sessions, rolling *csv.Writer
}

func newOutputs(dir string) (*outputs, error) {
	o := &outputs{}
	for _, f := range []struct {
		name   string
		header []string
		dst    **csv.Writer
	}{
		{"bars_1m.csv", []string{"symbol", "start", "open", "high", "low", "close", "volume", "trades", "vwap"}, &o.bars},
		{"vwap_1m.csv", []string{"symbol", "minute", "session", "vwap", "volume", "last"}, &o.vwap},
		{"session_volume.csv", []string{"symbol", "session", "volume", "trades"}, &o.sessions},
		{"rolling_24h.csv", []string{"symbol", "at", "open", "high", "low", "last", "volume", "vwap", "trades", "change_pct"}, &o.rolling},
	} {
		fh, err := os.Create(filepath.Join(dir, f.name))
		if err != nil {
			o.close()
			return nil, fmt.Errorf("backfill: %w", err)
		}
		w := csv.NewWriter(fh)
		if err := w.Write(f.header); err != nil {
			o.close()
			return nil, fmt.Errorf("backfill: %w", err)
		}
		o.files, o.writers, *f.dst = append(o.files, fh), append(o.writers, w), w
	}
	return o, nil
}

// close flushes and closes every file; it is safe to call twice.
func (o *outputs) close() error {
	var errs []error
	for i, w := range o.writers {
		w.Flush()
		errs = append(errs, w.Error(), o.files[i].Close())
	}
	o.writers, o.files = nil, nil
	return errors.Join(errs...)
}
