package stats

import "fmt"

// FillCounterTable puts in a counter table with no room left, for tests of
// what is counted past it; restore puts the table back. No test of this
// package runs in parallel.
func FillCounterTable() (restore func()) {
	full := newCounterTable()
	for i := 0; ; i++ {
		if _, ok := full.idOf(Metric(fmt.Sprint("filler", i))); !ok {
			break
		}
	}
	saved := counterIDs
	counterIDs = full
	return func() { counterIDs = saved }
}

// MaxQueued is maxQueued, and QueuedEvents the number of events in the
// queues of a.
const MaxQueued = maxQueued

func QueuedEvents(a *Aggregator) int {
	n := 0
	for i := range a.parts {
		p := &a.parts[i]
		p.mu.Lock()
		n += len(p.events)
		p.mu.Unlock()
	}
	return n
}
