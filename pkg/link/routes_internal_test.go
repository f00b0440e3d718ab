package link

import (
	"fmt"
	"strings"
	"testing"
)

// The route index gives back exactly what was put, across arena chunks,
// for strings longer than a chunk, after replacements, and for codes whose
// hashes collide.
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

	// An entry of another code with c9's hash, as a collision would chain
	// it: in front of c9, so finding c9 walks past it.
	_, hash := x.find("c9")
	x.entries = append(x.entries, routeEntry{code: x.store("zz"), url: x.store("https://z.test/"), next: x.byHash[hash]})
	x.entries[len(x.entries)-1].dest = x.entries[len(x.entries)-1].url
	x.byHash[hash] = uint32(len(x.entries))

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
