package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"heartbeat/internal/market"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec Spec
		want []string // the error's lines; none: valid
	}{
		{"every", Spec{Every: time.Second}, nil},
		{"every, gate always", Spec{Every: time.Second, Gate: GateAlways}, nil},
		{"cron in a zone", Spec{Cron: "0 */5 * * * *", TZ: "America/New_York", Gate: GateOpen}, nil},
		{"at", Spec{At: "XNYS.close+2m"}, nil},
		{"within on a grid", Spec{Within: "open-60s..open-1s", Every: 30 * time.Second}, nil},
		{"within", Spec{Within: "close-5m..close"}, nil},
		{"nothing", Spec{}, []string{"schedule: one of every, cron, at or within is required"}},
		{"two kinds", Spec{Every: time.Second, Cron: "* * * * *"}, []string{"schedule: exactly one of every, cron, at or within (every may accompany within as its slot grid)"}},
		{"at and within", Spec{At: "XNYS.open", Within: "open..close"}, []string{"schedule: exactly one of every, cron, at or within (every may accompany within as its slot grid)"}},
		{"negative every", Spec{Every: -time.Second}, []string{"every: must be > 0, got -1s"}},
		{"every under a millisecond", Spec{Every: 1500 * time.Microsecond}, []string{"every: must be a whole number of milliseconds, got 1.5ms"}},
		{"a bad cron", Spec{Cron: "0 0 32 * *"}, []string{"cron: field 3 (day of month): 32 out of range 1-31"}},
		{"a bad zone", Spec{Cron: "* * * * *", TZ: "Mars/Olympus_Mons"}, []string{`tz: unknown time zone "Mars/Olympus_Mons"`}},
		{"a zone without cron", Spec{Every: time.Second, TZ: "UTC"}, []string{"tz: only with cron"}},
		{"an unknown market", Spec{At: "XFOO.close"}, []string{"at: unknown market XFOO (known: [XNYS XTSE XMEX XLON XETR XTKS XSHG XHKG XBOM XASX CMES ALWAYS])"}},
		{"a bad anchor", Spec{At: "XNYS.closing"}, []string{`at: anchor "XNYS.closing": unknown event "closing" in "closing" (want open, close, break_start or break_end, then an optional +/- offset)`}},
		{"a bad window", Spec{Within: "open-1s..open-60s"}, []string{`within: window "open-1s..open-60s": ends before it starts`}},
		{"a gate on a session plan", Spec{At: "XNYS.close", Gate: GateAlways}, []string{"gate: only every and cron schedules have a gate; at and within run once per session"}},
		{"the old pre-open gate", Spec{Every: 30 * time.Second, Gate: "preopen"}, []string{"gate: preopen is now a window: within: open-60s..open-1s with every: 30s"}},
		{"an unknown gate", Spec{Every: time.Second, Gate: "sometimes"}, []string{`gate: must be open or always, got "sometimes"`}},
		{"every error at once", Spec{Cron: "x", TZ: "Nowhere", Gate: "x"}, []string{
			`tz: unknown time zone "Nowhere"`,
			`cron: want 5 or 6 fields (seconds first and optional), got 1 in "x"`,
			`gate: must be open or always, got "x"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.spec.Validate(market.Builtin())
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Validate(%+v) (-want +got):\n%s", tt.spec, diff)
			}
		})
	}
}

// TestNewErrors checks what New refuses beyond Validate: an environment
// that does not fit the schedule.
func TestNewErrors(t *testing.T) {
	t.Parallel()
	always := func(time.Time) bool { return true }
	tests := []struct {
		name string
		spec Spec
		env  func(e *Env)
		want string
	}{
		{"an invalid spec", Spec{}, func(*Env) {}, "schedule: one of every, cron, at or within is required"},
		{"a predicate with a gate", Spec{Every: time.Second, Gate: GateOpen}, func(e *Env) { e.Predicate = always }, `gate: a predicate gate is set, so gate must be empty, got "open"`},
		{"a predicate on a session plan", Spec{At: "XNYS.close"}, func(e *Env) { e.Predicate = always }, "gate: a predicate gate is only for every and cron schedules"},
		{"shards without shards", Spec{Every: time.Second}, func(e *Env) { e.Split, e.Shards = SplitShard, 0 }, "split: shard needs Shards >= 1"},
		{"per market without markets", Spec{Every: time.Second, Gate: GateAlways}, func(e *Env) { e.Split, e.Markets = SplitMarket, nil }, "split: market needs the job's markets"},
		{"a nil split function", Spec{Every: time.Second}, func(e *Env) { e.Split = SplitFunc(nil) }, "split: SplitFunc needs a function"},
		{"shards on a session plan", Spec{At: "XNYS.close"}, func(e *Env) { e.Split = SplitShard }, "split: a session plan's parts are its markets' sessions; split shard does not apply"},
		{"at without a book", Spec{At: "XNYS.close"}, func(e *Env) { e.Book = nil }, "at: Env.Book is required to find the anchor's market"},
		{"at on a market the book lacks", Spec{At: "XFOO.close"}, func(e *Env) {}, "at: unknown market XFOO (known: [XNYS XTSE XMEX XLON XETR XTKS XSHG XHKG XBOM XASX CMES ALWAYS])"},
		{"gate open without markets", Spec{Cron: "0 0 * * * *"}, func(e *Env) { e.Markets = nil }, "gate: open needs the job's markets; without any it would skip every slot (use always or a predicate)"},
		{"within without markets", Spec{Within: "open-60s..open-1s"}, func(e *Env) { e.Markets = nil }, "within: the job has no markets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env(t, market.XNYS)
			tt.env(&e)
			p, err := New(tt.spec, e)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("New(%+v) = %v, %v; want error %q", tt.spec, p, err, tt.want)
			}
		})
	}
}

// TestTaskKeysAndText checks the task identities (today's IDs without the
// job's name) and the canonical texts of each kind.
func TestTaskKeysAndText(t *testing.T) {
	t.Parallel()
	slot := utc(t, "2026-11-23T15:00:01.5Z")
	e := env(t, market.XNYS)
	tests := []struct {
		spec Spec
		part Part
		key  string
		text string
	}{
		{Spec{Every: 1500 * time.Millisecond}, Part{}, "all:1795446001500", "every 1s500ms, gate open"},
		{Spec{Every: time.Minute, Gate: GateAlways}, Part{Name: "3"}, "3:1795446001500", "every 1m, gate always"},
		{Spec{Cron: "*/5 * * * *"}, Part{Name: "XNYS", Market: market.XNYS}, "XNYS:1795446001500", `cron "*/5 * * * *" in UTC, gate open`},
		{Spec{At: "XHKG.break_end-90s"}, Part{Name: "XHKG:2026-11-23", Market: market.XHKG}, "XHKG:2026-11-23", "at XHKG.break_end-1m30s"},
		{Spec{Within: "open-60s..open-1s"}, Part{Name: "XNYS:2026-11-23", Market: market.XNYS}, "XNYS:2026-11-23", "within open-1m..open-1s"},
	}
	for _, tt := range tests {
		p := mustNew(t, tt.spec, e)
		if got := p.TaskKey(tt.part, slot); got != tt.key {
			t.Errorf("%+v: TaskKey = %q, want %q", tt.spec, got, tt.key)
		}
		if got := p.String(); got != tt.text {
			t.Errorf("%+v: String() = %q, want %q", tt.spec, got, tt.text)
		}
	}
}

func TestParseAnchor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Anchor
		text string
		err  string
	}{
		{in: "XNYS.close+2m", want: Anchor{market.XNYS, Point{EventClose, 2 * time.Minute}}, text: "XNYS.close+2m"},
		{in: "XHKG.open-5m", want: Anchor{market.XHKG, Point{EventOpen, -5 * time.Minute}}, text: "XHKG.open-5m"},
		{in: "CME.break_start", want: Anchor{"CME", Point{EventBreakStart, 0}}, text: "CME.break_start"},
		{in: "XHKG.break_end+90s", want: Anchor{market.XHKG, Point{EventBreakEnd, 90 * time.Second}}, text: "XHKG.break_end+1m30s"},
		{in: "XNYS.open+0s", want: Anchor{market.XNYS, Point{EventOpen, 0}}, text: "XNYS.open"},
		{in: "XNYS.close+1.5s", want: Anchor{market.XNYS, Point{EventClose, 1500 * time.Millisecond}}, text: "XNYS.close+1s500ms"},
		{in: "XNYS.close+24h", want: Anchor{market.XNYS, Point{EventClose, 24 * time.Hour}}, text: "XNYS.close+24h"},
		{in: "XNYS.open-24h", want: Anchor{market.XNYS, Point{EventOpen, -24 * time.Hour}}, text: "XNYS.open-24h"},
		{in: "XNYS.open-24h0m0.000000001s", err: `anchor "XNYS.open-24h0m0.000000001s": offset "-24h0m0.000000001s" in "open-24h0m0.000000001s": must be within ±24h`},
		{in: "XNYS.+2m", err: `anchor "XNYS.+2m": unknown event "" in "+2m" (want open, close, break_start or break_end, then an optional +/- offset)`},
		{in: "XNYS", err: `anchor "XNYS": want MARKET.EVENT[+-OFFSET], such as XNYS.close+2m`},
		{in: "xnys.close", err: `anchor "xnys.close": market code "xnys" must be 2 to 12 characters A-Z or 0-9`},
		{in: "XNYS.shut", err: `anchor "XNYS.shut": unknown event "shut" in "shut" (want open, close, break_start or break_end, then an optional +/- offset)`},
		{in: "XNYS.close+2", err: `anchor "XNYS.close+2": offset "+2" in "close+2": want a signed duration such as +2m or -60s`},
		{in: "XNYS.close+", err: `anchor "XNYS.close+": offset "+" in "close+": want a signed duration such as +2m or -60s`},
		{in: "XNYS.close+25h", err: `anchor "XNYS.close+25h": offset "+25h" in "close+25h": must be within ±24h`},
		{in: "XNYS.close+-2m", err: `anchor "XNYS.close+-2m": offset "+-2m" in "close+-2m": want a signed duration such as +2m or -60s`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAnchor(tt.in)
			switch {
			case tt.err != "":
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseAnchor(%q) = %+v, %v; want error %q", tt.in, got, err, tt.err)
				}
			case err != nil:
				t.Fatalf("ParseAnchor(%q): %v", tt.in, err)
			case got != tt.want || got.String() != tt.text:
				t.Fatalf("ParseAnchor(%q) = %+v (%s), want %+v (%s)", tt.in, got, got, tt.want, tt.text)
			}
		})
	}
}

func TestParseWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Window
		text string
		err  string
	}{
		{in: "open-60s..open-1s", want: Window{Point{EventOpen, -time.Minute}, Point{EventOpen, -time.Second}}, text: "open-1m..open-1s"},
		{in: "close-5m..close", want: Window{Point{EventClose, -5 * time.Minute}, Point{EventClose, 0}}, text: "close-5m..close"},
		{in: "break_start..break_end", want: Window{Point{EventBreakStart, 0}, Point{EventBreakEnd, 0}}, text: "break_start..break_end"},
		{in: "open+1h..close-1h", want: Window{Point{EventOpen, time.Hour}, Point{EventClose, -time.Hour}}, text: "open+1h..close-1h"},
		{in: "open..open", want: Window{Point{EventOpen, 0}, Point{EventOpen, 0}}, text: "open..open"},
		{in: "open-1s..open-60s", err: `window "open-1s..open-60s": ends before it starts`},
		{in: "close..open", err: `window "close..open": ends before it starts`},
		{in: "open-60s", err: `window "open-60s": want FROM..TO, such as open-60s..open-1s`},
		{in: "open..", err: `window "open..": unknown event "" in "" (want open, close, break_start or break_end, then an optional +/- offset)`},
		{in: "XNYS.open..close", err: `window "XNYS.open..close": unknown event "XNYS.open" in "XNYS.open" (want open, close, break_start or break_end, then an optional +/- offset)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWindow(tt.in)
			switch {
			case tt.err != "":
				if err == nil || err.Error() != tt.err {
					t.Fatalf("ParseWindow(%q) = %+v, %v; want error %q", tt.in, got, err, tt.err)
				}
			case err != nil:
				t.Fatalf("ParseWindow(%q): %v", tt.in, err)
			case got != tt.want || got.String() != tt.text:
				t.Fatalf("ParseWindow(%q) = %+v (%s), want %+v (%s)", tt.in, got, got, tt.want, tt.text)
			}
		})
	}
}

// FuzzParseAnchor checks that any text either fails or parses to an
// anchor whose canonical text parses to the same anchor.
func FuzzParseAnchor(f *testing.F) {
	for _, seed := range []string{"XNYS.close+2m", "XHKG.open-5m", "CME.break_start", "XNYS.close+1.5s", "XNYS.open+0s",
		"XNYS", "XNYS.shut", "XNYS.close+-2m", "A.open", "X1.break_end-24h", "XNYS.close+1h2m3s4ms5us6ns"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAnchor(s)
		if err != nil {
			return
		}
		again, err := ParseAnchor(a.String())
		if err != nil || again != a {
			t.Fatalf("%q parsed to %+v, whose text %q parses to %+v, %v", s, a, a.String(), again, err)
		}
	})
}

// FuzzParseWindow checks that any text either fails or parses to a window
// whose canonical text parses to the same window, never ending before it
// starts in a session's order.
func FuzzParseWindow(f *testing.F) {
	for _, seed := range []string{"open-60s..open-1s", "close-5m..close", "break_start..break_end", "open+1h..close-1h",
		"open-1s..open-60s", "close..open", "open..", "..", "open-0s..open+0s"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		again, err := ParseWindow(w.String())
		if err != nil || again != w {
			t.Fatalf("%q parsed to %+v, whose text %q parses to %+v, %v", s, w, w.String(), again, err)
		}
		if r, q := w.From.Event.rank(), w.To.Event.rank(); r > q || (r == q && w.From.Offset > w.To.Offset) {
			t.Fatalf("%q: a window ending before it starts", s)
		}
	})
}
