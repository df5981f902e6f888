package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/clock"
	"heartbeat/internal/config"
	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
	"heartbeat/internal/ticks"
)

// 2026-03-10T14:00:00Z, a Tuesday.
const t0ms = 1773151200000

func TestParseTS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64 // Unix ms; ignored when bad
		bad  bool
	}{
		{in: "1773151200000", want: t0ms},
		{in: "1773151200123", want: t0ms + 123},
		{in: "1773151200123456", want: t0ms + 123},    // microseconds
		{in: "1773151200123456789", want: t0ms + 123}, // nanoseconds
		{in: "0", want: 0},
		{in: "2026-03-10T14:00:00Z", want: t0ms},
		{in: "2026-03-10T14:00:00.1Z", want: t0ms + 100},
		{in: "2026-03-10T14:00:00.123Z", want: t0ms + 123},
		{in: "2026-03-10T14:00:00.123456789Z", want: t0ms + 123}, // truncated to the ms
		{in: "2026-03-10T10:00:00.5-04:00", want: t0ms + 500},
		{in: "2026-03-10T23:00:00+09:00", want: t0ms},
		{in: "2026-03-10 14:00:00.250Z", want: t0ms + 250}, // space for T
		{in: "", bad: true},
		{in: "yesterday", bad: true},
		{in: "1773151200000.5", bad: true},
		{in: "1.7e12", bad: true},
		{in: "99999999999999999999", bad: true},
		{in: "2026-03-10", bad: true},
		{in: "2026-13-10T14:00:00Z", bad: true},
		{in: "2026-03-10T14:00:00", bad: true}, // no offset
		{in: "-", bad: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseTS(c.in)
			if c.bad {
				if !errors.Is(err, ErrTimestamp) {
					t.Fatalf("ParseTS(%q) = %v, %v; want ErrTimestamp", c.in, got, err)
				}
				return
			}
			if err != nil || got.UnixMilli() != c.want || got.Location() != time.UTC {
				t.Fatalf("ParseTS(%q) = %v (%d), %v; want %d UTC", c.in, got, got.UnixMilli(), err, c.want)
			}
		})
	}
}

// readAll reads every row of a CSV.
func readAll(t *testing.T, csv string) []TradeRow {
	t.Helper()
	tr, err := NewTradeReader(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	var rows []TradeRow
	for {
		r, err := tr.Read()
		if errors.Is(err, io.EOF) {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
}

func TestTradeReaderRows(t *testing.T) {
	t.Parallel()
	ms := func(d time.Duration) string { return strconv.FormatInt(t0ms+d.Milliseconds(), 10) }
	cases := []struct {
		name    string
		csv     string
		want    [][]string // Fields of each row
		wantErr []error    // Err of each row (nil entries for none)
	}{
		{
			name: "epoch ms",
			csv:  "ts,symbol,price,size\n1773151200000,ES,5000.25,3\n",
			want: [][]string{{"symbol", "ES", "price", "5000.25", "size", "3", "ts", ms(0)}},
		},
		{
			name: "RFC 3339 with fractions",
			csv:  "ts,symbol,price,size\n2026-03-10T14:00:00.123456Z,ES,5000.25,3\n2026-03-10T10:00:01-04:00,ES,5000,1\n",
			want: [][]string{
				{"symbol", "ES", "price", "5000.25", "size", "3", "ts", ms(123 * time.Millisecond)},
				{"symbol", "ES", "price", "5000", "size", "1", "ts", ms(time.Second)},
			},
		},
		{
			name: "columns in any order, bid and ask optional",
			csv:  "size,ask,symbol,bid,ts,price\n3,5000.5,ES,5000.25,1773151200000,5000.25\n1,,ES,,1773151200001,5000.5\n",
			want: [][]string{
				{"symbol", "ES", "price", "5000.25", "size", "3", "ts", ms(0), "bid", "5000.25", "ask", "5000.5"},
				{"symbol", "ES", "price", "5000.5", "size", "1", "ts", ms(time.Millisecond)},
			},
		},
		{
			name: "quote sizes",
			csv:  "ts,symbol,price,size,bid,ask,bid_size,ask_size\n1773151200000,ES,1,1,1,2,10,20\n",
			want: [][]string{{"symbol", "ES", "price", "1", "size", "1", "ts", ms(0), "bid", "1", "ask", "2", "bid_size", "10", "ask_size", "20"}},
		},
		{
			name: "byte order mark, upper case, spaces",
			csv:  "\uFEFFTS , Symbol,PRICE,size\r\n 1773151200000 , ES ,5000.25, 3\r\n",
			want: [][]string{{"symbol", "ES", "price", "5000.25", "size", "3", "ts", ms(0)}},
		},
		{
			name:    "bad rows are kept for writing raw",
			csv:     "ts,symbol,price,size\nyesterday,ES,5000,1\n1773151200000,ES,abc,1\n1773151200000,,,\n1773151200000,ES,1,234.50,3\n1773151200000,ES\n",
			wantErr: []error{ErrTimestamp, nil, nil, ErrFieldCount, ErrFieldCount},
			want: [][]string{
				{"symbol", "ES", "price", "5000", "size", "1", "ts", "yesterday"},
				{"symbol", "ES", "price", "abc", "size", "1", "ts", ms(0)},
				{"symbol", "", "price", "", "size", "", "ts", ms(0)},
				{"symbol", "ES", "raw", "1773151200000,ES,1,234.50,3"},
				{"symbol", "ES", "raw", "1773151200000,ES"},
			},
		},
		{
			name:    "short row without its symbol",
			csv:     "price,size,ts,symbol\n1,2\n",
			wantErr: []error{ErrFieldCount},
			want:    [][]string{{"raw", "1,2"}},
		},
		{
			name: "quoted cells",
			csv:  "ts,symbol,price,size\n1773151200000,\"ES\",\"5000.25\",3\n",
			want: [][]string{{"symbol", "ES", "price", "5000.25", "size", "3", "ts", ms(0)}},
		},
		{
			name: "header only",
			csv:  "ts,symbol,price,size\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rows := readAll(t, c.csv)
			var got [][]string
			for i, r := range rows {
				got = append(got, r.Fields)
				var want error
				if i < len(c.wantErr) {
					want = c.wantErr[i]
				}
				if (want == nil) != (r.Err == nil) || (want != nil && !errors.Is(r.Err, want)) {
					t.Fatalf("row %d: Err = %v, want %v", i, r.Err, want)
				}
				if r.Err == nil && r.Time.IsZero() {
					t.Fatalf("row %d: no Time without an error", i)
				}
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTradeReaderLines(t *testing.T) {
	t.Parallel()
	rows := readAll(t, "ts,symbol,price,size\n1,A,1,1\n\n2,B,1,1\n3,\"C\nD\",1,1\n4,E,1,1\n")
	var got []int
	for _, r := range rows {
		got = append(got, r.Line)
	}
	if diff := cmp.Diff([]int{2, 4, 5, 7}, got); diff != "" {
		t.Fatalf("lines (-want +got):\n%s", diff)
	}
}

func TestTradeReaderHeaderErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, csv, mention string }{
		{"empty file", "", "empty"},
		{"missing size", "ts,symbol,price\n", `"size"`},
		{"unknown column", "ts,symbol,price,size,venue\n", `"venue"`},
		{"duplicate", "ts,symbol,price,size,TS\n", `"ts" appears twice`},
		{"typo", "ts,symbol,price,size,bidsize\n", `"bidsize"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewTradeReader(strings.NewReader(c.csv))
			if !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("err = %v, want ErrHeader mentioning %s", err, c.mention)
			}
		})
	}
}

// defaultValidator knows the default instruments.
func defaultValidator(t testing.TB) ticks.Validator {
	ins, err := config.Default().MarketInstruments()
	if err != nil {
		t.Fatal(err)
	}
	return ticks.Validator{Known: ins.Known, MaxFuture: 5 * time.Second}
}

func TestReplayIntoRedis(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	const shards = 4
	csv := `ts,symbol,price,size,bid,ask
1773151200000,ES,5000.250,2,5000,5000.25
2026-03-10T14:00:00.5Z,SPY,520.10,100,,
1773151201000,ES,abc,1,,
1773151202000,NOPE,1,1,,
yesterday,BTCUSD,65000,0.5,,
1773151203000,BTCUSD,65000,0.5
1773151204000,,1,1,,
1773151205000,ETHUSD,-5,1,,
2026-03-10T14:00:06Z,ETHUSD,3500.5,0.25,3500,3501
`
	// The stream entries expected, in file order, with their symbol.
	type entry struct {
		symbol string
		fields map[string]any
	}
	fields := func(kv ...string) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	want := []entry{
		// Valid rows are written by Write, in contract form: the trade in
		// the stream, the quote in the latest-quote hash.
		{"ES", fields("symbol", "ES", "price", "5000.25", "size", "2", "ts", "1773151200000")},
		{"SPY", fields("symbol", "SPY", "price", "520.1", "size", "100", "ts", "1773151200500")},
		// The others raw, as written in the file.
		{"ES", fields("symbol", "ES", "price", "abc", "size", "1", "ts", "1773151201000")},
		{"NOPE", fields("symbol", "NOPE", "price", "1", "size", "1", "ts", "1773151202000")},
		{"BTCUSD", fields("symbol", "BTCUSD", "price", "65000", "size", "0.5", "ts", "yesterday")},
		{"BTCUSD", fields("symbol", "BTCUSD", "raw", "1773151203000,BTCUSD,65000,0.5")},
		{"", fields("symbol", "", "price", "1", "size", "1", "ts", "1773151204000")},
		{"ETHUSD", fields("symbol", "ETHUSD", "price", "-5", "size", "1", "ts", "1773151205000")},
		{"ETHUSD", fields("symbol", "ETHUSD", "price", "3500.5", "size", "0.25", "ts", "1773151206000")},
	}
	for _, maxBatch := range []int{1, 3, 1000} {
		t.Run(fmt.Sprint("batch ", maxBatch), func(t *testing.T) {
			ctx := context.Background()
			if err := rdb.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			tr, err := NewTradeReader(strings.NewReader(csv))
			if err != nil {
				t.Fatal(err)
			}
			clk := clock.NewFake(time.UnixMilli(t0ms).Add(time.Hour))
			st, err := Replay(ctx, tr, ReplayConfig{Max: true, MaxBatch: maxBatch, Validator: defaultValidator(t)},
				ReplayDeps{Writer: ticks.NewWriter(rdb, shards), Clock: clk})
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != 9 || st.Ticks != 3 || st.Raw != 6 || st.Errors != 0 {
				t.Fatalf("stats %+v, want 9 rows: 3 ticks, 6 raw", st)
			}
			wantShards, gotShards := map[int][]map[string]any{}, map[int][]map[string]any{}
			for _, e := range want {
				n := 0
				if e.symbol != "" {
					n = ticks.Shard(e.symbol, shards)
				}
				wantShards[n] = append(wantShards[n], e.fields)
			}
			quotes := map[string]string{}
			for n := range shards {
				xs, err := rdb.XRange(ctx, keys.Ticks(n), "-", "+").Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range xs {
					gotShards[n] = append(gotShards[n], x.Values)
				}
				q, err := rdb.HGetAll(ctx, keys.Quotes(n)).Result()
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range q {
					quotes[k] = v
				}
			}
			if diff := cmp.Diff(wantShards, gotShards); diff != "" {
				t.Fatalf("streams (-want +got):\n%s", diff)
			}
			// Only the valid rows update the latest quotes.
			wantQuotes := map[string]string{
				"ES":     "5000.25|2|1773151200000|5000|5000.25|0|0",
				"SPY":    "520.1|100|1773151200500||||",
				"ETHUSD": "3500.5|0.25|1773151206000|3500|3501|0|0",
			}
			if diff := cmp.Diff(wantQuotes, quotes); diff != "" {
				t.Fatalf("quotes (-want +got):\n%s", diff)
			}
		})
	}
}

// call is one write seen by callRecorder.
type call struct {
	At   time.Duration // after the clock's start
	Kind string        // "ticks" or "raw"
	N    int
}

// callRecorder is a RawWriter that records when each write happens.
type callRecorder struct {
	mu    sync.Mutex
	clock clock.Clock
	start time.Time
	calls []call
	err   error // returned by every write when set
}

func (c *callRecorder) record(kind string, n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	c.calls = append(c.calls, call{At: c.clock.Now().Sub(c.start), Kind: kind, N: n})
	return nil
}

func (c *callRecorder) Write(_ context.Context, b []ticks.Tick) error {
	return c.record("ticks", len(b))
}
func (c *callRecorder) WriteRaw(_ context.Context, e [][]string) error {
	return c.record("raw", len(e))
}

// runReplay runs Replay in the background and moves the fake clock to each
// of its sleeps until it returns.
func runReplay(t *testing.T, clk *clock.Fake, csv string, cfg ReplayConfig, w RawWriter) (ReplayStats, error) {
	t.Helper()
	tr, err := NewTradeReader(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	var st ReplayStats
	done := make(chan struct{})
	go func() {
		defer close(done)
		st, err = Replay(context.Background(), tr, cfg, ReplayDeps{Writer: w, Clock: clk})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-done:
			case <-time.After(time.Until(deadline)):
			}
			cancel()
		}()
		werr := clk.WaitForSleepers(ctx, 1)
		cancel()
		if werr != nil {
			break
		}
		clk.AdvanceToNextSleeper()
	}
	select {
	case <-done:
	default:
		t.Fatal("Replay did not return within 10s")
	}
	return st, err
}

func TestReplayPacing(t *testing.T) {
	t.Parallel()
	csv := `ts,symbol,price,size
1773151200000,ES,1,1
1773151201000,ES,1,1
2026-03-10T14:00:01Z,ES,1,1
1773151203000,ES,1,1
later,ES,1,1
17731512030000,ES,1,1
1773151202000,ES,1,1
1773151203000,ES,1,1
`
	cases := []struct {
		name string
		cfg  ReplayConfig
		want []call
	}{
		{"real time", ReplayConfig{Speed: 1}, []call{
			{0, "ticks", 1}, {time.Second, "ticks", 2},
			// Row 4 is due at 3s; the unparseable row, the one from the
			// year 2531 (a typo: invalid, it does not set the pace) and
			// row 7 (earlier than row 4) follow it at once; row 8 is due
			// then too.
			{3 * time.Second, "ticks", 1}, {3 * time.Second, "raw", 2}, {3 * time.Second, "ticks", 2},
		}},
		{"twice as fast", ReplayConfig{Speed: 2}, []call{
			{0, "ticks", 1}, {500 * time.Millisecond, "ticks", 2},
			{1500 * time.Millisecond, "ticks", 1}, {1500 * time.Millisecond, "raw", 2}, {1500 * time.Millisecond, "ticks", 2},
		}},
		// Rows 2-7 are due within 3ms: they wait for the next 10ms batch.
		{"a thousand times as fast", ReplayConfig{Speed: 1000}, []call{
			{0, "ticks", 1},
			{10 * time.Millisecond, "ticks", 3}, {10 * time.Millisecond, "raw", 2}, {10 * time.Millisecond, "ticks", 2},
		}},
		{"max", ReplayConfig{Max: true, MaxBatch: 4}, []call{
			{0, "ticks", 4}, {0, "raw", 2}, {0, "ticks", 2},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			start := time.UnixMilli(t0ms).Add(time.Hour)
			clk := clock.NewFake(start)
			w := &callRecorder{clock: clk, start: start}
			st, err := runReplay(t, clk, csv, c.cfg, w)
			if err != nil {
				t.Fatal(err)
			}
			if st.Rows != 8 || st.Ticks != 6 || st.Raw != 2 {
				t.Fatalf("stats %+v", st)
			}
			if diff := cmp.Diff(c.want, w.calls); diff != "" {
				t.Fatalf("writes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplayFailsAfterRetries(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.UnixMilli(t0ms))
	down := errors.New("redis down")
	w := &callRecorder{clock: clk, err: down}
	st, err := runReplay(t, clk, "ts,symbol,price,size\n1773151200000,ES,1,1\n", ReplayConfig{Max: true}, w)
	if !errors.Is(err, down) || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want the write error naming line 2", err)
	}
	if st.Errors != DefaultMaxAttempts || st.Rows != 1 || st.Ticks+st.Raw != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestReplayRejectsBadSpeed(t *testing.T) {
	t.Parallel()
	tr, err := NewTradeReader(strings.NewReader("ts,symbol,price,size\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, speed := range []float64{0, -1} {
		if _, err := Replay(context.Background(), tr, ReplayConfig{Speed: speed}, ReplayDeps{Writer: &callRecorder{}}); err == nil {
			t.Fatalf("speed %g accepted", speed)
		}
	}
}

// generatedCSV produces n trade rows on the fly, never holding the file.
type generatedCSV struct {
	n, i int
	buf  bytes.Buffer
}

func (g *generatedCSV) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i <= g.n {
		if g.i == 0 {
			g.buf.WriteString("ts,symbol,price,size,bid,ask\n")
		} else {
			fmt.Fprintf(&g.buf, "%d,ES,%d.25,%d,%d,%d.25\n", t0ms+int64(g.i), 5000+g.i%7, 1+g.i%5, 5000+g.i%7, 5000+g.i%7)
		}
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// countingWriter counts rows and samples the heap on each write.
type countingWriter struct {
	rows     int
	peakHeap uint64
}

func (c *countingWriter) sample(n int) {
	c.rows += n
	var m runtime.MemStats
	if c.rows%100_000 < n { // about every 100,000 rows: the live heap
		runtime.GC()
		runtime.ReadMemStats(&m)
		c.peakHeap = max(c.peakHeap, m.HeapAlloc)
	}
}

func (c *countingWriter) Write(_ context.Context, b []ticks.Tick) error { c.sample(len(b)); return nil }
func (c *countingWriter) WriteRaw(_ context.Context, e [][]string) error {
	c.sample(len(e))
	return nil
}

// TestReplayStreamsAMillionRows is not parallel: it measures the heap,
// which other tests would share.
func TestReplayStreamsAMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	const n = 1_000_000
	tr, err := NewTradeReader(&generatedCSV{n: n})
	if err != nil {
		t.Fatal(err)
	}
	w := &countingWriter{}
	st, err := Replay(context.Background(), tr, ReplayConfig{Max: true, Validator: defaultValidator(t)},
		ReplayDeps{Writer: w, Clock: clock.NewFake(time.UnixMilli(t0ms).Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != n || st.Ticks != n || w.rows != n || st.Batches != n/DefaultMaxBatch {
		t.Fatalf("stats %+v, %d rows written; want %d ticks in %d batches", st, w.rows, n, n/DefaultMaxBatch)
	}
	// A million rows are ~60 MB of CSV; streaming keeps a batch at a time.
	if w.peakHeap > 32<<20 {
		t.Fatalf("heap reached %d MiB while replaying", w.peakHeap>>20)
	}
}

func TestReplayStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.UnixMilli(t0ms).Add(time.Hour))
	w := &callRecorder{clock: clk}
	tr, err := NewTradeReader(strings.NewReader("ts,symbol,price,size\n1773151200000,ES,1,1\n1773154800000,ES,1,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		st  ReplayStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := Replay(ctx, tr, ReplayConfig{Speed: 1}, ReplayDeps{Writer: w, Clock: clk})
		done <- result{st, err}
	}()
	// The second row is an hour later: Replay sleeps until then.
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := clk.WaitForSleepers(wctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) || r.st.Rows != 2 || r.st.Ticks != 1 {
		t.Fatalf("Replay = %+v, %v; want 1 of 2 rows written and context.Canceled", r.st, r.err)
	}
}
