package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// serve passes its listen address to the link policy: with a --base-url
// elsewhere and 127.0.0.1 allow-listed, a link to the port it listens on is
// still refused in every spelling, and another local port is not.
func TestServeRefusesItsListenAddress(t *testing.T) {
	inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "a.db"),
		"--base-url", "https://s.example", "--allow-host", "127.0.0.1"}, nil)
	u, err := url.Parse(inst.base)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	for target, want := range map[string]int{
		"http://127.0.0.1:" + port + "/abc":  http.StatusBadRequest,
		"http://2130706433:" + port + "/abc": http.StatusBadRequest,
		"http://localhost:" + port + "/abc":  http.StatusBadRequest,
		"http://[::1]:" + port + "/abc":      http.StatusBadRequest,
		"https://s.example/abc":              http.StatusBadRequest,
		"http://localhost:1/":                http.StatusForbidden, // loopback, not allow-listed
		"http://127.0.0.1:1/page":            http.StatusOK,        // another local site
	} {
		body, _ := json.Marshal(map[string]any{"url": target, "channels": []string{"email"}})
		req, _ := http.NewRequest(http.MethodPost, inst.base+"/api/v1/links", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+inst.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("admin mint of %s: status %d; want %d", target, resp.StatusCode, want)
		}
	}
}
