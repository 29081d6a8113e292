package pledgecmd_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/internal/pledgecmd"
	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

// mainEnv makes the re-executed test binary the pledge command; its value
// is the command name.
const mainEnv = "VOW_TEST_PLEDGE_MAIN"

func TestMain(m *testing.M) {
	sandbox.Init()
	if name, ok := os.LookupEnv(mainEnv); ok {
		os.Unsetenv(mainEnv)
		os.Exit(pledgecmd.Run(name, os.Args[1:]))
	}
	code := m.Run()
	testutil.CleanupProbe()
	if nobodyBin.dir != "" {
		os.RemoveAll(nobodyBin.dir)
	}
	os.Exit(code)
}

// result is what one pledge command did.
type result struct {
	stdout, stderr string
	// code is the exit status, -1 when a signal ended the command.
	code int
	sig  syscall.Signal
	pid  int // the pledge process
}

// runOpts changes how the command is run.
type runOpts struct {
	nobody bool // run as nobody (root only; skips otherwise)
	name   string
	stdin  *os.File
	extra  []*os.File
	env    []string
	pgid   bool // in a process group of its own
}

// nobodyBin is a copy of the test binary nobody can run.
var nobodyBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func testBinary(t *testing.T, nobody bool) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if !nobody {
		return exe
	}
	if os.Geteuid() != 0 {
		t.Skip("running as nobody needs root")
	}
	nobodyBin.once.Do(func() {
		nobodyBin.dir, nobodyBin.err = os.MkdirTemp("", "vow-pledgecmd-")
		if nobodyBin.err != nil {
			return
		}
		os.Chmod(nobodyBin.dir, 0o755)
		var data []byte
		if data, nobodyBin.err = os.ReadFile(exe); nobodyBin.err != nil {
			return
		}
		nobodyBin.path = filepath.Join(nobodyBin.dir, "pledgecmd.test")
		nobodyBin.err = os.WriteFile(nobodyBin.path, data, 0o755)
	})
	if nobodyBin.err != nil {
		t.Fatal(nobodyBin.err)
	}
	return nobodyBin.path
}

// pledge runs the pledge command (this test binary re-executed) with args.
func pledge(t *testing.T, o *runOpts, args ...string) result {
	t.Helper()
	if o == nil {
		o = &runOpts{}
	}
	name := o.name
	if name == "" {
		name = "pledge"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testBinary(t, o.nobody), args...)
	cmd.Env = append(append(os.Environ(), mainEnv+"="+name), o.env...)
	cmd.Stdin = o.stdin
	cmd.ExtraFiles = o.extra
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: o.pgid}
	if o.nobody {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: testutil.Nobody, Gid: testutil.Nobody, Groups: []uint32{}}
		cmd.Dir = "/"
	}
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("running pledge %q: %v", args, err)
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("pledge %q did not finish within 60s; stderr:\n%s", args, r.stderr)
	}
	r.pid = cmd.Process.Pid
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		r.code, r.sig = -1, ws.Signal()
	} else {
		r.code = ws.ExitStatus()
	}
	return r
}

// users are the users the behaviour tests run as.
func users(t *testing.T) []bool {
	if os.Geteuid() == 0 {
		return []bool{false, true}
	}
	return []bool{false}
}

func userName(nobody bool) string {
	if nobody {
		return "nobody"
	}
	return "self"
}

// fixture is a directory with files owned by the user a test runs as.
type fixture struct {
	dir  string
	file string // a regular file, mode 0644, owned by the user
}

func newFixture(t *testing.T, nobody bool) fixture {
	t.Helper()
	dir := testutil.PublicDir(t)
	f := fixture{dir: dir, file: filepath.Join(dir, "file")}
	if err := os.WriteFile(f.file, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if nobody {
		for _, p := range []string{dir, f.file} {
			if err := os.Chown(p, testutil.Nobody, testutil.Nobody); err != nil {
				t.Fatal(err)
			}
		}
	}
	return f
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
