package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// The launcher protocol. Start creates a socketpair, hands one end to the
// re-executed binary and names its descriptor number in launchEnv. Frames
// are a kind byte, a 4-byte little-endian length and the payload.
//
//	launcher → parent  'H' hello: Init recognised the launch
//	parent → launcher  'S' the launchSpec (codec.go), sent at once
//	launcher → parent  'E' a LaunchError (codec.go); the launcher exits
//	launcher → parent  'L' (logging only) the descriptor number the
//	                      filter's listener will get, the final promise
//	                      set, and the program's path; then it installs
//	                      the filter and waits
//	parent → launcher  'G' (one byte) the parent holds the listener: go on
//	launcher → parent  'X' execve failed after the filter was installed:
//	                      errno and path
//
// The launcher's end is close-on-exec, so a successful execve shows as
// end of file.
const launchEnv = "_VOW_SANDBOX_LAUNCHER"

const (
	frameHello    = 'H'
	frameSpec     = 'S'
	frameError    = 'E'
	frameListener = 'L'
	frameExecFail = 'X'
	goByte        = 'G'
)

// launcherPending is true in a process started as a launcher until Init
// takes over; Start refuses to run there (a binary whose main forgot Init
// would otherwise start launchers recursively).
var launcherPending bool

func init() {
	if _, ok := syscall.Getenv(launchEnv); ok {
		// Keep main on the main thread: the launcher applies per-thread
		// state (seccomp, Landlock, capabilities, niceness) and execs
		// from it.
		runtime.LockOSThread()
		launcherPending = true
	}
}

// Init must be the first call in main of every program that starts a
// [Cmd] (and in TestMain of test binaries that do): when the process was
// started by Cmd.Start as a launcher, Init applies the Cmd's restrictions
// to this process and execs the program in its place, and never returns.
// Otherwise it returns at once.
func Init() {
	if v, ok := syscall.Getenv(watchEnv); ok {
		serveWatch(v) // Cmd.Exec's watcher, at its first violation
	}
	v, ok := syscall.Getenv(launchEnv)
	if !ok {
		return
	}
	launcherPending = false
	runtime.LockOSThread()
	debug.SetGCPercent(-1) // §9.8: no GC, hence no stop-the-world signals, until execve
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		fmt.Fprintf(os.Stderr, "sandbox: %s=%q is not a launcher descriptor; this variable is internal to sandbox.Cmd\n", launchEnv, v)
		os.Exit(pledgecli.ExitFailure)
	}
	unix.CloseOnExec(fd)
	le := launch(fd)
	if le == nil {
		le = &LaunchError{Code: pledgecli.ExitFailure, Msg: "sandbox: bug: the launcher returned without an error"}
	}
	sendFrame(fd, frameError, le.encode())
	os.Exit(le.Code)
}

// launch reads the spec from the parent and runs it; it returns only on
// failure before the filter was installed.
func launch(fd int) (le *LaunchError) {
	defer func() {
		if r := recover(); r != nil {
			le = &LaunchError{Code: pledgecli.ExitFailure, Msg: fmt.Sprintf("sandbox: bug: the launcher panicked: %v\n%s", r, debug.Stack())}
		}
	}()
	if err := sendFrame(fd, frameHello, nil); err != nil {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: "sandbox: launcher: writing to the parent failed: " + err.Error(), Errno: errnoOf(err)}
	}
	kind, payload, err := readFrame(fd)
	if err != nil || kind != frameSpec {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: fmt.Sprintf("sandbox: launcher: reading the launch spec failed (kind %q): %v", kind, err)}
	}
	s, err := decodeSpec(payload)
	if err != nil {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: "sandbox: bug: launcher: bad launch spec: " + err.Error()}
	}
	// The program gets exactly Stdin, Stdout, Stderr and ExtraFiles, the
	// descriptors below fd: not what this process inherited besides.
	if err := cloexecFrom(fd); err != nil {
		return &LaunchError{Code: pledgecli.ExitCloseFD, Msg: "sandbox: launcher: marking inherited descriptors close-on-exec failed: " + err.Error(), Errno: errnoOf(err)}
	}
	return s.run(fd, nil)
}

// cloexecFrom marks every descriptor from first up close-on-exec
// (close_range, or /proc/self/fd before Linux 5.11).
func cloexecFrom(first int) error {
	if unix.CloseRange(uint(first), ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return nil
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= first {
			unix.CloseOnExec(fd)
		}
	}
	return nil
}

// launchSpec is a Cmd as the launcher needs it.
type launchSpec struct {
	Name         string
	Path         string
	Args, Env    []string
	Dir          string
	Promises     *string
	ExecPromises *string
	Implicit     bool
	Mode         Mode
	Notify       bool
	Unveil       []UnveilRule
	AutoUnveil   bool
	UnveilStrict bool
	Rlimits      []Rlimit
	Nice         bool
	UID, GID     int
	Groups       []int
	Chroot       string
	DropCaps     bool
	NormalizeFDs bool
	// Prepared: the parent works out the launchPlan and sends it in a
	// 'P' frame (see launchSpec.preparable).
	Prepared bool
}

// rlimitNames name resources in messages, as pledge.com does.
var rlimitNames = [16]string{"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE",
	"RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS",
	"RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME"}

// lateLimit reports the limits set right before pledging: a small
// address space or process count would break the launcher's Go runtime,
// and unveiling opens descriptors (pledge.com sets RLIMIT_NOFILE last).
func lateLimit(resource int) bool {
	return resource == unix.RLIMIT_AS || resource == unix.RLIMIT_NPROC || resource == unix.RLIMIT_NOFILE
}

func (r Rlimit) apply() error {
	err := pledgecli.SetLimit(r.Resource, r.Cur, r.Max)
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("setrlimit(%s): %v", rlimitNames[r.Resource], err)
	if r.Optional {
		fmt.Fprintln(os.Stderr, msg)
		return nil
	}
	return &pledgecli.Error{Code: pledgecli.ExitFailure, Msg: msg, Err: err}
}

// asLaunchError converts a step's error.
func asLaunchError(err error) *LaunchError {
	le := &LaunchError{Code: pledgecli.ExitFailure, Msg: err.Error(), Errno: errnoOf(err)}
	var pe *pledgecli.Error
	if errors.As(err, &pe) {
		le.Code = pe.Code
	}
	var l *LaunchError
	if errors.As(err, &l) {
		return l
	}
	return le
}

// run applies the spec to the calling thread and process, in the pledge
// command's order, and execs the program. sync is the launcher's socket,
// or -1 for Cmd.Exec; w is Exec's watcher when it logs violations
// (watch.go). It returns only on a failure before the filter is
// installed.
func (s *launchSpec) run(sync int, w *watchParams) *LaunchError {
	fail := func(code int, err error, format string, args ...any) *LaunchError {
		return &LaunchError{Code: code, Msg: s.Name + ": " + fmt.Sprintf(format, args...), Errno: errnoOf(err)}
	}
	pledgecli.ExecThreadOnly() // this locked thread is the one that execs
	if s.NormalizeFDs {
		if err := pledgecli.NormalizeFDs(); err != nil {
			return asLaunchError(err)
		}
	}
	if s.Nice {
		pledgecli.MakeNice()
	}
	for _, r := range s.Rlimits {
		if !lateLimit(r.Resource) {
			if err := r.apply(); err != nil {
				return asLaunchError(err)
			}
		}
	}
	creds := pledgecli.CurrentCreds()
	pledgecli.BecomeOwner(creds)
	o := &pledgecli.Options{Name: s.Name, UID: s.UID, GID: s.GID, NoDrop: !s.DropCaps}
	if err := pledgecli.CheckSetuidFlags(o, creds); err != nil {
		return asLaunchError(err)
	}
	if s.Chroot != "" {
		if err := pledgecli.EnterChroot(s.Name, s.Chroot, creds); err != nil {
			return asLaunchError(err)
		}
	}
	if s.Dir != "" {
		if err := syscall.Chdir(s.Dir); err != nil {
			return fail(pledgecli.ExitChdir, err, "%s: %v (the working directory)", s.Dir, err)
		}
	}
	var pl *launchPlan
	var le *LaunchError
	if s.Prepared {
		pl, le = receivePlan(sync)
	} else {
		pl, le = s.plan(creds, os.Getpid())
	}
	if le != nil {
		return le
	}
	if err := pledgecli.CheckNoDrop(o, creds); err != nil {
		return asLaunchError(err) // -D in a set-user-ID install
	}
	if s.DropCaps {
		if err := pledgecli.DropBoundingSet(); err != nil {
			return asLaunchError(err)
		}
	}
	if err := pledgecli.SetIDsGroups(s.Name, creds, s.UID, s.GID, s.Groups); err != nil {
		return asLaunchError(err)
	}
	if s.DropCaps {
		if err := pledgecli.ClearCapabilities(); err != nil {
			return asLaunchError(err)
		}
	}
	if !s.Prepared && (s.AutoUnveil || s.Unveil != nil) {
		if pl.rs, le = s.ruleset(pl, pledgecli.StdinTTYName()); le != nil {
			return le
		}
	}
	if pl.rs != nil {
		err := pl.rs.RestrictThread()
		pl.rs.Close()
		if err != nil {
			return &LaunchError{Code: pledgecli.ExitUnveil, Msg: s.Name + ": " + err.Error(), Errno: errnoOf(err)}
		}
	}
	for _, r := range s.Rlimits {
		if lateLimit(r.Resource) {
			if err := r.apply(); err != nil {
				return asLaunchError(err)
			}
		}
	}

	// Everything execve needs, prepared before the filter: from the
	// install on nothing may allocate (the heap may need mmap) or call
	// into the runtime's scheduler.
	path := pl.path
	pathp, err := syscall.BytePtrFromString(path)
	if err != nil {
		return fail(pledgecli.ExitExec, unix.EINVAL, "%q: the program path contains a NUL byte", path)
	}
	argv, err := syscall.SlicePtrFromStrings(s.Args)
	if err != nil {
		return fail(pledgecli.ExitExec, unix.EINVAL, "an argument contains a NUL byte")
	}
	envv, err := syscall.SlicePtrFromStrings(s.Env)
	if err != nil {
		return fail(pledgecli.ExitExec, unix.EINVAL, "an environment entry contains a NUL byte")
	}
	// Exec reports a failed execve properly even after the filter
	// (reportExecFailure), so it checks only where Landlock may refuse
	// the execve: the message then names the file and suggests an unveil.
	if w == nil || pl.rs != nil {
		if le := execCheck(path, pl.execPaths, argv, envv); le != nil {
			return le.withName(s.Name)
		}
	}
	x := newExecFailure(sync, s.Name, path)
	if w != nil && w.watching && pl.final != nil {
		w.setProgram(*pl.final)
	}
	if pl.final == nil {
		// No pledge: nothing to install. A failing execve can still be
		// reported normally.
		_, _, e := syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(pathp)),
			uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
		return fail(pledgecli.ExitExec, e, "%s: %v", path, e)
	}
	if w != nil {
		go w.reportExecFailure(s.Name, path)
	}
	insns := pl.insns
	fprog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fail(pledgecli.ExitPledge, err, "pledge: setting no_new_privs failed: %v", err)
	}
	var flags uintptr
	if w != nil && w.watching {
		flags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	} else if s.Notify {
		flags = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		n, err := unix.FcntlInt(uintptr(sync), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fail(pledgecli.ExitPledge, err, "pledge: finding a free descriptor for the seccomp listener: %v", err)
		}
		unix.Close(n)
		payload := binary.LittleEndian.AppendUint32(nil, uint32(n))
		payload = binary.LittleEndian.AppendUint32(payload, uint32(*pl.final))
		payload = append(payload, path...)
		if err := sendFrame(sync, frameListener, payload); err != nil {
			return fail(pledgecli.ExitPledge, err, "pledge: telling the parent about the listener: %v", err)
		}
	}
	resetSIGSEGV()
	listener, _, e := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(insns)
	if e != 0 {
		return fail(pledgecli.ExitPledge, e, "pledge: installing the seccomp filter failed: %v", e)
	}
	if w != nil {
		w.setInstalled(listener)
	}
	if s.Notify && w == nil {
		// Wait until the parent holds the listener: until then a
		// refused call would wait for a supervisor that is not there.
		// The read may itself be refused (no stdio); the supervisor
		// recognises the launcher and lets it through.
		for {
			n, _, e := syscall.Syscall(unix.SYS_READ, uintptr(sync), uintptr(unsafe.Pointer(&goBuf[0])), 1)
			if e == unix.EINTR {
				continue
			}
			if e != 0 || n != 1 || goBuf[0] != goByte {
				die() // the parent is gone
			}
			break
		}
	}
	_, _, e = syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(pathp)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
	if w != nil {
		// reportExecFailure reports it: the filter may refuse this
		// thread's write and exit_group (and with a watcher a refused
		// call would wait for it, while it waits for this thread to
		// exec or end).
		atomic.StoreUint32(&w.execErr, uint32(e))
		syscall.RawSyscall(unix.SYS_EXIT, pledgecli.ExitExec, 0, 0)
		die()
	}
	x.report(e)
	panic("unreachable")
}

// launchPlan is what the launcher works out about the program: where it
// is, the promise set and compiled filter it runs under, and the unveil
// ruleset. The parent can work it out instead, while the launcher's Go
// runtime starts (see launchSpec.preparable).
type launchPlan struct {
	path      string            // the program, as execve gets it
	execPaths []string          // the files the kernel will execute: path and its interpreters
	final     *promise.Set      // nil: no filter
	insns     []unix.SockFilter // the compiled filter
	user      string            // the user's promise text (the automatic unveils follow it)
	prog      pledgecli.Program
	rs        *Ruleset // nil: nothing to unveil
}

// plan looks the program up (with the invoking user's filesystem ids for
// a set-user-ID install), classifies it, works out its promises and
// compiles the filter naming pid (not when pid is negative: the direct
// launch compiles it once the child's pid is known).
func (s *launchSpec) plan(creds pledgecli.Creds, pid int) (*launchPlan, *LaunchError) {
	var prog pledgecli.Program
	err := pledgecli.WithFSIDs(creds, func() error {
		path, err := pledgecli.LookPath(s.Path, s.Env)
		if err != nil {
			return err
		}
		prog = pledgecli.ClassifyProgram(path, s.Env)
		return nil
	})
	if err != nil {
		return nil, &LaunchError{Code: pledgecli.ExitNotFound, Msg: fmt.Sprintf("%s: %s: %v%s", s.Name, s.Path, err, searched(s.Path, s.Env)), Errno: errnoOf(err)}
	}
	pl := &launchPlan{path: prog.Path, prog: prog}
	for _, im := range prog.Chain {
		pl.execPaths = append(pl.execPaths, im.Path)
		if im.Kind == pledgecli.KindDynamic && im.Interp != "" {
			pl.execPaths = append(pl.execPaths, im.Interp)
		}
	}
	var le *LaunchError
	if pl.final, pl.user, le = s.promises(prog); le != nil {
		return nil, le
	}
	if pl.final != nil && pid >= 0 {
		// (Compiling in a goroutine meanwhile does not pay: the
		// launcher's thread is locked, so a new one comes through the
		// runtime's template thread.)
		pen, _ := s.Mode.Penalty()
		fp, err := filter.Compile(&filter.Policy{Promises: *pl.final, Penalty: pen, Notify: s.Notify, PID: uint32(pid)})
		if err != nil {
			return nil, &LaunchError{Code: pledgecli.ExitPledge, Msg: s.Name + ": pledge: " + err.Error(), Errno: errnoOf(err)}
		}
		pl.insns = fp.Insns
	}
	return pl, nil
}

// goBuf receives the parent's go-ahead; global so that reading it
// allocates nothing.
var goBuf [1]byte

// searched explains where a program name without a slash was looked for.
func searched(name string, env []string) string {
	for _, c := range name {
		if c == '/' {
			return ""
		}
	}
	if name == "" {
		return ""
	}
	for i := len(env) - 1; i >= 0; i-- {
		if len(env[i]) >= 5 && env[i][:5] == "PATH=" {
			return " (searched $PATH: " + env[i][5:] + ")"
		}
	}
	return " (searched " + pledgecli.DefaultPath + ", PATH is unset)"
}

// promises computes the promise set the program runs under (nil: no
// filter) and the user's promise text (for the automatic unveils).
func (s *launchSpec) promises(prog pledgecli.Program) (final *promise.Set, user string, le *LaunchError) {
	if s.Promises == nil {
		return nil, "", nil
	}
	strategy := pledgecli.KindStatic // only "exec" is added
	if s.Implicit {
		strategy = prog.Strategy()
	}
	parse := func(what, text string) (promise.Set, *LaunchError) {
		eff, ok := pledgecli.EffectivePromises(text, strategy)
		if !ok {
			return 0, &LaunchError{Code: pledgecli.ExitFailure, Msg: s.Name + ": too many promises (with the implied exec, rpath and prot_exec the " + what + " must stay under 256 bytes)", Errno: unix.EINVAL}
		}
		set, err := promise.Parse(eff)
		if err != nil {
			return 0, &LaunchError{Code: pledgecli.ExitBadPromises, Msg: s.Name + ": " + PromiseMessage(err), Errno: unix.EINVAL}
		}
		return set, nil
	}
	set, le := parse("promises", *s.Promises)
	if le != nil {
		return nil, "", le
	}
	if s.ExecPromises != nil {
		ex, le := parse("execpromises", *s.ExecPromises)
		if le != nil {
			return nil, "", le
		}
		ex, err := promise.ExecPromises(set, &ex)
		if err != nil {
			return nil, "", &LaunchError{Code: pledgecli.ExitPledge, Msg: s.Name + ": pledge: " + err.Error(), Errno: unix.EINVAL}
		}
		set = ex
	}
	return &set, *s.Promises, nil
}

// ruleset makes the automatic and the given unveils on a new Landlock
// ruleset, not yet enforced; nil when Landlock is absent (and not
// strict). ttyName is the terminal of the program's stdin, or "".
func (s *launchSpec) ruleset(pl *launchPlan, ttyName string) (*Ruleset, *LaunchError) {
	fail := func(err error) *LaunchError {
		return &LaunchError{Code: pledgecli.ExitUnveil, Msg: s.Name + ": " + err.Error(), Errno: errnoOf(err)}
	}
	rs, err := NewRuleset(UnveilOptions{Strict: s.UnveilStrict})
	if err != nil {
		return nil, fail(err)
	}
	if !rs.active() {
		rs.Close()
		return nil, nil // Landlock absent and not strict: the caller was told
	}
	var rules []pledgecli.Unveil
	if s.AutoUnveil {
		o := &pledgecli.Options{Promises: pl.user}
		env := pledgecli.Env{Environ: s.Env, Landlock: true, TTYName: ttyName, Arch: pledgecli.MuslArch(runtime.GOARCH)}
		rules = pledgecli.AutoUnveils(o, pl.prog, env)
	}
	for _, u := range s.Unveil {
		rules = append(rules, pledgecli.Unveil{Path: u.Path, Perm: u.Perms, Required: !u.IfExists})
	}
	for _, u := range rules {
		if err := rs.Add(u.Path, u.Perm); err != nil {
			if !u.Required && errors.Is(err, unix.ENOENT) {
				continue
			}
			rs.Close()
			return nil, fail(err)
		}
	}
	return rs, nil
}

// atExecveCheck is AT_EXECVE_CHECK (Linux 6.14), not yet in x/sys/unix:
// execveat only checks that the file may be executed.
const atExecveCheck = 0x10000

// atFDCWD is AT_FDCWD (-100) as a system call argument.
var atFDCWD = ^uintptr(99) // -100 in two's complement

// execCheck asks the kernel whether the program and the interpreters it
// names may be executed (permissions, noexec mounts, Landlock), so that a
// refusal is reported normally instead of after the filter is installed.
// Kernels without AT_EXECVE_CHECK skip the check.
func execCheck(path string, paths []string, argv, envv []*byte) *LaunchError {
	for _, p := range paths {
		pp, err := syscall.BytePtrFromString(p)
		if err != nil {
			continue
		}
		_, _, e := syscall.RawSyscall6(unix.SYS_EXECVEAT, atFDCWD, uintptr(unsafe.Pointer(pp)),
			uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])), atExecveCheck, 0)
		switch e {
		case 0:
		case unix.EINVAL:
			return nil // no AT_EXECVE_CHECK in this kernel
		default:
			return execCheckError(path, p, e)
		}
	}
	return nil
}

// execCheckError reports that the kernel refuses to execute p, the
// program path or one of its interpreters.
func execCheckError(path, p string, e syscall.Errno) *LaunchError {
	what := ""
	if p != path {
		what = fmt.Sprintf(" (the interpreter of %s)", path)
	}
	hint := ""
	if e == unix.EACCES && LandlockABI() > 0 {
		hint = "; if unveil is in use, unveil it with \"rx\""
	}
	return &LaunchError{Code: pledgecli.ExitExec, Msg: fmt.Sprintf("%s%s: %v%s", p, what, e, hint), Errno: e}
}

// withName prefixes the message with the command name.
func (e *LaunchError) withName(name string) *LaunchError {
	e.Msg = name + ": " + e.Msg
	return e
}

// execFailure reports an execve that failed after the filter was
// installed. Nothing may allocate then, so the report is prepared before.
type execFailure struct {
	sync  int
	frame []byte // 'X' frame with a placeholder errno, for the parent
	msg   []byte // "NAME: PATH: " for stderr (Cmd.Exec)
}

func newExecFailure(sync int, name, path string) *execFailure {
	payload := append(make([]byte, 4, 4+len(path)), path...)
	return &execFailure{
		sync:  sync,
		frame: frame(frameExecFail, payload),
		msg:   []byte(name + ": " + path + ": "),
	}
}

// report tells of the failure with the system calls the filter may
// refuse: an 'X' frame to the parent (or the message on stderr), then
// exit_group(127). If those are refused it ends the process with SIGSEGV
// (see die).
func (x *execFailure) report(e syscall.Errno) {
	if x.sync >= 0 {
		binary.LittleEndian.PutUint32(x.frame[5:], uint32(e))
		rawWrite(x.sync, x.frame)
	} else {
		rawWrite(2, x.msg)
		s := e.Error()
		rawWrite(2, unsafe.Slice(unsafe.StringData(s), len(s)))
		rawWrite(2, newline[:])
	}
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, pledgecli.ExitExec, 0, 0)
	die()
}

var newline = [1]byte{'\n'}

func rawWrite(fd int, b []byte) {
	if len(b) > 0 {
		syscall.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}

// resetSIGSEGV gives SIGSEGV its default action, so that die can end the
// process without a system call. The program is not affected: execve
// resets caught signals to the default anyway.
func resetSIGSEGV() {
	var sa [4]uint64 // struct sigaction {handler, flags, restorer, mask} = SIG_DFL
	syscall.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(unix.SIGSEGV), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
}

// dieAddr is a nil pointer the compiler cannot see through.
var dieAddr *int

// die ends the process after the filter was installed, when even
// exit_group may be refused (promises without stdio): a fault with
// SIGSEGV's default action needs no system call. The other runtime
// threads die with it.
func die() {
	for {
		*dieAddr = 0
	}
}

// frame encodes one protocol frame.
func frame(kind byte, payload []byte) []byte {
	b := make([]byte, 5, 5+len(payload))
	b[0] = kind
	binary.LittleEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

func sendFrame(fd int, kind byte, payload []byte) error {
	return sendAll(fd, frame(kind, payload))
}

// sendAll writes all of b.
func sendAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readFrame reads one frame; io.EOF means the other end closed before a
// frame began.
func readFrame(fd int) (byte, []byte, error) {
	var hdr [5]byte
	if err := readFull(fd, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.LittleEndian.Uint32(hdr[1:])
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("frame of %d bytes is too long", n)
	}
	payload := make([]byte, n)
	if err := readFull(fd, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], payload, nil
}

func readFull(fd int, b []byte) error {
	for got := 0; got < len(b); {
		n, err := unix.Read(fd, b[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if got == 0 {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		got += n
	}
	return nil
}

// launcher is the parent's side of one launch.
type launcher struct {
	proc *os.Process // nil until the direct launch has the program running
	pid  int
	sock int // the parent's end of the socketpair
	ino  uint64
	fd   int // the launcher's descriptor number of its end
	sup  *Supervisor
	// plan is the direct launch's plan (fork.go), for its step errors.
	plan *launchPlan
}

// launcherRuntimeEnv tunes the launcher's own Go runtime (the program
// gets Cmd.Env): one P and no garbage collector, since it runs one
// goroutine for a millisecond, and no cgroup reading for GOMAXPROCS.
// Fewer runtime threads also make its final execve faster (the kernel
// ends every other thread first).
var launcherRuntimeEnv = []string{"GOMAXPROCS=1", "GOGC=off", "GODEBUG=containermaxprocs=0,updatemaxprocs=0,decoratemappings=0"}

// selfExe is the binary Start re-executes.
func selfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}

// startLauncher re-executes this binary with files as its descriptors
// 0, 1, …, the launcher's socket after them.
func startLauncher(spec *launchSpec, files []*os.File) (*launcher, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": creating the launcher's socket: " + err.Error(), Errno: errnoOf(err)}
	}
	var st unix.Stat_t
	unix.Fstat(fds[1], &st)
	child := os.NewFile(uintptr(fds[1]), "launcher")
	l := &launcher{sock: fds[0], ino: st.Ino, fd: len(files)}
	attr := &os.ProcAttr{
		Env:   append([]string{launchEnv + "=" + strconv.Itoa(l.fd)}, launcherRuntimeEnv...),
		Files: append(files, child),
	}
	l.proc, err = os.StartProcess(selfExe(), []string{os.Args[0]}, attr)
	if err == nil {
		l.pid = l.proc.Pid
	}
	child.Close()
	if err != nil {
		unix.Close(l.sock)
		return nil, &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": starting the launcher (" + selfExe() + "): " + err.Error(), Errno: errnoOf(err)}
	}
	return l, nil
}

// sendSpec sends the spec at once, without waiting for the launcher's
// hello: it reads it as soon as its Go runtime has started. A spec larger
// than the socket buffer is written from a goroutine, so that a launcher
// that never reads it (its main lacks Init) cannot block Start.
func (l *launcher) sendSpec(spec *launchSpec) error {
	b := frame(frameSpec, spec.encode())
	if len(b) > 64<<10 {
		go sendAll(l.sock, b)
		return nil
	}
	if err := sendAll(l.sock, b); err != nil {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": sending the launch spec: " + err.Error(), Errno: errnoOf(err)}
	}
	return nil
}

// launchTimeout bounds each wait of the parent for the launcher.
const launchTimeout = 30 * time.Second

// handshake drives the launch until the program runs or the launcher
// fails.
func (l *launcher) handshake(spec *launchSpec, log io.Writer) error {
	fail := func(format string, args ...any) error {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: spec.Name + ": " + fmt.Sprintf(format, args...)}
	}
	defer func() {
		unix.Close(l.sock)
		l.sock = -1 // abort must not close a number reused meanwhile
	}()
	hello := false
	for {
		if err := waitReadable(l.sock, launchTimeout); err != nil {
			return fail("the launcher did not answer within %v: %v", launchTimeout, err)
		}
		kind, payload, err := readFrame(l.sock)
		if err == unix.ECONNRESET {
			err = io.EOF // it ended with the spec unread
		}
		switch {
		case err == io.EOF && !hello && l.plan != nil:
			return fail("the child ended before it reported: %s", l.endStatus())
		case err == io.EOF && !hello:
			return fail("the launcher (%s) ended without starting: its main does not call sandbox.Init first", selfExe())
		case err == io.EOF:
			if l.sup != nil {
				l.sup.launcherExeced()
			}
			return nil // execve succeeded: the close-on-exec end is gone
		case err != nil:
			return fail("reading from the launcher: %v", err)
		}
		switch kind {
		case frameHello:
			hello = true
		case frameError:
			le, err := decodeLaunchError(payload)
			if err != nil {
				return fail("bug: bad error from the launcher: %v", err)
			}
			return le
		case frameExecFail:
			return execFailError(spec.Name, payload)
		case frameStep:
			if len(payload) > 0 && payload[0] == stepLimitOptional {
				// As the launcher prints it (Rlimit.apply), without the name.
				fmt.Fprintln(os.Stderr, l.stepError(spec, payload).Msg)
				continue
			}
			return l.stepError(spec, payload)
		case frameListener:
			if len(payload) < 8 {
				return fail("bug: short listener frame")
			}
			n := int(binary.LittleEndian.Uint32(payload))
			set := promise.Set(binary.LittleEndian.Uint32(payload[4:]))
			listener, err := l.takeListener(n)
			if errors.Is(err, errLauncherSpoke) {
				continue // read its failure report (or its end)
			}
			if err != nil {
				return &LaunchError{Code: pledgecli.ExitPledge, Msg: spec.Name + ": violation logging: " + err.Error() + " (use -q, or leave Log unset, to run without logging)", Errno: errnoOf(err)}
			}
			l.sup = NewSupervisor(listener, SupervisorConfig{Promises: set, Mode: spec.Mode, Log: log})
			l.sup.launcher.Store(&launcherID{pid: l.pid, fd: l.fd, ino: l.ino})
			// The listener is ours: the launcher may exec (refused
			// calls wait until Serve runs).
			if _, err := unix.Write(l.sock, []byte{goByte}); err != nil {
				return fail("telling the launcher to go on: %v", err)
			}
			go l.sup.Serve()
		default:
			return fail("bug: unknown frame %q from the launcher", kind)
		}
	}
}

// execFailError decodes an 'X' frame.
func execFailError(name string, payload []byte) *LaunchError {
	if len(payload) < 4 {
		return &LaunchError{Code: pledgecli.ExitExec, Msg: name + ": execve failed"}
	}
	e := syscall.Errno(binary.LittleEndian.Uint32(payload))
	return &LaunchError{Code: pledgecli.ExitExec, Msg: fmt.Sprintf("%s: %s: %v", name, payload[4:], e), Errno: e}
}

// takeListener copies descriptor n of the launcher once it is the
// seccomp listener, watching the socket for a failure report meanwhile.
func (l *launcher) takeListener(n int) (*os.File, error) {
	pidfd, err := unix.PidfdOpen(l.pid, 0)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open(%d): %w", l.pid, err)
	}
	defer unix.Close(pidfd)
	deadline := time.Now().Add(launchTimeout)
	wait := 10 * time.Microsecond
	for {
		f, err := takeListenerFD(pidfd, n)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, errNotYet) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the launcher's seccomp listener did not appear as descriptor %d within %v", n, launchTimeout)
		}
		// Sleep by waiting on the socket: a failure report ends it.
		if ready, _ := pollIn(l.sock, wait); ready {
			return nil, errLauncherSpoke
		}
		wait = min(2*wait, time.Millisecond)
	}
}

// errLauncherSpoke stops the wait for the listener: the launcher sent a
// frame (a failure) or ended; handshake reads it next.
var errLauncherSpoke = errors.New("the launcher reported before handing over its seccomp listener")

// waitReadable waits until fd can be read (or has hung up).
func waitReadable(fd int, timeout time.Duration) error {
	ready, err := pollIn(fd, timeout)
	if err != nil {
		return err
	}
	if !ready {
		return unix.ETIMEDOUT
	}
	return nil
}

// pollIn waits up to timeout for fd to become readable or hang up.
func pollIn(fd int, timeout time.Duration) (bool, error) {
	ts := unix.NsecToTimespec(int64(timeout))
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Ppoll(pfd, &ts, nil)
		if err == unix.EINTR {
			continue
		}
		return n > 0, err
	}
}

// endStatus reaps the direct child that ended early and describes how
// it ended.
func (l *launcher) endStatus() string {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(l.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "wait4: " + err.Error()
		}
		break
	}
	l.pid = -1 // reaped: abort must not wait again
	switch {
	case ws.Signaled():
		return "killed by " + ws.Signal().String()
	case ws.Exited():
		return "exit status " + strconv.Itoa(ws.ExitStatus())
	}
	return fmt.Sprintf("wait status %#x", uint32(ws))
}

// abort kills and reaps a launcher whose launch failed.
func (l *launcher) abort() {
	if l.sock >= 0 { // handshake closed it already
		unix.Close(l.sock)
		l.sock = -1
	}
	if l.sup != nil {
		l.sup.Close()
	}
	if l.proc == nil {
		if l.pid > 0 {
			unix.Kill(l.pid, unix.SIGKILL)
			unix.Wait4(l.pid, nil, 0, nil)
		}
		return
	}
	l.proc.Kill()
	l.proc.Wait()
}

// supervisableParent checks that this process can supervise a child's
// filter: a pledged process cannot take the listener or answer it.
func supervisableParent() error {
	if _, pledged := Pledged(); pledged {
		return errors.New("violation logging needs a parent that is not pledged itself (it takes the child's seccomp listener with pidfd_getfd and answers it with ioctl); start the child without Log")
	}
	return nil
}
