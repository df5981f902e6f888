package keys_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"heartbeat/internal/keys"
	"heartbeat/internal/testinfra"
)

// root is the repository root, from this package's directory.
const root = "../.."

// atomicUse is one Lua script or MULTI of the code base and the keys its
// callers pass (built here the way the calling code builds them).
type atomicUse struct {
	id   string // file:name, as atomicUses finds it
	keys func() [][]string
}

// shardKeys are every key of shard n a commit can touch.
func shardKeys(n int) []string {
	return []string{keys.Checkpoints(n), keys.Ticks(n), keys.Quotes(n), keys.Intraday(n), keys.OpenBars(n), keys.ClosedBars(n),
		keys.MinuteBars(n, "ES", 491234), keys.MinuteBars(n, "BTCUSD", 491235), keys.DailyBars(n, "SPY"), keys.VwapLast(n),
		keys.DeadLetter(n), keys.DeadLetterCounts(n), keys.Amended(n), keys.Week52(n), keys.SessionVolume(n), keys.Rolling24h(n), keys.VwapSeries(n, "7203.T")}
}

// asynqQueueKeys are the keys asynq's memory usage script gets for queue
// q (KEYS) and builds from ARGV (task and group keys).
func asynqQueueKeys(q string) []string {
	p := "asynq:{" + q + "}:"
	return []string{p + "active", p + "pending", p + "scheduled", p + "retry", p + "archived", p + "completed", p + "groups",
		p + "t:" + "intraday:0:1700000000000", p + "g:" + "group"}
}

// uses lists every script and MULTI of the code base with its keys.
var uses = []atomicUse{
	{"internal/scheduler/lease.go:acquireScript", func() [][]string { return [][]string{{keys.Lease(), keys.Term()}} }},
	// tokenlock's scripts take one key: the lease or a run lock.
	{"internal/tokenlock/tokenlock.go:renewScript", func() [][]string {
		return [][]string{{keys.Lease()}, {keys.RunLock("intraday", "0")}}
	}},
	{"internal/tokenlock/tokenlock.go:releaseScript", func() [][]string {
		return [][]string{{keys.Lease()}, {keys.RunLock("session_volume", "all")}}
	}},
	{"internal/marketdata/metrics.go:metricsScript", func() [][]string { return [][]string{{keys.MarketMetrics("CMES")}} }},
	{"internal/marketdata/commit.go:commitScript", func() [][]string {
		var out [][]string
		for n := range 64 {
			out = append(out, shardKeys(n))
		}
		return out
	}},
	// commit.go sends commitScript with EVAL/EVALSHA in a pipeline with WAIT.
	{"internal/marketdata/commit.go:Eval", func() [][]string {
		var out [][]string
		for n := range 64 {
			out = append(out, shardKeys(n))
		}
		return out
	}},
	{"internal/marketdata/flush.go:TxPipeline#1", func() [][]string {
		var out [][]string
		for n := range 64 {
			out = append(out, []string{keys.DeadLetter(n), keys.DeadLetterCounts(n), keys.ClosedBars(n)})
		}
		return out
	}},
	{"internal/marketdata/rebuild.go:restoreScript", func() [][]string {
		var out [][]string
		for n := range 64 {
			out = append(out, []string{keys.DailyBars(n, "SPY"), keys.MinuteBars(n, "SPY", 493000), keys.MinuteBars(n, "SPY", 493001)})
		}
		return out
	}},
	{"internal/events/stream.go:emitScript", func() [][]string {
		return [][]string{{keys.MarketEvents(), keys.EventsSeen(), keys.EventSlots()}}
	}},
	{"internal/events/stream.go:advanceScript", func() [][]string { return [][]string{{keys.EventsCursor()}} }},
	{"internal/events/stream.go:startScript", func() [][]string { return [][]string{{keys.EventsCursor(), keys.EventsOrigin()}} }},
	{"internal/settings/settings.go:changeScript", func() [][]string { return [][]string{{keys.Settings(), keys.SettingsRevision()}} }},
	{"internal/settings/settings.go:TxPipeline#1", func() [][]string { return [][]string{{keys.Settings(), keys.SettingsRevision()}} }},
	{"internal/web/monitoring.go:memoryUsageScript", func() [][]string {
		return [][]string{asynqQueueKeys("critical"), asynqQueueKeys("default")}
	}},
}

var (
	luaDecl  = regexp.MustCompile("(?s)(?:var|const) (\\w+) = (?:redis\\.NewScript\\()?`([^`]*)`")
	txMarker = regexp.MustCompile(`\.(TxPipeline|TxPipelined|Watch)\(`)
	evalCall = regexp.MustCompile(`\.(Eval|EvalSha|EvalRO|EvalShaRO|FCall|FCallRO)\(`)
)

// atomicUses finds every Lua script (a Go string calling redis.call or
// redis.pcall) and every MULTI (TxPipeline, TxPipelined, Watch) in the
// non-test Go code, as file:name.
func atomicUses(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			src := string(b)
			for _, m := range luaDecl.FindAllStringSubmatch(src, -1) {
				if strings.Contains(m[2], "redis.call(") || strings.Contains(m[2], "redis.pcall(") {
					out = append(out, rel+":"+m[1])
				}
			}
			for i := range txMarker.FindAllString(src, -1) {
				out = append(out, rel+":TxPipeline#"+strconv.Itoa(i+1))
			}
			if evalCall.MatchString(src) {
				out = append(out, rel+":Eval")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// TestEveryScriptAndMultiIsSingleSlot enumerates the Lua scripts and
// MULTIs of the code base, requires each to be listed in uses, and checks
// that all keys each one touches share one hash slot, as a Redis Cluster
// requires (a cross-slot script or MULTI fails with CROSSSLOT).
// Pipelines are not listed: a cluster client splits them per node.
func TestEveryScriptAndMultiIsSingleSlot(t *testing.T) {
	t.Parallel()
	listed := map[string]atomicUse{}
	for _, u := range uses {
		listed[u.id] = u
	}
	found := atomicUses(t)
	if len(found) < len(uses) {
		t.Errorf("found %d scripts and MULTIs, %d listed: %v", len(found), len(uses), found)
	}
	for _, id := range found {
		u, ok := listed[id]
		if !ok {
			t.Errorf("%s is a Lua script, MULTI or EVAL not listed in uses: add it with the keys its callers pass", id)
			continue
		}
		delete(listed, id)
		for _, ks := range u.keys() {
			if err := keys.SameSlot(ks); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	}
	for id := range listed {
		t.Errorf("uses lists %s, which is no longer in the code", id)
	}
}

// TestSameSlotRejectsMixedKeys checks the guard catches a key without the
// group's hash tag, the way the run history or audit keys would be.
func TestSameSlotRejectsMixedKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		keys []string
		ok   bool
	}{
		{nil, true},
		{[]string{keys.Lease()}, true},
		{[]string{keys.Lease(), keys.Term(), keys.LastSlots(), keys.LegacyPaused()}, true},
		{[]string{keys.Checkpoints(3), keys.Intraday(3)}, true},
		{[]string{keys.Checkpoints(3), keys.Intraday(4)}, false},
		{[]string{keys.Lease(), keys.Runs}, false},
		{[]string{keys.Runs, keys.Audit}, false},
	}
	for _, tc := range cases {
		if err := keys.SameSlot(tc.keys); (err == nil) != tc.ok {
			t.Errorf("SameSlot(%q) = %v, want ok %v", tc.keys, err, tc.ok)
		}
	}
}

// TestSlotMatchesRedis compares keys.Slot with CLUSTER KEYSLOT of a real
// cluster-enabled redis-server, hash-tag edge cases included.
func TestSlotMatchesRedis(t *testing.T) {
	t.Parallel()
	if got := keys.Slot("123456789"); got != 0x31C3%keys.Slots {
		t.Fatalf("Slot(123456789) = %d, want %d (CRC16/XMODEM check value)", got, 0x31C3%keys.Slots)
	}
	srv := testinfra.StartRedis(t, testinfra.WithArgs("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"))
	c := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	probe := []string{"", "{}", "{}a", "a{}", "{a", "a}", "{a}b{c}", "foo{bar}{zap}", "foo{{bar}}zap", "{user1000}.following",
		keys.Lease(), keys.Runs, keys.Audit, keys.RunLock("intraday", "3"), "asynq:{critical}:pending", "asynq:servers", "ÿ€"}
	for n := range 32 {
		probe = append(probe, keys.Ticks(n), keys.MinuteBars(n, "ES", int64(n)))
	}
	for _, k := range probe {
		want, err := c.ClusterKeySlot(ctx, k).Result()
		if err != nil {
			t.Fatalf("CLUSTER KEYSLOT %q: %v", k, err)
		}
		if got := keys.Slot(k); int64(got) != want {
			t.Errorf("Slot(%q) = %d, redis says %d", k, got, want)
		}
	}
}

// clusterMasters3 are the slot ranges redis-cli --cluster create gives
// three masters.
var clusterMasters3 = [3][2]int{{0, 5460}, {5461, 10922}, {10923, 16383}}

func masterOf3(slot int) int {
	for i, r := range clusterMasters3 {
		if slot >= r[0] && slot <= r[1] {
			return i
		}
	}
	return -1
}

// placementTable renders where the tick shards land on a 3-master cluster
// for K = 1..8.
func placementTable() string {
	var b strings.Builder
	b.WriteString("| K | master 1 (slots 0–5460) | master 2 (5461–10922) | master 3 (10923–16383) |\n|---|---|---|---|\n")
	for k := 1; k <= 8; k++ {
		var cols [3][]string
		for n := range k {
			m := masterOf3(keys.Slot(keys.Ticks(n)))
			cols[m] = append(cols[m], fmt.Sprintf("%d (%d)", n, keys.Slot(keys.Ticks(n))))
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", k, strings.Join(cols[0], ", "), strings.Join(cols[1], ", "), strings.Join(cols[2], ", "))
	}
	return b.String()
}

// TestDeployDocPlacementTable keeps docs/DEPLOY.md's table of shard and
// queue placement on a 3-master cluster true.
func TestDeployDocPlacementTable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root, "docs", "DEPLOY.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	if table := placementTable(); !strings.Contains(doc, table) {
		t.Errorf("docs/DEPLOY.md lacks the shard placement table; it should read:\n%s", table)
	}
	for _, k := range []string{"asynq:{critical}", "asynq:{default}", keys.Lease(), "asynq:servers", "asynq:queues", keys.Runs, keys.Audit} {
		slot := keys.Slot(k)
		row := fmt.Sprintf("| `%s` | %d | %d |", k, slot, masterOf3(slot)+1)
		if !strings.Contains(doc, row) {
			t.Errorf("docs/DEPLOY.md lacks the row %s", row)
		}
	}
}
