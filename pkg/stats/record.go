package stats

// withUniques returns r's counters with the sketch's estimate as Uniques.
// It adds Uniques to r.Counts: r is the caller's.
func (r *Record) withUniques() map[Metric]uint64 {
	if r.Counts == nil {
		r.Counts = make(map[Metric]uint64, 1)
	}
	if r.Visitors != nil {
		r.Counts[Uniques] = r.Visitors.Estimate()
	}
	return r.Counts
}
