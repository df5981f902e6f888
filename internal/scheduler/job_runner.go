package scheduler

import (
	"sync"
	"time"

	"heartbeat/internal/jobs"
	"heartbeat/internal/schedule"
)

// jobRunner is one job's loop state. Its config and plan change when the
// job's runtime settings do (settings loop); the job loop reads them with
// snapshot at each slot, so a change applies at the next slot boundary.
type jobRunner struct {
	name jobs.Name
	base JobConfig // from config

	mu           sync.Mutex
	cfg          JobConfig // effective: base with the runtime settings
	plan         JobPlan
	runtime      *RuntimeSettings
	enabledSince time.Time         // when runtime settings enabled the job; zero otherwise
	version      uint64            // incremented at each change of cfg and plan
	lastSlot     time.Time         // last slot this replica decided as leader
	next         schedule.Decision // the slot the loop waits for
	lastOutcome  string
	// unrecorded counts the tasks not run (failed enqueue, stall) since
	// the last slot whose decision reached Redis. They are counted missed
	// once a later slot is recorded — or, if another replica leads first,
	// by its catch-up, which starts from the recorded slot: so each is
	// counted exactly once.
	unrecorded int
}

// snapshot returns the job's effective config and plan and their version.
func (j *jobRunner) snapshot() (JobConfig, JobPlan, uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cfg, j.plan, j.version
}

// changed reports whether the config changed since version.
func (j *jobRunner) changed(version uint64) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.version != version
}

// update installs new effective settings.
func (j *jobRunner) update(cfg JobConfig, plan JobPlan, rs *RuntimeSettings, since time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cfg, j.plan, j.runtime, j.enabledSince = cfg, plan, rs, since
	j.version++
	if !cfg.Enabled {
		j.next = schedule.Decision{}
	}
}
