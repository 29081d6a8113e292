package pledgecli

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func childOK(t *testing.T, opts *testutil.Options) testutil.Result {
	t.Helper()
	res := testutil.RunChild(t, opts)
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	return res
}

func wantCode(t *testing.T, err error, code int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("got %#v, want exit %d", err, code)
	}
}

func TestCheckSetuidFlags(t *testing.T) {
	plain := Creds{UID: 1000, EUID: 1000, GID: 1000, EGID: 1000}
	setuid := Creds{UID: 1000, EUID: 0, GID: 1000, EGID: 1000}
	setgid := Creds{UID: 1000, EUID: 1000, GID: 1000, EGID: 50}
	tests := []struct {
		name   string
		args   []string
		c      Creds
		flags  bool // CheckSetuidFlags fails
		noDrop bool // CheckNoDrop fails
	}{
		{"plain install allows everything", []string{"-u", "5", "-g", "5", "-D"}, plain, false, false},
		{"setuid install, -u", []string{"-u", "5"}, setuid, true, false},
		{"setgid install, -g", []string{"-g", "5"}, setgid, true, false},
		{"setuid install, -u 0 is not given", []string{"-u", "0"}, setuid, false, false},
		{"setuid install, -D", []string{"-D"}, setuid, false, true},
		{"setuid install, nothing", nil, setuid, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse("pledge", append(tt.args, "ls"), testDefaults)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckSetuidFlags(o, tt.c); (err != nil) != tt.flags {
				t.Errorf("CheckSetuidFlags = %v", err)
			} else if err != nil {
				wantCode(t, err, ExitSetuidFlags)
			}
			if err := CheckNoDrop(o, tt.c); (err != nil) != tt.noDrop {
				t.Errorf("CheckNoDrop = %v", err)
			} else if err != nil {
				wantCode(t, err, ExitSetuidFlags)
			}
		})
	}
	if !setuid.SetuidInstall() || !setgid.SetuidInstall() || plain.SetuidInstall() {
		t.Error("SetuidInstall is wrong")
	}
}

// capLines are the Cap* lines of a /proc status file.
func capLines(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	caps := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.HasPrefix(k, "Cap") {
			caps[k] = strings.TrimSpace(v)
		}
	}
	return caps
}

var noCaps = map[string]string{
	"CapInh": "0000000000000000", "CapPrm": "0000000000000000", "CapEff": "0000000000000000",
	"CapBnd": "0000000000000000", "CapAmb": "0000000000000000",
}

func TestDropCapabilities(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		// As the command does: everything on the thread that execs.
		runtime.LockOSThread()
		if err := DropBoundingSet(); err != nil {
			t.Fatal(err)
		}
		if err := ClearCapabilities(); err != nil {
			t.Fatal(err)
		}
		tasks := []string{"/proc/thread-self/status"}
		if allThreadsWorks() { // without cgo, every thread changed
			tasks, _ = filepath.Glob("/proc/self/task/*/status")
		}
		for _, st := range tasks {
			if got := capLines(t, st); !reflect.DeepEqual(got, noCaps) {
				t.Errorf("%s: %v, want no capabilities", st, got)
			}
		}
		// Still root, but PROG gets no capabilities back.
		err := syscall.Exec("/bin/cat", []string{"cat", "/proc/self/status"}, os.Environ())
		t.Fatalf("exec: %v", err)
	}
	res := childOK(t, nil)
	var got []string
	for _, l := range strings.Split(res.Stdout, "\n") {
		if strings.HasPrefix(l, "Cap") {
			got = append(got, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{"CapInh: 0000000000000000", "CapPrm: 0000000000000000", "CapEff: 0000000000000000", "CapBnd: 0000000000000000", "CapAmb: 0000000000000000"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PROG's capabilities %q, want none:\n%s", got, res.Stdout)
	}
}

// TestDropCapabilitiesUnprivileged: an ordinary user cannot drop from the
// bounding set (EPERM), which ends the loop quietly.
func TestDropCapabilitiesUnprivileged(t *testing.T) {
	if testutil.InChild(t) {
		runtime.LockOSThread()
		before := capLines(t, "/proc/thread-self/status")["CapBnd"]
		if err := DropBoundingSet(); err != nil {
			t.Errorf("DropBoundingSet: %v", err)
		}
		if after := capLines(t, "/proc/thread-self/status")["CapBnd"]; after != before {
			t.Errorf("CapBnd %s -> %s", before, after)
		}
		if err := ClearCapabilities(); err != nil {
			t.Errorf("ClearCapabilities: %v", err)
		}
		return
	}
	childOK(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
}

func TestSetIDs(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		if err := syscall.Setgroups([]int{4, 27}); err != nil {
			t.Fatal(err)
		}
		c := CurrentCreds()
		if err := SetIDs("pledge", c, 65534, 65533); err != nil {
			t.Fatalf("SetIDs: %v", err)
		}
		now := CurrentCreds()
		if now != (Creds{UID: 65534, EUID: 65534, GID: 65533, EGID: 65533}) {
			t.Errorf("ids %+v", now)
		}
		if groups, _ := syscall.Getgroups(); len(groups) != 0 {
			t.Errorf("supplementary groups %v, want none", groups)
		}
		return
	}
	childOK(t, nil)
}

func TestSetIDsOnlyGroup(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		syscall.Setgroups([]int{4})
		if err := SetIDs("pledge", CurrentCreds(), 0, 100); err != nil {
			t.Fatalf("SetIDs: %v", err)
		}
		if now := CurrentCreds(); now != (Creds{UID: 0, EUID: 0, GID: 100, EGID: 100}) {
			t.Errorf("ids %+v", now)
		}
		if groups, _ := syscall.Getgroups(); len(groups) != 0 {
			t.Errorf("supplementary groups %v, want none", groups)
		}
		return
	}
	childOK(t, nil)
}

func TestSetIDsNothingGiven(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		syscall.Setgroups([]int{4})
		if err := SetIDs("pledge", CurrentCreds(), 0, 0); err != nil {
			t.Fatalf("SetIDs: %v", err)
		}
		if groups, _ := syscall.Getgroups(); !reflect.DeepEqual(groups, []int{4}) {
			t.Errorf("supplementary groups %v, want [4] untouched", groups)
		}
		return
	}
	childOK(t, nil)
}

// TestSetIDsSetuidInstall simulates a setuid-root install run by user 1000
// (after BecomeOwner made it root): it returns to the invoking user and
// leaves the groups alone.
func TestSetIDsSetuidInstall(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		syscall.Setgroups([]int{4})
		c := Creds{UID: 1000, EUID: 0, GID: 1001, EGID: 0}
		if err := SetIDs("pledge", c, 0, 0); err != nil {
			t.Fatalf("SetIDs: %v", err)
		}
		if now := CurrentCreds(); now != (Creds{UID: 1000, EUID: 1000, GID: 1001, EGID: 1001}) {
			t.Errorf("ids %+v", now)
		}
		if groups, _ := syscall.Getgroups(); !reflect.DeepEqual(groups, []int{4}) {
			t.Errorf("supplementary groups %v", groups)
		}
		return
	}
	childOK(t, nil)
}

func TestSetIDsUnprivileged(t *testing.T) {
	if testutil.InChild(t) {
		c := CurrentCreds()
		wantCode(t, SetIDs("pledge", c, 1000, 0), ExitSetuid)    // setgroups refused
		wantCode(t, SetIDs("pledge", c, 0, 1000), ExitSetgid)    // setgroups refused
		wantCode(t, SetIDs("pledge", c, 1000, 1000), ExitSetgid) // group step first
		if err := SetIDs("pledge", c, 0, 0); err != nil {
			t.Errorf("nothing to do: %v", err)
		}
		err := SetIDs("pledge", c, 1000, 0)
		if !errors.Is(err, unix.EPERM) || !strings.HasPrefix(err.Error(), "pledge: setgroups") {
			t.Errorf("got %v", err)
		}
		return
	}
	childOK(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
}

// mkJail makes a directory that nobody can reach, with a file "hi".
func mkJail(t *testing.T, mode os.FileMode) string {
	t.Helper()
	parent, err := os.MkdirTemp("", "pledgecli-jail-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	os.Chmod(parent, 0o755)
	jail := filepath.Join(parent, "jail")
	if err := os.Mkdir(jail, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(jail, "hi"), []byte("hi\n"), 0o644)
	os.Chmod(jail, mode)
	return jail
}

func TestEnterChroot(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		jail := mkJail(t, 0o755)
		if err := EnterChroot("pledge", jail, CurrentCreds()); err != nil {
			t.Fatalf("EnterChroot: %v", err)
		}
		if wd, _ := os.Getwd(); wd != "/" {
			t.Errorf("cwd %q, want /", wd)
		}
		if data, err := os.ReadFile("/hi"); err != nil || string(data) != "hi\n" {
			t.Errorf("/hi in the jail: %q, %v", data, err)
		}
		return
	}
	childOK(t, nil)
}

func TestEnterChrootErrors(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		root := CurrentCreds()
		// A setuid install run by nobody: the jail must be readable by nobody.
		setuid := Creds{UID: 65534, EUID: 0, GID: 65534, EGID: 0}
		wantCode(t, EnterChroot("pledge", mkJail(t, 0o700), setuid), ExitChrootAccess)
		if CurrentCreds() != root {
			t.Errorf("ids changed to %+v", CurrentCreds())
		}
		// Filesystem ids restored: root can still read a 0700 directory.
		if _, err := os.ReadDir(mkJail(t, 0o700)); err != nil {
			t.Errorf("after the check: %v", err)
		}
		wantCode(t, EnterChroot("pledge", "/nonexistent/jail", root), ExitChdir)
		wantCode(t, EnterChroot("pledge", "", root), ExitChdir)
		if err := EnterChroot("pledge", mkJail(t, 0o755), setuid); err != nil {
			t.Errorf("readable jail: %v", err)
		}
		return
	}
	childOK(t, nil)
}

func TestEnterChrootUnprivileged(t *testing.T) {
	if testutil.InChild(t) {
		err := EnterChroot("pledge", "/", CurrentCreds())
		wantCode(t, err, ExitChroot)
		if err != nil && !strings.Contains(err.Error(), "CAP_SYS_CHROOT") {
			t.Errorf("message %q does not say how to fix it", err)
		}
		return
	}
	childOK(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
}

func TestWithFSIDs(t *testing.T) {
	needRoot(t)
	if testutil.InChild(t) {
		secret := filepath.Join(mkJail(t, 0o700), "hi")
		setuid := Creds{UID: 65534, EUID: 0, GID: 65534, EGID: 0}
		var inside error
		WithFSIDs(setuid, func() error {
			_, inside = os.ReadFile(secret)
			return nil
		})
		if !errors.Is(inside, os.ErrPermission) {
			t.Errorf("read as the invoking user: %v, want permission denied", inside)
		}
		if _, err := os.ReadFile(secret); err != nil {
			t.Errorf("read after WithFSIDs: %v", err)
		}
		// LookPath inside WithFSIDs checks as the user.
		dir := filepath.Dir(secret)
		os.WriteFile(filepath.Join(dir, "prog"), []byte("x"), 0o700)
		var found error
		WithFSIDs(setuid, func() error {
			_, found = LookPath(filepath.Join(dir, "prog"), nil)
			return nil
		})
		if found == nil {
			t.Errorf("LookPath found a program the user cannot run")
		}
		return
	}
	childOK(t, nil)
}

func TestBecomeOwnerPlain(t *testing.T) {
	c := CurrentCreds()
	BecomeOwner(c) // not a setuid install: nothing happens
	if CurrentCreds() != c {
		t.Errorf("ids changed")
	}
}

// allThreadsWorks reports whether syscall.AllThreadsSyscall is available
// (it is not when cgo is linked, e.g. under -race).
func allThreadsWorks() bool {
	_, _, e := syscall.AllThreadsSyscall(syscall.SYS_GETPID, 0, 0, 0)
	return e != syscall.ENOTSUP
}
