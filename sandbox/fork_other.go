//go:build !amd64 || cgo

package sandbox

import "syscall"

// Elsewhere the direct child is a plain fork: a copy-on-write copy of
// the parent that runs childMain on its copy of the stack.

// sigactionT is unused here (fork_clonevm.go resets the handlers itself).
type sigactionT struct{}

// cloneStackSize is 0: the forked child uses its copy of the stack.
const cloneStackSize = 0

// startChild forks; the child runs childMain and never returns here.
//
//go:nosplit
//go:norace
func startChild(p *forkParams) (int, syscall.Errno) {
	runtimeBeforeFork()
	r1, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if e != 0 || r1 != 0 {
		runtimeAfterFork()
		return int(r1), e
	}
	runtimeAfterForkInChild()
	childMain(p)
	return 0, 0
}
