package sandbox

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/sandbox/filter"
)

// The direct launch: when the parent can prepare everything (see
// launchSpec.preparable), Start does not re-execute this binary as a
// launcher but starts a child (startChild) that has only the starting
// thread and runs one function of raw system calls (no Go runtime: no
// allocation, no scheduler, no stack growth), which applies the prepared
// restrictions to itself and execs the program. That saves
// the launcher's Go runtime start-up (about a millisecond, most of a
// launch). The Go launcher stays for what needs Go code in the child: a
// chroot, a working directory, a change of user or group, a set-user-ID
// install, or a pledged parent.
//
// The protocol is the launcher's (launcher.go), on the same socketpair:
//
//	child → parent   'H' its descriptors are in place
//	child → parent   'F' a failed step: a step byte, the errno and an
//	                 index (4 bytes each); the child exits, except for
//	                 stepLimitOptional (the parent prints it)
//	child → parent   'L', 'G', 'X' and end of file as with the launcher
//
// The parent compiles the filter before the fork, naming a placeholder
// pid (pidPlaceholder); the child writes its own pid into those
// instructions (pidSlots). So the child runs straight through to the
// listener hand-over or the exec, and the parent does not write to
// memory the child still shares copy-on-write.
//
// The child is started by startChild: on x86-64 without cgo in the
// parent's address space on a stack of its own (fork_clonevm.go),
// elsewhere as a plain fork (fork_other.go), whose child runs on its copy
// of the stack.

// forkLaunches can be turned off by tests, to run the Go launcher.
var forkLaunches = true

// frameStep is the direct child's report of a failed step.
const frameStep = 'F'

// Steps of the direct child, in the order it takes them.
const (
	stepDescriptors   = 'd' // dup3 onto 0, 1, 2, …
	stepBounding      = 'b' // prctl(PR_CAPBSET_DROP, index)
	stepAmbient       = 'a' // prctl(PR_CAP_AMBIENT_CLEAR_ALL)
	stepCapset        = 'c' // capset to nothing
	stepLimit         = 'l' // setrlimit of resource index
	stepLimitOptional = 'o' // the same, for a limit the program may run without
	stepNoNewPrivs    = 'n' // prctl(PR_SET_NO_NEW_PRIVS)
	stepRestrict      = 'u' // landlock_restrict_self
	stepCommit        = 'm' // unveil's companion filter
	stepExecCheck     = 'k' // execveat(AT_EXECVE_CHECK) of execPaths[index]
	stepPledge        = 'p' // seccomp(SECCOMP_SET_MODE_FILTER)
	stepExec          = 'e' // execve without a filter (execInPlace only)
)

// Linkname'd from package syscall, as its fork code uses them (and as
// gVisor does; the runtime keeps them for that): block signals and make
// the calling thread fork-safe around the clone, and (fork_other.go's
// forked child) reset the signal handlers in the child.

//go:linkname runtimeBeforeFork syscall.runtime_BeforeFork
func runtimeBeforeFork()

//go:linkname runtimeAfterFork syscall.runtime_AfterFork
func runtimeAfterFork()

//go:linkname runtimeAfterForkInChild syscall.runtime_AfterForkInChild
func runtimeAfterForkInChild()

// forkParams is everything the child needs, allocated before the fork.
type forkParams struct {
	fds          []int // the program's descriptors 0, 1, …: the parent's numbers, -1 closed
	sync         int   // the child's end of the socketpair, moved to syncTo, then syncFinal
	syncTo       int
	syncFinal    int
	syncNow      int // where it is at the moment (for step reports)
	ruleset      int // the unveil ruleset, moved to rulesetTo, then rulesetFinal; -1: none
	rulesetTo    int
	rulesetFinal int
	nextFD       int // free numbers from here on, for descriptors in the way
	nice         bool
	dropCaps     bool
	notify       bool

	path       *byte
	argv, envv []*byte
	checks     []*byte // AT_EXECVE_CHECK these first
	commit     unix.SockFprog
	schedParam [1]int32
	capHdr     unix.CapUserHeader
	capData    [2]unix.CapUserData

	hello   [5]byte
	step    [14]byte // 'F' frame: step, errno, index
	limits  []forkLimit
	insns   []unix.SockFilter // the filter naming pidPlaceholder; nil: none
	stack   []byte            // the child's stack, when it shares this address space
	sigmask uint64            // the signal mask the program gets (fork_clonevm.go)
	// sigDefault and sigOld are the child's struct sigaction buffers.
	sigDefault, sigOld sigactionT
	pidSlots           []int // the instructions whose K is the pid
	fprog              unix.SockFprog
	listener           []byte // 'L' frame; the descriptor number goes at 5
	execFail           []byte // 'X' frame; the errno goes at 5
	goBuf              [1]byte
}

// forkLimit is one resource limit the child sets on itself.
type forkLimit struct {
	resource uintptr
	optional bool
	lim, old unix.Rlimit
}

// pidPlaceholder is the pid the filter is compiled with before the
// fork: no process has it (pids stay below 2^22) and no rule of the
// table compares with it, which TestPIDSlots checks.
const pidPlaceholder = 0x7ffffffd

// pidSlots lists the instructions of insns that compare with pid: the
// self-only rules' BPF_JMP|BPF_JEQ|BPF_K.
func pidSlots(insns []unix.SockFilter, pid uint32) []int {
	var slots []int
	for i, in := range insns {
		if in.Code == unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K && in.K == pid {
			slots = append(slots, i)
		}
	}
	return slots
}

// direct reports whether the launch may start a direct child.
func (s *launchSpec) direct() bool {
	return forkLaunches && s.preparable() && len(s.Groups) == 0 && haveCloseRange()
}

// haveCloseRange reports whether close_range works (Linux 5.9): the
// direct child closes the descriptors it does not pass on with it.
var haveCloseRange = sync.OnceValue(func() bool {
	// An empty range: nothing is closed, but an old kernel says ENOSYS.
	return unix.CloseRange(^uint(0)-1, ^uint(0)-1, 0) == nil
})

// startDirect prepares the launch, forks the child and drives it until
// the program runs (see the protocol above).
func startDirect(spec *launchSpec, files []*os.File, log io.Writer) (l *launcher, err error) {
	// os.FindProcess probes the kernel's pidfd support once per process
	// (with a throw-away child of its own): do that meanwhile.
	probed := make(chan struct{})
	go func() {
		os.FindProcess(os.Getpid())
		close(probed)
	}()
	pl, le := spec.plan(pledgecli.CurrentCreds(), -1)
	if le != nil {
		return nil, le
	}
	if spec.AutoUnveil || spec.Unveil != nil {
		if le := spec.prepareRuleset(pl, files[0]); le != nil {
			return nil, le
		}
	}
	if pl.rs != nil {
		defer pl.rs.Close()
	}
	p, err := newForkParams(spec, pl, files, true)
	if err != nil {
		return nil, err
	}
	socks, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": creating the launch socket: " + err.Error(), Errno: errnoOf(err)}
	}
	var st unix.Stat_t
	unix.Fstat(socks[1], &st)
	p.sync = socks[1]
	p.placeDescriptors()

	syscall.ForkLock.Lock()
	pid, e := startChild(p)
	syscall.ForkLock.Unlock()
	// The child may share this memory (fork_clonevm.go): p and its stack
	// stay alive until it has exec'd or exited, which the handshake (or
	// abort's wait) sees.
	defer runtime.KeepAlive(p)
	unix.Close(socks[1])
	if e != 0 {
		unix.Close(socks[0])
		return nil, &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": fork: " + e.Error(), Errno: e}
	}
	l = &launcher{pid: pid, sock: socks[0], ino: st.Ino, fd: p.syncFinal, plan: pl}
	if err := l.handshake(spec, log); err != nil {
		l.abort()
		return nil, err
	}
	// The program runs; os.FindProcess's one-time probe has had the
	// whole launch to finish meanwhile.
	<-probed
	if l.proc, err = os.FindProcess(pid); err != nil { // cannot happen on Linux
		l.abort()
		return nil, err
	}
	return l, nil
}

// compileForChild compiles the program's filter naming pidPlaceholder
// and finds the instructions the child fills in with its pid.
func compileForChild(spec *launchSpec, pl *launchPlan) ([]unix.SockFilter, []int, *LaunchError) {
	pen, _ := spec.Mode.Penalty()
	fp, err := filter.Compile(&filter.Policy{Promises: *pl.final, Penalty: pen, Notify: spec.Notify, PID: pidPlaceholder})
	if err != nil {
		return nil, nil, &LaunchError{Code: pledgecli.ExitPledge, Msg: spec.Name + ": pledge: " + err.Error(), Errno: errnoOf(err)}
	}
	return fp.Insns, pidSlots(fp.Insns, pidPlaceholder), nil
}

// newForkParams lays out what the child needs (child), or what
// execInPlace needs (not child: no stack of its own).
func newForkParams(spec *launchSpec, pl *launchPlan, files []*os.File, child bool) (*forkParams, error) {
	fail := func(what string) error {
		return &LaunchError{Code: pledgecli.ExitExec, Msg: spec.Name + ": " + what + " contains a NUL byte", Errno: unix.EINVAL}
	}
	p := &forkParams{ruleset: -1, rulesetTo: -1, nice: spec.Nice, dropCaps: spec.DropCaps, notify: spec.Notify && pl.final != nil}
	for _, f := range files {
		fd := -1
		if f != nil {
			fd = int(f.Fd())
		}
		p.fds = append(p.fds, fd)
	}
	var err error
	if p.path, err = syscall.BytePtrFromString(pl.path); err != nil {
		return nil, fail(fmt.Sprintf("the program path %q", pl.path))
	}
	if p.argv, err = syscall.SlicePtrFromStrings(spec.Args); err != nil {
		return nil, fail("an argument")
	}
	if p.envv, err = syscall.SlicePtrFromStrings(spec.Env); err != nil {
		return nil, fail("an environment entry")
	}
	for _, c := range pl.execPaths {
		b, err := syscall.BytePtrFromString(c)
		if err != nil {
			return nil, fail(fmt.Sprintf("the path %q", c))
		}
		p.checks = append(p.checks, b)
	}
	if pl.rs != nil && pl.rs.active() {
		p.ruleset = pl.rs.fd
		prog, err := commitFilter(pl.rs.abi)
		if err != nil {
			return nil, &LaunchError{Code: pledgecli.ExitUnveil, Msg: spec.Name + ": " + err.Error(), Errno: errnoOf(err)}
		}
		p.commit = unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	}
	for _, r := range spec.Rlimits {
		if r.Resource >= 0 && r.Resource < 16 {
			p.limits = append(p.limits, forkLimit{resource: uintptr(r.Resource), optional: r.Optional, lim: unix.Rlimit{Cur: r.Cur, Max: r.Max}})
		}
	}
	if pl.final != nil {
		var le *LaunchError
		if pl.insns != nil {
			p.insns = pl.insns // compiled for the pid it will run as (Cmd.Exec)
		} else if p.insns, p.pidSlots, le = compileForChild(spec, pl); le != nil {
			return nil, le
		}
		p.fprog = unix.SockFprog{Len: uint16(len(p.insns)), Filter: &p.insns[0]}
	}
	if cloneStackSize > 0 && child {
		p.stack = make([]byte, cloneStackSize)
	}
	p.capHdr.Version = unix.LINUX_CAPABILITY_VERSION_3
	p.hello = [5]byte{frameHello}
	p.step = [14]byte{frameStep, 9}
	if p.notify {
		payload := binary.LittleEndian.AppendUint32(nil, 0)
		payload = binary.LittleEndian.AppendUint32(payload, uint32(*pl.final))
		p.listener = frame(frameListener, append(payload, pl.path...))
	}
	p.execFail = frame(frameExecFail, append(make([]byte, 4), pl.path...))
	return p, nil
}

// placeDescriptors picks the numbers the child moves its socket and the
// ruleset to: above every descriptor it uses, so that putting the
// program's descriptors in place cannot overwrite them.
func (p *forkParams) placeDescriptors() {
	top := max(len(p.fds), p.sync+1, p.ruleset+1)
	for _, fd := range p.fds {
		top = max(top, fd+1)
	}
	p.syncTo = top
	p.syncNow = top
	p.syncFinal = len(p.fds)
	p.rulesetFinal = len(p.fds) + 1
	top++
	if p.ruleset >= 0 {
		p.rulesetTo = top
		top++
	}
	p.nextFD = top
}

// stepError turns the child's 'F' frame into the error the Go launcher
// would have reported for the same step.
func (l *launcher) stepError(spec *launchSpec, payload []byte) *LaunchError {
	if len(payload) < 9 {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": bug: short step frame from the child"}
	}
	e := syscall.Errno(binary.LittleEndian.Uint32(payload[1:]))
	index := int(binary.LittleEndian.Uint32(payload[5:]))
	return l.stepFailure(spec, payload[0], e, index)
}

// stepFailure is the error for a failed step of the direct child (or of
// execInPlace).
func (l *launcher) stepFailure(spec *launchSpec, step byte, e syscall.Errno, index int) *LaunchError {
	le := &LaunchError{Code: pledgecli.ExitFailure, Errno: e}
	switch step {
	case stepDescriptors:
		le.Msg = fmt.Sprintf("putting descriptor %d in place: %v", index, e)
	case stepBounding:
		le.Code, le.Msg = pledgecli.ExitCapDrop, fmt.Sprintf("prctl(PR_CAPBSET_DROP, %d): %v", index, e)
	case stepAmbient:
		le.Code, le.Msg = pledgecli.ExitCapDrop, "prctl(PR_CAP_AMBIENT_CLEAR_ALL): "+e.Error()
	case stepCapset:
		le.Code, le.Msg = pledgecli.ExitCapDrop, "capset: clearing the capability sets failed: "+e.Error()
	case stepLimit, stepLimitOptional:
		name := "resource " + fmt.Sprint(index)
		if index >= 0 && index < len(rlimitNames) {
			name = rlimitNames[index]
		}
		le.Msg = fmt.Sprintf("setrlimit(%s): %v", name, e)
		if step == stepLimitOptional {
			return le // printed, without the name, by handshake
		}
	case stepNoNewPrivs:
		le.Code, le.Msg = pledgecli.ExitPledge, "pledge: setting no_new_privs failed: "+e.Error()
	case stepRestrict:
		le.Code, le.Msg = pledgecli.ExitUnveil, restrictError(e).Error()
	case stepCommit:
		le.Code, le.Msg = pledgecli.ExitUnveil, "unveil commit: the Landlock ruleset is enforced but its companion seccomp filter (setxattr) is not: "+e.Error()
	case stepExecCheck:
		if l.plan == nil || index >= len(l.plan.execPaths) {
			le.Code, le.Msg = pledgecli.ExitExec, "exec check: "+e.Error()
			break
		}
		le = execCheckError(l.plan.path, l.plan.execPaths[index], e)
	case stepPledge:
		le.Code, le.Msg = pledgecli.ExitPledge, "pledge: installing the seccomp filter failed: "+e.Error()
	case stepExec:
		le.Code, le.Msg = pledgecli.ExitExec, fmt.Sprintf("%s: %v", l.plan.path, e)
	default:
		le.Msg = fmt.Sprintf("bug: unknown step %q failed in the child: %v", step, e)
	}
	return le.withName(spec.Name)
}

// childMain is the child: raw system calls only (the child has one
// thread of a multithreaded Go process, whose runtime must not run in
// it), no allocation, no pointer writes (it may share the parent's
// memory).
//
//go:nosplit
//go:norace
func childMain(p *forkParams) {
	// The socket and the ruleset first, to numbers nothing else uses.
	if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(p.sync), uintptr(p.syncTo), unix.O_CLOEXEC, 0, 0, 0); e != 0 {
		syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 126, 0, 0, 0, 0, 0)
	}
	sync := uintptr(p.syncTo)
	p.syncNow = p.syncTo
	if p.ruleset >= 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(p.ruleset), uintptr(p.rulesetTo), unix.O_CLOEXEC, 0, 0, 0); e != 0 {
			childFail(p, stepDescriptors, e, p.rulesetTo)
		}
	}
	// The program's descriptors, as os.StartProcess places them: those
	// a lower slot would overwrite move up first.
	for i := 0; i < len(p.fds); i++ {
		if fd := p.fds[i]; fd >= 0 && fd < i {
			if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(fd), uintptr(p.nextFD), unix.O_CLOEXEC, 0, 0, 0); e != 0 {
				childFail(p, stepDescriptors, e, i)
			}
			p.fds[i] = p.nextFD
			p.nextFD++
		}
	}
	for i := 0; i < len(p.fds); i++ {
		fd := p.fds[i]
		var e syscall.Errno
		switch {
		case fd < 0:
			syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(i), 0, 0, 0, 0, 0)
		case fd == i:
			_, _, e = syscall.RawSyscall6(unix.SYS_FCNTL, uintptr(i), unix.F_SETFD, 0, 0, 0, 0)
		default:
			_, _, e = syscall.RawSyscall6(unix.SYS_DUP3, uintptr(fd), uintptr(i), 0, 0, 0, 0)
		}
		if e != 0 {
			childFail(p, stepDescriptors, e, i)
		}
	}
	// Only the program's descriptors, the socket and the ruleset stay
	// open: the parent's others would reach the program when inherited
	// without close-on-exec, and would take the numbers a low
	// RLIMIT_NOFILE leaves for the filter's listener. The socket and the
	// ruleset then move down next to the program's.
	last := p.syncTo
	if p.ruleset >= 0 {
		last = p.rulesetTo
	}
	if p.syncTo > len(p.fds) {
		syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, uintptr(len(p.fds)), uintptr(p.syncTo-1), 0, 0, 0, 0)
	}
	syscall.RawSyscall6(unix.SYS_CLOSE_RANGE, uintptr(last+1), 0xffffffff, 0, 0, 0, 0)
	childMove(p, p.syncTo, p.syncFinal)
	if p.ruleset >= 0 {
		childMove(p, p.rulesetTo, p.rulesetFinal)
	}
	sync = uintptr(p.syncFinal)
	childWrite(sync, p.hello[:])

	childNice(p)
	// Resource limits before the capability drop (raising a hard limit
	// needs CAP_SYS_RESOURCE), clamped to the hard limit when raising it
	// is refused, as pledgecli.SetLimit does.
	for i := 0; i < len(p.limits); i++ {
		l := &p.limits[i]
		_, _, e := syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, l.resource, uintptr(unsafe.Pointer(&l.lim)), 0, 0, 0)
		if e != 0 {
			_, _, e = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, l.resource, 0, uintptr(unsafe.Pointer(&l.old)), 0, 0)
			if e == 0 {
				l.lim.Cur = min(l.lim.Cur, l.old.Max)
				l.lim.Max = min(l.lim.Max, l.old.Max)
				_, _, e = syscall.RawSyscall6(unix.SYS_PRLIMIT64, 0, l.resource, uintptr(unsafe.Pointer(&l.lim)), 0, 0, 0)
			}
		}
		if e != 0 {
			if l.optional {
				childReport(p, stepLimitOptional, e, int(l.resource))
			} else {
				childFail(p, stepLimit, e, int(l.resource))
			}
		}
	}
	if step, e, i := childRestrict(p); e != 0 {
		childFail(p, step, e, i)
	}
	argv := uintptr(unsafe.Pointer(&p.argv[0]))
	envv := uintptr(unsafe.Pointer(&p.envv[0]))
	if len(p.insns) > 0 {
		pid, _, _ := syscall.RawSyscall6(unix.SYS_GETPID, 0, 0, 0, 0, 0, 0)
		for i := 0; i < len(p.pidSlots); i++ {
			p.insns[p.pidSlots[i]].K = uint32(pid)
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
			childFail(p, stepNoNewPrivs, e, 0)
		}
		var flags uintptr
		if p.notify {
			// The listener gets the lowest free number: tell the
			// parent which, then install.
			flags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
			l, _, e := syscall.RawSyscall6(unix.SYS_FCNTL, sync, unix.F_DUPFD_CLOEXEC, 0, 0, 0, 0)
			if e != 0 {
				childFail(p, stepPledge, e, 0)
			}
			syscall.RawSyscall6(unix.SYS_CLOSE, l, 0, 0, 0, 0, 0)
			p.listener[5], p.listener[6], p.listener[7], p.listener[8] = byte(l), byte(l>>8), byte(l>>16), byte(l>>24)
			childWrite(sync, p.listener)
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&p.fprog)), 0, 0, 0); e != 0 {
			childFail(p, stepPledge, e, 0)
		}
		if p.notify {
			// Until the parent holds the listener a refused call would
			// wait for nobody. The read itself may be refused (no
			// stdio): the supervisor recognises this process by its
			// socket and lets it through.
			for {
				r, _, e := syscall.RawSyscall6(unix.SYS_READ, sync, uintptr(unsafe.Pointer(&p.goBuf[0])), 1, 0, 0, 0)
				if e == unix.EINTR {
					continue
				}
				if e != 0 || r != 1 || p.goBuf[0] != goByte {
					syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 126, 0, 0, 0, 0, 0)
				}
				break
			}
		}
	}
	_, _, e := syscall.RawSyscall6(unix.SYS_EXECVE, uintptr(unsafe.Pointer(p.path)), argv, envv, 0, 0, 0)
	p.execFail[5], p.execFail[6], p.execFail[7], p.execFail[8] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
	childWrite(sync, p.execFail)
	syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 127, 0, 0, 0, 0, 0)
}

// childNice gives the calling thread the lowest priority (pledge -n).
//
//go:nosplit
//go:norace
func childNice(p *forkParams) {
	if p.nice {
		syscall.RawSyscall6(unix.SYS_SETPRIORITY, unix.PRIO_PROCESS, 0, pledgecli.NicePriority, 0, 0, 0)
		syscall.RawSyscall6(unix.SYS_IOPRIO_SET, 1 /* IOPRIO_WHO_PROCESS */, 0, pledgecli.IOPrioIdle, 0, 0, 0)
		syscall.RawSyscall6(unix.SYS_SCHED_SETSCHEDULER, 0, unix.SCHED_IDLE, uintptr(unsafe.Pointer(&p.schedParam[0])), 0, 0, 0)
	}
}

// childRestrict drops the capabilities, applies the unveil ruleset with
// its companion filter and checks that the kernel will execute the
// program and its interpreters, on the calling thread. It returns the
// failed step, if any.
//
//go:nosplit
//go:norace
func childRestrict(p *forkParams) (step byte, errno syscall.Errno, index int) {
	if p.dropCaps {
		for i := uintptr(0); ; i++ {
			_, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAPBSET_DROP, i, 0, 0, 0, 0)
			if e == unix.EINVAL || e == unix.EPERM {
				break
			}
			if e != 0 {
				return stepBounding, e, int(i)
			}
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0, 0); e != 0 && e != unix.EINVAL {
			return stepAmbient, e, 0
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_CAPSET, uintptr(unsafe.Pointer(&p.capHdr)), uintptr(unsafe.Pointer(&p.capData[0])), 0, 0, 0, 0); e != 0 {
			return stepCapset, e, 0
		}
	}

	if p.ruleset >= 0 {
		if _, _, e := syscall.RawSyscall6(unix.SYS_PRCTL, unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0); e != 0 {
			return stepNoNewPrivs, e, 0
		}
		if _, _, e := syscall.RawSyscall6(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(p.rulesetFinal), 0, 0, 0, 0, 0); e != 0 {
			return stepRestrict, e, 0
		}
		syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(p.rulesetFinal), 0, 0, 0, 0, 0)
		p.rulesetFinal = -1
		if _, _, e := syscall.RawSyscall6(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&p.commit)), 0, 0, 0); e != 0 {
			return stepCommit, e, 0
		}
	}
	argv := uintptr(unsafe.Pointer(&p.argv[0]))
	envv := uintptr(unsafe.Pointer(&p.envv[0]))
	for i := 0; i < len(p.checks); i++ {
		_, _, e := syscall.RawSyscall6(unix.SYS_EXECVEAT, atFDCWD, uintptr(unsafe.Pointer(p.checks[i])), argv, envv, atExecveCheck, 0)
		if e == unix.EINVAL {
			break // no AT_EXECVE_CHECK in this kernel
		}
		if e != 0 {
			return stepExecCheck, e, i
		}
	}
	return 0, 0, 0
}

// childMove moves descriptor from to to (close-on-exec).
//
//go:nosplit
//go:norace
func childMove(p *forkParams, from, to int) {
	if from == to {
		return
	}
	if _, _, e := syscall.RawSyscall6(unix.SYS_DUP3, uintptr(from), uintptr(to), unix.O_CLOEXEC, 0, 0, 0); e != 0 {
		childFail(p, stepDescriptors, e, to)
	}
	syscall.RawSyscall6(unix.SYS_CLOSE, uintptr(from), 0, 0, 0, 0, 0)
	if from == p.syncNow {
		p.syncNow = to
	}
}

// childFail reports a failed step to the parent and exits.
//
//go:nosplit
//go:norace
func childFail(p *forkParams, step byte, e syscall.Errno, index int) {
	childReport(p, step, e, index)
	syscall.RawSyscall6(unix.SYS_EXIT_GROUP, 126, 0, 0, 0, 0, 0)
}

// childReport sends a step frame.
//
//go:nosplit
//go:norace
func childReport(p *forkParams, step byte, e syscall.Errno, index int) {
	p.step[5] = step
	p.step[6], p.step[7], p.step[8], p.step[9] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
	p.step[10], p.step[11], p.step[12], p.step[13] = byte(index), byte(index>>8), byte(index>>16), byte(index>>24)
	childWrite(uintptr(p.syncNow), p.step[:])
}

// childWrite writes all of b to fd, as far as it can (pointer
// arithmetic: a bounds check could call the runtime).
//
//go:nosplit
//go:norace
func childWrite(fd uintptr, b []byte) {
	ptr, n := uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b))
	for n > 0 {
		w, _, e := syscall.RawSyscall6(unix.SYS_WRITE, fd, ptr, n, 0, 0, 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 || w == 0 || w > n {
			return
		}
		ptr, n = ptr+w, n-w
	}
}
