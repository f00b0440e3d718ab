package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var keyToken = regexp.MustCompile(`dsk_\S+`)

func runCLI(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &out)
	return out.String(), err
}

func statusWithToken(t *testing.T, inst instance, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, inst.base+"/api/v1/stats?url=https://news.example.org/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// madeDB is the path of a db as serve leaves it at its first stop.
func madeDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.db")
	_, stop := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, nil)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestKeysCLIOnAStoppedDB(t *testing.T) {
	path := madeDB(t)
	env := map[string]string{"DARKSHARE_DB": path}
	out, err := runCLI(t, env, "keys", "create", "--name", "analytics", "--scopes", "stats:read")
	token := keyToken.FindString(out)
	if err != nil || token == "" {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if _, err := runCLI(t, env, "keys", "create", "--name", "x", "--scopes", "root"); err == nil {
		t.Fatal("an unknown scope was accepted")
	}
	out, err = runCLI(t, env, "keys", "list")
	if err != nil || !strings.Contains(out, "analytics") || !strings.Contains(out, "stats:read") || strings.Contains(out, token) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]

	inst, stop := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, env)
	if got := statusWithToken(t, inst, token); got != http.StatusNotFound { // authorised; the page has no links
		t.Fatalf("a key made offline: %d", got)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if out, err := runCLI(t, env, "keys", "revoke", id); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	inst, _ = startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, env)
	if got := statusWithToken(t, inst, token); got != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d", got)
	}
}

func TestKeysCLIThroughARunningServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	env := map[string]string{"DARKSHARE_ADMIN_TOKEN": testAdminToken}
	inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", path}, env)
	if _, err := runCLI(t, env, "keys", "list", "--db", path); err == nil || !strings.Contains(err.Error(), "--server") {
		t.Fatalf("the db of a running server: %v; want a hint to use --server", err)
	}
	out, err := runCLI(t, env, "keys", "create", "--server", inst.base, "--name", "cms", "--scopes", "links:write,stats:read")
	token := keyToken.FindString(out)
	if err != nil || token == "" {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if got := statusWithToken(t, inst, token); got != http.StatusNotFound {
		t.Fatalf("the new key: %d", got)
	}
	out, err = runCLI(t, env, "keys", "list", "--server", inst.base)
	if err != nil || !strings.Contains(out, "cms") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if out, err := runCLI(t, env, "keys", "revoke", "--server", inst.base, id); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if got := statusWithToken(t, inst, token); got != http.StatusUnauthorized {
		t.Fatalf("revoked through the API, the key still works: %d", got)
	}
	if _, err := runCLI(t, map[string]string{}, "keys", "list", "--server", inst.base, "--token", "wrong"); err == nil {
		t.Fatal("a wrong admin token listed keys")
	}
}

func TestBlocklistFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "blocked.txt")
	if err := writeFile(file, "# phishing\nbad.example\n\n*.worse.example  # and all below\n"); err != nil {
		t.Fatal(err)
	}
	hl, err := loadBlocklist("also.example", file)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"bad.example": true, "a.worse.example": true, "also.example": true, "good.example": false, "worse.example": false} {
		if hl.Allows(host) != want {
			t.Errorf("%s blocked = %v, want %v", host, !want, want)
		}
	}
	if _, err := loadBlocklist("", filepath.Join(dir, "missing.txt")); err == nil {
		t.Error("a missing blocklist file was accepted")
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
