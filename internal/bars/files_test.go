package bars_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/bars"
	"heartbeat/internal/decimal"
	"heartbeat/internal/market"
)

// layoutBars fall on both sides of Tokyo's and Chicago's midnights.
var layoutBars = slices.Concat(
	minutes("7203.T", market.XTKS, tokyoMidnight.Add(-time.Minute), 2),
	minutes("6758.T", market.XTKS, tokyoMidnight.Add(-time.Minute), 2),
	minutes("ES", market.CMES, globexOpen, 1),
	minutes("ES", market.CMES, chicagoMidnight, 1),
	[]bars.Bar{{
		Symbol: "SPY", Market: "XNYS", Start: t0, Open: decimal.MustParse("0.00000001"),
		High: decimal.MustParse("92233720367.5"), Notional: decimal.Notional{Hi: 1, Lo: 5}, Revision: 2,
	}},
)

func TestFilesLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := bars.OpenFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Upsert(context.Background(), layoutBars); err != nil {
		t.Fatal(err)
	}

	// Every file, and nothing else: no temporary files are left behind.
	want := map[string]string{
		"XTKS/2026-03-09.csv": header +
			"6758.T,2026-03-09T14:59:00Z,100.00000001,100.00000003,100,100.00000002,1,1,1000000000100000000,1\n" +
			"7203.T,2026-03-09T14:59:00Z,100.00000001,100.00000003,100,100.00000002,1,1,1000000000100000000,1\n",
		"XTKS/2026-03-10.csv": header +
			"6758.T,2026-03-09T15:00:00Z,100.00000001,100.00000003,100,100.00000002,1,1,1000000000100000000,1\n" +
			"7203.T,2026-03-09T15:00:00Z,100.00000001,100.00000003,100,100.00000002,1,1,1000000000100000000,1\n",
		"CMES/2026-03-08.csv": header +
			"ES,2026-03-08T22:00:00Z,100.00000001,100.00000003,100,100.00000002,1,1,1000000000100000000,1\n",
		"CMES/2026-03-09.csv": header +
			"ES,2026-03-09T05:00:00Z,100.00000001,100.00000003,100,100.00000002,1,1,1000000000100000000,1\n",
		"XNYS/2026-03-09.csv": header +
			"SPY,2026-03-09T14:30:00Z,0.00000001,92233720367.5,0,0,0,0,18446744073709551621,2\n",
	}
	if diff := cmp.Diff(want, readTree(t, dir)); diff != "" {
		t.Fatalf("files mismatch (-want +got):\n%s", diff)
	}
}

const header = "symbol,start,open,high,low,close,volume,trades,notional,revision\n"

// readTree returns every file under dir by slash path, with its contents.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		got[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestFilesRangeFindsMarket checks each way Range finds a symbol's market,
// in a store reopened on the same directory (nothing learned from writes)
// and in the one that wrote.
func TestFilesRangeFindsMarket(t *testing.T) {
	t.Parallel()
	resolver := func(known map[string]string) bars.Option {
		return bars.WithMarkets(func(s string) (string, bool) { m, ok := known[s]; return m, ok })
	}
	tests := []struct {
		name   string
		reopen bool
		opts   []bars.Option
	}{
		{name: "learned from writes", reopen: false},
		{name: "every market on disk", reopen: true},
		{name: "resolver", reopen: true, opts: []bars.Option{resolver(map[string]string{"7203.T": "XTKS", "6758.T": "XTKS", "ES": "CMES", "SPY": "XNYS"})}},
		{name: "resolver that does not know", reopen: true, opts: []bars.Option{resolver(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			w, err := bars.OpenFiles(dir, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Upsert(context.Background(), layoutBars); err != nil {
				t.Fatal(err)
			}
			r := w
			if tc.reopen {
				if r, err = bars.OpenFiles(dir, tc.opts...); err != nil {
					t.Fatal(err)
				}
			}
			from, to := t0.AddDate(0, 0, -2), t0.AddDate(0, 0, 2)
			checkRange(t, r, query{"7203.T", from, to, layoutBars[0:2]})
			checkRange(t, r, query{"6758.T", from, to, layoutBars[2:4]})
			checkRange(t, r, query{"ES", from, to, layoutBars[4:6]})
			checkRange(t, r, query{"SPY", from, to, layoutBars[6:]})
		})
	}
}

func TestFilesReplayDoesNotRewrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := bars.OpenFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(dir, "XNYS", "2026-03-09.csv")
	stat := func() os.FileInfo {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi
	}
	batch := minutes("SPY", market.XNYS, t0, 3)
	if err := f.Upsert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	before := stat()
	older := mkBar("SPY", market.XNYS, t0, 0)
	if err := f.Upsert(ctx, append(batch, older)); err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, stat()) {
		t.Fatal("a replayed flush replaced the day file")
	}
	if err := f.Upsert(ctx, []bars.Bar{mkBar("SPY", market.XNYS, t0, 2)}); err != nil {
		t.Fatal(err)
	}
	if os.SameFile(before, stat()) {
		t.Fatal("an amendment did not replace the day file")
	}
}

func TestFilesRejectsForeignFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content string
	}{
		{"empty", ""},
		{"other header", "symbol,start,close\nSPY,2026-03-09T14:30:00Z,1\n"},
		{"bad price", header + "SPY,2026-03-09T14:30:00Z,1.000000001,1,1,1,1,1,1,1\n"},
		{"bad notional", header + "SPY,2026-03-09T14:30:00Z,1,1,1,1,1,1,-1,1\n"},
		{"short row", header + "SPY,2026-03-09T14:30:00Z,1,1,1,1,1,1,1\n"},
		{"bare quote", header + "S\"PY,2026-03-09T14:30:00Z,1,1,1,1,1,1,1,1\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "XNYS"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "XNYS", "2026-03-09.csv"), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := bars.OpenFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Range(context.Background(), "SPY", t0, t0.Add(time.Hour))
			if !errors.Is(err, bars.ErrCorruptFile) {
				t.Fatalf("Range: err = %v, want ErrCorruptFile", err)
			}
			err = f.Upsert(context.Background(), minutes("SPY", market.XNYS, t0, 1))
			if !errors.Is(err, bars.ErrCorruptFile) {
				t.Fatalf("Upsert over the file: err = %v, want ErrCorruptFile", err)
			}
		})
	}
}
