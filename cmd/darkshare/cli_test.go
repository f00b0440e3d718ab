package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runCLISplit is runCLI with stdout and stderr apart.
func runCLISplit(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut strings.Builder
	err = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestParseFlagsAndArgumentsInAnyOrder(t *testing.T) {
	tests := []struct {
		name    string
		cmd     command
		args    []string
		want    []string // the arguments
		server  string
		verbose bool
		wantErr string // part of the message; "" for none
	}{
		{name: "flags first", cmd: command{name: "backup", args: []string{"FILE"}}, args: []string{"--server", "http://s", "f.db"}, want: []string{"f.db"}, server: "http://s"},
		{name: "flags last", cmd: command{name: "backup", args: []string{"FILE"}}, args: []string{"f.db", "--server", "http://s", "-v"}, want: []string{"f.db"}, server: "http://s", verbose: true},
		{name: "flags between", cmd: command{name: "x", args: []string{"A", "B"}}, args: []string{"a", "--server=http://s", "b"}, want: []string{"a", "b"}, server: "http://s"},
		{name: "single dash", cmd: command{name: "x", args: []string{"A"}}, args: []string{"-server", "http://s", "a"}, want: []string{"a"}, server: "http://s"},
		{name: "after --, all arguments", cmd: command{name: "x", args: []string{"A", "B"}}, args: []string{"-v", "--", "--server", "b"}, want: []string{"--server", "b"}, verbose: true},
		{name: "no arguments", cmd: command{name: "check"}, args: nil},
		{name: "missing argument", cmd: command{name: "keys revoke", args: []string{"ID"}}, args: []string{"--server", "http://s"}, wantErr: "keys revoke: missing ID\nusage: darkshare keys revoke ID [flags] (more: darkshare keys revoke --help)"},
		{name: "extra argument", cmd: command{name: "check"}, args: []string{"a.db"}, wantErr: `check: unexpected argument "a.db"` + "\nusage: darkshare check [flags]"},
		{name: "extra after the flags", cmd: command{name: "backup", args: []string{"FILE"}}, args: []string{"f.db", "-v", "g.db"}, wantErr: `unexpected argument "g.db"`},
		{name: "unknown flag", cmd: command{name: "check"}, args: []string{"--nope"}, wantErr: "check: unknown flag --nope\nusage: darkshare check [flags] (more: darkshare check --help)"},
		{name: "unknown flag after the arguments", cmd: command{name: "backup", args: []string{"FILE"}}, args: []string{"f.db", "--sever", "x"}, wantErr: "unknown flag --sever"},
		{name: "flag without its value", cmd: command{name: "backup", args: []string{"FILE"}}, args: []string{"f.db", "--server"}, wantErr: "flag needs an argument: -server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := tt.cmd.flagSet()
			server := fs.String("server", "", "")
			verbose := fs.Bool("v", false, "")
			got, err := tt.cmd.parse(fs, tt.args, &strings.Builder{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to say %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) || *server != tt.server || *verbose != tt.verbose {
				t.Fatalf("got %q, --server %q, -v %v, %v; want %q, %q, %v", got, *server, *verbose, err, tt.want, tt.server, tt.verbose)
			}
		})
	}
}

// Every command answers -h and --help on stdout, with success, its usage
// and its own flags only.
func TestEveryCommandHasItsOwnHelp(t *testing.T) {
	serveOnly := []string{"--listen", "--allow-host", "--flush-interval", "--rate-mint"}
	tests := []struct {
		args    []string
		usage   string
		flags   []string
		notHere []string
	}{
		{[]string{"serve"}, "darkshare serve [flags]", []string{"--listen", "--db", "--allow-host", "--max-conns"}, []string{"--server", "--token", "--from", "--url"}},
		{[]string{"--listen", "127.0.0.1:1"}, "darkshare serve [flags]", []string{"--listen"}, nil}, // darkshare --listen … is serve
		{[]string{"reset-admin-token"}, "darkshare reset-admin-token [flags]", []string{"--db"}, append(serveOnly, "--server")},
		{[]string{"keys", "create"}, "darkshare keys create --name NAME --scopes SCOPES [flags]", []string{"--name", "--scopes", "--db", "--server", "--token"}, serveOnly},
		{[]string{"keys", "list"}, "darkshare keys list [flags]", []string{"--db", "--server", "--token"}, append(serveOnly, "--name", "--scopes")},
		{[]string{"keys", "revoke"}, "darkshare keys revoke ID [flags]", []string{"--db", "--server", "--token"}, append(serveOnly, "--name", "--scopes")},
		{[]string{"backup"}, "darkshare backup FILE [flags]", []string{"--db", "--server", "--token"}, serveOnly},
		{[]string{"check"}, "darkshare check [flags]", []string{"--db"}, append(serveOnly, "--server", "--token")},
		{[]string{"links", "import"}, "darkshare links import FILE [flags]", []string{"--db", "--base-url"}, append(serveOnly, "--server")},
		{[]string{"copy"}, "darkshare copy --from FILE.db --to postgres://…", []string{"--from", "--to"}, append(serveOnly, "--db", "--server")},
		{[]string{"healthcheck"}, "darkshare healthcheck [flags]", []string{"--url"}, append(serveOnly, "--db")},
	}
	for _, tt := range tests {
		for _, help := range []string{"-h", "--help"} {
			args := append(slices.Clone(tt.args), help)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, err := runCLISplit(t, nil, args...)
				if err != nil || stderr != "" {
					t.Fatalf("err %v, stderr %q", err, stderr)
				}
				if !strings.HasPrefix(stdout, "Usage: "+tt.usage+"\n") {
					t.Errorf("the usage line is not %q:\n%s", tt.usage, stdout)
				}
				for _, f := range tt.flags {
					if !strings.Contains(stdout, "\n  "+f+" ") && !strings.Contains(stdout, "\n  "+f+"\n") {
						t.Errorf("%s is missing:\n%s", f, stdout)
					}
				}
				for _, f := range tt.notHere {
					if strings.Contains(stdout, "\n  "+f) {
						t.Errorf("another command's %s shows:\n%s", f, stdout)
					}
				}
			})
		}
	}
}

// The admin token in the environment is --token's default, which help
// does not print (a screen or a log could keep it).
func TestHelpHidesTheAdminToken(t *testing.T) {
	env := map[string]string{"DARKSHARE_ADMIN_TOKEN": testAdminToken}
	for _, args := range [][]string{{"keys", "list", "-h"}, {"keys", "create", "-h"}, {"keys", "revoke", "-h"}, {"backup", "-h"}} {
		stdout, _, err := runCLISplit(t, env, args...)
		if err != nil || strings.Contains(stdout, testAdminToken) {
			t.Errorf("%q (%v) shows the token:\n%s", args, err, stdout)
		}
	}
}

func TestHelpListsTheCommands(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		stdout, _, err := runCLISplit(t, nil, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, cmd := range []string{"serve", "reset-admin-token", "keys create", "keys list", "keys revoke ID", "backup FILE", "check", "links import FILE", "copy", "healthcheck", "help"} {
			if !strings.Contains(stdout, "\n  "+cmd+" ") {
				t.Errorf("%v does not list %q:\n%s", args, cmd, stdout)
			}
		}
	}
	for _, group := range []string{"keys", "links"} {
		stdout, _, err := runCLISplit(t, nil, group, "--help")
		if err != nil || !strings.Contains(stdout, "darkshare "+group+" ") {
			t.Errorf("%s --help: %v\n%s", group, err, stdout)
		}
	}
	viaHelp, _, err := runCLISplit(t, nil, "help", "keys", "revoke")
	direct, _, _ := runCLISplit(t, nil, "keys", "revoke", "--help")
	if err != nil || viaHelp != direct {
		t.Errorf("help keys revoke (%v):\n%s\nis not keys revoke --help:\n%s", err, viaHelp, direct)
	}
}

func TestWrongCallsSayHowToCall(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // where a command that created its db would leave it
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"keys"}, "keys: say create, list or revoke"},
		{[]string{"keys", "rotate"}, `keys: unknown verb "rotate"`},
		{[]string{"links"}, `links: say "import FILE"`},
		{[]string{"links", "export"}, `links: unknown verb "export"`},
		{[]string{"keys", "revoke"}, "keys revoke: missing ID"},
		{[]string{"keys", "revoke", "a", "b"}, `keys revoke: unexpected argument "b"`},
		{[]string{"keys", "list", "--name", "x"}, "keys list: unknown flag --name"},
		{[]string{"backup"}, "backup: missing FILE"},
		{[]string{"check", "--listen", ":1"}, "check: unknown flag --listen"},
		{[]string{"serve", "extra"}, `serve: unexpected argument "extra"`},
		{[]string{"--nope"}, "serve: unknown flag --nope"},
		{[]string{"healthcheck", "http://x"}, `healthcheck: unexpected argument "http://x"`},
	}
	for _, tt := range tests {
		stdout, _, err := runCLISplit(t, nil, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, flag.ErrHelp) {
			t.Errorf("%q: err %v, want it to say %q", tt.args, err, tt.want)
		}
		if stdout != "" {
			t.Errorf("%q printed %q", tt.args, stdout)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("wrong calls left %v behind", entries)
	}
}

// Flags after the arguments count: backup FILE --server … backs up the
// server, and keys revoke ID --server … revokes through it, touching no
// db in the current folder.
func TestFlagsAfterTheArguments(t *testing.T) {
	inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "d.db")}, nil)
	work := t.TempDir()
	t.Chdir(work)
	out, err := runCLI(t, nil, "keys", "create", "--name", "cms", "--server", inst.base, "--scopes", "stats:read", "--token", inst.token)
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	out, err = runCLI(t, nil, "keys", "list", "--server", inst.base, "--token", inst.token)
	if err != nil {
		t.Fatalf("list: %v\n%s", err, out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if out, err := runCLI(t, nil, "keys", "revoke", id, "--server", inst.base, "--token", inst.token); err != nil || !strings.Contains(out, "Revoked key "+id) {
		t.Fatalf("revoke ID --server: %v\n%s", err, out)
	}
	if out, err := runCLI(t, nil, "backup", "snap.db", "--server", inst.base, "--token", inst.token); err != nil || !strings.Contains(out, "check passed") {
		t.Fatalf("backup FILE --server: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(work)
	if len(entries) != 1 || entries[0].Name() != "snap.db" {
		t.Fatalf("the folder holds %v; want only the backup", entries)
	}
}

// The commands that work on a db never make one: a mistyped --db, or
// DARKSHARE_DB, is an error that names the path once.
func TestCommandsOnAMissingDBMakeNone(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "mistyped.db")
	csvFile := filepath.Join(dir, "links.csv")
	if err := writeFile(csvFile, "url,channel\nhttps://a.example/,email\n"); err != nil {
		t.Fatal(err)
	}
	const dbHint = ": check --db or DARKSHARE_DB"
	for _, tt := range []struct {
		args []string
		hint string // follows "no db at PATH"
	}{
		{[]string{"reset-admin-token", "--db", missing}, dbHint},
		{[]string{"keys", "create", "--name", "x", "--scopes", "admin", "--db", missing}, dbHint},
		{[]string{"keys", "list", "--db", missing}, dbHint},
		{[]string{"keys", "revoke", "some-id", "--db", missing}, dbHint},
		{[]string{"backup", filepath.Join(dir, "b.db"), "--db", missing}, dbHint},
		{[]string{"check", "--db", missing}, dbHint},
		{[]string{"links", "import", csvFile, "--db", missing}, dbHint},
		{[]string{"copy", "--from", missing, "--to", "postgres://u@127.0.0.1:1/db"}, ": check --from"},
	} {
		out, err := runCLI(t, nil, tt.args...)
		if err == nil || strings.Count(err.Error(), missing) != 1 || !strings.Contains(err.Error(), "no db at "+missing+tt.hint) {
			t.Errorf("%q: %v, want an error that names %s once, then%s\n%s", tt.args, err, missing, tt.hint, out)
		}
	}
	if out, err := runCLI(t, map[string]string{"DARKSHARE_DB": missing}, "keys", "list"); err == nil || !strings.Contains(err.Error(), "no db at "+missing) {
		t.Errorf("DARKSHARE_DB: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder holds %v; want only the CSV file", entries)
	}
}

// serve makes a missing db, but not a missing folder, and says so naming
// the path once.
func TestServeNamesAMissingFolderOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-folder", "d.db")
	err := run(t.Context(), []string{"--listen", "127.0.0.1:0", "--db", path}, func(string) string { return "" }, &strings.Builder{}, &strings.Builder{})
	if err == nil || strings.Count(err.Error(), path) != 1 {
		t.Fatalf("err = %v; want it to name %s once", err, path)
	}
}

func TestLocalURL(t *testing.T) {
	tests := []struct {
		listen, want string
		wantErr      bool
	}{
		{listen: "127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{listen: "0.0.0.0:8080", want: "http://127.0.0.1:8080"},
		{listen: ":9000", want: "http://127.0.0.1:9000"},
		{listen: "[::]:8080", want: "http://[::1]:8080"},
		{listen: "[::1]:80", want: "http://[::1]:80"},
		{listen: "10.0.0.5:8080", want: "http://10.0.0.5:8080"},
		{listen: "localhost:8080", want: "http://localhost:8080"},
		{listen: "8080", wantErr: true},
	}
	for _, tt := range tests {
		got, err := localURL(tt.listen)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("localURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
		}
	}
}

// healthcheck asks a real darkshare: at the address DARKSHARE_LISTEN
// names (a wildcard asked on the loopback), or at --url; anything but 200
// is an error, and so is nothing listening.
func TestHealthcheck(t *testing.T) {
	inst, stop := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "d.db")}, nil)
	port := inst.base[strings.LastIndex(inst.base, ":")+1:]
	for name, env := range map[string]map[string]string{
		"wildcard listen": {"DARKSHARE_LISTEN": "0.0.0.0:" + port},
		"empty host":      {"DARKSHARE_LISTEN": ":" + port},
	} {
		if out, err := runCLI(t, env, "healthcheck"); err != nil || !strings.Contains(out, "200") {
			t.Errorf("%s: %v\n%s", name, err, out)
		}
	}
	if out, err := runCLI(t, nil, "healthcheck", "--url", inst.base+"/"); err != nil {
		t.Errorf("--url: %v\n%s", err, out)
	}
	if _, err := runCLI(t, nil, "healthcheck", "--url", inst.base+"/nothing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a URL without /healthz: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, nil, "healthcheck", "--url", inst.base); err == nil {
		t.Error("healthcheck passed with nothing listening")
	}
}

// What Docker's HEALTHCHECK sees: the process's exit status.
func TestHealthcheckExitStatus(t *testing.T) {
	inst, _ := startInProcess(t, []string{"--listen", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "d.db")}, nil)
	for base, want := range map[string]int{inst.base: 0, "http://" + closedPort(t): 1} {
		cmd := exec.Command(os.Args[0], "healthcheck")
		cmd.Env = append(os.Environ(), "DARKSHARE_TEST_RUN_MAIN=1", "DARKSHARE_LISTEN="+strings.TrimPrefix(base, "http://"))
		out, err := cmd.CombinedOutput()
		if got := cmd.ProcessState.ExitCode(); got != want {
			t.Errorf("healthcheck of %s exits %d (%v), want %d\n%s", base, got, err, want, out)
		}
		if want == 1 && !strings.HasPrefix(string(out), fmt.Sprintf("darkshare: healthcheck: Get %q", base+"/healthz")) {
			t.Errorf("healthcheck of %s says %q", base, out)
		}
	}
}
