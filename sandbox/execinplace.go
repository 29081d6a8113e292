package sandbox

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
)

// Cmd.Exec of a launch the process can prepare itself (launchSpec.
// preparable: no chroot, working directory, user or group change, not a
// set-user-ID install, not pledged) takes the direct child's way without
// the child: the Go code works everything out on whatever thread it runs
// (descriptors, resource limits, the program, the filter compiled for
// this pid, the unveil ruleset), then execInPlace applies every
// per-thread restriction and execs, all in one function of raw system
// calls. Being nosplit it has no preemption points, so it cannot move to
// another thread half way, and no runtime.LockOSThread is needed: that
// would start the runtime's template thread (about 0.1 ms, and one more
// thread for execve to end). Everything else goes through
// launchSpec.run on a locked thread.

// execPrepared is Exec's way for a preparable spec; it returns only on
// failure. stdin is the program's standard input (for the tty unveils).
func (s *launchSpec) execPrepared(w *watchParams, stdin *os.File) *LaunchError {
	if s.NormalizeFDs {
		if err := pledgecli.NormalizeFDs(); err != nil {
			return asLaunchError(err)
		}
	}
	for _, r := range s.Rlimits {
		if !lateLimit(r.Resource) {
			if err := r.apply(); err != nil {
				return asLaunchError(err)
			}
		}
	}
	pl, le := s.plan(pledgecli.CurrentCreds(), os.Getpid())
	if le != nil {
		return le
	}
	if s.AutoUnveil || s.Unveil != nil {
		if le := s.prepareRuleset(pl, stdin); le != nil {
			return le
		}
	}
	if pl.rs != nil {
		defer pl.rs.Close()
	}
	for _, r := range s.Rlimits {
		if lateLimit(r.Resource) {
			if err := r.apply(); err != nil {
				return asLaunchError(err)
			}
		}
	}
	p, err := newForkParams(s, pl, nil, false)
	if err != nil {
		return asLaunchError(err)
	}
	p.limits = nil // set above, as the Go launcher does
	if p.ruleset >= 0 {
		// execInPlace closes its own copy once it is enforced.
		fd, err := unix.FcntlInt(uintptr(p.ruleset), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return &LaunchError{Code: pledgecli.ExitUnveil, Msg: s.Name + ": unveil: duplicating the ruleset descriptor: " + err.Error(), Errno: errnoOf(err)}
		}
		p.rulesetFinal = fd
	} else {
		p.rulesetFinal = -1
		// Exec reports a failed execve properly even after the filter
		// (reportExecFailure), so it checks only where Landlock may
		// refuse the execve: the message then names the file and
		// suggests an unveil.
		p.checks = nil
	}
	if w.watching && pl.final != nil {
		w.setProgram(*pl.final)
	}
	if pl.final != nil {
		go w.reportExecFailure(s.Name, pl.path)
	}
	// No garbage collection from here on: its stop-the-world signals
	// must not reach the filtered thread before the execve (§9.8).
	debug.SetGCPercent(-1)
	step, e, index := execInPlace(p, w)
	runtime.KeepAlive(p)
	if p.rulesetFinal >= 0 {
		unix.Close(p.rulesetFinal) // execInPlace failed before enforcing it
	}
	return (&launcher{plan: pl}).stepFailure(s, step, e, index)
}

// execInPlace applies the per-thread restrictions to the calling thread
// and execs the program, with raw system calls only (see above). It
// returns the step that failed before the filter was installed. After
// that a failed execve is stored in w.execErr and the thread ends itself
// (exit is allowed by every filter), for reportExecFailure to tell.
//
//go:nosplit
//go:norace
func execInPlace(p *forkParams, w *watchParams) (step byte, errno syscall.Errno, index int) {
	childNice(p)
	if step, e, i := childRestrict(p); e != 0 {
		return step, e, i
	}
	path := uintptr(unsafe.Pointer(p.path))
	argv := uintptr(unsafe.Pointer(&p.argv[0]))
	envv := uintptr(unsafe.Pointer(&p.envv[0]))
	if len(p.insns) == 0 {
		_, _, e := syscall.RawSyscall6(unix.SYS_EXECVE, path, argv, envv, 0, 0, 0)
		return stepExec, e, 0
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
		return stepNoNewPrivs, e, 0
	}
	// From here on the kernel zeroes w.execWord and wakes its waiters
	// (reportExecFailure, the watcher) when this thread execs or ends.
	syscall.RawSyscall6(unix.SYS_SET_TID_ADDRESS, uintptr(unsafe.Pointer(&w.execWord)), 0, 0, 0, 0, 0)
	var flags uintptr
	if p.notify {
		flags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	}
	l, _, e := syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&p.fprog)), 0, 0, 0)
	if e != 0 {
		return stepPledge, e, 0
	}
	if p.notify {
		atomic.StoreInt32(&w.listener, int32(l))
		atomic.StoreUint32(&w.installed, 1)
	}
	_, _, e = syscall.RawSyscall6(unix.SYS_EXECVE, path, argv, envv, 0, 0, 0)
	atomic.StoreUint32(&w.execErr, uint32(e))
	for {
		syscall.RawSyscall6(unix.SYS_EXIT, pledgecli.ExitExec, 0, 0, 0, 0, 0)
	}
}
