package market

import (
	"errors"
	"time"
)

// Set is a group of markets a job depends on.
type Set []*Calendar

// AnyOpen reports whether at least one market of the set is open at t. An
// error from any calendar is returned, joined, rather than guessed past.
func (s Set) AnyOpen(t time.Time) (bool, error) {
	var errs []error
	for _, c := range s {
		open, err := c.IsOpen(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if open {
			return true, nil
		}
	}
	return false, errors.Join(errs...)
}

// NextOpen returns the earliest session open strictly after t among the
// set's markets, and that market's calendar. On a tie the market listed
// first wins.
func (s Set) NextOpen(t time.Time) (time.Time, *Calendar, error) {
	var (
		best   time.Time
		winner *Calendar
		errs   []error
	)
	for _, c := range s {
		at, err := c.NextOpen(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if winner == nil || at.Before(best) {
			best, winner = at, c
		}
	}
	if err := errors.Join(errs...); err != nil {
		return time.Time{}, nil, err
	}
	if winner == nil {
		return time.Time{}, nil, errors.New("next open of an empty market set")
	}
	return best, winner, nil
}
