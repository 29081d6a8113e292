package pledgecli

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
)

func fdFlags(t *testing.T, fd int) int {
	t.Helper()
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("fcntl(%d, F_GETFD): %v", fd, err)
	}
	return flags
}

// leakFDs opens descriptors without close-on-exec, as an inheriting parent
// would leave them: a low one and a high one past the poll window.
func leakFDs(t *testing.T) []int {
	t.Helper()
	fd, err := unix.Open("/dev/null", unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(fd, 300); err != nil {
		t.Fatal(err)
	}
	for _, f := range []int{fd, 300} {
		if fdFlags(t, f)&unix.FD_CLOEXEC != 0 {
			t.Fatalf("descriptor %d is already close-on-exec", f)
		}
	}
	return []int{fd, 300}
}

func TestNormalizeFDs(t *testing.T) {
	if testutil.InChild(t) {
		leaked := leakFDs(t)
		// stdin closed: it must come back on /dev/null.
		if err := unix.Close(0); err != nil {
			t.Fatal(err)
		}
		if err := NormalizeFDs(); err != nil {
			t.Fatalf("NormalizeFDs: %v", err)
		}
		if target, err := os.Readlink("/proc/self/fd/0"); err != nil || target != "/dev/null" {
			t.Errorf("descriptor 0 is %q, %v; want /dev/null", target, err)
		}
		for fd := 0; fd < 3; fd++ {
			if fdFlags(t, fd)&unix.FD_CLOEXEC != 0 {
				t.Errorf("descriptor %d is close-on-exec; stdio must survive execve", fd)
			}
		}
		for _, fd := range leaked {
			if fdFlags(t, fd)&unix.FD_CLOEXEC == 0 {
				t.Errorf("descriptor %d is not close-on-exec", fd)
			}
		}
		return
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

// TestNormalizeFDsExec checks the outcome PROG sees: after NormalizeFDs and
// execve, only 0, 1 and 2 are open (ls adds its own directory descriptor).
func TestNormalizeFDsExec(t *testing.T) {
	ls := "/bin/ls"
	if _, err := os.Stat(ls); err != nil {
		t.Skip("no /bin/ls")
	}
	if testutil.InChild(t) {
		leakFDs(t)
		unix.Close(0)
		if err := NormalizeFDs(); err != nil {
			t.Fatalf("NormalizeFDs: %v", err)
		}
		err := syscall.Exec(ls, []string{"ls", "-1", "/proc/self/fd"}, os.Environ())
		t.Fatalf("exec: %v", err)
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
	if got := strings.Fields(res.Stdout); strings.Join(got, " ") != "0 1 2 3" {
		t.Errorf("descriptors open in PROG: %q, want 0 1 2 (and 3, ls's own)", got)
	}
}

// TestNormalizeFDsSmallLimit: with a soft RLIMIT_NOFILE below 3 the poll
// window is still 0..2.
func TestNormalizeFDsSmallLimit(t *testing.T) {
	if testutil.InChild(t) {
		var old syscall.Rlimit
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
		// Descriptors above the new limit stay usable; new ones cannot
		// be opened above it.
		unix.Close(2)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: 3, Max: old.Max}); err != nil {
			t.Fatal(err)
		}
		if err := NormalizeFDs(); err != nil {
			t.Fatalf("NormalizeFDs: %v", err)
		}
		if target, _ := os.Readlink("/proc/self/fd/2"); target != "/dev/null" {
			t.Errorf("descriptor 2 is %q, want /dev/null", target)
		}
		return
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}

func TestCloexecFrom(t *testing.T) {
	if testutil.InChild(t) {
		leaked := leakFDs(t)
		if err := cloexecFrom(3); err != nil {
			t.Fatal(err)
		}
		for _, fd := range leaked {
			if fdFlags(t, fd)&unix.FD_CLOEXEC == 0 {
				t.Errorf("descriptor %d is not close-on-exec", fd)
			}
		}
		if fdFlags(t, 1)&unix.FD_CLOEXEC != 0 {
			t.Errorf("descriptor 1 became close-on-exec")
		}
		return
	}
	res := testutil.RunChild(t, nil)
	if res.ExitCode != 0 {
		t.Fatalf("child failed (%d):\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
	}
}
