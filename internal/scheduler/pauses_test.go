package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/settings"
	"heartbeat/internal/testinfra"
)

// TestMigratePauses moves the pauses of an earlier version (a hash) into
// the settings store: each one counted once, a pause already in the store
// kept as it is, every moved field deleted, a second start moving nothing.
func TestMigratePauses(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		legacy   map[string]string // job -> note in the old hash
		stored   map[jobs.Name]string
		wantN    int
		wantNote map[jobs.Name]string // the pauses after
	}{
		{name: "none", wantNote: map[jobs.Name]string{}},
		{
			name:   "two moved",
			legacy: map[string]string{string(jobs.Intraday): "feed down", string(jobs.Week52Extremes): "rebuild"},
			wantN:  2, wantNote: map[jobs.Name]string{jobs.Intraday: "feed down", jobs.Week52Extremes: "rebuild"},
		},
		{
			name:   "one already in the store",
			legacy: map[string]string{string(jobs.Intraday): "old note", string(jobs.Week52Extremes): "rebuild"},
			stored: map[jobs.Name]string{jobs.Intraday: "new note"},
			wantN:  2, wantNote: map[jobs.Name]string{jobs.Intraday: "new note", jobs.Week52Extremes: "rebuild"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			mr, rdb := testinfra.Mini(t)
			store := settings.New(rdb)
			for job, note := range tt.legacy {
				mr.HSet(keys.LegacyPaused(), job, note)
			}
			for job, note := range tt.stored {
				e, err := pauseEntry(job, note, "test", at)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := store.Create(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			n, err := migratePauses(ctx, rdb, store, at)
			if err != nil || n != tt.wantN {
				t.Fatalf("migratePauses = %d, %v; want %d moved", n, err, tt.wantN)
			}
			got, err := Paused(ctx, rdb)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantNote, got); diff != "" {
				t.Fatalf("pauses after the move (-want +got):\n%s", diff)
			}
			if left := rdb.HLen(ctx, keys.LegacyPaused()).Val(); left != 0 {
				t.Fatalf("%d legacy fields left, want 0", left)
			}
			if n, err := migratePauses(ctx, rdb, store, at); n != 0 || err != nil {
				t.Fatalf("second migratePauses = %d, %v; want 0, nil", n, err)
			}
		})
	}
	t.Run("redis down", func(t *testing.T) {
		t.Parallel()
		mr, rdb := testinfra.Mini(t)
		mr.HSet(keys.LegacyPaused(), string(jobs.Intraday), "feed down")
		mr.SetError("READONLY down for the test")
		if n, err := migratePauses(context.Background(), rdb, settings.New(rdb), at); err == nil || n != 0 {
			t.Fatalf("migratePauses = %d, %v; want 0 and an error", n, err)
		}
	})
}

// TestStartLogsMovedPauses: a start logs the move of earlier pauses only
// when it moved some, with their count.
func TestStartLogsMovedPauses(t *testing.T) {
	t.Parallel()
	const moved = "pauses of an earlier version moved to the settings store"
	for _, legacy := range []int{0, 1} {
		f := setup(t, time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC))
		if legacy == 1 {
			f.mr.HSet(keys.LegacyPaused(), string(jobs.Intraday), "paused by a test")
		}
		var logs logBuffer
		f.log = fakeTimeLogger(&logs, f.clk)
		f.start(t, testConfig("a", job(t, jobs.Intraday)))
		n := 0
		for _, l := range logs.lines(t) {
			if l.Message == moved {
				n++
			}
		}
		if n != legacy {
			t.Fatalf("with %d earlier pauses, %d lines %q; want %d", legacy, n, moved, legacy)
		}
	}
}

// TestRuntimeSettingsEqual compares stored job settings: the settings
// loop applies an entry again only when it differs.
func TestRuntimeSettingsEqual(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)
	base := func() *RuntimeSettings {
		return &RuntimeSettings{Job: jobs.Intraday, Settings: jobs.Settings{"interval": "2s"}, Actor: "cli:a", At: at}
	}
	with := func(f func(*RuntimeSettings)) *RuntimeSettings { r := base(); f(r); return r }
	tests := []struct {
		name string
		a, b *RuntimeSettings
		want bool
	}{
		{"both nil", nil, nil, true},
		{"one nil", base(), nil, false},
		{"same", base(), base(), true},
		{"same instant in another zone", base(), with(func(r *RuntimeSettings) { r.At = at.In(time.FixedZone("X", 3600)) }), true},
		{"another instant", base(), with(func(r *RuntimeSettings) { r.At = at.Add(time.Second) }), false},
		{"another actor", base(), with(func(r *RuntimeSettings) { r.Actor = "cli:b" }), false},
		{"another value", base(), with(func(r *RuntimeSettings) { r.Settings = jobs.Settings{"interval": "3s"} }), false},
		{"a setting more", base(), with(func(r *RuntimeSettings) { r.Settings = jobs.Settings{"interval": "2s", "queue": "q"} }), false},
	}
	for _, tt := range tests {
		if got := tt.a.equal(tt.b); got != tt.want {
			t.Errorf("%s: a.equal(b) = %v, want %v", tt.name, got, tt.want)
		}
		if got := tt.b.equal(tt.a); got != tt.want {
			t.Errorf("%s: b.equal(a) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestReadJobSettingsFails: a store that cannot be read is an error, not
// "no settings".
func TestReadJobSettingsFails(t *testing.T) {
	t.Parallel()
	mr, rdb := testinfra.Mini(t)
	mr.SetError("READONLY down for the test")
	if got, _, err := ReadJobSettings(context.Background(), settings.New(rdb)); err == nil {
		t.Fatalf("ReadJobSettings = %v, nil; want an error", got)
	}
}
