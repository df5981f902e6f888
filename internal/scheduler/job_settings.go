package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/settings"
)

// KindJob is the settings-store kind of a job's runtime settings (one
// entry per job, ID "job:NAME"), written by `scheduler set` and its HTTP
// equivalent and read by every replica's settings loop.
const KindJob = "job"

// jobSettingID is the settings-store ID of a job's runtime settings.
func jobSettingID(job jobs.Name) string { return KindJob + ":" + string(job) }

// RuntimeSettings are a job's runtime settings as stored: what, who, when.
type RuntimeSettings struct {
	Job      jobs.Name     `json:"job"`
	Settings jobs.Settings `json:"settings"`
	Note     string        `json:"note,omitempty"`
	Actor    string        `json:"actor"`
	At       time.Time     `json:"at"`
}

// equal reports whether two stored settings are the same entry.
func (r *RuntimeSettings) equal(o *RuntimeSettings) bool {
	if r == nil || o == nil {
		return r == o
	}
	if !r.At.Equal(o.At) || r.Actor != o.Actor || len(r.Settings) != len(o.Settings) {
		return false
	}
	for k, v := range r.Settings {
		if o.Settings[k] != v {
			return false
		}
	}
	return true
}

// ReadJobSettings returns every job's runtime settings and the store's
// revision they were read at.
func ReadJobSettings(ctx context.Context, store *settings.Store) (map[jobs.Name]*RuntimeSettings, int64, error) {
	entries, rev, err := store.List(ctx, KindJob)
	if err != nil {
		return nil, 0, err
	}
	out, err := jobSettingsOf(entries)
	return out, rev, err
}

// jobSettingsOf returns the jobs' runtime settings among entries.
func jobSettingsOf(entries []settings.Entry) (map[jobs.Name]*RuntimeSettings, error) {
	out := map[jobs.Name]*RuntimeSettings{}
	for _, e := range entries {
		if e.Kind != KindJob {
			continue
		}
		var rs RuntimeSettings
		if err := json.Unmarshal(e.Value, &rs); err != nil {
			return nil, fmt.Errorf("settings: job entry %s: %w", e.ID, err)
		}
		rs.Actor, rs.At = e.Actor, e.At
		out[rs.Job] = &rs
	}
	return out, nil
}

// effective applies a job's runtime settings (nil: none) to its config:
// the job as the scheduler runs it, and since when it is enabled by them
// (zero when they do not enable it).
func effective(base JobConfig, rs *RuntimeSettings) (JobConfig, time.Time, error) {
	if rs == nil {
		return base, time.Time{}, nil
	}
	spec, enabled, err := jobs.Apply(base.Spec, base.Enabled, rs.Settings)
	if err != nil {
		return base, time.Time{}, fmt.Errorf("runtime settings of %s by %s at %s: %w", base.Spec.Name, rs.Actor,
			rs.At.UTC().Format(time.RFC3339), err)
	}
	var since time.Time
	if _, set := rs.Settings["enabled"]; set && enabled {
		since = rs.At
	}
	return JobConfig{Spec: spec, Enabled: enabled}, since, nil
}
