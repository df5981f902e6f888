package jobs

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"heartbeat/internal/schedule"
)

// Settings are a job's changes to its registry entry, by the field names
// of config (jobs.JOB.FIELD) and of `scheduler set JOB FIELD=VALUE`:
// enabled, interval, cron, tz, at, within, gate, timeout, max_retry,
// start_deadline, overlap, catch_up and queue. Values are text as an
// operator writes them ("2s", "false", "XNYS.close+2m").
type Settings map[string]string

// scheduleFields replace the schedule as a whole when one of them is set.
var scheduleFields = []string{"interval", "cron", "at", "within"}

// SetsSchedule reports whether s sets a schedule: one of interval, cron,
// at and within.
func (s Settings) SetsSchedule() bool {
	for _, f := range scheduleFields {
		if s[f] != "" {
			return true
		}
	}
	return false
}

// Fields lists every settings field, sorted.
func Fields() []string {
	return []string{"at", "catch_up", "cron", "enabled", "gate", "interval", "max_retry", "overlap", "queue", "start_deadline", "timeout", "tz", "within"}
}

// FieldError is Apply's error: the field and why its value is refused.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Apply returns spec and enabled with the settings applied. Setting any
// of interval, cron, at and within replaces the schedule with the ones
// set (interval may accompany within as its slot grid; an interval or
// cron schedule keeps the old gate, or open); gate and tz then apply.
// The result is validated (book resolves an at anchor's market; nil skips
// that check); errors are *FieldError, joined, naming each field.
func Apply(spec Spec, enabled bool, s Settings) (Spec, bool, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	duration := func(field string) (time.Duration, bool) {
		v, ok := s[field]
		if !ok {
			return 0, false
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			bad(field, "want a duration >= 0 such as 2s or 1m, got %q", v)
			return 0, false
		}
		return d, true
	}
	fields := make([]string, 0, len(s))
	for f := range s {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		if !slices.Contains(Fields(), f) {
			bad(f, "unknown setting (known: %s)", strings.Join(Fields(), ", "))
		}
	}
	if v, ok := s["enabled"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("enabled", "want true or false, got %q", v)
		}
		enabled = b
	}
	if s.SetsSchedule() {
		gate := spec.Schedule.Gate
		spec.Schedule = schedule.Spec{Cron: s["cron"], At: s["at"], Within: s["within"]}
		if d, ok := duration("interval"); ok {
			spec.Schedule.Every = d
		}
		if spec.Schedule.At == "" && spec.Schedule.Within == "" {
			spec.Schedule.Gate = gate
			if gate == "" && spec.Predicate == nil {
				spec.Schedule.Gate = schedule.GateOpen
			}
		}
	}
	if v, ok := s["tz"]; ok {
		spec.Schedule.TZ = v
	}
	if v, ok := s["gate"]; ok && v != "" {
		spec.Schedule.Gate = v
		spec.Predicate = nil // a gate set by name replaces a program's predicate
	}
	if v, ok := s["queue"]; ok && v != "" {
		if v != QueueCritical && v != QueueDefault {
			bad("queue", "must be %s or %s, got %q", QueueCritical, QueueDefault, v)
		}
		spec.Queue = v
	}
	if d, ok := duration("timeout"); ok {
		spec.Policy.Timeout = d
	}
	if d, ok := duration("start_deadline"); ok {
		spec.Policy.StartDeadline = d
	}
	if v, ok := s["max_retry"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil:
			bad("max_retry", "want a whole number, got %q", v)
		case n < 0:
			spec.Policy.MaxRetry = nil // the default
		default:
			spec.Policy.MaxRetry = &n
		}
	}
	if v, ok := s["overlap"]; ok && v != "" {
		spec.Policy.Overlap = v
	}
	if v, ok := s["catch_up"]; ok && v != "" {
		spec.Policy.CatchUp = v
	}
	if len(errs) == 0 {
		errs = append(errs, fieldErrors(spec.Schedule.Validate(nil))...)
		if err := spec.Policy.Validate(); err != nil {
			errs = append(errs, fieldErrors(err)...)
		}
	}
	return spec, enabled, errors.Join(errs...)
}

// fieldErrors turns a schedule's or a policy's "field: reason" errors into
// FieldErrors named as settings are (every is interval).
func fieldErrors(err error) []error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		field, reason, ok := strings.Cut(e.Error(), ": ")
		switch {
		case !ok:
			field, reason = "interval", e.Error()
		case field == "every":
			field = "interval"
		case field == "schedule":
			field, reason = "interval", e.Error()
		}
		out = append(out, &FieldError{Field: field, Reason: reason})
	}
	return out
}
