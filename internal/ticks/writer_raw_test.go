package ticks

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
)

func TestWriteRawShardsBySymbolAndLeavesQuotes(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	const shards = 4
	w := NewWriter(rdb, shards)
	ctx := context.Background()
	entries := [][]string{
		{FieldSymbol, "ES", FieldPrice, "abc", FieldSize, "1", FieldTS, "1700000000000"},
		{FieldPrice, "1", FieldTS, "yesterday"},                                  // no symbol: shard 0
		{FieldSymbol, "", FieldPrice, "1"},                                       // empty symbol: shard 0
		{FieldTS, "1700000000001", FieldSymbol, "BTCUSD", "raw", "1,BTCUSD,2,3"}, // symbol not first
	}
	if err := w.WriteRaw(ctx, entries); err != nil {
		t.Fatal(err)
	}
	want := map[int][]map[string]any{}
	for _, e := range entries {
		n := 0
		for i := 0; i < len(e); i += 2 {
			if e[i] == FieldSymbol && e[i+1] != "" {
				n = Shard(e[i+1], shards)
			}
		}
		m := map[string]any{}
		for i := 0; i < len(e); i += 2 {
			m[e[i]] = e[i+1]
		}
		want[n] = append(want[n], m)
	}
	got := map[int][]map[string]any{}
	for n := range shards {
		xs, err := rdb.XRange(ctx, keys.Ticks(n), "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range xs {
			got[n] = append(got[n], x.Values)
		}
		if q, err := rdb.HLen(ctx, keys.Quotes(n)).Result(); err != nil || q != 0 {
			t.Fatalf("shard %d has %d quotes (err %v); WriteRaw must not touch them", n, q, err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("streams (-want +got):\n%s", diff)
	}
}

func TestWriteRawRejectsMalformedEntries(t *testing.T) {
	t.Parallel()
	_, rdb := testinfra.Mini(t)
	w := NewWriter(rdb, 2)
	for _, entries := range [][][]string{{{}}, {{FieldSymbol}}, {{FieldSymbol, "ES"}, {FieldSymbol, "ES", FieldPrice}}} {
		if err := w.WriteRaw(context.Background(), entries); !errors.Is(err, ErrBadEntry) {
			t.Fatalf("WriteRaw(%q) = %v, want ErrBadEntry", entries, err)
		}
	}
	for n := range 2 {
		if l, _ := rdb.XLen(context.Background(), keys.Ticks(n)).Result(); l != 0 {
			t.Fatalf("shard %d has %d entries after rejected writes", n, l)
		}
	}
	if err := w.WriteRaw(context.Background(), nil); err != nil {
		t.Fatalf("WriteRaw(nil) = %v", err)
	}
}
