// Package testutil holds helpers for tests that must run in a separate
// process: pledge and unveil are irreversible, so a test that applies them
// re-executes the test binary and runs only itself there.
package testutil

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// childEnv marks a re-executed test binary; its value is the test name.
const childEnv = "VOW_TEST_CHILD"

// InChild reports whether this process is the re-executed child for the
// running test. A test calls it first:
//
//	if testutil.InChild(t) {
//		// restricted part: pledge, then probe; exit status tells the parent
//		return
//	}
//	out := testutil.RunChild(t, nil)
func InChild(t testing.TB) bool {
	return os.Getenv(childEnv) == t.Name()
}

// Result is what a child test process did.
type Result struct {
	Stdout, Stderr string
	// ExitCode is the exit status, or -1 when the child was killed by a
	// signal (see Signal).
	ExitCode int
	// Signal is the signal that killed the child, or 0.
	Signal syscall.Signal
}

// Options changes how RunChild starts the child.
type Options struct {
	// Env is added to the child's environment.
	Env []string
	// UID and GID, when UID is non-zero, run the child under that user
	// (the test binary is copied to a world-readable place first). Only
	// root can do this; RunChild skips the test otherwise.
	UID, GID uint32
	// Stdin is given to the child; nil means no input.
	Stdin io.Reader
}

// RunChild re-executes the test binary running only the current test, with
// InChild true, and returns what it did. It fails the test if the child
// could not be started at all.
func RunChild(t testing.TB, opts *Options) Result {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("testutil: cannot find the test binary: %v", err)
	}
	if opts.UID != 0 {
		if os.Geteuid() != 0 {
			t.Skip("testutil: running a case as another user needs root")
		}
		exe = copyForUser(t, exe)
	}
	cmd := exec.Command(exe, "-test.run="+runPattern(t.Name()), "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.Env = append(cmd.Env, opts.Env...)
	cmd.Stdin = opts.Stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if opts.UID != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Credential: &syscall.Credential{Uid: opts.UID, Gid: opts.GID, Groups: []uint32{}},
		}
		cmd.Dir = filepath.Dir(exe)
	}
	err = cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("testutil: starting the child failed: %v", err)
		}
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		res.ExitCode, res.Signal = -1, ws.Signal()
	default:
		res.ExitCode = ws.ExitStatus()
	}
	return res
}

// Nobody is the uid/gid used for unprivileged runs.
const Nobody = 65534

func copyForUser(t testing.TB, exe string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vow-test-")
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatalf("testutil: %v", err)
	}
	dst := filepath.Join(dir, filepath.Base(exe))
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatalf("testutil: %v", err)
	}
	return dst
}

// runPattern anchors every level of a (sub)test name: -test.run matches
// the parts between slashes separately.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexpQuote(p) + "$"
	}
	return strings.Join(parts, "/")
}

func regexpQuote(name string) string {
	var b []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if bytes.IndexByte([]byte(`\.+*?()|[]{}^$`), c) >= 0 {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return string(b)
}
