// Package pledgecmd is the pledge command: `pledge [options] PROG ARGS...`
// (cmd/pledge) and `vow exec`, a drop-in replacement for Cosmopolitan's
// pledge.com (pledge.md §7, interfaces.md §1). The options, the plan and
// the helpers are in internal/pledgecli; the launch is sandbox.Cmd.
//
// The command runs PROG in one of two ways:
//
//   - In pledge's own place (sandbox.Cmd.Exec), as pledge.com does: pledge
//     applies everything to itself and execs PROG, which keeps its pid,
//     status and signals without a middleman. That is -q, and also the
//     default when this build can log that way (sandbox.ExecCanLog:
//     x86-64 without cgo) and -k is not given: violations are then
//     logged (pledge.md §0.15) by a watcher process that pledge clones
//     before restricting itself and that ends with PROG (sandbox/watch.go).
//
//   - Otherwise (-k with logging, other builds) pledge stays as PROG's
//     parent and supervises its filter. PROG is started by sandbox.Cmd:
//     a forked child (or, with -c, -u or -g, a re-execution of this
//     binary) restricts itself and execs PROG, so PROG has the child's
//     pid, not pledge's. pledge forwards SIGTERM, SIGHUP, SIGUSR1,
//     SIGUSR2 and SIGALRM to PROG and ignores SIGINT and SIGQUIT, which a
//     terminal sends to PROG as well (as system(3) does). When PROG
//     exits, pledge exits with its status; when a signal kills PROG,
//     pledge kills itself with the same signal (without dumping core), so
//     a shell reports it the same way (exit status 128+n, e.g. 159 for
//     SIGSYS, also when the supervisor had to use SIGKILL on a PROG that
//     catches SIGSYS: the reason -k keeps this way).
//
// An unknown promise is refused before anything runs, with exit status 21
// (pledge.com's "bad promises list"):
//
//	pledge: unknown promise 'stdoi' (did you mean 'stdio'?)
package pledgecmd

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/pledgecli"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// Run runs the command with the program name name ("pledge" or "vow
// exec") and the arguments after it, and returns the exit status. The
// calling binary must have called sandbox.Init first thing in main. With
// -q, Run does not return when PROG starts: PROG replaces the process.
func Run(name string, args []string) int {
	d := pledgecli.SystemDefaults()
	o, err := pledgecli.Parse(name, args, d)
	if err != nil {
		return pledgecli.Report(os.Stdout, os.Stderr, pledgecli.Usage(name, d), err)
	}
	if o.HasTest {
		return pledgecli.FeatureTest(os.Stderr, o.Test)
	}
	if _, err := promise.Parse(o.Promises); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, sandbox.PromiseMessage(err))
		return pledgecli.ExitBadPromises
	}
	if o.HasChroot && o.Chroot == "" {
		fmt.Fprintf(os.Stderr, "%s: : %v (-c needs a directory)\n", name, unix.ENOENT)
		return pledgecli.ExitChdir
	}
	inPlace := o.Quiet || (!o.Kill && sandbox.ExecCanLog(os.Stderr))
	cmd, code := command(o, inPlace)
	if cmd == nil {
		return code
	}
	if inPlace {
		return report(cmd.Exec())
	}
	return supervise(cmd)
}

// command builds the sandbox.Cmd for o, to be run in this process's
// place (Cmd.Exec) or as a supervised child; a nil Cmd comes with the
// exit status to return.
func command(o *pledgecli.Options, inPlace bool) (*sandbox.Cmd, int) {
	user := o.Promises
	cmd := &sandbox.Cmd{
		Name:             o.Name,
		Path:             o.Prog,
		Args:             o.Argv(),
		Env:              pledgecli.ChildEnv(os.Environ()),
		Stdin:            os.Stdin,
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Promises:         &user,
		ImplicitPromises: true,
		AutoUnveil:       o.WantsUnveil(),
		Nice:             o.Nice,
		UID:              o.UID,
		GID:              o.GID,
		Chroot:           o.Chroot,
		DropCapabilities: !o.NoDrop,
		NormalizeFDs:     !o.NoNormalize,
	}
	if o.Kill {
		kill := sandbox.PenaltyKillProcess
		cmd.Mode = &kill
	}
	if !o.Quiet {
		cmd.Log = os.Stderr
	}
	if o.WantsUnveil() {
		for _, v := range o.Unveils {
			cmd.Unveil = append(cmd.Unveil, sandbox.UnveilRule{Path: v.Path, Perms: v.Perm, IfExists: true})
		}
		if sandbox.LandlockABI() == 0 && !o.Quiet {
			fmt.Fprintf(os.Stderr, "%s: warning: Landlock is not available in this kernel, so nothing is unveiled "+
				"(-v and the automatic unveils are not enforced); -V or -q silences this\n", o.Name)
		}
	}
	for _, l := range o.Limits(pledgecli.HostCPU()) {
		if l.Err != nil {
			fmt.Fprintf(os.Stderr, "setrlimit(%s): %v\n", l.Name, l.Err)
			continue
		}
		cmd.Rlimits = append(cmd.Rlimits, sandbox.Rlimit{Resource: l.Resource, Cur: l.Soft, Max: l.Hard, Optional: !l.Fatal})
	}
	if o.NoNormalize && !inPlace {
		// PROG inherits this process's descriptors, as with pledge.com
		// (which execs in place).
		cmd.ExtraFiles = inheritedFiles()
	}
	return cmd, 0
}

// inheritedFiles lists the descriptors from 3 up that this process
// inherited (those without close-on-exec; the Go runtime's own all have
// it), at their numbers.
func inheritedFiles() []*os.File {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var files []*os.File
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			continue
		}
		for len(files) < fd-3+1 {
			files = append(files, nil)
		}
		files[fd-3] = os.NewFile(uintptr(fd), "inherited descriptor "+e.Name())
	}
	return files
}

// report prints a launch failure and returns its exit status.
func report(err error) int {
	if err == nil {
		return pledgecli.ExitOK
	}
	fmt.Fprintln(os.Stderr, err)
	if le, ok := err.(*sandbox.LaunchError); ok {
		return le.Code
	}
	return pledgecli.ExitFailure
}

// Signals pledge forwards to PROG, and those it receives together with
// PROG from a terminal and therefore drops (SIGPIPE: a closed stderr must
// not kill the supervisor).
var (
	forwarded = []os.Signal{unix.SIGTERM, unix.SIGHUP, unix.SIGUSR1, unix.SIGUSR2, unix.SIGALRM}
	dropped   = []os.Signal{unix.SIGINT, unix.SIGQUIT, unix.SIGPIPE}
)

// supervise starts PROG as a supervised child, waits for it and returns
// its status (or dies by its signal).
func supervise(cmd *sandbox.Cmd) int {
	sigc := make(chan os.Signal, 16)
	notified := make(chan struct{})
	go func() {
		// Installing the handlers takes a while (the runtime starts a
		// signal thread); do it while the launcher starts.
		signal.Notify(sigc, append(append([]os.Signal{}, forwarded...), dropped...)...)
		close(notified)
	}()
	if err := cmd.Start(); err != nil {
		return report(err)
	}
	go func() {
		<-notified
		for s := range sigc {
			for _, f := range forwarded {
				if s == f {
					cmd.Process.Signal(s)
				}
			}
		}
	}()
	err := cmd.Wait()
	// No signal.Stop: it waits for the signal goroutine to go idle
	// (0.3 ms), and the process exits next anyway.
	<-notified
	if cmd.ProcessState == nil {
		fmt.Fprintf(os.Stderr, "%s: waiting for %s: %v\n", cmd.Name, cmd.Path, err)
		return pledgecli.ExitFailure
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case !ok:
		return cmd.ProcessState.ExitCode()
	case ws.Signaled() && cmd.KilledForViolation():
		return dieBy(unix.SIGSYS) // as the kernel's kill penalty (-q) would end it
	case ws.Signaled():
		return dieBy(ws.Signal())
	}
	return ws.ExitStatus()
}

// dieBy ends this process with sig, as PROG ended, without a core dump of
// its own; it returns 128+sig if that does not work.
func dieBy(sig syscall.Signal) int {
	runtime.LockOSThread()
	var core unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_CORE, &core) == nil {
		core.Cur = 0
		unix.Setrlimit(unix.RLIMIT_CORE, &core)
	}
	if sig != unix.SIGKILL && sig != unix.SIGSTOP {
		// The Go runtime's handler would turn SIGSYS, SIGSEGV, … into a
		// panic; restore the default action directly.
		var sa [4]uint64 // struct sigaction with SIG_DFL
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
		set := uint64(1) << (uint(sig) - 1)
		unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	}
	unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	return 128 + int(sig)
}
