package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/darkshare/darkshare/pkg/stats"
	"github.com/darkshare/darkshare/store/postgres/pgtest"
)

// BenchmarkApply measures one Apply of a flush of 1,000 link-days, each a
// human click's counters (clicks, a referrer, a device), and in the
// visitors cases its visitor ID too; reported per link-day. "new" link-days
// are counted for the first time (rows inserted), "existing" ones again
// (rows updated, sketches read and merged). Run with
// DARKSHARE_TEST_POSTGRES set:
//
//	go test -run '^$' -bench Apply ./store/postgres/
func BenchmarkApply(b *testing.B) {
	const linkDays = 1000
	metrics := []stats.Metric{stats.Clicks, "ref:email", "device:desktop"}
	for _, visitors := range []bool{false, true} {
		for _, fresh := range []bool{true, false} {
			name := fmt.Sprintf("visitors=%t/new=%t", visitors, fresh)
			b.Run(name, func(b *testing.B) {
				db := pgtest.Open(b)
				ctx := context.Background()
				seq, first := uint64(0), 0
				next := func() stats.Batch {
					seq++
					deltas := make([]stats.Delta, linkDays)
					for i := range deltas {
						d := &deltas[i]
						d.DayKey = stats.DayKey{Code: fmt.Sprintf("c%08d", first+i), Day: countsDay}
						for _, m := range metrics {
							d.Add(m, 1)
						}
						if visitors {
							d.AddVisitor(seq * 0x9E3779B97F4A7C15)
						}
					}
					if fresh {
						first += linkDays
					}
					return stats.Batch{Writer: 1, Seq: seq, Deltas: deltas}
				}
				if err := db.Apply(ctx, next()); err != nil { // the rows of "existing"
					b.Fatal(err)
				}
				for b.Loop() {
					batch := next()
					if err := db.Apply(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*linkDays), "ns/link-day")
			})
		}
	}
}
