package config

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"heartbeat/internal/decimal"
	"heartbeat/internal/jobs"
)

// TestRepoConfigIsTheDefault keeps config.yaml and Default() in step: the
// file documents every default, so loading it must change nothing.
func TestRepoConfigIsTheDefault(t *testing.T) {
	t.Parallel()
	got, err := Load(filepath.Join("..", "..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("config.yaml differs from Default() (-default +file):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
}

// job edits one job's override.
func job(name jobs.Name, edit func(*Job)) func(*Config) {
	return func(c *Config) {
		j := c.Jobs[name]
		edit(&j)
		c.Jobs[name] = j
	}
}

func TestValidateNamesTheField(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"fast tick zero", func(c *Config) { c.Scheduler.FastTick = 0 }, "scheduler.fast_tick"},
		{"fast tick NaN", func(c *Config) { c.Scheduler.FastTick = Seconds(math.NaN()); c.Scheduler.SlowTick = 60 }, "scheduler.fast_tick"},
		{"slow tick infinite", func(c *Config) { c.Scheduler.SlowTick = Seconds(math.Inf(1)) }, "scheduler.slow_tick"},
		{"slow tick huge", func(c *Config) { c.Scheduler.SlowTick = 1e300 }, "scheduler.slow_tick"},
		{"redis db not a number", func(c *Config) { c.Redis.URL = "redis://127.0.0.1:6379/abc" }, "redis.url"},
		{"scheduler http not an address", func(c *Config) { c.Scheduler.HTTP = "notanaddr" }, "scheduler.http"},
		{"worker http bad port", func(c *Config) { c.Worker.HTTP = ":99999" }, "worker.http"},
		{"weight NaN", func(c *Config) { c.Instruments[0].Weight = math.NaN() }, "instruments[0].weight"},
		{"weight infinite", func(c *Config) { c.Instruments[0].Weight = math.Inf(1) }, "instruments[0].weight"},
		{"feed rate NaN", func(c *Config) { c.Feed.Rate = math.NaN() }, "feed.rate"},
		{"backtest stop 100%", func(c *Config) { c.Analytics.BacktestStop = "100%" }, "analytics.backtest_stop"},
		{"slow below fast", func(c *Config) { c.Scheduler.SlowTick = 0.5 }, "scheduler.slow_tick"},
		{"bad redis url", func(c *Config) { c.Redis.URL = "localhost:6379" }, "redis.url"},
		{"renew too slow", func(c *Config) { c.Scheduler.RenewEvery = 1500 * time.Millisecond }, "scheduler.renew_every"},
		{"catch up", func(c *Config) { c.Scheduler.CatchUp = "all" }, "scheduler.catch_up"},
		{"shutdown too long", func(c *Config) { c.Worker.ShutdownTimeout = 12 * time.Second }, "worker.shutdown_timeout"},
		{"unknown job", func(c *Config) { c.Jobs["nightly"] = Job{Enabled: true, Interval: time.Second, Gate: "open"} }, "jobs.nightly"},
		{"job interval below fast tick", func(c *Config) {
			j := c.Jobs["intraday"]
			j.Interval = 100 * time.Millisecond
			c.Jobs["intraday"] = j
		}, "jobs.intraday.interval"},
		{"preopen on another job", func(c *Config) {
			j := c.Jobs["intraday"]
			j.Gate = "preopen"
			c.Jobs["intraday"] = j
		}, "jobs.intraday.gate"},
		{"bad cron", job("session_volume", func(j *Job) { j.Cron = "0 0 32 * * *" }), "jobs.session_volume.cron"},
		{"cron and interval", job("session_volume", func(j *Job) { j.Cron = "0 * * * * *"; j.Interval = time.Minute }), "jobs.session_volume.interval"},
		{"unknown tz", job("session_volume", func(j *Job) { j.Cron = "0 * * * * *"; j.TZ = "Mars/Olympus" }), "jobs.session_volume.tz"},
		{"at unknown market", job("session_volume", func(j *Job) { j.At = "XPAR.close+2m" }), "jobs.session_volume.at"},
		{"at bad event", job("session_volume", func(j *Job) { j.At = "XNYS.lunch+2m" }), "jobs.session_volume.at"},
		{"within bad window", job("pre_open_backtest", func(j *Job) { j.Within = "open-60s" }), "jobs.pre_open_backtest.within"},
		{"gate on an at schedule", job("session_volume", func(j *Job) { j.At = "XNYS.close+2m"; j.Gate = "open" }), "jobs.session_volume.gate"},
		{"overlap", job("intraday", func(j *Job) { j.Overlap = "sometimes" }), "jobs.intraday.overlap"},
		{"max_retry", job("intraday", func(j *Job) { j.MaxRetry = 101 }), "jobs.intraday.max_retry"},
		{"queue", job("intraday", func(j *Job) { j.Queue = "low" }), "jobs.intraday.queue"},
		{"timeout", job("intraday", func(j *Job) { j.Timeout = -time.Second }), "jobs.intraday.timeout"},
		{"look back", func(c *Config) { c.Scheduler.LookBack = 0 }, "scheduler.look_back"},
		{"events retention under the look-back", func(c *Config) { c.Events.Retention = c.Scheduler.LookBack - time.Minute }, "events.retention"},
		{"unknown market", func(c *Config) { c.Instruments[0].Market = "XPAR" }, "instruments[0].market"},
		{"duplicate symbol", func(c *Config) { c.Instruments[1].Symbol = c.Instruments[0].Symbol }, "instruments[1].symbol"},
		{"shards", func(c *Config) { c.Ingest.Shards = 0 }, "ingest.shards"},
		{"backtest target", func(c *Config) { c.Analytics.BacktestTarget = "-1%" }, "analytics.backtest_target"},
		{"postgres url", func(c *Config) { c.Store.PostgresURL = "mysql://x" }, "store.postgres_url"},
		{"feed symbol", func(c *Config) { c.Feed.Symbols = []string{"NOPE"} }, "feed.symbols[0]"},
		{"log level", func(c *Config) { c.Log.Level = "loud" }, "log.level"},
		{"unknown redis mode", func(c *Config) { c.Redis.Mode = "replicated" }, "redis.mode"},
		{"cluster with a database", func(c *Config) {
			c.Redis.Mode, c.Redis.URL = RedisCluster, "redis://127.0.0.1:7000/2?addr=127.0.0.1:7001"
		}, "redis.url"},
		{"cluster with db parameter", func(c *Config) { c.Redis.Mode, c.Redis.URL = RedisCluster, "redis://127.0.0.1:7000?db=1" }, "redis.url"},
		{"sentinel without master_name", func(c *Config) {
			c.Redis.Mode, c.Redis.URL = RedisSentinel, "redis://127.0.0.1:26379/0?addr=127.0.0.1:26380"
		}, "redis.url"},
		{"sentinel unknown option", func(c *Config) { c.Redis.Mode, c.Redis.URL = RedisSentinel, "redis://h:26379?master_name=m&color=red" }, "redis.url"},
		{"tls files without rediss", func(c *Config) { c.Redis.TLS.CAFile = "/etc/ca.pem" }, "redis.tls"},
		{"tls cert without key", func(c *Config) {
			c.Redis.URL, c.Redis.TLS.CertFile = "rediss://127.0.0.1:6379/0", "/etc/client.pem"
		}, "redis.tls.key_file"},
		{"sentinel password file in single mode", func(c *Config) { c.Redis.SentinelPasswordFile = "/run/secrets/s" }, "redis.sentinel_password_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Default()
			c.Jobs = map[jobs.Name]Job{}
			for k, v := range Default().Jobs {
				c.Jobs[k] = v
			}
			c.Instruments = append([]Instrument(nil), c.Instruments...)
			tc.edit(&c)
			err := c.Validate()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if fields := fieldsOf(err); len(fields) != 1 || fields[0] != tc.field {
				t.Fatalf("Validate = %v, want one FieldError, for %s", err, tc.field)
			}
		})
	}
}

func TestLoadFileThenEnv(t *testing.T) {
	// Not parallel: it sets environment variables.
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	yaml := "scheduler:\n  fast_tick: 0.5\njobs:\n  intraday:\n    interval: 2s\ninstruments:\n  - {symbol: BTCUSD, market: ALWAYS, weight: 2}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HEARTBEAT_REDIS_URL", "redis://10.0.0.1:6380/2")
	t.Setenv("HEARTBEAT_SCHEDULER_SLOW_TICK", "30")
	t.Setenv("HEARTBEAT_JOBS_CLOSED_BARS_FLUSH_ENABLED", "false")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Scheduler.FastTick != 0.5 || c.Scheduler.SlowTick != 30 || c.Redis.URL != "redis://10.0.0.1:6380/2" {
		t.Fatalf("scheduler/redis = %+v %+v", c.Scheduler, c.Redis)
	}
	if spec, j := c.Job("intraday"); spec.Schedule.Every != 2*time.Second || !j.Enabled || spec.Schedule.Gate != "open" {
		t.Fatalf("jobs.intraday = %+v, %+v, want 2s, enabled, open", spec.Schedule, j)
	}
	if c.Jobs["closed_bars_flush"].Enabled {
		t.Fatal("HEARTBEAT_JOBS_CLOSED_BARS_FLUSH_ENABLED=false was not applied")
	}
	want := []Instrument{{Symbol: "BTCUSD", Market: "ALWAYS", Weight: 2}}
	if diff := cmp.Diff(want, c.Instruments); diff != "" {
		t.Fatalf("instruments (-want +got):\n%s", diff)
	}
}

func TestLoadInstrumentsFromEnv(t *testing.T) {
	t.Setenv("HEARTBEAT_INSTRUMENTS", "ES=CMES,7203.T=XTKS:2.5")
	c, err := Load(filepath.Join(t.TempDir(), "missing-is-an-error.yaml"))
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	want := []Instrument{{Symbol: "ES", Market: "CMES", Weight: 1}, {Symbol: "7203.T", Market: "XTKS", Weight: 2.5}}
	if diff := cmp.Diff(want, c.Instruments); diff != "" {
		t.Fatalf("instruments (-want +got):\n%s", diff)
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("scheduler:\n  fast_tik: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "fast_tik") {
		t.Fatalf("Load = %v, want ErrInvalid naming fast_tik", err)
	}
}

// fieldsOf lists the fields named by the FieldErrors inside err.
func fieldsOf(err error) []string {
	switch e := err.(type) {
	case *FieldError:
		return []string{e.Field}
	case interface{ Unwrap() []error }:
		var out []string
		for _, inner := range e.Unwrap() {
			out = append(out, fieldsOf(inner)...)
		}
		return out
	}
	return nil
}

func FuzzParseInstruments(f *testing.F) {
	for _, s := range []string{"ES=CMES", "ES=CMES,SPY=XNYS:2.5", "A=B:NaN", "x", "=,:", "SPY=XNYS:-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseInstruments(s)
		if err != nil {
			return
		}
		c := Default()
		c.Instruments = list
		c.Feed.Symbols = nil
		// Whatever parses either validates or is refused with a field
		// error; a weight that validates is a finite number >= 0.
		if err := c.Validate(); err == nil {
			for _, in := range list {
				if !(in.Weight >= 0) || math.IsInf(in.Weight, 0) {
					t.Fatalf("weight %g of %q validated", in.Weight, in.Symbol)
				}
			}
		}
	})
}

func FuzzParseDistance(f *testing.F) {
	for _, s := range []string{"2.5", "0.5%", "NaN", "Inf%", "-1", "1e9", "100%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDistance(s)
		if err != nil {
			return
		}
		if d.Value <= 0 || (d.Percent && d.Value >= decimal.FromInt(100)) {
			t.Fatalf("ParseDistance(%q) = %+v", s, d)
		}
	})
}

func TestDistanceIsExact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, entry, want, text string }{
		{"2.3", "100", "2.3", "2.3 points"},
		{"0.5%", "230.45", "1.15225", "0.5%"},
		{"0.1%", "0.0001", "0.0000001", "0.1%"},
		{"0.01%", "0.00001", "0", "0.01%"}, // 1e-9: below the eighth place, rounded to even
	} {
		d, err := ParseDistance(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.From(decimal.MustParse(tc.entry)); got != decimal.MustParse(tc.want) || d.String() != tc.text {
			t.Fatalf("ParseDistance(%q).From(%s) = %s (%s), want %s (%s)", tc.in, tc.entry, got, d, tc.want, tc.text)
		}
	}
}

// TestRedisURLErrorsRedactThePassword checks that no validation error
// about redis.url prints a password, from the userinfo or from sentinel
// mode's password parameter.
func TestRedisURLErrorsRedactThePassword(t *testing.T) {
	t.Parallel()
	cases := []struct{ mode, url string }{
		{RedisSingle, "redis://user:s3cr3t-pw@127.0.0.1:6379/abc"},
		{RedisSingle, "http://user:s3cr3t-pw@127.0.0.1:6379/0"},
		{RedisSingle, "redis://user:s3cr3t-pw@127.0.0.1:6379/0?bogus=1"},
		{RedisSingle, "redis://user:s3cr3t-pw@[::1/0"},
		{RedisSentinel, "redis://u:s3cr3t-pw@127.0.0.1:26379/0?password=s3cr3t-pw"},
		{RedisSentinel, "ftp://127.0.0.1:26379/0?master_name=m&password=s3cr3t-pw"},
		{RedisCluster, "redis://u:s3cr3t-pw@127.0.0.1:7000/3"},
		{"bogus", "redis://u:s3cr3t-pw@127.0.0.1:7000/0"},
	}
	for _, tc := range cases {
		c := Default()
		c.Redis.Mode, c.Redis.URL = tc.mode, tc.url
		err := c.Validate()
		if err == nil {
			t.Fatalf("%s %s: Validate = nil, want an error", tc.mode, RedactURL(tc.url))
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error prints the password: %v", tc.mode, err)
		}
	}
	for _, raw := range []string{"redis://u:s3cr3t-pw@h:1/0", "redis://h:26379/0?master_name=m&password=s3cr3t-pw", "redis://u:s3cr3t-pw@[::1/0"} {
		if got := RedactURL(raw); strings.Contains(got, "s3cr3t") {
			t.Errorf("RedactURL(...) = %q, still holds the password", got)
		}
	}
}

// TestParseRedisURLModes checks each mode reads its URL with go-redis's
// parser for it.
func TestParseRedisURLModes(t *testing.T) {
	t.Parallel()
	single, err := ParseRedisURL(RedisSingle, "redis://u:p@10.0.0.1:6380/3")
	if err != nil || single.Single == nil || single.Single.Addr != "10.0.0.1:6380" || single.Single.DB != 3 || single.Single.Password != "p" {
		t.Fatalf("single = %+v, %v", single.Single, err)
	}
	sent, err := ParseRedisURL(RedisSentinel, "redis://su:sp@s1:26379/2?master_name=mymaster&addr=s2:26379&addr=s3:26379&username=u&password=p")
	if err != nil || sent.Failover == nil {
		t.Fatalf("sentinel: %v", err)
	}
	f := sent.Failover
	if f.MasterName != "mymaster" || len(f.SentinelAddrs) != 3 || f.DB != 2 || f.SentinelPassword != "sp" || f.Password != "p" || f.Username != "u" {
		t.Fatalf("sentinel = %+v", f)
	}
	cl, err := ParseRedisURL(RedisCluster, "redis://u:p@n1:7000?addr=n2:7001&addr=n3:7002")
	if err != nil || cl.Cluster == nil || len(cl.Cluster.Addrs) != 3 || cl.Cluster.Password != "p" {
		t.Fatalf("cluster = %+v, %v", cl.Cluster, err)
	}
}

// TestTicksAcceptDurations: scheduler.fast_tick and slow_tick take seconds
// or Go durations, from the file and from the environment.
func TestTicksAcceptDurations(t *testing.T) {
	for _, tc := range []struct {
		file, env  string
		fast, slow Seconds
		err        string
	}{
		{file: "fast_tick: 500ms\n  slow_tick: 1m", fast: 0.5, slow: 60},
		{file: "fast_tick: 2\n  slow_tick: 90.5", fast: 2, slow: 90.5},
		{file: "fast_tick: \"1.5\"", env: "2m", fast: 1.5, slow: 120},
		{file: "fast_tick: soon", err: "want seconds (1.5) or a duration (1500ms)"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte("scheduler:\n  "+tc.file+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if tc.env != "" {
				t.Setenv("HEARTBEAT_SCHEDULER_SLOW_TICK", tc.env)
			}
			c, err := Load(path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "fast_tick") {
					t.Fatalf("err = %v, want %q naming fast_tick", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Scheduler.FastTick != tc.fast || c.Scheduler.SlowTick != tc.slow {
				t.Fatalf("fast %v slow %v, want %v %v", c.Scheduler.FastTick, c.Scheduler.SlowTick, tc.fast, tc.slow)
			}
		})
	}
}
