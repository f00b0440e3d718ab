package server

import (
	"os"
	"testing"
)

// requireTool fails the test in CI, where .ci/run installs every tool, and
// skips it elsewhere with the install command.
func requireTool(t testing.TB, tool, debianPackage string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing: .ci/run must install it (apt-get install -y %s)", tool, debianPackage)
	}
	t.Skipf("%s not found; apt-get install -y %s to run this test", tool, debianPackage)
}
