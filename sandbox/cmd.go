package sandbox

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// Cmd is a program to run restricted by pledge, unveil, resource limits and
// credentials, without restricting the calling process. It has the shape
// of [os/exec.Cmd]: fill in the fields, then call [Cmd.Start] and
// [Cmd.Wait], or [Cmd.Run]. A Cmd cannot be reused.
//
// # How it works
//
// Start takes one of two ways, with the same result:
//
//   - The direct launch (fork.go), whenever the parent sees the files as
//     the program will: no Chroot, Dir, UID, GID or Groups, not a
//     set-user-ID install, and the calling process not pledged. The
//     parent looks the program up, builds the unveil ruleset and
//     compiles the filter; the child (on x86-64 it shares the caller's
//     memory, elsewhere it is a forked copy), with one thread that runs
//     raw system calls only, writes its pid into the filter, applies
//     everything to itself and execve's the program, so the program has
//     the child's pid (which the filter's self-only kill/tgkill rules
//     name).
//   - Otherwise Start re-executes the running binary (/proc/self/exe) as
//     a launcher: [Init], called first thing in main, recognises it,
//     applies the restrictions to its own locked main thread and
//     execve's the program in place. Every binary that may use Start
//     this way must call Init before anything else in main (test
//     binaries: in TestMain).
//
// Both follow the pledge command's order (pledge.md §7.8): descriptors,
// niceness, early resource limits, chroot, Dir, looking the program up,
// capabilities, user and group ids, unveil, late resource limits, then
// the seccomp filter as the very last step before execve (the direct
// child sets all its limits before the capability drop). A
// failure in any step stops it before the program runs; Start then
// returns a *[LaunchError] whose Code is the pledge command's exit status
// for that step (pledge.md §7.12) and whose message says what failed.
//
// Why a launcher at all: chroot, setuid, setgid and resource limits
// apply to the whole process in Go and would change the caller, and the
// direct child cannot run Go code; re-executing costs one Go runtime
// start-up, about a millisecond, which the direct launch saves
// (docs/benchmarks.md).
//
// # Violation logging
//
// With Log set (or [StderrLogging] in Mode) the filter hands every
// violation to the parent instead of deciding itself
// (SECCOMP_RET_USER_NOTIF): a [Supervisor] in the calling process writes
// upstream's message lines plus the pid to Log, once per distinct system
// call and promise, and applies the penalty: the call fails with EPERM, or
// for the kill penalties the whole program is killed with SIGSYS (see
// [Supervisor]). The parent takes the filter's listener descriptor from
// the launcher with pidfd_getfd, which needs ptrace access to it (always
// given for one's own child, unless Yama's ptrace_scope is 2 or 3).
//
// Without logging the filter returns the penalty itself and the parent
// plays no part after Start.
type Cmd struct {
	// Path is the program to run. A name without a slash is looked up in
	// the PATH of Env (pledgecli.DefaultPath when unset); a relative path
	// is relative to Dir. The lookup happens in the launcher, after
	// Chroot and Dir, as the user the program runs as.
	Path string
	// Args are the program's arguments, including the program name as
	// Args[0]; empty means {Path}.
	Args []string
	// Env is the program's environment; nil means the calling process's
	// environment (os.Environ at Start).
	Env []string
	// Dir is the working directory (inside Chroot when that is set); ""
	// means the caller's, or the root of Chroot.
	Dir string

	// Stdin, Stdout and Stderr become descriptors 0, 1 and 2 of the
	// program; nil means /dev/null.
	Stdin, Stdout, Stderr *os.File
	// ExtraFiles become descriptors 3, 4, … (a nil entry leaves that
	// number closed). NormalizeFDs closes them.
	ExtraFiles []*os.File

	// Promises and ExecPromises are the two arguments of the pledge the
	// launcher makes right before it execs the program (pledge.md §5):
	// the program runs under ExecPromises when that is set, which must
	// then be a subset of Promises, and under Promises otherwise. nil
	// Promises means no seccomp filter at all; a pointer to "" is the
	// empty promise set. "exec" is always added to both, since the
	// launcher itself has to call execve after pledging (so the program
	// may exec too, like under the pledge command), and "error" selects
	// the EPERM penalty whatever Mode says.
	Promises, ExecPromises *string
	// ImplicitPromises also adds what loading the program needs, as the
	// pledge command does (pledge.md §7.3): "rpath" and "prot_exec" unless
	// the program and its "#!" interpreters are static executables.
	ImplicitPromises bool
	// Mode is the penalty for a violation; nil means PenaltyReturnEPERM
	// (the call fails with EPERM), the default of pledge.com and spawn.
	// PenaltyKillProcess kills the process; PenaltyKillThread makes the
	// kernel kill the offending thread (for a single-threaded program
	// that ends the process with SIGSYS; with logging it kills the
	// process). StderrLogging in Mode means Log = os.Stderr when Log is
	// nil. A pointer, because the zero Mode is PenaltyKillThread.
	Mode *Mode
	// Log receives one line per distinct violation, in upstream's format
	// with the pid appended (see [Supervisor]); nil means no logging.
	Log io.Writer

	// Unveil rules are added, in order, after the automatic ones. When
	// Unveil is nil and AutoUnveil is false nothing is unveiled (no
	// Landlock at all); a non-nil empty list commits with nothing visible.
	Unveil []UnveilRule
	// AutoUnveil makes the pledge command's automatic unveils (pledge.md
	// §7.6): the program "rx" (required), its interpreters and, for a
	// dynamic program, the loader's libraries and configuration, and the
	// files the promises need (/dev/null for stdio, /etc/resolv.conf for
	// dns, /tmp for tmppath, …).
	AutoUnveil bool
	// UnveilStrict makes the launch fail (exit code 20) when Landlock is
	// not available, instead of running the program without unveil.
	UnveilStrict bool

	// Rlimits are set in the launcher: RLIMIT_AS, RLIMIT_NPROC and
	// RLIMIT_NOFILE after unveil's commit, right before the pledge (the
	// launcher's Go runtime would not survive a small address space or
	// process limit), the others before anything else.
	Rlimits []Rlimit
	// Nice gives the program the lowest priority: niceness 19, idle I/O
	// class and SCHED_IDLE (pledge -n).
	Nice bool
	// UID and GID, when not zero, are the user and group ids to switch to
	// (pledge -u, -g); the supplementary groups are then replaced by
	// Groups (cleared when Groups is nil). Zero leaves the ids alone, as
	// in pledge.com. A launcher started from a set-user-ID or
	// set-group-ID binary always returns to the invoking user's ids, and
	// refuses UID, GID and DropCapabilities false (code 6).
	UID, GID int
	Groups   []int
	// Chroot, when not "", is the directory to chdir to and chroot into
	// before Dir and the program lookup (pledge -c). It needs root or
	// CAP_SYS_CHROOT.
	Chroot string
	// DropCapabilities empties the capability bounding set and the
	// ambient, effective, permitted and inheritable sets, so the program
	// runs without capabilities even as root (the pledge command does it
	// unless -D).
	DropCapabilities bool
	// NormalizeFDs marks every descriptor from 3 up close-on-exec (so
	// ExtraFiles do not reach the program) and opens /dev/null on 0, 1
	// or 2 when they are closed (the pledge command does it unless -N).
	NormalizeFDs bool

	// Name starts the messages of launch failures, as in "pledge: ls:
	// no such file or directory"; "" means "sandbox".
	Name string

	// Process is the started process; ProcessState is set by Wait.
	Process      *os.Process
	ProcessState *os.ProcessState

	devNull    []*os.File  // opened by Start for nil standard descriptors
	supervisor *Supervisor // nil without logging
}

// UnveilRule is one unveil(Path, Perms) the launcher makes before it
// commits; see [Ruleset.Add] for the permission letters.
type UnveilRule struct {
	Path, Perms string
	// IfExists skips the rule when Path does not exist (pledge -v);
	// otherwise that is a launch failure (code 20), as is any other error.
	IfExists bool
}

// Rlimit is a resource limit to set in the launcher.
type Rlimit struct {
	// Resource is the limit: unix.RLIMIT_CPU, unix.RLIMIT_AS, …
	Resource int
	// Cur and Max are the soft and hard limits (unix.RLIM_INFINITY for
	// none). When setting them fails, both are clamped to the current
	// hard limit and set again, as pledge.com does.
	Cur, Max uint64
	// Optional makes a failure a message on the program's stderr
	// ("setrlimit(RLIMIT_AS): reason") after which the launch goes on;
	// otherwise it is a launch failure (code 1).
	Optional bool
}

// LaunchError is a failure of the launcher before the program ran.
type LaunchError struct {
	// Code is the pledge command's exit status for the failed step
	// (pledge.md §7.12): 1 resource limit or descriptor trouble, 6–9 and
	// 11–18 ids and chroot, 10 program not found, 19 pledge, 20 unveil,
	// 21 bad promise, 25 capabilities, 127 execve.
	Code int
	// Msg is the complete message, e.g. "pledge: ls: no such file or
	// directory (searched $PATH: /usr/bin:/bin)".
	Msg string
	// Errno is the system error behind it, or 0.
	Errno syscall.Errno
}

// Error returns the message.
func (e *LaunchError) Error() string { return e.Msg }

// Unwrap returns the Errno, so errors.Is(err, unix.ENOENT) works.
func (e *LaunchError) Unwrap() error {
	if e.Errno == 0 {
		return nil
	}
	return e.Errno
}

// ExitError reports a program that did not exit with status 0.
type ExitError struct {
	*os.ProcessState
}

// Error describes the exit status, e.g. "exit status 3" or "signal: bad
// system call".
func (e *ExitError) Error() string { return e.ProcessState.String() }

// name is the message prefix.
func (c *Cmd) name() string {
	if c.Name == "" {
		return "sandbox"
	}
	return c.Name
}

// mode is the mode word, PenaltyReturnEPERM by default.
func (c *Cmd) mode() Mode {
	if c.Mode == nil {
		return PenaltyReturnEPERM
	}
	return *c.Mode
}

// logWriter is where violations are logged, or nil.
func (c *Cmd) logWriter() io.Writer {
	if c.Log == nil && c.mode()&StderrLogging != 0 {
		return os.Stderr
	}
	return c.Log
}

// spec checks c and turns it into what the launcher needs. Bad promise
// names are found here, before anything runs.
func (c *Cmd) spec(notify bool) (*launchSpec, error) {
	if c.Path == "" {
		return nil, &LaunchError{Code: pledgecli.ExitNotFound, Msg: c.name() + ": no program given (Cmd.Path is empty)", Errno: unix.ENOENT}
	}
	for _, p := range []*string{c.Promises, c.ExecPromises} {
		if p == nil {
			continue
		}
		if _, err := promise.Parse(*p); err != nil {
			return nil, &LaunchError{Code: pledgecli.ExitBadPromises, Msg: c.name() + ": " + PromiseMessage(err), Errno: unix.EINVAL}
		}
	}
	if c.ExecPromises != nil && c.Promises == nil {
		return nil, &LaunchError{Code: pledgecli.ExitPledge, Msg: c.name() + ": ExecPromises given without Promises (pledge(NULL, execpromises) is EINVAL)", Errno: unix.EINVAL}
	}
	if _, err := c.mode().Penalty(); err != nil {
		return nil, &LaunchError{Code: pledgecli.ExitPledge, Msg: c.name() + ": " + err.Error(), Errno: unix.EINVAL}
	}
	for _, r := range c.Rlimits {
		if r.Resource < 0 || r.Resource >= 16 {
			return nil, &LaunchError{Code: pledgecli.ExitFailure, Msg: fmt.Sprintf("%s: unknown resource limit %d (use the unix.RLIMIT_* constants)", c.name(), r.Resource), Errno: unix.EINVAL}
		}
	}
	args := c.Args
	if len(args) == 0 {
		args = []string{c.Path}
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	return &launchSpec{
		Name: c.name(), Path: c.Path, Args: args, Env: env, Dir: c.Dir,
		Promises: c.Promises, ExecPromises: c.ExecPromises, Implicit: c.ImplicitPromises,
		Mode: c.mode() &^ StderrLogging, Notify: notify && c.Promises != nil,
		Unveil: c.Unveil, AutoUnveil: c.AutoUnveil, UnveilStrict: c.UnveilStrict,
		Rlimits: c.Rlimits, Nice: c.Nice, UID: c.UID, GID: c.GID, Groups: c.Groups,
		Chroot: c.Chroot, DropCaps: c.DropCapabilities, NormalizeFDs: c.NormalizeFDs,
	}, nil
}

// PromiseMessage words a promise parse error the way the pledge command
// prints it: unknown promise 'stdoi' (did you mean 'stdio'?).
func PromiseMessage(err error) string {
	var u *promise.UnknownError
	if !errors.As(err, &u) {
		return err.Error()
	}
	msg := "unknown promise '" + u.Word + "'"
	switch {
	case u.Hint != "":
		msg += " (" + u.Hint + ")"
	case u.Suggest != "":
		msg += " (did you mean '" + u.Suggest + "'?)"
	default:
		msg += " (valid promises: " + strings.Join(promise.Names(), " ") + ", error)"
	}
	return msg
}

// Start starts the program and returns once it runs: after the launcher
// applied every restriction and its execve succeeded, or with a
// *[LaunchError] when a step failed (the launcher has then exited and
// been reaped). With logging, the [Supervisor] runs from here until every
// process using the filter has ended.
func (c *Cmd) Start() error {
	if c.Process != nil {
		return errors.New("sandbox: Cmd.Start: already started")
	}
	if launcherPending {
		panic("sandbox: this process was started as a sandbox launcher, but main did not call sandbox.Init first")
	}
	log := c.logWriter()
	spec, err := c.spec(log != nil)
	if err != nil {
		return err
	}
	if spec.Notify {
		if err := supervisableParent(); err != nil {
			return &LaunchError{Code: pledgecli.ExitPledge, Msg: c.name() + ": " + err.Error(), Errno: unix.EPERM}
		}
	}
	files := []*os.File{c.Stdin, c.Stdout, c.Stderr}
	for i, f := range files {
		if f == nil {
			if files[i], err = c.openDevNull(); err != nil {
				c.closeDevNull()
				return err
			}
		}
	}
	files = append(files, c.ExtraFiles...)
	if spec.direct() {
		l, err := startDirect(spec, files, log)
		if err != nil {
			c.closeDevNull()
			return err
		}
		c.Process = l.proc
		c.supervisor = l.sup
		return nil
	}
	spec.Prepared = prepareLaunches && spec.preparable()
	l, err := startLauncher(spec, files)
	if err != nil {
		c.closeDevNull()
		return err
	}
	c.Process = l.proc
	err = l.sendSpec(spec)
	if err == nil && spec.Prepared {
		pl, le := spec.prepare(l.proc.Pid, files[0])
		if le != nil {
			err = le
		} else if e := sendPlan(l.sock, pl); e != nil {
			err = &LaunchError{Code: pledgecli.ExitFailure, Msg: c.name() + ": sending the prepared launch: " + e.Error(), Errno: errnoOf(e)}
		}
	}
	if err == nil {
		err = l.handshake(spec, log)
	}
	if err != nil {
		l.abort()
		c.Process = nil
		c.closeDevNull()
		return err
	}
	c.supervisor = l.sup
	return nil
}

func (c *Cmd) openDevNull() (*os.File, error) {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: opening %s for a missing standard descriptor: %w", c.name(), os.DevNull, err)
	}
	c.devNull = append(c.devNull, f)
	return f, nil
}

func (c *Cmd) closeDevNull() {
	for _, f := range c.devNull {
		f.Close()
	}
	c.devNull = nil
}

// Wait waits for the program to exit and sets ProcessState. It returns nil
// for exit status 0, an *[ExitError] for any other status or a signal.
// Violation logging goes on while processes the program started still use
// its filter.
func (c *Cmd) Wait() error {
	if c.Process == nil {
		return errors.New("sandbox: Cmd.Wait: not started")
	}
	if c.ProcessState != nil {
		return errors.New("sandbox: Cmd.Wait: Wait was already called")
	}
	state, err := c.Process.Wait()
	c.closeDevNull()
	if err != nil {
		return err
	}
	c.ProcessState = state
	if !state.Success() {
		return &ExitError{state}
	}
	return nil
}

// KilledForViolation reports whether the program was killed by the
// supervisor for a violation under a kill penalty (with logging; see
// [Supervisor] for the signal it uses).
func (c *Cmd) KilledForViolation() bool {
	return c.supervisor != nil && c.Process != nil && c.supervisor.Killed(c.Process.Pid)
}

// Run starts the program and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Exec applies every restriction to the calling process and replaces it
// with the program, like the launcher does but without one: the program
// keeps this process's pid, its descriptors (Stdin, Stdout and Stderr,
// when set, are first duplicated onto 0, 1 and 2) and its place under
// its parent. This is how the pledge command runs PROG, as pledge.com
// does (unless it supervises: -k with logging). Call it from main with
// no other goroutines at work; it turns the garbage collector off, and
// applies the per-thread restrictions either in one function of raw
// system calls (execinplace.go) or, with Chroot, Dir, UID or GID, in a
// set-user-ID install or a pledged process, on the calling goroutine's
// thread, which it locks.
//
// Exec returns only on failure, with a *[LaunchError]; the process may
// then already be partly restricted (ids changed, chroot entered,
// unveiled) and should exit with the error's Code. An execve that fails
// after the filter is installed (checks just before it passed) is
// reported on stderr, "NAME: PATH: reason", and the process exits with
// status 127, whatever the promises: the exec'ing thread ends itself
// (thread exit is always allowed) and another thread, which has no
// filter, reports it. ExtraFiles are refused.
//
// With Log (or StderrLogging) Exec logs violations as Start does, from
// a watcher process it starts before restricting anything (watch.go): it
// shares this process's memory and descriptors until the execve, then
// keeps the filter's listener and a duplicate of Log, and ends when the
// program ends. It costs two clones while the program keeps its
// promises; the first violation starts the Go side that logs it (this
// binary re-executed, which Init recognises). Log must then be an
// *os.File, the build x86-64 without cgo, and the process neither a
// set-user-ID install nor process 1: see [ExecCanLog]. Unlike with Start,
// the log ends with the program itself, not with the last process using
// its filter.
func (c *Cmd) Exec() error {
	log := c.logWriter()
	if log != nil {
		if why := execLogError(log); why != "" {
			return &LaunchError{Code: pledgecli.ExitPledge, Msg: c.name() + ": " + why + ": use Start, or leave Log unset", Errno: unix.ENOTSUP}
		}
	}
	if len(c.ExtraFiles) > 0 {
		return &LaunchError{Code: pledgecli.ExitFailure, Msg: c.name() + ": Exec does not take ExtraFiles (they would land on descriptors the Go runtime uses); use Start", Errno: unix.EINVAL}
	}
	spec, err := c.spec(log != nil)
	if err != nil {
		return err
	}
	w := newExecWait()
	if spec.Notify {
		if le := w.startWatcher(spec, log.(*os.File)); le != nil {
			return le
		}
	}
	le := c.exec(spec, w)
	w.abandon()
	return le
}

// exec is Exec after the watcher's start: it returns only on failure.
func (c *Cmd) exec(spec *launchSpec, w *watchParams) *LaunchError {
	for fd, f := range []*os.File{c.Stdin, c.Stdout, c.Stderr} {
		if f == nil || int(f.Fd()) == fd {
			continue
		}
		if err := unix.Dup3(int(f.Fd()), fd, 0); err != nil {
			return &LaunchError{Code: pledgecli.ExitFailure, Msg: fmt.Sprintf("%s: putting %s on descriptor %d: %v", c.name(), f.Name(), fd, err), Errno: errnoOf(err)}
		}
	}
	if spec.preparable() && execInPlaceSupported {
		stdin := c.Stdin
		if stdin == nil {
			stdin = os.Stdin
		}
		return spec.execPrepared(w, stdin)
	}
	runtime.LockOSThread()
	debug.SetGCPercent(-1)
	w.bindThread()
	if le := spec.run(-1, w); le != nil {
		return le
	}
	return &LaunchError{Code: pledgecli.ExitFailure, Msg: c.name() + ": bug: Exec returned without an error"}
}

// execInPlaceSupported can be turned off by tests, to take launchSpec.run.
var execInPlaceSupported = true

// errnoOf returns the errno err wraps, or 0.
func errnoOf(err error) syscall.Errno {
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}
