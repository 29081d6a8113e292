package pledgecli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// FeatureTest runs -T name (pledge.md §7.10) and returns the exit status:
// "pledge" is 0 when the kernel has seccomp (prctl(PR_GET_SECCOMP) does not
// fail with EINVAL), else 1; "unveil" is 0 when Landlock is usable, else 1;
// any other name prints "<name>: unknown test" on stderr and is 2.
func FeatureTest(stderr io.Writer, name string) int {
	switch name {
	case "pledge":
		if SeccompAvailable() {
			return ExitOK
		}
		return ExitFailure
	case "unveil":
		if LandlockABI() > 0 {
			return ExitOK
		}
		return ExitFailure
	}
	fmt.Fprintf(stderr, "%s: unknown test (use -T pledge or -T unveil)\n", name)
	return ExitTestUnknown
}

// SeccompAvailable reports whether the kernel supports seccomp:
// prctl(PR_GET_SECCOMP) does not fail with EINVAL.
func SeccompAvailable() bool {
	_, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	return !errors.Is(err, unix.EINVAL)
}

// LandlockABI is the Landlock ABI version of the kernel
// (landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)), or
// 0 when Landlock is not usable.
func LandlockABI() int {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	if e != 0 || int(v) < 0 {
		return 0
	}
	return int(v)
}

// StdinTTYName is ttyname(0): the terminal file of stdin, or "" when stdin
// is not a terminal.
func StdinTTYName() string {
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err != nil {
		return ""
	}
	p, err := os.Readlink("/proc/self/fd/0")
	if err != nil || len(p) == 0 || p[0] != '/' {
		return ""
	}
	return p
}
