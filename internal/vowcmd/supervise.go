package vowcmd

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// workerEnv marks the re-executed vow that runs the script. Its value is
// the number of the status descriptor the worker reports pledges on, or
// "-" for none. The worker removes it from its environment first, so the
// script and the programs it starts never see it.
const workerEnv = "VOW_SCRIPT_WORKER"

// statusFDMin is the lowest descriptor number the status pipe may get in
// the worker: vow's own descriptors stay out of the script's way
// (lua-unix.md §1.8).
const statusFDMin = 100

// pledgeStatus is the last pledge the worker reported, and the
// supervisor of its violations once it made a supervised one.
type pledgeStatus struct {
	mu        sync.Mutex
	kills     bool
	promises  string
	sup       *sandbox.Supervisor
	violation *sandbox.Violation // the last one
}

// superviseScript runs inv in a worker process — this vow binary again,
// with args and the same standard descriptors — and waits for it:
//
//   - The worker's exit status becomes vow's.
//   - If the worker dies of a signal, vow dies of the same signal (with
//     core dumps off, the worker has dumped already), so a shell shows
//     128+N and a parent's unix.wait sees WTERMSIG = N, exactly as if the
//     script had run in vow itself. When the worker was killed for a
//     violation of a pledge whose violations kill, vow first prints
//     `vow: SCRIPT killed by the pledge: socket (ord=029) needs one of the
//     promises 'inet', 'dns', 'anet' (SIGSYS)` and the promises that were
//     in force (SIGSYS also stands for the supervisor's SIGKILL: a Go
//     worker catches SIGSYS).
//   - SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to vow are passed on to
//     the worker; SIGINT and SIGQUIT too, except when vow runs in the
//     foreground of its terminal, where the terminal has sent them to the
//     worker already.
//
// The worker reports each pledge on a socket it inherits at a descriptor
// ≥ 100 (close-on-exec in the worker): a line "KILLS MODE LISTENER
// PROMISES". Its first pledge is supervised (sandbox.PledgeNotify): vow
// takes the listener, answers the worker's violations with a
// sandbox.Supervisor and tells the worker it may go on.
//
// If the worker cannot be started (no /proc, or vow itself runs under a
// pledge or unveil that forbids executing it), the script runs in this
// process instead, and a pledge violation ends vow without a message.
func superviseScript(inv *invocation, args []string) int {
	r, wfd, err := statusPipe()
	if err != nil {
		debugf("cannot create the status pipe (%v); running the script in this process", err)
		return runScript(inv, -1, os.Stdin, os.Stderr)
	}
	argv0 := "vow"
	if len(os.Args) > 0 {
		argv0 = os.Args[0]
	}
	// The path, not /proc/self/exe, so the worker's name (comm) is vow's.
	exe, err := os.Executable()
	if err != nil {
		exe = "/proc/self/exe"
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGINT, syscall.SIGQUIT)
	// syscall.ForkExec rather than os/exec: os.StartProcess forks a
	// throw-away child once per process to probe for pidfd support,
	// which would add a third process start to every script.
	pid, err := syscall.ForkExec(exe, append([]string{argv0}, args...), &syscall.ProcAttr{
		Env:   workerEnviron(wfd),
		Files: []uintptr{0, 1, 2},
	})
	unix.Close(wfd)
	if err != nil {
		signal.Stop(sigs)
		r.Close()
		debugf("cannot start the script worker %s (%v); running the script in this process", exe, err)
		return runScript(inv, -1, os.Stdin, os.Stderr)
	}

	var st pledgeStatus
	done := make(chan struct{})
	go func() {
		defer close(done)
		readStatus(r, &st, pid)
	}()
	stop := make(chan struct{})
	go forwardSignals(pid, sigs, stop)

	var ws syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	close(stop)
	signal.Stop(sigs)
	// The worker's end of the pipe closes when it exits; a grandchild
	// cannot hold it (close-on-exec), but do not hang if one does.
	r.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	<-done
	r.Close()
	st.mu.Lock()
	if st.sup != nil {
		st.sup.Close()
	}
	st.mu.Unlock()

	if err != nil {
		fmt.Fprintf(os.Stderr, "vow: bug: waiting for the script worker %d failed: %v\n", pid, err)
		return ExitError
	}
	if ws.Exited() {
		return ws.ExitStatus()
	}
	if !ws.Signaled() {
		return ExitError
	}
	sig := ws.Signal()
	st.mu.Lock()
	if st.sup != nil && st.sup.Killed(pid) {
		sig = syscall.SIGSYS // the supervisor's kill stands for the kernel's
	}
	if sig == syscall.SIGSYS && st.kills {
		promises := st.promises
		if promises == "" {
			promises = `"" (none)`
		}
		if v := st.violation; v != nil && st.sup.Killed(pid) {
			fmt.Fprintf(os.Stderr, "vow: %s killed by the pledge: %s (SIGSYS)\n", inv.name(), describeViolation(*v))
			fmt.Fprintf(os.Stderr, "vow: promises in force: %s\n", promises)
		} else {
			fmt.Fprintf(os.Stderr, "vow: %s killed by the pledge: a system call outside its promises (SIGSYS)\n", inv.name())
			fmt.Fprintf(os.Stderr, "vow: promises in force: %s; the kernel's audit log, if enabled, names the call "+
				"(dmesg or /var/log/audit: type=1326 pid=%d syscall=N)\n", promises, pid)
		}
		fmt.Fprintf(os.Stderr, "vow: unix.pledge(promises, nil, unix.PLEDGE_PENALTY_RETURN_EPERM) makes such calls fail with EPERM instead\n")
	}
	st.mu.Unlock()
	return dieOf(sig)
}

// workerGodebug is added to the worker's GODEBUG: without it the Go
// runtime (1.25 and later) keeps the cgroup CPU-limit files open at
// descriptors 3 and 4 for its GOMAXPROCS updates, and a script's first
// unix.open would return 5. A Lua interpreter does not need more than
// one CPU's worth of GOMAXPROCS tuning. The worker removes it again (see
// [restoreGodebug]).
const workerGodebug = "containermaxprocs=0"

// workerEnviron is the worker's environment: vow's own, the marker
// naming the status descriptor, and workerGodebug last in GODEBUG (the
// last setting of a name wins).
func workerEnviron(statusFD int) []string {
	env := []string{workerEnv + "=" + strconv.Itoa(statusFD)}
	godebug := workerGodebug
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			if v != "" {
				godebug = v + "," + workerGodebug
			}
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GODEBUG="+godebug)
}

// restoreGodebug gives the worker back the GODEBUG vow was started with,
// so the script and its programs see vow's environment unchanged. The
// runtime read the setting at start-up already.
func restoreGodebug() {
	v, ok := os.LookupEnv("GODEBUG")
	if !ok {
		return
	}
	switch {
	case v == workerGodebug:
		os.Unsetenv("GODEBUG")
	case strings.HasSuffix(v, ","+workerGodebug):
		os.Setenv("GODEBUG", strings.TrimSuffix(v, ","+workerGodebug))
	}
}

// statusPipe returns vow's end of a new socket pair (non-blocking, for
// read deadlines) and the worker's end's descriptor, at a number ≥
// statusFDMin and inheritable, so that the worker finds it at the same
// number. The worker writes its pledge reports on it and, after a
// supervised pledge, waits for vow's one-byte answer that vow has taken
// the listener (see [reportPledge]).
func statusPipe() (*os.File, int, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, -1, err
	}
	defer unix.Close(fds[1])
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, -1, err
	}
	r := os.NewFile(uintptr(fds[0]), "vow status")
	wfd, err := unix.FcntlInt(uintptr(fds[1]), unix.F_DUPFD, statusFDMin)
	if err != nil {
		r.Close()
		return nil, -1, err
	}
	return r, wfd, nil
}

// readStatus keeps the last line the worker wrote: "KILLS MODE LISTENER
// PROMISES". When LISTENER is a descriptor number the worker made a
// supervised pledge: vow takes the listener from the worker (pid) and
// answers its violations — logging them with PLEDGE_STDERR_LOGGING, and
// remembering the last one to name it if the pledge kills.
func readStatus(r *os.File, st *pledgeStatus, pid int) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 4)
		if len(f) < 4 {
			continue
		}
		mode, _ := strconv.Atoi(f[1])
		listener, _ := strconv.Atoi(f[2])
		st.mu.Lock()
		st.kills, st.promises = f[0] == "1", f[3]
		st.mu.Unlock()
		if listener >= 0 {
			superviseWorker(st, pid, listener, sandbox.Mode(mode), f[3])
			r.Write([]byte{'\n'}) // the worker may go on
		}
	}
}

// superviseWorker takes the worker's listener and serves its violations.
func superviseWorker(st *pledgeStatus, pid, fd int, mode sandbox.Mode, promises string) {
	f, err := sandbox.TakeListener(pid, fd)
	if errors.Is(err, unix.ESRCH) {
		return // the worker is gone already
	}
	if err != nil {
		// The worker's refused calls would wait forever: end it.
		fmt.Fprintf(os.Stderr, "vow: cannot supervise the script's pledge: %v\n", err)
		_ = syscall.Kill(pid, syscall.SIGKILL)
		return
	}
	set, _ := promise.Parse(promises)
	cfg := sandbox.SupervisorConfig{Promises: set, Mode: mode, Runtime: true}
	if mode&sandbox.StderrLogging != 0 {
		cfg.Log = os.Stderr
	}
	cfg.OnViolation = func(v sandbox.Violation) {
		st.mu.Lock()
		st.violation = &v
		st.mu.Unlock()
	}
	sup := sandbox.NewSupervisor(f, cfg)
	st.mu.Lock()
	st.sup = sup
	st.mu.Unlock()
	go sup.Serve()
}

// describeViolation names a refused call and the promises that would
// have allowed it with its arguments (as the supervisor worked them out):
// "openat (ord=101) needs the promise 'wpath'", "socket (ord=029) needs
// one of the promises 'inet', 'dns', 'anet'", "openat (ord=101) needs the
// promises 'wpath' and 'cpath'".
func describeViolation(v sandbox.Violation) string {
	name := v.Syscall
	if name == "" {
		name = "unknown"
	}
	d := fmt.Sprintf("%s (ord=%03x)", promise.Label(name), v.Nr)
	names := make([]string, len(v.Promises))
	for i, p := range v.Promises {
		names[i] = "'" + p.String() + "'"
	}
	switch {
	case len(names) == 0:
		return d + ", which no promise allows"
	case len(names) == 1:
		return d + " needs the promise " + names[0]
	case v.Together:
		return d + " needs the promises " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
	return d + " needs one of the promises " + strings.Join(names, ", ")
}

// forwardSignals passes signals sent to vow on to the worker until stop
// is closed.
func forwardSignals(pid int, sigs <-chan os.Signal, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case s := <-sigs:
			if (s == syscall.SIGINT || s == syscall.SIGQUIT) && inForeground() {
				continue // the terminal sent it to the worker too
			}
			_ = syscall.Kill(pid, s.(syscall.Signal))
		}
	}
}

// inForeground reports whether vow's process group is the foreground
// group of the terminal on its standard input, output or error.
func inForeground() bool {
	for fd := 0; fd <= 2; fd++ {
		if pgrp, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil {
			return pgrp == unix.Getpgrp()
		}
	}
	return false
}

// dieOf ends vow with signal sig, the way the worker ended: the default
// action is restored (the Go runtime would otherwise turn SIGSYS, SIGSEGV
// or SIGABRT into a crash report), core dumps are turned off, and the
// signal is sent to this thread. If vow survives that (a blocked or
// ignored signal that cannot be reset), it returns 128+sig, the status a
// shell would show.
func dieOf(sig syscall.Signal) int {
	runtime.LockOSThread()
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	// An all-zero kernel struct sigaction is SIG_DFL with no flags and an
	// empty mask, whatever the architecture's field layout.
	var dfl [4]uint64
	unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	var set unix.Sigset_t
	set.Val[(sig-1)/64] |= 1 << ((uint(sig) - 1) % 64)
	_ = unix.PthreadSigmask(unix.SIG_UNBLOCK, &set, nil)
	_ = unix.Tgkill(unix.Getpid(), unix.Gettid(), sig)
	time.Sleep(100 * time.Millisecond)
	return 128 + int(sig)
}

// debugf prints a diagnostic when VOW_DEBUG is set.
func debugf(format string, args ...any) {
	if os.Getenv("VOW_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "vow: "+format+"\n", args...)
	}
}
