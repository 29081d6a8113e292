package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var probe struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Probe returns the path of the probe program (internal/testutil/probe:
// `probe OP [ARGS...]` makes one system call and prints "ok" or the
// errno's name), built once per test binary with CGO_ENABLED=0, so it is
// a static executable, into a directory every user can read and search
// (tests run it as nobody too). Call CleanupProbe from TestMain. The test
// is skipped when the Go toolchain cannot build it.
func Probe(t testing.TB) string {
	t.Helper()
	probe.once.Do(func() {
		probe.dir, probe.err = os.MkdirTemp("", "vow-probe-")
		if probe.err != nil {
			return
		}
		if probe.err = os.Chmod(probe.dir, 0o755); probe.err != nil {
			return
		}
		probe.path = filepath.Join(probe.dir, "probe")
		gobin, err := exec.LookPath("go")
		if err != nil {
			gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		cmd := exec.Command(gobin, "build", "-o", probe.path, "github.com/vow-sandbox/vow/internal/testutil/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probe.err = fmt.Errorf("go build of the probe failed: %v\n%s", err, out)
		}
	})
	if probe.err != nil {
		t.Skipf("testutil: cannot build the probe program: %v", probe.err)
	}
	return probe.path
}

// CleanupProbe removes the probe program built by Probe, if any.
func CleanupProbe() {
	if probe.dir != "" {
		os.RemoveAll(probe.dir)
	}
}

// PublicDir returns a new directory every user can read and search
// (mode 0755), removed at the end of the test; t.TempDir's directories are
// private to the test's user.
func PublicDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vow-test-")
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return dir
}

// CopyForUser copies the running test binary into a directory every user
// can read (once per call), so that a child can run it as another user.
func CopyForUser(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("testutil: cannot find the test binary: %v", err)
	}
	return copyForUser(t, exe)
}
