//go:build amd64

// The 32-bit entry (int 0x80) is for tests that check that a filter
// refuses foreign system call ABIs (a classic seccomp escape: the i386
// numbers differ, so a filter that does not check the architecture allows
// the wrong calls).

package abi32

// Syscall makes i386 system call nr with no arguments through int 0x80
// and returns the raw result (a negative errno on failure).
func Syscall(nr uintptr) uintptr

// GetPID is the i386 number of getpid.
const GetPID = 20
