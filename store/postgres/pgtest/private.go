package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	execpkg "os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
)

// Server is a PostgreSQL server of one test's own, in a temporary data
// folder, that the test may stop and start: the shared server of
// ServerURL must never be restarted under other tests.
type Server struct {
	bin, data, port string
	cred            *syscall.Credential // run as this user: PostgreSQL refuses to run as root
}

// PrivateServer initialises and starts a server of the test's own on a free
// port of 127.0.0.1, and stops it at cleanup. It needs PostgreSQL's
// programs (Debian's postgresql package puts them in
// /usr/lib/postgresql/VERSION/bin): without them it skips the test, or
// fails it when CI is set. As root, the server runs as the postgres user.
func PrivateServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{bin: serverPrograms(t)}
	data, err := os.MkdirTemp("", "darkshare-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(data) })
	s.data = data
	if os.Geteuid() == 0 {
		s.cred = runAs(t, "postgres", data)
	}
	s.port = freePort(t)
	s.run(t, "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	t.Cleanup(func() { _ = s.pgctl("stop", "-m", "immediate") })
	s.Start(t)
	return s
}

// URL is the address of the server's postgres database.
func (s *Server) URL() string {
	return "postgres://postgres@127.0.0.1:" + s.port + "/postgres?sslmode=disable&pool_max_conns=4"
}

// Start starts the server and waits until it accepts connections.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c max_connections=50", s.port, s.data)
	if err := s.pgctl("start", "-w", "-t", "30", "-l", filepath.Join(s.data, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.data, "log"))
		t.Fatalf("pg_ctl start: %v\n%s", err, log)
	}
}

// Stop stops the server the fast way: it ends every connection at once
// and rolls back open transactions, as a restart for maintenance does.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.pgctl("stop", "-w", "-m", "fast"); err != nil {
		t.Fatalf("pg_ctl stop: %v", err)
	}
}

func (s *Server) pgctl(args ...string) error {
	return s.command("pg_ctl", append(args, "-D", s.data)...).Run()
}

func (s *Server) run(t testing.TB, program string, args ...string) {
	t.Helper()
	if out, err := s.command(program, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", program, err, out)
	}
}

func (s *Server) command(program string, args ...string) *execpkg.Cmd {
	cmd := execpkg.CommandContext(context.Background(), filepath.Join(s.bin, program), args...)
	cmd.Dir = s.data
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd
}

// serverPrograms returns the folder of the newest PostgreSQL's programs.
func serverPrograms(t testing.TB) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if path, err := execpkg.LookPath("initdb"); err == nil {
			return filepath.Dir(path)
		}
		skipOutsideCI(t, "no PostgreSQL server programs (initdb, pg_ctl) for a test's own server: install Debian's postgresql")
	}
	sort.Slice(found, func(i, j int) bool { return version(found[i]) < version(found[j]) })
	return filepath.Dir(found[len(found)-1])
}

// version reads VERSION from /usr/lib/postgresql/VERSION/bin/initdb.
func version(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}

// runAs returns the credential of the named user and gives it dir.
func runAs(t testing.TB, name, dir string) *syscall.Credential {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("running as root, a test's own PostgreSQL needs the %s user: %v", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// freePort returns a port of 127.0.0.1 that nothing listened on a moment ago.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
