package host

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/sandbox"
)

// testExe is the worker binary the tests start: "" (this test binary,
// the default path) unless the test binary cannot serve as a worker.
var testExe string

// workerEnvForTests passes a built worker to re-executed test binaries.
const workerEnvForTests = "VOW_HOST_TEST_WORKER"

func TestMain(m *testing.M) {
	Init()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	devNull() // opened once per process and kept: not a leak of the first test
	if cgoEnabled && sandbox.LandlockABI() > 0 && sandbox.LandlockABI() < 8 {
		// A binary built with cgo (as go test -race builds it) cannot
		// restrict all its threads with Landlock before ABI 8, so it
		// cannot be the sandboxed child; the tests then use the example
		// program built with CGO_ENABLED=0 as the worker, which is what
		// doc.go recommends to programs that need cgo.
		if exe := os.Getenv(workerEnvForTests); exe != "" {
			testExe = exe
		} else {
			dir, err := os.MkdirTemp("", "vow-host-worker-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			os.Chmod(dir, 0o755)
			testExe = filepath.Join(dir, "plugind")
			cmd := exec.Command("go", "build", "-o", testExe, "../examples/plugind")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "host tests: building a CGO_ENABLED=0 worker for this cgo test binary: %v\n%s", err, out)
				return 1
			}
			os.Setenv(workerEnvForTests, testExe)
		}
		defaultExecutable = testExe // for the Example functions
	}
	return m.Run()
}

// skipIfCgo skips a test of the default worker (this binary) in a cgo
// build, where it cannot work (see testMain), and where the default is
// the CGO_ENABLED=0 worker.
func skipIfCgo(t *testing.T) {
	if testExe != "" {
		t.Skip("this test binary is built with cgo (go test -race?) and Landlock is older than ABI 8: " +
			"it cannot restrict all its threads, so it cannot be its own sandboxed worker; the other tests use a CGO_ENABLED=0 worker")
	}
}

// counts are the goroutines and open descriptors of this process.
type counts struct{ goroutines, fds int }

func countNow(t *testing.T) counts {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return counts{runtime.NumGoroutine(), len(ents)}
}

// checkNoLeaks waits up to 5 s for the goroutines and descriptors to come
// back to before (counted with countNow) and fails the test if they do
// not.
func checkNoLeaks(t *testing.T, before counts) {
	t.Helper()
	var now counts
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if now = countNow(t); now.goroutines <= before.goroutines && now.fds <= before.fds {
			return
		}
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	ents, _ := os.ReadDir("/proc/self/fd")
	var fds []string
	for _, e := range ents {
		l, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds = append(fds, e.Name()+"→"+l)
	}
	t.Errorf("leak: %d goroutines and %d descriptors, %d and %d before\nfds: %s\n%s",
		now.goroutines, now.fds, before.goroutines, before.fds, strings.Join(fds, " "), buf)
}
