package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"heartbeat/internal/jobs"
	"heartbeat/internal/keys"
	"heartbeat/internal/settings"
)

// KindPause is the settings-store kind of a pause (ID "pause:NAME"): a
// paused job's slots are counted skipped_paused instead of enqueued. A
// pause lives in the same store as the jobs' runtime settings and the
// calendar's runtime entries: one key, one revision, every change audited.
const KindPause = "pause"

func pauseID(job jobs.Name) string { return KindPause + ":" + string(job) }

// pauseValue is a pause's stored value.
type pauseValue struct {
	Job  jobs.Name `json:"job"`
	Note string    `json:"note"`
}

// pauseEntry returns the settings entry of a pause.
func pauseEntry(job jobs.Name, note, actor string, at time.Time) (settings.Entry, error) {
	v, err := json.Marshal(pauseValue{Job: job, Note: note})
	if err != nil {
		return settings.Entry{}, fmt.Errorf("pause %s: %w", job, err)
	}
	return settings.Entry{ID: pauseID(job), Kind: KindPause, Value: v, Actor: actor, At: at.UTC()}, nil
}

// pausesOf returns the pauses among entries: job -> note.
func pausesOf(entries []settings.Entry) (map[jobs.Name]string, error) {
	out := map[jobs.Name]string{}
	for _, e := range entries {
		if e.Kind != KindPause {
			continue
		}
		var v pauseValue
		if err := json.Unmarshal(e.Value, &v); err != nil {
			return nil, fmt.Errorf("settings: pause entry %s: %w", e.ID, err)
		}
		out[v.Job] = v.Note
	}
	return out, nil
}

// Paused returns the paused jobs and their notes.
func Paused(ctx context.Context, rdb redis.UniversalClient) (map[jobs.Name]string, error) {
	entries, _, err := settings.New(rdb).List(ctx, KindPause)
	if err != nil {
		return nil, fmt.Errorf("read paused jobs: %w", err)
	}
	return pausesOf(entries)
}

// migratePauses moves the pauses of keys.LegacyPaused (earlier versions)
// into the settings store, keeping a pause already there, then deletes
// the legacy fields it moved.
func migratePauses(ctx context.Context, rdb redis.UniversalClient, store *settings.Store, now time.Time) (int, error) {
	legacy, err := rdb.HGetAll(ctx, keys.LegacyPaused()).Result()
	if err != nil || len(legacy) == 0 {
		return 0, err
	}
	n := 0
	for job, note := range legacy {
		e, err := pauseEntry(jobs.Name(job), note, "migrated from "+keys.LegacyPaused(), now)
		if err != nil {
			return n, err
		}
		if _, err := store.Create(ctx, e); err != nil && !errors.Is(err, settings.ErrExists) {
			return n, err
		}
		if err := rdb.HDel(ctx, keys.LegacyPaused(), job).Err(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Scheduler) isPaused(job jobs.Name) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.paused[job]
	return ok
}
