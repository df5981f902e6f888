//go:build !faults

package main

import (
	"io"

	"heartbeat/internal/clock"
)

// faultInjection returns the wall clock and no fault hook. The knobs that
// stop a replica at a named step (faults.go) exist only in a binary built
// with -tags faults, which the integration tests build; this one has none.
func faultInjection(io.Writer) (clock.Clock, func(step string), error) {
	return clock.Real{}, nil, nil
}
