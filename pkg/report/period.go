package report

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/darkshare/darkshare/pkg/stats"
)

// ErrBadPeriod is returned for a period that cannot be read.
var ErrBadPeriod = errors.New("bad period")

// Presets are the periods offered by name, in days ending today.
var Presets = []int{7, 30, 90, 365}

// MaxDays bounds a chosen period: a year and a day, so that a leap year fits.
const MaxDays = 366

// ParsePeriod reads a period as a page's query gives it: days ("7", "30",
// ...: that many days ending today), or from and to (YYYY-MM-DD, both
// included). All empty means the last 30 days. Days are UTC.
func ParsePeriod(days, from, to string, today stats.Day) (stats.Period, error) {
	if from != "" || to != "" {
		return parseRange(from, to, today)
	}
	n := 30
	if days != "" {
		var err error
		if n, err = strconv.Atoi(days); err != nil || n < 1 || n > MaxDays {
			return stats.Period{}, fmt.Errorf("%w: days must be a whole number from 1 to %d", ErrBadPeriod, MaxDays)
		}
	}
	return stats.Period{From: today - stats.Day(n-1), To: today}, nil
}

func parseRange(from, to string, today stats.Day) (stats.Period, error) {
	f, err := parseDay(from)
	if err != nil {
		return stats.Period{}, fmt.Errorf("%w: from: %w", ErrBadPeriod, err)
	}
	t, err := parseDay(to)
	if err != nil {
		return stats.Period{}, fmt.Errorf("%w: to: %w", ErrBadPeriod, err)
	}
	switch {
	case t < f:
		return stats.Period{}, fmt.Errorf("%w: from (%s) is after to (%s)", ErrBadPeriod, f, t)
	case int(t-f) >= MaxDays:
		return stats.Period{}, fmt.Errorf("%w: at most %d days at a time", ErrBadPeriod, MaxDays)
	case f > today+1:
		return stats.Period{}, fmt.Errorf("%w: the period starts after today (%s, UTC)", ErrBadPeriod, today)
	}
	return stats.Period{From: f, To: t}, nil
}

func parseDay(s string) (stats.Day, error) {
	if s == "" {
		return 0, errors.New("give both dates, as YYYY-MM-DD")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date as YYYY-MM-DD", s)
	}
	return stats.DayOf(t), nil
}
