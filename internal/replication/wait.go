// Package replication owns acknowledged writes: running a group of writes
// and then WAIT on the same connection of the master that took them, so a
// caller learns how many replicas hold the writes before it counts them
// as durable (config ingest.wait_replicas).
//
// WAIT is refused inside a Lua script, so it is pipelined right after the
// write. It counts the replicas that acknowledged every write made on its
// connection so far, hence one connection for the write and the WAIT: a
// *redis.Client (single or sentinel mode) runs a pipeline on one pooled
// connection. A *redis.ClusterClient does not: WAIT has no key, and
// go-redis v9.23 routes a keyless command of a cluster pipeline to a node
// of its own choosing (osscluster.go mapCmdsByNode, slot -1), not to the
// master that took the write. So on a cluster the pipeline is built on the
// client of the master serving the key (ClusterClient.MasterForKey).
//
// WAIT narrows the window in which a failover loses an acknowledged write;
// it does not close it (see docs/ARCHITECTURE.md, Faults).
package replication

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// WaitTimeout is how long WAIT blocks for the replicas before it answers
// with the count it has. A replica in sync acknowledges within a
// millisecond on a LAN; a second is far longer than a healthy replica
// needs and short enough that a write with a replica down is not held up
// past a scheduler slot.
const WaitTimeout = time.Second

// ErrShort is returned (wrapped in *ShortError) when fewer replicas
// acknowledged a write than asked: the write is on the master, but a
// failover may still lose it.
var ErrShort = errors.New("fewer replicas acknowledged the write than asked")

// ShortError says how many replicas acknowledged a write, of how many.
type ShortError struct {
	Acked, Want int
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("%d of %d replicas acknowledged the write within %s", e.Acked, e.Want, WaitTimeout)
}

// Unwrap makes errors.Is(err, ErrShort) true.
func (e *ShortError) Unwrap() error { return ErrShort }

// Waiter builds pipelines whose writes are followed by WAIT.
type Waiter struct {
	rdb      redis.UniversalClient
	replicas int
}

// NewWaiter returns a Waiter that waits for replicas replicas (0: none).
func NewWaiter(rdb redis.UniversalClient, replicas int) *Waiter {
	return &Waiter{rdb: rdb, replicas: max(replicas, 0)}
}

// Replicas returns how many replicas each write waits for.
func (w *Waiter) Replicas() int { return w.replicas }

// Route says which pipeline serves key: "" when any pipeline of the
// client does (a single or sentinel client, or no WAIT to send), else the
// address of the cluster master serving key. Callers group the keys of one
// write by route and build one pipeline per route.
func (w *Waiter) Route(ctx context.Context, key string) (string, error) {
	cc, ok := w.rdb.(*redis.ClusterClient)
	if !ok || w.replicas == 0 {
		return "", nil
	}
	node, err := cc.MasterForKey(ctx, key)
	if err != nil {
		return "", fmt.Errorf("master of %s: %w", key, err)
	}
	return node.Options().Addr, nil
}

// Pipeline returns a pipeline whose commands, and the WAIT Exec appends,
// go to one connection of the master serving key. Without replicas to
// wait for it is the client's own pipeline (a cluster client routes each
// command by its key).
func (w *Waiter) Pipeline(ctx context.Context, key string) (redis.Pipeliner, error) {
	cc, ok := w.rdb.(*redis.ClusterClient)
	if !ok || w.replicas == 0 {
		return w.rdb.Pipeline(), nil
	}
	node, err := cc.MasterForKey(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("master of %s: %w", key, err)
	}
	return node.Pipeline(), nil
}

// Exec runs the pipeline's commands followed by WAIT (when the Waiter
// waits for replicas) and returns the commands' results in order, without
// the WAIT. The error joins the first command error (a command error does
// not stop a pipeline) and, when the WAIT answered with fewer replicas
// than asked, a *ShortError, so errors.Is(err, ErrShort) holds even when
// some command failed.
//
// WAIT counts the replicas that acknowledged the connection's last write
// that propagated; a pipeline whose commands all failed or changed
// nothing waits for an older write of the connection, so a caller that
// must cover an earlier write made on another connection (a retry after
// a lost reply) includes a write that propagates.
func (w *Waiter) Exec(ctx context.Context, pipe redis.Pipeliner) ([]redis.Cmder, error) {
	if w.replicas == 0 {
		return pipe.Exec(ctx)
	}
	wait := pipe.Do(ctx, "wait", w.replicas, WaitTimeout.Milliseconds())
	cmds, err := pipe.Exec(ctx)
	if len(cmds) > 0 && cmds[len(cmds)-1] == redis.Cmder(wait) {
		cmds = cmds[:len(cmds)-1]
	}
	var cmdErr error
	for _, c := range cmds {
		if c.Err() != nil {
			cmdErr = c.Err()
			break
		}
	}
	if wait.Err() != nil {
		if cmdErr == nil {
			cmdErr = err
		}
		return cmds, errors.Join(cmdErr, fmt.Errorf("wait for %d replicas: %w", w.replicas, wait.Err()))
	}
	acked, werr := wait.Int()
	if werr != nil {
		return cmds, errors.Join(cmdErr, fmt.Errorf("wait for %d replicas: %w", w.replicas, werr))
	}
	if acked < w.replicas {
		return cmds, errors.Join(cmdErr, &ShortError{Acked: acked, Want: w.replicas})
	}
	return cmds, cmdErr
}
