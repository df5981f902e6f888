package jobs

import (
	"fmt"
	"regexp"
)

// Set is a registry of jobs: the built-in eight and those a program adds
// (the public heartbeat package's Register). The config, the scheduler,
// the controls and the status pages read the jobs from it, none of them
// special-cases a job. A Set is built before start and not changed after.
type Set struct{ specs []Spec }

// Builtin returns a Set of the eight built-in jobs.
func Builtin() *Set { return &Set{specs: append([]Spec(nil), Registry...)} }

// namePattern is what a job name may be: it appears in keys, task IDs,
// metric labels, config keys and environment variable names.
var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// Add registers a job. Its name must be new and match [a-z][a-z0-9_]*;
// an empty TaskType becomes "job:NAME", an empty Queue QueueDefault, an
// empty Title the name. The schedule and policy are checked (without the
// markets: an at anchor's market is checked where the config is).
func (s *Set) Add(spec Spec) error {
	if !namePattern.MatchString(string(spec.Name)) {
		return fmt.Errorf("job %q: the name must match %s", spec.Name, namePattern)
	}
	if _, ok := s.Lookup(spec.Name); ok {
		return fmt.Errorf("job %s: already registered", spec.Name)
	}
	if spec.TaskType == "" {
		spec.TaskType = "job:" + string(spec.Name)
	}
	for _, o := range s.specs {
		if o.TaskType == spec.TaskType {
			return fmt.Errorf("job %s: task type %s is %s's", spec.Name, spec.TaskType, o.Name)
		}
	}
	if spec.Queue == "" {
		spec.Queue = QueueDefault
	}
	if spec.Queue != QueueCritical && spec.Queue != QueueDefault {
		return fmt.Errorf("job %s: queue must be %s or %s, got %q", spec.Name, QueueCritical, QueueDefault, spec.Queue)
	}
	if spec.Title == "" {
		spec.Title = string(spec.Name)
	}
	if err := spec.Schedule.Validate(nil); err != nil {
		return fmt.Errorf("job %s: %w", spec.Name, err)
	}
	if err := spec.Policy.Validate(); err != nil {
		return fmt.Errorf("job %s: %w", spec.Name, err)
	}
	s.specs = append(s.specs, spec)
	return nil
}

// Lookup returns a job's spec.
func (s *Set) Lookup(name Name) (Spec, bool) {
	for _, spec := range s.specs {
		if spec.Name == name {
			return spec, true
		}
	}
	return Spec{}, false
}

// Names returns the jobs' names in registration order.
func (s *Set) Names() []Name {
	out := make([]Name, len(s.specs))
	for i, spec := range s.specs {
		out[i] = spec.Name
	}
	return out
}

// All returns the jobs' specs in registration order.
func (s *Set) All() []Spec { return append([]Spec(nil), s.specs...) }
