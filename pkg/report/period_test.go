package report_test

import (
	"errors"
	"testing"

	"github.com/darkshare/darkshare/pkg/report"
	"github.com/darkshare/darkshare/pkg/stats"
)

const today = stats.Day(20785) // 2026-11-28

func TestParsePeriod(t *testing.T) {
	day := func(s string) stats.Day {
		d, err := report.ParsePeriod("", s, s, today)
		if err != nil {
			t.Fatal(err)
		}
		return d.From
	}
	tests := []struct {
		days, from, to string
		want           stats.Period
		bad            bool
	}{
		{"", "", "", stats.Period{From: today - 29, To: today}, false},
		{"7", "", "", stats.Period{From: today - 6, To: today}, false},
		{"1", "", "", stats.Period{From: today, To: today}, false},
		{"366", "", "", stats.Period{From: today - 365, To: today}, false},
		{"", "2026-11-01", "2026-11-28", stats.Period{From: day("2026-11-01"), To: today}, false},
		{"", "2025-11-28", "2026-11-28", stats.Period{From: today - 365, To: today}, false}, // 366 days
		{"30", "2026-11-01", "2026-11-02", stats.Period{From: day("2026-11-01"), To: day("2026-11-02")}, false},
		{"0", "", "", stats.Period{}, true},
		{"367", "", "", stats.Period{}, true},
		{"-7", "", "", stats.Period{}, true},
		{"7d", "", "", stats.Period{}, true},
		{"", "2026-11-02", "2026-11-01", stats.Period{}, true},
		{"", "2025-11-27", "2026-11-28", stats.Period{}, true}, // 367 days
		{"", "2026-11-01", "", stats.Period{}, true},
		{"", "", "2026-11-01", stats.Period{}, true},
		{"", "2026-13-01", "2026-13-02", stats.Period{}, true},
		{"", "01/11/2026", "02/11/2026", stats.Period{}, true},
		{"", "2027-01-01", "2027-01-02", stats.Period{}, true}, // the future
	}
	for _, tt := range tests {
		got, err := report.ParsePeriod(tt.days, tt.from, tt.to, today)
		if tt.bad {
			if !errors.Is(err, report.ErrBadPeriod) {
				t.Errorf("ParsePeriod(%q, %q, %q) = %v, %v; want ErrBadPeriod", tt.days, tt.from, tt.to, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePeriod(%q, %q, %q) = %v, %v; want %v", tt.days, tt.from, tt.to, got, err, tt.want)
		}
	}
}

func FuzzParsePeriod(f *testing.F) {
	f.Add("30", "", "")
	f.Add("", "2026-11-01", "2026-11-28")
	f.Add("", "9999-12-31", "0001-01-01")
	f.Fuzz(func(t *testing.T, days, from, to string) {
		p, err := report.ParsePeriod(days, from, to, today)
		if err != nil {
			if !errors.Is(err, report.ErrBadPeriod) {
				t.Fatalf("error %v does not wrap ErrBadPeriod", err)
			}
			return
		}
		if !p.Valid() || int(p.To-p.From) >= report.MaxDays || p.From > today+1 {
			t.Fatalf("accepted %v", p)
		}
	})
}
