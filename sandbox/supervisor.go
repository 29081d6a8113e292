package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// The user-notification structures of linux/seccomp.h. golang.org/x/sys/unix
// has the ioctl numbers but not these types.
type (
	// seccompData is struct seccomp_data.
	seccompData struct {
		Nr   int32
		Arch uint32
		IP   uint64
		Args [6]uint64
	}
	// seccompNotif is struct seccomp_notif (80 bytes).
	seccompNotif struct {
		ID    uint64
		PID   uint32
		Flags uint32
		Data  seccompData
	}
	// seccompNotifResp is struct seccomp_notif_resp (24 bytes).
	seccompNotifResp struct {
		ID    uint64
		Val   int64
		Error int32
		Flags uint32
	}
)

// Violation is one system call a supervised filter refused.
type Violation struct {
	// PID is the process that made the call and TID its thread.
	PID, TID int
	// Nr is the system call number and Syscall its kernel name ("" when
	// the number is unknown).
	Nr      uint32
	Syscall string
	// Args are the raw arguments.
	Args [6]uint64
	// Promises are the promises that would allow the call, in bit order:
	// those whose rules allow it with these arguments when added to the
	// filter's promises, or, when no single one does (an open that
	// needs wpath and cpath), every promise whose table lists the call.
	Promises []promise.Promise
	// Together: no single one of Promises allows the call, all of them
	// together do.
	Together bool
}

// Lines are the violation's messages in upstream's format (pledge.md
// §4.3) with the pid appended, one per promise that would allow it:
//
//	error: protected syscall socket (ord=029); pledge promise 'inet' to allow (pid 4242)
//
// or, when no promise would:
//
//	error: bad syscall kcmp (ord=138) (pid 4242)
func (v Violation) Lines() []string {
	name := "unknown"
	if v.Syscall != "" {
		name = promise.Label(v.Syscall)
	}
	if len(v.Promises) == 0 {
		return []string{fmt.Sprintf("error: bad syscall %s (ord=%03x) (pid %d)", name, v.Nr, v.PID)}
	}
	lines := make([]string, len(v.Promises))
	for i, p := range v.Promises {
		lines[i] = fmt.Sprintf("error: protected syscall %s (ord=%03x); pledge promise '%s' to allow (pid %d)", name, v.Nr, p, v.PID)
	}
	return lines
}

// SupervisorConfig says how a [Supervisor] answers violations.
type SupervisorConfig struct {
	// Promises are the promises of the supervised filter. With the Error
	// flag every violation fails with EPERM, whatever Mode says.
	Promises promise.Set
	// Mode is the penalty: PenaltyReturnEPERM answers EPERM;
	// PenaltyKillProcess and PenaltyKillThread kill the whole process.
	Mode Mode
	// Log receives the Lines of each violation whose (system call,
	// promise) pairs were not logged before; nil logs nothing.
	Log io.Writer
	// Runtime: the supervised filter has the Go runtime's baseline
	// (a Go process that pledged itself); it is taken into account when
	// naming the promises that would allow a call.
	Runtime bool
	// OnViolation, when set, is called for every violation, before the
	// penalty (from the goroutine running Serve).
	OnViolation func(Violation)
}

// Supervisor answers the violations of a seccomp filter compiled with
// filter.Policy.Notify (final action SECCOMP_RET_USER_NOTIF), reading its
// listener descriptor: it logs each one and applies the penalty. Cmd runs
// one for a child started with Log set; the parent takes the listener
// from the launcher with [TakeListener].
//
// The roles can be swapped: a process that pledges itself with logging
// (the Lua host) starts a helper child, allows it to take the listener
// with prctl(PR_SET_PTRACER, helper pid) under Yama, installs the filter
// with SECCOMP_FILTER_FLAG_NEW_LISTENER and tells the helper the
// descriptor number; the helper calls TakeListener and Serve. A process
// must never supervise its own filter: a thread blocked in a refused call
// while holding a Go runtime lock would stall the supervising goroutine.
//
// What a penalty looks like from outside:
//   - EPERM: the call returns -1 with errno EPERM, as without logging.
//   - kill (both kill penalties): after the log line the supervisor kills
//     the process (the thread group of the calling thread) with SIGSYS
//     when SIGSYS has its default action there, as C programs normally
//     leave it: the process ends as if by the kernel's
//     SECCOMP_RET_KILL_PROCESS (WIFSIGNALED, WTERMSIG == SIGSYS, a core
//     dump where RLIMIT_CORE allows). A process that catches or ignores
//     SIGSYS (every Go program: its runtime catches it) is killed with
//     SIGKILL instead, since a caught SIGSYS would not end it; so is one
//     whose refused call is still pending 100 ms after the SIGSYS (SIGSYS
//     blocked everywhere). [Supervisor.Killed] tells such a kill from any
//     other SIGKILL; the pledge command reports both as SIGSYS. A kill
//     penalty always ends the whole process, never a single thread.
//
// When the supervisor stops (Close, or its process exits) the listener is
// closed and the kernel fails refused calls with ENOSYS instead.
type Supervisor struct {
	cfg      SupervisorConfig
	listener *os.File
	fd       uintptr
	arch     *sysno.Arch

	wake    [2]int // Close writes to wake[1]
	started atomic.Bool
	done    chan struct{}
	once    sync.Once

	mu     sync.Mutex
	logged map[[2]int]bool // (nr, promise or -1)
	killed map[int]bool    // processes killed for a violation

	// launcher identifies the launcher while it may still make refused
	// calls of its own (before its execve): those are let through.
	launcher atomic.Pointer[launcherID]
}

// NewSupervisor returns a supervisor for the listener, which it owns from
// now on. Call Serve to start answering.
func NewSupervisor(listener *os.File, cfg SupervisorConfig) *Supervisor {
	s := &Supervisor{
		cfg:      cfg,
		listener: listener,
		fd:       listener.Fd(),
		arch:     sysno.Native(),
		done:     make(chan struct{}),
		logged:   make(map[[2]int]bool),
		killed:   make(map[int]bool),
	}
	if err := unix.Pipe2(s.wake[:], unix.O_CLOEXEC); err != nil {
		s.wake = [2]int{-1, -1}
	}
	return s
}

// Serve answers notifications until every process using the filter has
// ended, or Close is called. It returns nil then, or the error that
// stopped it.
func (s *Supervisor) Serve() error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("sandbox: Supervisor.Serve called twice")
	}
	defer close(s.done)
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}, {Fd: int32(s.wake[0]), Events: unix.POLLIN}}
	for {
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return fmt.Errorf("sandbox: supervisor: poll: %w", err)
		}
		if fds[1].Revents != 0 {
			return nil
		}
		ev := fds[0].Revents
		if ev&unix.POLLIN != 0 {
			err := s.receive()
			if err == nil || err == unix.ENOENT || err == unix.EINTR {
				continue // ENOENT: the caller died or was interrupted meanwhile
			}
			if ev&(unix.POLLHUP|unix.POLLERR) != 0 {
				return nil
			}
			return fmt.Errorf("sandbox: supervisor: receiving a seccomp notification: %w", err)
		}
		if ev&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
			return nil // no process uses the filter any more
		}
	}
}

// Close stops Serve and closes the listener. Refused calls made later
// fail with ENOSYS.
func (s *Supervisor) Close() error {
	s.once.Do(func() {
		if s.wake[1] >= 0 {
			unix.Write(s.wake[1], []byte{0})
		}
		if s.started.Load() {
			<-s.done
		}
		if s.wake[0] >= 0 {
			unix.Close(s.wake[0])
			unix.Close(s.wake[1])
		}
		s.listener.Close()
	})
	return nil
}

func (s *Supervisor) ioctl(req uintptr, arg unsafe.Pointer) error {
	_, _, e := unix.Syscall(unix.SYS_IOCTL, s.fd, req, uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func (s *Supervisor) respond(id uint64, errno unix.Errno, flags uint32) {
	resp := seccompNotifResp{ID: id, Error: -int32(errno), Flags: flags}
	s.ioctl(unix.SECCOMP_IOCTL_NOTIF_SEND, unsafe.Pointer(&resp)) // ENOENT: the caller is gone
}

func (s *Supervisor) idValid(id uint64) bool {
	return s.ioctl(unix.SECCOMP_IOCTL_NOTIF_ID_VALID, unsafe.Pointer(&id)) == nil
}

// receive reads and answers one notification.
func (s *Supervisor) receive() error {
	var n seccompNotif // the kernel wants it zeroed
	if err := s.ioctl(unix.SECCOMP_IOCTL_NOTIF_RECV, unsafe.Pointer(&n)); err != nil {
		return err
	}
	if l := s.launcher.Load(); l != nil && l.owns(int(n.PID)) && s.idValid(n.ID) {
		// The launcher's own calls between installing the filter and
		// execve (waiting for the go-ahead, reporting a failed execve):
		// trusted code, let through. The program cannot get here: it
		// does not hold the launcher's close-on-exec socket.
		s.respond(n.ID, 0, unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE)
		return nil
	}
	v := Violation{TID: int(n.PID), Nr: uint32(n.Data.Nr), Args: n.Data.Args}
	if s.arch != nil && n.Data.Arch == s.arch.Audit {
		v.Syscall = s.arch.SyscallName(v.Nr)
	}
	if v.Syscall != "" {
		v.PID = tgidOf(v.TID)
		v.Promises, v.Together = s.granting(&v, n.Data.Arch)
	}
	if v.PID == 0 && (s.cfg.OnViolation != nil || s.unlogged(v)) {
		v.PID = tgidOf(v.TID) // only when it shows
	}
	s.log(v)
	if s.cfg.OnViolation != nil {
		s.cfg.OnViolation(v)
	}
	if s.cfg.Promises&promise.Error != 0 || s.cfg.Mode&PenaltyMask == PenaltyReturnEPERM {
		s.respond(n.ID, unix.EPERM, 0)
		return nil
	}
	s.kill(&n)
	return nil
}

// granting lists the promises that would allow v, of those whose table
// lists the call and the filter does not have already: the ones that
// allow it with v's arguments when added to the filter's promises (an
// ioctl TCGETS needs 'tty', not 'stdio' again); else the first pair that
// does together (an open for writing that creates needs 'wpath' and
// 'cpath'); else all of them.
func (s *Supervisor) granting(v *Violation, arch uint32) (ps []promise.Promise, together bool) {
	var all []promise.Promise
	for _, p := range promise.Granting(v.Syscall) {
		if s.cfg.Promises&promise.Of(p) == 0 {
			all = append(all, p)
		}
	}
	allows := func(extra promise.Set) bool {
		pol := &filter.Policy{Promises: s.cfg.Promises | extra, Penalty: filter.ReturnEPERM, Runtime: s.cfg.Runtime, PID: uint32(v.PID)}
		ret, err := filter.Evaluate(pol, &filter.Data{Nr: v.Nr, Arch: arch, Args: v.Args})
		return err == nil && filter.Describe(ret) == "allow"
	}
	var enough []promise.Promise
	for _, p := range all {
		if allows(promise.Of(p)) {
			enough = append(enough, p)
		}
	}
	if len(enough) > 0 {
		return enough, false
	}
	for i, p := range all {
		for _, q := range all[i+1:] {
			if allows(promise.Of(p, q)) {
				return []promise.Promise{p, q}, true
			}
		}
	}
	return all, false
}

// logKeys are the (system call, promise) pairs a violation's lines stand
// for; -1 when no promise would allow the call.
func logKeys(v Violation) [][2]int {
	if len(v.Promises) == 0 {
		return [][2]int{{int(v.Nr), -1}}
	}
	keys := make([][2]int, len(v.Promises))
	for i, p := range v.Promises {
		keys[i] = [2]int{int(v.Nr), int(p)}
	}
	return keys
}

// unlogged reports whether some line of v is still to be logged.
func (s *Supervisor) unlogged(v Violation) bool {
	if s.cfg.Log == nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range logKeys(v) {
		if !s.logged[k] {
			return true
		}
	}
	return false
}

// log writes the lines of v not written before.
func (s *Supervisor) log(v Violation) {
	if s.cfg.Log == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := v.Lines()
	var out strings.Builder
	for i, k := range logKeys(v) {
		if s.logged[k] {
			continue
		}
		s.logged[k] = true
		out.WriteString(lines[i])
		out.WriteByte('\n')
	}
	if out.Len() > 0 {
		io.WriteString(s.cfg.Log, out.String())
	}
}

// killGrace is how long a killed process may keep its refused call
// pending before it gets SIGKILL.
const killGrace = 100 * time.Millisecond

// kill ends the process of the notifying thread: with SIGSYS, as the
// kernel's kill penalty would, when SIGSYS has its default action there,
// else (and for a process that survived a SIGSYS before) with SIGKILL.
func (s *Supervisor) kill(n *seccompNotif) {
	pid := tgidOf(int(n.PID))
	s.mu.Lock()
	again := s.killed[pid]
	s.killed[pid] = true
	s.mu.Unlock()
	sig := unix.SIGSYS
	if again || !sigsysDefault(pid) {
		sig = unix.SIGKILL
	}
	unix.Kill(pid, sig)
	for deadline := time.Now().Add(killGrace); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if !s.idValid(n.ID) {
			return
		}
	}
	unix.Kill(pid, unix.SIGKILL) // SIGSYS is blocked in every thread
	s.respond(n.ID, unix.EPERM, 0)
}

// Killed reports whether the supervisor killed process pid for a
// violation (kill penalties).
func (s *Supervisor) Killed(pid int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.killed[pid]
}

// sigsysDefault reports whether SIGSYS has its default action (kill with
// a core dump) in process pid: neither caught (the Go runtime catches it)
// nor ignored.
func sigsysDefault(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	const bit = 1 << (unix.SIGSYS - 1)
	for _, line := range strings.Split(string(b), "\n") {
		for _, field := range []string{"SigIgn:", "SigCgt:"} {
			if v, ok := strings.CutPrefix(line, field); ok {
				mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				if err != nil || mask&bit != 0 {
					return false
				}
			}
		}
	}
	return true
}

// tgidOf returns the process id of a thread id (itself when unknown).
func tgidOf(tid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return tid
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			if pid, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				return pid
			}
		}
	}
	return tid
}

// launcherID recognises the launcher: the process holding the launcher's
// end of the socketpair as descriptor fd.
type launcherID struct {
	pid, fd int
	ino     uint64
}

// owns reports whether thread tid still belongs to the launcher.
func (l *launcherID) owns(tid int) bool {
	link, err := os.Readlink("/proc/" + strconv.Itoa(tid) + "/fd/" + strconv.Itoa(l.fd))
	return err == nil && link == "socket:["+strconv.FormatUint(l.ino, 10)+"]"
}

// launcherExeced ends the launcher's exemption: it has become the program.
func (s *Supervisor) launcherExeced() { s.launcher.Store(nil) }

// seccompListenerLink is what /proc/PID/fd shows for a listener.
const seccompListenerLink = "anon_inode:seccomp notify"

// errNotYet: the descriptor is not (yet) a seccomp listener.
var errNotYet = errors.New("not a seccomp listener (yet)")

// TakeListener copies descriptor fd of process pid, which must be the
// listener of a seccomp filter installed with
// SECCOMP_FILTER_FLAG_NEW_LISTENER, into this process (pidfd_open and
// pidfd_getfd, Linux 5.6). The caller needs ptrace access to pid
// (PTRACE_MODE_ATTACH_REALCREDS): a parent has it for its child unless
// Yama's ptrace_scope is 2 or 3; a child needs prctl(PR_SET_PTRACER) from
// its parent under Yama.
func TakeListener(pid, fd int) (*os.File, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(pidfd)
	f, err := takeListenerFD(pidfd, fd)
	if errors.Is(err, errNotYet) {
		return nil, fmt.Errorf("descriptor %d of process %d is not a seccomp listener: %w", fd, pid, unix.EBADF)
	}
	return f, err
}

func takeListenerFD(pidfd, n int) (*os.File, error) {
	fd, err := unix.PidfdGetfd(pidfd, n, 0)
	switch {
	case err == unix.EBADF:
		return nil, errNotYet
	case err == unix.EPERM:
		return nil, fmt.Errorf("pidfd_getfd was refused: taking the child's seccomp listener needs ptrace access to it "+
			"(Yama's /proc/sys/kernel/yama/ptrace_scope must be 0 or 1, and no seccomp filter or LSM of this process may refuse pidfd_getfd): %w", err)
	case err == unix.ENOSYS:
		return nil, fmt.Errorf("pidfd_getfd is not available (it needs Linux 5.6 or later): %w", err)
	case err != nil:
		return nil, fmt.Errorf("pidfd_getfd: %w", err)
	}
	link, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if link != seccompListenerLink {
		unix.Close(fd)
		return nil, errNotYet
	}
	return os.NewFile(uintptr(fd), "seccomp listener"), nil
}
