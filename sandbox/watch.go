package sandbox

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// Violation logging for Cmd.Exec: the process pledges itself and execs
// the program in its own place, so no parent is left to hold the filter's
// listener. Before it restricts anything, Exec starts a watcher: a
// process that shares its memory and descriptor table (CLONE_VM |
// CLONE_FILES; x86-64 without cgo, watch_clonevm.go), started through a
// short-lived middle process (CLONE_VFORK: Exec waits the few tens of
// microseconds until it has cloned the watcher and exited, then reaps
// it), so that the watcher is nobody's child (it is handed to init or the
// nearest subreaper) and the program does not inherit an unknown child.
//
// The watcher runs raw system calls only, on a stack of its own:
//
//  1. With every signal blocked (so that none runs the parent's Go
//     handlers) it waits on watchParams.execWord, the exec'ing thread's
//     clear_child_tid (set_tid_address): the kernel zeroes it and wakes
//     the watcher when that thread execs or dies. Until then the
//     descriptor table is shared, so the filter's listener, installed by
//     the pledging thread, lands in the watcher's table too; execve gives
//     the program a private copy (whose close-on-exec listener it closes)
//     and leaves the watcher the original. If the filter was not
//     installed, or the execve failed, it exits.
//  2. It resets its signals (below) and keeps four descriptors, at fixed
//     numbers: 2 the log (a duplicate of Log), 3 the listener, 4 a pidfd
//     of the program, 5 this binary (/proc/self/exe, opened now: the
//     watcher's address space is still pledge's), and closes the rest,
//     so it holds none of the program's pipes.
//  3. It polls the listener and the pidfd. When the program ends it
//     exits. On the first violation it execve's this binary with
//     watchEnv set: Init then runs a Supervisor on descriptor 3 (Go code,
//     so the log names the promise that allows the call with its
//     arguments), which stops when the program ends. The refused call
//     waits meanwhile (a few milliseconds, once). Without /proc it
//     answers EPERM itself, without logging.
//
// So a program that never violates its promises pays for two clones
// (about 0.15 ms here), not for a second Go process. A failed execve
// after the filter is reported by reportExecFailure. The watcher ignores
// the terminal's and job control's signals (SIGINT, SIGQUIT, SIGHUP,
// SIGTSTP, …, also SIGTERM, SIGUSR1/2, SIGALRM and SIGPIPE): it ends
// with the program, and the program alone decides what a Ctrl-C does to
// it. SIGKILL ends it early; the kernel then fails the program's refused
// calls with ENOSYS instead of EPERM.
const watchEnv = "_VOW_SANDBOX_WATCH"

// The watcher's descriptors once the program runs.
const (
	watchFDLog      = 2
	watchFDListener = 3
	watchFDPidfd    = 4
	watchFDExe      = 5
)

// watchIgnored are the signals the watcher ignores (see above).
var watchIgnored = [...]uintptr{
	uintptr(unix.SIGHUP), uintptr(unix.SIGINT), uintptr(unix.SIGQUIT), uintptr(unix.SIGPIPE),
	uintptr(unix.SIGTERM), uintptr(unix.SIGUSR1), uintptr(unix.SIGUSR2), uintptr(unix.SIGALRM),
	uintptr(unix.SIGTSTP), uintptr(unix.SIGTTIN), uintptr(unix.SIGTTOU), uintptr(unix.SIGVTALRM),
	uintptr(unix.SIGPROF), uintptr(unix.SIGXCPU), uintptr(unix.SIGXFSZ),
}

// watchParams is shared by the pledging process and its watcher. It is
// set up before the clone; afterwards the pledging process only sets the
// Go side's environment (setProgram, which the watcher reads once this
// thread has exec'd) and stores integers (installed, listener, execErr),
// and the watcher writes only its own scratch fields, never a pointer.
type watchParams struct {
	execWord  uint32 // 1; the kernel zeroes it when the exec'ing thread execs or exits
	installed uint32 // 1 once the filter and its listener are in place
	listener  int32
	execErr   uint32 // errno of an execve that failed after the install

	pidfd, log int // in the shared table
	middle     int // the middle process (reaped once it has started the watcher)
	watching   bool
	mode       Mode

	stack      []byte
	top        uintptr  // the watcher's stack (the middle process has the lower half)
	argv, envv []*byte  // the execve of the Go side
	env        []byte   // the watchEnv entry
	exePath    [64]byte // watchExe, NUL-terminated
	exe        int      // the watcher's descriptor of it

	sigDefault, sigIgnore, sigOld sigactionT
	mask                          uint64
	ts                            unix.Timespec
	fds                           [2]unix.PollFd
	notif                         seccompNotif
	resp                          seccompNotifResp
}

// watches keeps every watcher's parameters (and stack) alive: the
// watcher may use them after Exec's frames are gone, until execve.
var watches atomic.Pointer[watchParams]

// ExecCanLog reports whether [Cmd.Exec] can log violations to log here:
// log must be an *os.File, the build x86-64 without cgo, and the
// process neither a set-user-ID or set-group-ID install (the watcher
// would keep the owner's privileges) nor process 1 (of its pid
// namespace: the orphaned watcher would become the program's child).
// Otherwise use Start, which supervises from the parent.
func ExecCanLog(log io.Writer) bool {
	return execLogError(log) == ""
}

// execLogError says why Exec cannot log to log, or "".
func execLogError(log io.Writer) string {
	if _, ok := log.(*os.File); !ok {
		return fmt.Sprintf("Exec logs violations to a file only (Log is a %T, not an *os.File)", log)
	}
	if !watchSupported {
		return "Exec logs violations only on x86-64 in a build without cgo (its watcher shares this process's memory)"
	}
	if pledgecli.CurrentCreds().SetuidInstall() {
		return "Exec does not log violations in a set-user-ID or set-group-ID install"
	}
	if os.Getpid() == 1 {
		// Orphans go to process 1: the watcher would become the
		// program's child, and a program that waits for all its
		// children would wait for it, which waits for the program.
		return "Exec does not log violations in process 1 (the watcher would become the program's child)"
	}
	return ""
}

// newExecWait returns the parameters Exec shares with reportExecFailure
// and its watcher.
func newExecWait() *watchParams {
	w := &watchParams{execWord: 1, pidfd: -1, log: -1, middle: -1}
	watches.Store(w)
	return w
}

// bindThread makes the calling thread's clear_child_tid point at
// execWord: the kernel zeroes it and wakes its waiters when this thread
// execs or ends. The calling goroutine must be locked to the thread that
// will exec (launchSpec.run; execInPlace does this itself).
func (w *watchParams) bindThread() {
	syscall.RawSyscall(unix.SYS_SET_TID_ADDRESS, uintptr(unsafe.Pointer(&w.execWord)), 0, 0)
}

// abandon tells the watcher and reportExecFailure that the launch failed
// before the filter was installed: both end.
func (w *watchParams) abandon() {
	atomic.StoreUint32(&w.execWord, 0)
	syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.execWord)), futexWake, 1<<30, 0, 0, 0)
}

// startWatcher prepares the watcher for a launch of spec that logs to
// log and starts it.
func (w *watchParams) startWatcher(spec *launchSpec, log *os.File) *LaunchError {
	fail := func(what string, err error) *LaunchError {
		return &LaunchError{Code: pledgecli.ExitPledge, Msg: spec.Name + ": violation logging: " + what + ": " + err.Error() + " (use -q, or leave Log unset, to run without logging)", Errno: errnoOf(err)}
	}
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return fail("pidfd_open", err)
	}
	// Above 0, 1 and 2, which the launch may still fill in (NormalizeFDs).
	w.pidfd, err = unix.FcntlInt(uintptr(pidfd), unix.F_DUPFD_CLOEXEC, 3)
	unix.Close(pidfd)
	if err != nil {
		return fail("duplicating the pidfd", err)
	}
	if w.log, err = unix.FcntlInt(log.Fd(), unix.F_DUPFD_CLOEXEC, 3); err != nil {
		w.close()
		return fail("duplicating the log descriptor", err)
	}
	w.mode = spec.Mode
	name, _ := syscall.BytePtrFromString(strings.ReplaceAll(spec.Name, "\x00", ""))
	w.argv = []*byte{name, nil}
	copy(w.exePath[:len(w.exePath)-1], watchExe)
	w.stack = make([]byte, 2*watchStackSize)
	w.ts = unix.NsecToTimespec(50e6)
	w.watching = true
	if e := w.start(); e != 0 {
		w.close()
		return fail("clone", e)
	}
	if le := w.reap(spec.Name); le != nil {
		w.close()
		return le
	}
	return nil
}

// watchExe is the binary the watcher starts as its Go side:
// /proc/self/exe names the executable of the watcher's address space,
// which is still pledge's after pledge's execve. Tests change it to see
// the watcher answer without it.
var watchExe = "/proc/self/exe"

// watchRuntimeEnv tunes the Go side's runtime (see launcherRuntimeEnv);
// it keeps its garbage collector, since it may run as long as the
// program.
var watchRuntimeEnv = []string{"GOMAXPROCS=1", "GODEBUG=containermaxprocs=0,updatemaxprocs=0,decoratemappings=0"}

// setProgram prepares the Go side's execve for a program running under
// the promises final, which it needs for naming those that would allow
// a call.
func (w *watchParams) setProgram(final promise.Set) {
	w.env = []byte(fmt.Sprintf("%s=%d:%d\x00", watchEnv, uint32(final), uint32(w.mode)))
	w.envv = []*byte{&w.env[0]}
	for _, e := range watchRuntimeEnv {
		b, _ := syscall.BytePtrFromString(e)
		w.envv = append(w.envv, b)
	}
	w.envv = append(w.envv, nil)
}

// close closes the descriptors of a watcher that did not start.
func (w *watchParams) close() {
	for _, fd := range []int{w.pidfd, w.log} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// reap waits for the middle process, which has ended or is ending (it
// ends as soon as it has cloned the watcher, and start waits for that),
// and reports a failure of that clone.
func (w *watchParams) reap(name string) *LaunchError {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(w.middle, &ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return &LaunchError{Code: pledgecli.ExitPledge, Msg: name + ": violation logging: waiting for the watcher's start: " + err.Error(), Errno: errnoOf(err)}
		}
		break
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		e := syscall.Errno(ws.ExitStatus())
		return &LaunchError{Code: pledgecli.ExitPledge, Msg: fmt.Sprintf("%s: violation logging: starting the watcher: clone: %v (wait status %#x)", name, e, uint32(ws)), Errno: e}
	}
	return nil
}

// setInstalled records the filter's listener: from here on the watcher
// supervises it once this thread has exec'd.
func (w *watchParams) setInstalled(listener uintptr) {
	atomic.StoreInt32(&w.listener, int32(listener))
	atomic.StoreUint32(&w.installed, 1)
}

// serveWatch is the Go side of the watcher (Init, when watchEnv is set):
// it supervises the filter's listener until the program ends. It does
// not return.
func serveWatch(v string) {
	fields := strings.Split(v, ":")
	var n [2]uint64
	var err error
	for i := range n {
		if len(fields) != len(n) {
			break
		}
		if n[i], err = strconv.ParseUint(fields[i], 10, 32); err != nil {
			break
		}
	}
	if len(fields) != len(n) || err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %s=%q: this variable is internal to sandbox.Cmd.Exec\n", watchEnv, v)
		os.Exit(pledgecli.ExitFailure)
	}
	unix.Close(watchFDExe)
	signal.Ignore(unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGPIPE, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
		unix.SIGALRM, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGVTALRM, unix.SIGPROF, unix.SIGXCPU, unix.SIGXFSZ)
	sup := NewSupervisor(os.NewFile(watchFDListener, "seccomp listener"), SupervisorConfig{
		Promises: promise.Set(n[0]), Mode: Mode(n[1]), Log: os.Stderr,
	})
	go func() {
		if err := sup.Serve(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(0)
	}()
	// Until the program has ended.
	pfd := []unix.PollFd{{Fd: watchFDPidfd, Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(pfd, -1); err != unix.EINTR {
			break
		}
	}
	os.Exit(0)
}

// reportExecFailure runs on a thread of its own while the exec'ing
// thread installs the filter and execs. If that execve fails, the
// exec'ing thread stores the errno and ends itself with exit, the one
// call every filter allows; this reports the failure as the pledge
// command does, with exit status 127 (the filter may refuse the exec'ing
// thread's own write and exit_group, this thread has no filter). When
// the execve succeeds, the kernel ends this thread first.
func (w *watchParams) reportExecFailure(name, path string) {
	for atomic.LoadUint32(&w.execWord) != 0 {
		syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.execWord)), futexWait, 1, 0, 0, 0)
	}
	// The kernel wakes one waiter: the watcher, if any, may be the other.
	syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.execWord)), futexWake, 1<<30, 0, 0, 0)
	if e := syscall.Errno(atomic.LoadUint32(&w.execErr)); e != 0 {
		fmt.Fprintf(os.Stderr, "%s: %s: %v\n", name, path, e)
		os.Exit(pledgecli.ExitExec)
	}
}

// FUTEX_WAIT and FUTEX_WAKE (golang.org/x/sys/unix does not name them).
const (
	futexWait = 0
	futexWake = 1
)
