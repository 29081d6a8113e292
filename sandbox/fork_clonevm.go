//go:build amd64 && !cgo

package sandbox

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On x86-64, in a build without cgo, the direct child shares the
// parent's memory (CLONE_VM) and runs on a stack of its own, like
// posix_spawn's child: no copy of the parent's page tables at the clone,
// no copy-on-write faults on either side, and nothing to tear down at the
// child's execve (about 0.6 ms of a launch, docs/benchmarks.md). The parent goes on meanwhile (no
// CLONE_VFORK: the child waits for the parent's go-ahead before its
// execve). This is safe because the child runs nosplit code only (no
// stack checks, so the foreign stack is never noticed), writes no
// pointers (no write barriers) and allocates nothing, touches none of the
// runtime's state (it resets the signal handlers itself rather than with
// runtime_AfterForkInChild, whose global flag and, with cgo, g0 stack it
// would share with the running parent), its signals stay blocked until
// the handlers are reset, and the parent keeps p, and with it the stack,
// alive until the child has exec'd or exited.
//
// Not with cgo: under the race detector about one child in 400 died of
// SIGSEGV before its first report (TestLaunchConcurrent); the cause was
// not found, so cgo builds (which vow does not recommend anyway: see
// README) fork instead.

// cloneStackSize is the child's stack: childEntry and childMain need a
// few kilobytes.
const cloneStackSize = 64 << 10

// cloneVM is in fork_clonevm_amd64.s.
func cloneVM(flags, stack uintptr, p unsafe.Pointer, entry uintptr) (pid, errno uintptr)

// The entries of cloneVM's child.
const (
	entryChild   = 0 // childEntry(*forkParams)
	entryWatch   = 1 // watchEntry(*watchParams)
	entryWatcher = 2 // watcherEntry(*watchParams)
)

// startChild starts the child on its own stack in this address space.
func startChild(p *forkParams) (int, syscall.Errno) {
	top := (uintptr(unsafe.Pointer(&p.stack[0])) + uintptr(len(p.stack))) &^ 15
	// The signal mask the program gets: this thread's, read before
	// runtime_BeforeFork blocks every signal (the child inherits that
	// and restores this).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_BLOCK, 0, uintptr(unsafe.Pointer(&p.sigmask)), 8, 0, 0)
	return cloneChild(p, top)
}

//go:nosplit
//go:norace
func cloneChild(p *forkParams, top uintptr) (int, syscall.Errno) {
	runtimeBeforeFork()
	pid, e := cloneVM(syscall.CLONE_VM|uintptr(syscall.SIGCHLD), top, unsafe.Pointer(p), entryChild)
	runtimeAfterFork()
	return int(pid), syscall.Errno(e)
}

// sigactionT is the kernel's struct sigaction on x86-64.
type sigactionT struct {
	handler, flags, restorer, mask uint64
}

// childEntry is where the child starts (called from cloneVM).
//
//go:nosplit
//go:norace
func childEntry(p *forkParams) {
	// Every caught signal back to its default action, then the mask the
	// program gets.
	resetHandlers(&p.sigDefault, &p.sigOld)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&p.sigmask)), 0, 8, 0, 0)
	childMain(p)
}

// resetHandlers gives every caught signal its default action (ignored
// ones stay ignored, as execve keeps them): the parent's handlers are Go
// code that must not run in a child that shares its memory. dfl is a
// zeroed sigaction, old scratch space.
//
//go:nosplit
//go:norace
func resetHandlers(dfl, old *sigactionT) {
	for sig := uintptr(1); sig <= 64; sig++ {
		if sig == uintptr(syscall.SIGKILL) || sig == uintptr(syscall.SIGSTOP) {
			continue
		}
		_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, 0, uintptr(unsafe.Pointer(old)), 8, 0, 0)
		if e == 0 && old.handler != 0 && old.handler != 1 { // neither SIG_DFL nor SIG_IGN
			syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, sig, uintptr(unsafe.Pointer(dfl)), 0, 8, 0, 0)
		}
	}
}
