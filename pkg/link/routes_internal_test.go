package link

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The route index gives back exactly what was put, across arena chunks,
// for strings longer than a chunk, after replacements, after the table
// grew, and for codes whose hashes collide.
func TestRouteIndexKeepsEveryRoute(t *testing.T) {
	x := newRouteIndex()
	want := map[string]Route{}
	put := func(r Route) {
		x.put(r)
		want[r.Code] = r
	}
	for i := range 3000 {
		url := fmt.Sprintf("https://news.example.org/%d/%s", i, strings.Repeat("p", i%700))
		r := Route{Code: fmt.Sprintf("c%d", i), URL: url, Dest: url}
		if i%3 == 0 {
			r.Dest = url + "?utm_source=darkshare"
		}
		put(r)
	}
	huge := "https://news.example.org/" + strings.Repeat("h", 2*arenaChunk)
	put(Route{Code: "huge", URL: huge, Dest: huge})
	before, _, _ := x.get("c7")
	wasURL := want["c7"].URL
	put(Route{Code: "c7", URL: "https://news.example.org/moved", Dest: "https://news.example.org/moved", Disabled: true})
	if before.URL != wasURL {
		t.Fatalf("a string handed out changed after a replacement: %q", before.URL)
	}
	x.putLocked(Route{Code: "c8", URL: "https://elsewhere.test/"}, false) // as a load does: kept as is
	if len(x.arena) < 2 {
		t.Fatalf("%d arena chunks: the test should cross chunks", len(x.arena))
	}

	// An entry of another code with c9's very hash, where a collision would
	// have put it: in c9's slot, c9 moved along to the next free one, so
	// that finding c9 probes past it.
	hash := x.hash("c9")
	i, found := x.find("c9", hash)
	if !found {
		t.Fatal("c9 not found")
	}
	c9 := x.slots[i]
	zz := routeEntry{hash: hash, code: x.store("zz"), url: x.store("https://z.test/")}
	zz.dest = zz.url
	x.slots[i] = zz
	j := i
	for x.slots[j].code.len != 0 {
		j = (j + 1) % len(x.slots)
	}
	x.slots[j] = c9
	x.used++
	if len(x.slots) <= initialSlots || 2*x.used > len(x.slots) {
		t.Fatalf("%d slots for %d routes: the table should have grown, and be at most half full", len(x.slots), x.used)
	}

	for code, w := range want {
		got, ok, _ := x.get(code)
		if !ok || got != w {
			t.Fatalf("%s: got %+v (found %v), want %+v", code, got, ok, w)
		}
	}
	if _, ok, _ := x.get("nope"); ok {
		t.Fatal("a code never put was found")
	}
}

// BenchmarkRouteGet looks up random codes among a million, the redirect's
// lookup when clicks spread over every link: memory, not instructions.
func BenchmarkRouteGet(b *testing.B) {
	const n = 1_000_000
	x := newRouteIndex()
	codes := make([]string, n)
	for i := range codes {
		codes[i] = fmt.Sprintf("c%08x", i*2654435761%(1<<32))
		url := fmt.Sprintf("https://news.example.org/story?id=%d", i)
		x.put(Route{Code: codes[i], URL: url, Dest: url})
	}
	rand.Shuffle(len(codes), func(i, j int) { codes[i], codes[j] = codes[j], codes[i] })
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, ok, _ := x.get(codes[i%n]); !ok {
			b.Fatal("a code was not found")
		}
		i++
	}
}

// A read from the store only fills a gap: it neither undoes a route put
// meanwhile (a change) nor lands after a reset (a restored db). Putting a
// route as it already is costs no memory: polls bring back this process's
// own changes.
func TestRouteIndexFillsOnlyGaps(t *testing.T) {
	x := newRouteIndex()
	old := Route{Code: "c1", URL: "https://a.example/", Dest: "https://a.example/"}
	now := old
	now.Disabled = true

	gen := x.generation()
	x.put(now)
	x.fill(old, gen)
	if got, _, _ := x.get("c1"); got != now {
		t.Fatalf("a fill undid a change: %+v", got)
	}

	gen = x.generation()
	x.loaded.Store(true)
	x.reset()
	if _, ok, complete := x.get("c1"); ok || complete {
		t.Fatalf("after a reset: found %v, complete %v; want neither", ok, complete)
	}
	x.fill(old, gen)
	if _, ok, _ := x.get("c1"); ok {
		t.Fatal("a read begun before a reset filled the index after it")
	}
	x.fill(old, x.generation())
	if got, ok, _ := x.get("c1"); !ok || got != old {
		t.Fatalf("a fill after the reset: %+v, %v", got, ok)
	}

	used := len(x.arena[len(x.arena)-1])
	x.put(old)
	if now := len(x.arena[len(x.arena)-1]); now != used {
		t.Fatalf("putting a route as it is grew the arena from %d to %d bytes", used, now)
	}
}
