package sandbox

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// Mode is a pledge mode word: a penalty, optionally with StderrLogging.
// The values are redbean's and Cosmopolitan's PLEDGE_* constants.
type Mode int

// The pledge modes.
const (
	// PenaltyKillThread kills the offending thread. A Go process cannot
	// lose one thread safely, so for an in-process pledge it means
	// PenaltyKillProcess; children (the pledge command, spawn) get it
	// as asked.
	PenaltyKillThread Mode = 0x0000
	// PenaltyKillProcess kills the whole process with SIGSYS.
	PenaltyKillProcess Mode = 0x0001
	// PenaltyReturnEPERM makes the forbidden call fail with EPERM.
	PenaltyReturnEPERM Mode = 0x0002
	// PenaltyMask selects the penalty bits of a Mode.
	PenaltyMask Mode = 0x000f
	// StderrLogging asks for violation reports. An in-process pledge
	// cannot trap its own violations safely (pledge.md §9.5); it adds
	// SECCOMP_FILTER_FLAG_LOG instead, so the kernel's audit log records
	// every refused call. Supervised children (the pledge command, vow
	// scripts) report violations on stderr.
	StderrLogging Mode = 0x0010
)

// Penalty converts the penalty bits of m for the filter compiler.
func (m Mode) Penalty() (filter.Penalty, error) {
	switch m & PenaltyMask {
	case PenaltyKillThread:
		return filter.KillThread, nil
	case PenaltyKillProcess:
		return filter.KillProcess, nil
	case PenaltyReturnEPERM:
		return filter.ReturnEPERM, nil
	}
	return 0, fmt.Errorf("pledge: unknown penalty %d in mode %#x (want PenaltyKillThread 0, PenaltyKillProcess 1 or PenaltyReturnEPERM 2): %w",
		m&PenaltyMask, int(m), unix.EINVAL)
}

var pledgeState struct {
	sync.Mutex
	pledged  bool
	promises promise.Set // intersection of every pledge so far
	exec     *promise.Set
	mode     Mode
	// supervised are the promises of the PledgeNotify filter, if any.
	supervised *promise.Set
}

// Pledge restricts the calling Go process — every thread, and every
// process it starts afterwards — to the system calls its promises allow,
// like OpenBSD's pledge(2). The Go runtime's own needs (promise.Runtime)
// are allowed on top of the promises, and nothing else. Repeated calls
// stack filters, so privileges only ever shrink; asking for more than
// before succeeds but grants nothing.
//
// execpromises, when not nil, are the promises a program started through
// this package's exec and spawn functions runs with (pledge.md §5.3); a
// plain os/exec or syscall.Exec bypasses them and the program keeps
// promises.
//
// An unknown promise is an error wrapping unix.EINVAL that names it and
// suggests the nearest valid one; nothing is installed then.
func Pledge(promises string, execpromises *string, mode Mode) error {
	_, err := pledge(promises, execpromises, mode, false)
	return err
}

// PledgeNotify is Pledge for a process whose violations a supervising
// process answers (see [Supervisor]): the filter hands each refused call
// to the supervisor (SECCOMP_RET_USER_NOTIF), which logs it and applies
// the penalty of mode. It returns the number of the listener descriptor
// (close-on-exec, at 100 or above); the supervisor copies it with
// [TakeListener], which needs ptrace access to this process (a parent has
// it; a helper child needs prctl(PR_SET_PTRACER) first). Until then a
// refused call blocks. After the supervisor has taken it, close this
// process's copy with unix.Close.
//
// A process can hold only one listening filter: once a PledgeNotify has
// succeeded, later calls fail with an error wrapping EBUSY, and later
// pledges should use Pledge. Those leave every call the supervised
// filter refuses to its supervisor (see filter.Policy.Beneath), so its
// penalty and reports stay in force.
func PledgeNotify(promises string, execpromises *string, mode Mode) (int, error) {
	return pledge(promises, execpromises, mode, true)
}

func pledge(promises string, execpromises *string, mode Mode, notify bool) (int, error) {
	set, err := promise.Parse(promises)
	if err != nil {
		return -1, fmt.Errorf("pledge: %w: %w", err, unix.EINVAL)
	}
	var exec *promise.Set
	if execpromises != nil {
		ex, err := promise.Parse(*execpromises)
		if err != nil {
			return -1, fmt.Errorf("pledge: execpromises: %w: %w", err, unix.EINVAL)
		}
		if ex, err = promise.ExecPromises(set, &ex); err != nil {
			return -1, fmt.Errorf("pledge: %w: %w", err, unix.EINVAL)
		}
		exec = &ex
	}
	pen, err := mode.Penalty()
	if err != nil {
		return -1, err
	}
	if pen == filter.KillThread {
		pen = filter.KillProcess // pledge.md §9.5
	}
	p := &filter.Policy{Promises: set, Penalty: pen, Runtime: true, PID: uint32(os.Getpid()), Notify: notify}
	pledgeState.Lock()
	defer pledgeState.Unlock()
	// Over a supervised filter, leave what it refuses to its supervisor.
	p.Beneath = pledgeState.supervised
	prog, err := filter.Compile(p)
	if err != nil {
		return -1, fmt.Errorf("pledge: %w", err)
	}
	var flags uintptr = unix.SECCOMP_FILTER_FLAG_TSYNC
	if notify {
		// TSYNC_ESRCH: with a listener the return value is the
		// descriptor, so a thread that cannot be synchronised is
		// reported as ESRCH instead of by its id.
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	if mode&StderrLogging != 0 && !notify {
		flags |= unix.SECCOMP_FILTER_FLAG_LOG
	}
	fd, err := installFilterFD(prog.Insns, flags)
	if err != nil {
		if errors.Is(err, unix.EINVAL) && !seccompSupported() {
			// No seccomp in this kernel: as upstream, not an error
			// (pledge.md §5.1); SeccompAvailable tells.
			return -1, nil
		}
		return -1, fmt.Errorf("pledge(%q): %w", promises, err)
	}
	if notify {
		s := set
		pledgeState.supervised = &s
		// Out of the way of the descriptors a program uses.
		if nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 100); err == nil {
			unix.Close(fd)
			fd = nfd
		}
	}
	if pledgeState.pledged {
		pledgeState.promises &= set
	} else {
		pledgeState.promises = set
	}
	pledgeState.pledged = true
	pledgeState.mode = mode
	if exec != nil {
		e := *exec
		if pledgeState.exec != nil {
			e &= *pledgeState.exec
		}
		pledgeState.exec = &e
	}
	return fd, nil
}

// Pledged returns the promises in force in this process (the
// intersection of every Pledge so far), and false when it never pledged.
func Pledged() (promise.Set, bool) {
	pledgeState.Lock()
	defer pledgeState.Unlock()
	return pledgeState.promises, pledgeState.pledged
}

// ExecPledge returns the promises a program started through this package
// gets, and false when no execpromises were given (it then runs with the
// promises in force).
func ExecPledge() (promise.Set, bool) {
	pledgeState.Lock()
	defer pledgeState.Unlock()
	if pledgeState.exec == nil {
		return 0, false
	}
	return *pledgeState.exec, true
}

// SeccompAvailable is pledge(NULL, NULL): it returns nil when this kernel
// can install seccomp filters, and the error otherwise.
func SeccompAvailable() error {
	if seccompSupported() {
		return nil
	}
	return fmt.Errorf("pledge: this kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER); pledge cannot restrict anything: %w", unix.ENOSYS)
}

func seccompSupported() bool {
	_, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	return err == nil || errors.Is(err, unix.EPERM) // EPERM: a filter forbids asking, so one is installed
}

// installFilter installs prog on every thread of the process (flags must
// include SECCOMP_FILTER_FLAG_TSYNC) after setting no_new_privs.
func installFilter(prog []unix.SockFilter, flags uintptr) error {
	_, err := installFilterFD(prog, flags)
	return err
}

// installFilterFD is installFilter returning the listener descriptor when
// flags include SECCOMP_FILTER_FLAG_NEW_LISTENER.
func installFilterFD(prog []unix.SockFilter, flags uintptr) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return -1, fmt.Errorf("setting no_new_privs failed: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	listener := flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
	for try := 0; ; try++ {
		r, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
		runtime.KeepAlive(prog)
		// Thread r (or, with a listener, some thread: ESRCH) has a filter
		// of its own: a thread that restricted only itself to start a
		// child and has not exited yet.
		busy := (!listener && e == 0 && r != 0) || (listener && e == unix.ESRCH)
		switch {
		case busy && try < 50:
			time.Sleep(time.Millisecond)
		case busy:
			return -1, fmt.Errorf("installing the seccomp filter on every thread failed: a thread has a different filter "+
				"(a child is being started with its own restrictions); try again: %w", unix.EAGAIN)
		case e == unix.EBUSY && listener:
			return -1, fmt.Errorf("installing the seccomp filter failed: this process already has a supervised pledge "+
				"(only one filter may have a listener); pledge again without a supervisor: %w", e)
		case e != 0:
			return -1, fmt.Errorf("installing the seccomp filter failed: %w", e)
		case listener:
			return int(r), nil
		default:
			return -1, nil
		}
	}
}

// InstallThreadFilter installs prog on the calling OS thread only, after
// setting no_new_privs on it; the caller must have locked the goroutine
// to its thread (runtime.LockOSThread) and must not unlock it: processes
// the thread starts inherit the filter. This is the primitive a launcher
// uses right before execve.
func InstallThreadFilter(prog []unix.SockFilter) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("pledge: setting no_new_privs failed: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if e != 0 {
		return fmt.Errorf("pledge: installing the seccomp filter failed: %w", e)
	}
	return nil
}
