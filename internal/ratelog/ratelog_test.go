package ratelog

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestAllow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	type call struct {
		key  string
		at   time.Duration // after t0
		want bool
	}
	for _, tc := range []struct {
		name  string
		every time.Duration
		calls []call
	}{
		{"once per period", time.Minute, []call{
			{"a", 0, true}, {"a", 0, false}, {"a", 59 * time.Second, false}, {"a", time.Minute, true}, {"a", 90 * time.Second, false},
		}},
		{"keys are apart", time.Minute, []call{
			{"a", 0, true}, {"b", 0, true}, {"a", time.Second, false}, {"b", time.Second, false},
		}},
		{"time going back starts again", time.Hour, []call{
			{"a", time.Hour, true}, {"a", 0, true}, {"a", time.Minute, false},
		}},
		{"once only", 0, []call{
			{"a", 0, true}, {"a", 24 * time.Hour, false}, {"b", 24 * time.Hour, true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := New(zerolog.Nop(), tc.every)
			for i, c := range tc.calls {
				if got := l.Allow(c.key, t0.Add(c.at)); got != c.want {
					t.Fatalf("call %d: Allow(%q, t0+%v) = %v, want %v", i, c.key, c.at, got, c.want)
				}
			}
		})
	}
}

func TestWarn(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := New(zerolog.New(&buf), time.Hour)
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	for range 3 {
		l.Warn("XNYS", now).Str("market", "XNYS").Msg("calendar cannot answer")
	}
	if n := strings.Count(buf.String(), "calendar cannot answer"); n != 1 {
		t.Fatalf("%d lines logged, want 1:\n%s", n, buf.String())
	}
	if !strings.Contains(buf.String(), `"level":"warn"`) {
		t.Fatalf("not a warning: %s", buf.String())
	}
}
