package testinfra

import (
	"context"
	"testing"
	"time"

	"heartbeat/internal/keys"
)

// TestSentinelFailover starts a master, two replicas and three sentinels,
// kills the master, and checks a replica is promoted within down-after +
// failover slack and holds what was written before the kill.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t, 2)
	c := s.Client()
	ctx := context.Background()
	Must(t, c.Set(ctx, "k", "v", 0).Err(), "write")
	// WAIT makes the write reach both replicas before the kill.
	if n, err := c.Wait(ctx, 2, 5*time.Second).Result(); err != nil || n != 2 {
		t.Fatalf("WAIT = %d, %v", n, err)
	}
	old, killed := s.KillMaster()
	bound := SentinelDownAfter + SentinelFailover
	addr, promoted := s.WaitPromoted(old, bound+10*time.Second)
	t.Logf("master %s killed; %s promoted after %s", old, addr, promoted.Sub(killed))
	if d := promoted.Sub(killed); d > bound {
		t.Errorf("promotion took %s, want <= %s (down-after + failover-timeout)", d, bound)
	}
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if v, err := c.Get(ctx2, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after failover GET k = %q, %v", v, err)
	}
}

// TestClusterFailover starts a 3-master, 3-replica cluster, kills the
// master of one slot, and checks its replica takes the slot over.
func TestClusterFailover(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t, 3, 1)
	c := cl.Client()
	ctx := context.Background()
	const key = "{probe}:k"
	Must(t, c.Set(ctx, key, "v", 0).Err(), "write")
	slot := int(c.ClusterKeySlot(ctx, key).Val())
	if slot != keys.Slot(key) {
		t.Fatalf("CLUSTER KEYSLOT %s = %d, keys.Slot = %d", key, slot, keys.Slot(key))
	}
	master, err := cl.MasterOfSlot(slot)
	Must(t, err, "master of slot")
	mc, err := c.MasterForKey(ctx, key)
	Must(t, err, "master for key")
	if err := mc.Wait(ctx, 1, 5*time.Second).Err(); err != nil {
		t.Fatalf("WAIT: %v", err)
	}
	old, killed := cl.KillMasterOf(key)
	if old != master {
		t.Fatalf("killed %s, want %s", old, master)
	}
	addr, promoted := cl.WaitPromoted(key, old, 30*time.Second)
	t.Logf("master %s of slot %d killed; %s promoted after %s", old, slot, addr, promoted.Sub(killed))
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var v string
	err = waitCond(10*time.Second, func() (bool, error) {
		v, err = c.Get(ctx2, key).Result()
		return err == nil, err
	})
	if err != nil || v != "v" {
		t.Fatalf("after failover GET = %q, %v", v, err)
	}
}
