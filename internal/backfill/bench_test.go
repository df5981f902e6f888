package backfill

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// BenchmarkBackfill backfills 1,000,000 trades over five NYSE sessions
// (Monday to Friday, three markets) and reports trades per second.
// Run: make bench-backfill (go test -run ^$ -bench Backfill -benchtime 1x).
func BenchmarkBackfill(b *testing.B) {
	start := time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC)
	// 5 days of 6.5 h sessions: spread 1M trades over the 5 × 24 h span.
	_, file := generate(b, 11, start, 4*24*time.Hour+6*time.Hour+30*time.Minute, 369*time.Millisecond)
	in := instruments(b)
	set := settings(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum, err := Run(context.Background(), Config{Trades: bytes.NewReader(file), OutDir: b.TempDir(), Instruments: in, Settings: set}, zerolog.Nop())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(sum.Rows), "trades")
		b.ReportMetric(float64(sum.Rows)/b.Elapsed().Seconds()*float64(i+1), "trades/s")
	}
}
