package bars_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"heartbeat/internal/bars"
	"heartbeat/internal/testinfra"
)

// TestPostgresColumns checks what the table holds, for readers in SQL:
// prices and notional as their real decimal values, and that a replayed
// flush or a second OpenPostgres leaves rows untouched.
func TestPostgresColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testinfra.PostgresSchema(t)
	p, err := bars.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	type row struct {
		Market, Open, High, Low, Close, Volume, Notional, Xmin string
		Trades                                                 int64
		Revision                                               int
		UpdatedAt                                              time.Time
	}
	read := func(start time.Time) row {
		t.Helper()
		var r row
		err := conn.QueryRow(ctx, `SELECT market, open::text, high::text, low::text, close::text, volume::text,
			notional::text, xmin::text, trades, revision, updated_at FROM bars_1m WHERE symbol = 'SPY' AND start = $1`, start).
			Scan(&r.Market, &r.Open, &r.High, &r.Low, &r.Close, &r.Volume, &r.Notional, &r.Xmin, &r.Trades, &r.Revision, &r.UpdatedAt)
		if err != nil {
			t.Fatalf("read row at %s: %v", start, err)
		}
		return r
	}

	if err := p.Upsert(ctx, extreme); err != nil {
		t.Fatal(err)
	}
	first, second := read(t0), read(t0.Add(time.Minute))
	want := []string{"XNYS", "0.00000001", "92233720367.50000000", "-37.63000000", "92233720368.54775807", "-92233720368.54775807", "1844.6744073709551621"}
	got := []string{first.Market, first.Open, first.High, first.Low, first.Close, first.Volume, first.Notional}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("columns mismatch (-want +got):\n%s", diff)
	}
	if want := "34028236692093846346337.4607431768211455"; second.Notional != want {
		t.Fatalf("max notional = %s, want %s", second.Notional, want)
	}

	if err := p.Upsert(ctx, extreme); err != nil {
		t.Fatal(err)
	}
	again, err := bars.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatalf("open over an existing table: %v", err)
	}
	defer again.Close()
	if diff := cmp.Diff(first, read(t0)); diff != "" {
		t.Fatalf("a replayed flush touched the row (-before +after):\n%s", diff)
	}
	checkRange(t, again, query{"SPY", t0, t0.Add(time.Hour), extreme[:2]})
}
