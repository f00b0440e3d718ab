package stats

import (
	"strings"
	"sync"
	"sync/atomic"
)

// A counterID names a counter inside a tally. A million tallies naming
// their counters by Metric strings held four million pointers, which the
// collector followed at every cycle; ids are plain numbers. (Measured
// again with the deltas in the bbolt store's runs: with strings,
// BenchmarkFlushSpread took 1.22 times the CPU per click and 23% more
// memory a flush.)
type counterID uint16

// maxCounterIDs bounds the table. Names come from this package's constants,
// track's tables, callers of Add, and deltas a store reads back (the bbolt
// store's log); a name past the bound is counted in a tally's extra
// Record, by name.
const maxCounterIDs = 1<<16 - 1

// counterIDs interns counter names, process-wide: ids are never written to
// disk, so they need not be stable from one run to the next.
var counterIDs = newCounterTable()

func newCounterTable() *counterTable {
	return &counterTable{ids: map[Metric]counterID{}}
}

type counterTable struct {
	mu    sync.RWMutex
	ids   map[Metric]counterID
	names atomic.Pointer[[]Metric] // only ever appended to: a snapshot stays valid
}

// idOf returns m's id, interning m; ok is false once the table is full.
func (t *counterTable) idOf(m Metric) (id counterID, ok bool) {
	t.mu.RLock()
	id, ok = t.ids[m]
	t.mu.RUnlock()
	if ok {
		return id, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok = t.ids[m]; ok {
		return id, true
	}
	var names []Metric
	if p := t.names.Load(); p != nil {
		names = *p
	}
	if len(names) >= maxCounterIDs {
		return 0, false
	}
	id = counterID(len(names))
	names = append(names, Metric(strings.Clone(string(m))))
	t.names.Store(&names)
	t.ids[names[id]] = id
	return id, true
}

// lookup returns the id of a name already interned, without making a
// string of it.
func (t *counterTable) lookup(name []byte) (id counterID, ok bool) {
	t.mu.RLock()
	id, ok = t.ids[Metric(name)]
	t.mu.RUnlock()
	return id, ok
}

// name returns the name of an id idOf handed out.
func (t *counterTable) name(id counterID) Metric { return (*t.names.Load())[id] }

// mustID returns the id of one of the names interned at start, before
// anything could fill the table.
func mustID(m Metric) counterID {
	id, ok := counterIDs.idOf(m)
	if !ok {
		panic("stats: counter table full at start")
	}
	return id
}
