package stats

// DeltaOf returns a delta that adds r, its counters and its sketch, to the
// record of k: what moves a record from one store to another (darkshare
// copy). Applied to a store that holds nothing of k, it makes r again. It
// shares nothing with r.
func DeltaOf(k DayKey, r Record) Delta {
	d := Delta{DayKey: k}
	for m, n := range r.Counts {
		d.Add(m, n)
	}
	if r.Visitors != nil {
		d.t.extraRecord().Visitors = r.Visitors.Clone()
	}
	return d
}
