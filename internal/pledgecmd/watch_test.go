package pledgecmd_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// The default mode runs PROG in pledge's place and logs from a watcher
// process (sandbox/watch.go). These tests check what that changes.

func needWatcher(t *testing.T) {
	t.Helper()
	if !sandbox.ExecCanLog(os.Stderr) {
		t.Skip("this build supervises from the parent (sandbox.ExecCanLog: x86-64 without cgo only)")
	}
}

// TestWatcherSurvivesSignals: a Ctrl-C (and SIGTERM, SIGHUP, SIGQUIT) to
// the process group reaches the watcher too, which ignores them: PROG,
// which ignores them as well here, still has its refused calls logged
// and failed with EPERM (a dead watcher would leave ENOSYS and no log).
func TestWatcherSurvivesSignals(t *testing.T) {
	needWatcher(t)
	probe := testutil.Probe(t)
	nr, _ := sysno.Native().Number("socket")
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			script := `trap "" INT TERM HUP QUIT; kill -INT 0; kill -TERM 0; kill -HUP 0; kill -QUIT 0; exec "$0" pid inet`
			r := pledge(t, &runOpts{nobody: nobody, pgid: true}, "-V", "-p", "stdio rpath proc exec", "/bin/sh", "-c", script, probe)
			var pid int
			fmt.Sscanf(r.stdout, "pid %d\n", &pid)
			want := fmt.Sprintf("error: protected syscall socket (ord=%03x); pledge promise 'inet' to allow (pid %d)", nr, pid)
			if r.code != 0 || !strings.Contains(r.stdout, "EPERM") || !strings.Contains(r.stderr, want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want EPERM and the line %q", r.code, r.stdout, r.stderr, want)
			}
		})
	}
}

// TestWatcherEndsWithProgram: the watcher holds a duplicate of stderr
// for its log, and lets go of it when PROG ends, even while a process
// PROG started still runs under the filter; a caller that reads PROG's
// stderr to its end (as pledge's test helper does) is not held up.
func TestWatcherEndsWithProgram(t *testing.T) {
	needWatcher(t)
	start := time.Now()
	r := pledge(t, nil, "-V", "-p", "stdio rpath proc exec", "/bin/sh", "-c", "sleep 30 </dev/null >/dev/null 2>&1 & echo $!")
	elapsed := time.Since(start)
	if pid, err := strconv.Atoi(strings.TrimSpace(r.stdout)); err == nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if elapsed > 20*time.Second {
		t.Errorf("pledge's stderr stayed open %v, until its background child ended", elapsed)
	}
}

// TestWatcherNotAChild: PROG has no children it did not make: the
// watcher's middle process is reaped before the execve and the watcher
// itself belongs to init (or the nearest subreaper).
func TestWatcherNotAChild(t *testing.T) {
	needWatcher(t)
	for _, nobody := range users(t) {
		t.Run(userName(nobody), func(t *testing.T) {
			r := pledge(t, &runOpts{nobody: nobody}, "-V", "-p", "stdio rpath exec", "/bin/sh", "-c", `exec cat /proc/$$/task/$$/children`)
			if r.code != 0 || strings.TrimSpace(r.stdout) != "" {
				t.Errorf("exit %d, children %q (want none), stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestWatcherPID1: as process 1 of a pid namespace (a container without
// an init), pledge supervises PROG as its parent instead of execing it in
// its place: process 1 inherits every orphan, so the watcher would become
// PROG's child, and a PROG that waits for all its children
// (waitpid(-1, …) until ECHILD) would wait for the watcher, which waits
// for PROG.
func TestWatcherPID1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("needs unshare(1) (util-linux)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--pid", "--fork", testBinary(t, false),
		"-V", "-p", "stdio rpath proc exec", "/bin/sh", "-c", "/bin/true & wait; echo $$ done")
	cmd.Env = append(os.Environ(), mainEnv+"=pledge")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("pledge as process 1 did not finish: %q", out)
	}
	if err != nil && strings.HasPrefix(string(out), "unshare:") {
		t.Skipf("unshare(1) cannot make a pid namespace here: %s", out)
	}
	// The shell is pledge's child, not process 1 in pledge's place.
	f := strings.Fields(string(out))
	if err != nil || len(f) != 2 || f[0] == "1" || f[1] != "done" {
		t.Errorf("%v, output %q; want \"PID done\" from a shell that is not process 1", err, out)
	}
}
