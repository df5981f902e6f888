// Package settings owns the runtime settings operators change without a
// deploy: entries stored in one Redis hash (keys.Settings) with a
// revision counter (keys.SettingsRevision) bumped by the same script, so
// every process notices a change with one GET per fast tick and re-reads
// the entries only then. Calendar overrides and jobs' runtime settings
// use it; each entry records who made it and when.
package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/keys"
)

// Entry is one runtime setting.
type Entry struct {
	ID    string          `json:"id"`   // unique within the store, "kind:..."
	Kind  string          `json:"kind"` // what reads it: "calendar", "job"
	Value json.RawMessage `json:"value"`
	Actor string          `json:"actor"` // who made it: "cli:user@host", "http:NAME"
	At    time.Time       `json:"at"`    // when
}

// ErrExists is returned by Create for an ID already present.
var ErrExists = errors.New("entry exists")

// ErrNotFound is returned by Delete for an ID not present.
var ErrNotFound = errors.New("no such entry")

// Store reads and writes the entries. It is safe for concurrent use.
type Store struct{ rdb redis.UniversalClient }

// New returns the store on rdb.
func New(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// changeScript sets (ARGV[2] non-empty) or deletes field ARGV[1] of the
// entries hash and bumps the revision, atomically.
//
// KEYS[1] keys.Settings(), KEYS[2] keys.SettingsRevision() (one hash tag)
// ARGV[1] entry ID, ARGV[2] entry JSON or "" to delete, ARGV[3] "1" to
// refuse to overwrite an existing entry.
// Returns the new revision, -1 when ARGV[3] refused (exists), -2 when a
// delete found nothing.
var changeScript = redis.NewScript(`
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[2] == '' then
  if not exists then return -2 end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  if exists and ARGV[3] == '1' then return -1 end
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return redis.call('INCR', KEYS[2])
`)

// Create stores e under e.ID unless that ID exists; it returns the new
// revision.
func (s *Store) Create(ctx context.Context, e Entry) (int64, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("settings: encode %s: %w", e.ID, err)
	}
	rev, err := changeScript.Run(ctx, s.rdb, []string{keys.Settings(), keys.SettingsRevision()}, e.ID, string(b), "1").Int64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("settings: store %s: %w", e.ID, err)
	case rev == -1:
		return 0, fmt.Errorf("%w: %s", ErrExists, e.ID)
	}
	return rev, nil
}

// Put stores e under e.ID, replacing an entry there; it returns the new
// revision.
func (s *Store) Put(ctx context.Context, e Entry) (int64, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return 0, fmt.Errorf("settings: encode %s: %w", e.ID, err)
	}
	rev, err := changeScript.Run(ctx, s.rdb, []string{keys.Settings(), keys.SettingsRevision()}, e.ID, string(b), "0").Int64()
	if err != nil {
		return 0, fmt.Errorf("settings: store %s: %w", e.ID, err)
	}
	return rev, nil
}

// Delete removes the entry id; it returns the new revision.
func (s *Store) Delete(ctx context.Context, id string) (int64, error) {
	rev, err := changeScript.Run(ctx, s.rdb, []string{keys.Settings(), keys.SettingsRevision()}, id, "", "0").Int64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("settings: delete %s: %w", id, err)
	case rev == -2:
		return 0, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return rev, nil
}

// Revision returns the current revision (0 before any change).
func (s *Store) Revision(ctx context.Context) (int64, error) {
	rev, err := s.rdb.Get(ctx, keys.SettingsRevision()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("settings: revision: %w", err)
	}
	return rev, nil
}

// List returns every entry of kind (all kinds when empty), sorted by time
// then ID, with the revision they were read at (both read in one
// transaction).
func (s *Store) List(ctx context.Context, kind string) ([]Entry, int64, error) {
	var (
		all *redis.MapStringStringCmd
		rev *redis.StringCmd
	)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		all = p.HGetAll(ctx, keys.Settings())
		rev = p.Get(ctx, keys.SettingsRevision())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("settings: list: %w", err)
	}
	var revision int64
	if v, err := rev.Result(); err == nil {
		if revision, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, 0, fmt.Errorf("settings: revision %q: %w", v, err)
		}
	}
	var out []Entry
	for id, raw := range all.Val() {
		var e Entry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, 0, fmt.Errorf("settings: entry %s: %w", id, err)
		}
		if kind == "" || e.Kind == kind {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	return out, revision, nil
}
