//go:build amd64 && !cgo

package sandbox

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchSupported: Exec can log violations (watch.go).
const watchSupported = true

// watchStackSize is the stack of the middle process and of the watcher
// each: their nosplit call chains need well under 2 KB.
const watchStackSize = 8 << 10

// start clones the middle process, which clones the watcher and exits.
func (w *watchParams) start() syscall.Errno {
	base := uintptr(unsafe.Pointer(&w.stack[0]))
	w.top = (base + uintptr(len(w.stack))) &^ 15
	middleTop := (base + uintptr(len(w.stack))/2) &^ 15
	w.sigIgnore.handler = 1 // SIG_IGN
	pid, e := cloneWatch(w, middleTop)
	if e != 0 {
		return e
	}
	w.middle = pid
	return 0
}

//go:nosplit
//go:norace
func cloneWatch(w *watchParams, top uintptr) (int, syscall.Errno) {
	runtimeBeforeFork()
	// CLONE_VFORK: this thread waits until the middle process has
	// cloned the watcher and exited (tens of microseconds); without it
	// the middle process often waited for a CPU until the launch
	// blocked. No exit signal: reap finds it with __WALL.
	pid, e := cloneVM(syscall.CLONE_VM|syscall.CLONE_FILES|syscall.CLONE_VFORK, top, unsafe.Pointer(w), entryWatch)
	runtimeAfterFork()
	return int(pid), syscall.Errno(e)
}

// watchEntry is the middle process: it clones the watcher and exits
// with the clone's errno. Its signals are blocked throughout (inherited
// from runtime_BeforeFork).
//
//go:nosplit
//go:norace
func watchEntry(w *watchParams) {
	_, e := cloneVM(syscall.CLONE_VM|syscall.CLONE_FILES|uintptr(syscall.SIGCHLD), w.top, unsafe.Pointer(w), entryWatcher)
	syscall.RawSyscall6(unix.SYS_EXIT_GROUP, e, 0, 0, 0, 0, 0)
}

// watcherEntry is the watcher (see watch.go).
//
//go:nosplit
//go:norace
func watcherEntry(w *watchParams) {
	// 1. Until the pledging thread execs or dies. A thread that dies
	// dumping core does not wake us: look at the pidfd now and then.
	// Every signal stays blocked meanwhile (runtime_BeforeFork's mask),
	// so none runs the parent's Go handlers.
	for atomic.LoadUint32(&w.execWord) != 0 {
		_, _, e := syscall.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.execWord)), futexWait, 1, uintptr(unsafe.Pointer(&w.ts)), 0, 0)
		if e == unix.ETIMEDOUT && watchReadable(w, w.pidfd) {
			watchExit()
		}
	}
	// The kernel wakes one waiter: reportExecFailure may be the other.
	syscall.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&w.execWord)), futexWake, 1<<30, 0, 0, 0)
	if atomic.LoadUint32(&w.installed) == 0 || atomic.LoadUint32(&w.execErr) != 0 {
		// It failed before pledging, or its execve failed: it
		// reports that itself.
		watchExit()
	}
	// Then the signals: caught ones to their default action, the
	// terminal's and job control's ignored (which also discards those
	// that came meanwhile), and none blocked.
	resetHandlers(&w.sigDefault, &w.sigOld)
	for i := 0; i < len(watchIgnored); i++ {
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, watchIgnored[i], uintptr(unsafe.Pointer(&w.sigIgnore)), 0, 8, 0, 0)
	}
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&w.mask)), 0, 8, 0, 0)

	// 2. Our descriptors at fixed numbers, nothing else. This binary:
	// /proc/self/exe names the executable of the address space, which
	// is still pledge's here (without /proc the Go side cannot start).
	exe, _, e := syscall.RawSyscall6(unix.SYS_OPENAT, atFDCWD, uintptr(unsafe.Pointer(&w.exePath[0])), unix.O_PATH|unix.O_CLOEXEC, 0, 0, 0)
	w.exe = int(exe)
	if e != 0 {
		w.exe = -1
	}
	hi := max(int(atomic.LoadInt32(&w.listener)), w.pidfd, w.exe, w.log) + 1
	if !watchDup(int(w.listener), hi, 0) || !watchDup(w.pidfd, hi+1, 0) || !watchDup(w.log, hi+2, 0) ||
		!watchDup(hi+2, watchFDLog, 0) || !watchDup(hi, watchFDListener, 0) || !watchDup(hi+1, watchFDPidfd, 0) {
		watchExit()
	}
	if w.exe >= 0 && (!watchDup(w.exe, hi+3, unix.O_CLOEXEC) || !watchDup(hi+3, watchFDExe, unix.O_CLOEXEC)) {
		w.exe = -1
	}
	syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, 0, 1, 0, 0, 0, 0)
	syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, watchFDExe+1, 0xffffffff, 0, 0, 0, 0)
	if w.exe < 0 {
		syscall.RawSyscall6(unix.SYS_CLOSE, watchFDExe, 0, 0, 0, 0, 0)
	}

	// 3. Until the program ends or makes its first refused call.
	w.fds[0] = unix.PollFd{Fd: watchFDListener, Events: unix.POLLIN}
	w.fds[1] = unix.PollFd{Fd: watchFDPidfd, Events: unix.POLLIN}
	watchPoll(w)
	if w.exe >= 0 {
		watchExecGo(w)
	}

	// The Go side did not start: refuse without logging.
	for {
		watchPoll(w)
		w.notif.ID, w.notif.PID, w.notif.Flags = 0, 0, 0
		w.notif.Data.Nr, w.notif.Data.Arch, w.notif.Data.IP = 0, 0, 0
		for i := 0; i < 6; i++ {
			w.notif.Data.Args[i] = 0
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_IOCTL, watchFDListener, unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&w.notif)), 0, 0, 0); e != 0 {
			continue
		}
		w.resp.ID, w.resp.Val, w.resp.Error, w.resp.Flags = w.notif.ID, 0, -int32(unix.EPERM), 0
		syscall.RawSyscall6(unix.SYS_IOCTL, watchFDListener, unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&w.resp)), 0, 0, 0)
	}
}

// watchPoll waits until the listener has a notification; it exits when
// the program has ended or no process uses the filter any more.
//
//go:nosplit
//go:norace
func watchPoll(w *watchParams) {
	for {
		w.fds[0].Revents, w.fds[1].Revents = 0, 0
		_, _, e := syscall.RawSyscall6(unix.SYS_POLL, uintptr(unsafe.Pointer(&w.fds[0])), 2, ^uintptr(0), 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 || w.fds[1].Revents != 0 || w.fds[0].Revents&unix.POLLIN == 0 {
			watchExit()
		}
		return
	}
}

// watchExecGo starts the Go side: this binary with watchEnv set.
//
//go:nosplit
//go:norace
func watchExecGo(w *watchParams) {
	syscall.RawSyscall6(unix.SYS_EXECVEAT, watchFDExe, uintptr(unsafe.Pointer(&w.exePath[len(w.exePath)-1])),
		uintptr(unsafe.Pointer(&w.argv[0])), uintptr(unsafe.Pointer(&w.envv[0])), unix.AT_EMPTY_PATH, 0)
}

// watchReadable polls fd without waiting.
//
//go:nosplit
//go:norace
func watchReadable(w *watchParams, fd int) bool {
	w.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	n, _, e := syscall.RawSyscall6(unix.SYS_POLL, uintptr(unsafe.Pointer(&w.fds[0])), 1, 0, 0, 0, 0)
	return e == 0 && n > 0
}

// watchDup is dup3(from, to, flags).
//
//go:nosplit
//go:norace
func watchDup(from, to int, flags uintptr) bool {
	_, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(from), uintptr(to), flags, 0, 0, 0)
	return e == 0
}

//go:nosplit
//go:norace
func watchExit() {
	syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 0, 0, 0, 0, 0, 0)
}
