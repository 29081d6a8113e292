package lualib

import (
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// forkDoc is what unix.fork()'s Errno:doc() says.
const forkDoc = "fork() is not available in vow (a Go program cannot fork); " +
	"start programs with unix.spawn() and run Lua code in a sandboxed child with vow.run()"

var procFuncs = map[string]binding{
	"fork":        (*module).fork,
	"execve":      (*module).execve,
	"commandv":    (*module).commandv,
	"wait":        (*module).wait,
	"WIFEXITED":   (*module).wifexited,
	"WEXITSTATUS": (*module).wexitstatus,
	"WIFSIGNALED": (*module).wifsignaled,
	"WTERMSIG":    (*module).wtermsig,
	"exit":        (*module).exit,
	"getpid":      func(_ *module, a args) int { return a.pushInt(int64(unix.Getpid())) },
	"getppid":     func(_ *module, a args) int { return a.pushInt(int64(unix.Getppid())) },
	"gettid":      func(_ *module, a args) int { return a.pushInt(int64(unix.Gettid())) },
	"getuid":      func(_ *module, a args) int { return a.pushInt(int64(unix.Getuid())) },
	"getgid":      func(_ *module, a args) int { return a.pushInt(int64(unix.Getgid())) },
	"geteuid":     func(_ *module, a args) int { return a.pushInt(int64(unix.Geteuid())) },
	"getegid":     func(_ *module, a args) int { return a.pushInt(int64(unix.Getegid())) },
	"kill":        (*module).kill,
	"raise":       (*module).raise,
	"strsignal":   (*module).strsignal,
	"environ":     (*module).environ,
	"setrlimit":   (*module).setrlimit,
	"getrlimit":   (*module).getrlimit,
	"getrusage":   (*module).getrusage,
	"setuid":      func(_ *module, a args) int { return a.result(syscall.Setuid(int(a.uint32(1)))) },
	"setgid":      func(_ *module, a args) int { return a.result(syscall.Setgid(int(a.uint32(1)))) },
	"setresuid": func(_ *module, a args) int {
		return a.result(syscall.Setresuid(int(int32(a.uint32(1))), int(int32(a.uint32(2))), int(int32(a.uint32(3)))))
	},
	"setresgid": func(_ *module, a args) int {
		return a.result(syscall.Setresgid(int(int32(a.uint32(1))), int(int32(a.uint32(2))), int(int32(a.uint32(3)))))
	},
	"getpgrp": func(_ *module, a args) int { return a.pushInt(int64(unix.Getpgrp())) },
	"getpgid": func(_ *module, a args) int { return a.intResult(unix.Getpgid(a.int32(1))) },
	"setpgid": func(_ *module, a args) int { return a.result(unix.Setpgid(a.int32(1), a.int32(2))) },
	"setpgrp": func(_ *module, a args) int {
		if err := unix.Setpgid(0, 0); err != nil {
			return a.fail(err)
		}
		return a.pushInt(0)
	},
	"getsid": func(_ *module, a args) int { return a.intResult(unix.Getsid(a.optInt32(1, 0))) },
	"setsid": func(_ *module, a args) int { return a.intResult(unix.Setsid()) },
	"umask": func(_ *module, a args) int {
		if a.isNone(1) {
			a.typeError(1, "number")
		}
		return a.pushInt(int64(unix.Umask(int(a.mode(1, 0)))))
	},
	"chroot": func(_ *module, a args) int { return a.result(unix.Chroot(a.str(1))) },
	"sched_yield": func(_ *module, a args) int {
		runtime.Gosched()
		_, _, _ = unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		return 0
	},
}

func (m *module) fork(a args) int {
	return a.fail(NewErrno(syscall.ENOSYS, forkDoc))
}

// strList reads argument n as a sequence of strings (numbers converted).
func (a args) strList(n int) []string {
	t, ok := a.L.Get(n).(*lua.LTable)
	if !ok {
		a.typeError(n, "table")
	}
	out := make([]string, 0, t.Len())
	for i := 1; i <= t.Len(); i++ {
		switch v := t.RawGetInt(i).(type) {
		case lua.LString:
			out = append(out, string(v))
		case lua.LNumber:
			out = append(out, v.String())
		default:
			a.argError(n, "table of strings expected, got "+v.Type().String()+" at index "+strconv.Itoa(i))
		}
	}
	return out
}

func (m *module) execve(a args) int {
	prog := a.str(1)
	argv := []string{prog}
	if !a.isNone(2) {
		argv = a.strList(2)
	}
	env := os.Environ()
	if !a.isNone(3) {
		env = a.strList(3)
	}
	if m.opts.BeforeExec != nil {
		if err := m.opts.BeforeExec(); err != nil {
			return a.fail(err)
		}
	}
	// syscall.Exec restores the RLIMIT_NOFILE soft limit the Go runtime
	// raised at start-up (unless the script set it with unix.setrlimit).
	return a.fail(syscall.Exec(prog, argv, env))
}

func (m *module) commandv(a args) int {
	name := a.str(1)
	if name == "" {
		return a.fail(syscall.ENOENT)
	}
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return a.fail(err)
		}
		return a.pushStr(name)
	}
	path, ok := os.LookupEnv("PATH")
	if !ok {
		path = "/usr/local/bin:/bin:/usr/bin"
	}
	sawEACCES := false
	for _, dir := range strings.Split(path, ":") {
		cand := name
		if dir != "" {
			cand = dir + "/" + name
		}
		if len(cand) >= unix.PathMax {
			continue
		}
		err := checkExecutable(cand)
		if err == nil {
			return a.pushStr(cand)
		}
		if errors.Is(err, syscall.EACCES) {
			sawEACCES = true
		}
	}
	if sawEACCES {
		return a.fail(syscall.EACCES)
	}
	return a.fail(syscall.ENOENT)
}

// checkExecutable accepts a regular file that access(X_OK) allows.
func checkExecutable(p string) error {
	if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, 0); err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return syscall.EACCES
	}
	return nil
}

func (m *module) wait(a args) int {
	pid := a.optInt32(1, -1)
	options := a.flags32(2, 0)
	var ws unix.WaitStatus
	var ru unix.Rusage
	var got int
	var err error
	for {
		got, err = unix.Wait4(pid, &ws, options, &ru)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return a.fail(err)
	}
	if got == 0 {
		ws, ru = 0, unix.Rusage{}
	}
	a.L.Push(lua.LNumber(got))
	a.L.Push(lua.LNumber(ws))
	a.L.Push(newRusage(a.L, &ru))
	return 3
}

// The wait-status decoders follow lua-unix.md §2.2 literally: they never
// fail and look only at the documented bits.
func (m *module) wifexited(a args) int {
	a.L.Push(lua.LBool(a.int(1)&0x7f == 0))
	return 1
}

func (m *module) wexitstatus(a args) int {
	return a.pushInt((a.int(1) >> 8) & 0xff)
}

func (m *module) wifsignaled(a args) int {
	low := a.int(1) & 0x7f
	a.L.Push(lua.LBool(low != 0 && low != 0x7f))
	return 1
}

func (m *module) wtermsig(a args) int {
	return a.pushInt(a.int(1) & 0x7f)
}

func (m *module) exit(a args) int {
	code := a.optInt(1, 0)
	m.flushIO(a.L)
	os.Exit(int(code & 0xff))
	return 0
}

// signalNames maps numbers to the names of lua-unix.md §3.2.
var signalNames = func() map[int64]string {
	m := make(map[int64]string)
	for _, c := range signalConsts {
		m[c.value] = c.name
	}
	return m
}()

func (m *module) strsignal(a args) int {
	sig := a.int(1)
	switch {
	case sig == 0:
		return a.pushStr("0")
	case sig == 32:
		return a.pushStr("SIGTHR")
	case sig >= 1 && sig <= 31:
		if n, ok := signalNames[sig]; ok {
			return a.pushStr(n)
		}
		return a.pushStr("SIG" + strconv.FormatInt(sig, 10))
	}
	return a.pushStr("SIG???")
}

func (m *module) environ(a args) int {
	env := os.Environ()
	t := a.L.CreateTable(len(env), 0)
	for i, e := range env {
		t.RawSetInt(i+1, lua.LString(e))
	}
	a.L.Push(t)
	return 1
}

// killsByDefault reports whether the kernel's default action for sig
// ends the process while the Go runtime would catch it and carry on (or
// end differently, e.g. exit status 2 after a goroutine dump). SIGPIPE is
// left out: vow, like redbean, ignores it.
func killsByDefault(sig syscall.Signal) bool {
	switch sig {
	case unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGILL, unix.SIGTRAP, unix.SIGABRT,
		unix.SIGBUS, unix.SIGFPE, unix.SIGUSR1, unix.SIGSEGV, unix.SIGUSR2, unix.SIGALRM,
		unix.SIGTERM, unix.SIGSTKFLT, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGVTALRM, unix.SIGPROF,
		unix.SIGIO, unix.SIGPWR, unix.SIGSYS:
		return true
	}
	return false
}

// setDefaultAction gives sig the kernel's default disposition, bypassing
// the Go runtime's handler, so that a signal the script sends itself acts
// as it would in a C program (lua-unix.md §2.2 raise). The kernel's
// struct sigaction is all zeros for SIG_DFL with no flags and an empty
// mask: handler, flags, restorer, mask (x/sys declares no such struct).
func setDefaultAction(sig syscall.Signal) {
	var act [4]uint64
	const sigsetSize = 8
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, sigsetSize, 0, 0)
}

func (m *module) kill(a args) int {
	pid := a.int32(1)
	sig := syscall.Signal(a.int32(2))
	if pid == unix.Getpid() && killsByDefault(sig) {
		setDefaultAction(sig)
	}
	return a.result(unix.Kill(pid, sig))
}

func (m *module) raise(a args) int {
	sig := syscall.Signal(a.int32(1))
	if killsByDefault(sig) {
		setDefaultAction(sig)
	}
	// tgkill to the calling thread: the signal is delivered before the
	// system call returns, as with C's raise().
	if err := unix.Tgkill(unix.Getpid(), unix.Gettid(), sig); err != nil {
		return a.fail(err)
	}
	return a.pushInt(0)
}

func (m *module) setrlimit(a args) int {
	res := a.int32(1)
	soft := a.int(2)
	hard := a.optInt(3, soft)
	rl := syscall.Rlimit{Cur: uint64(soft), Max: uint64(hard)}
	return a.result(syscall.Setrlimit(res, &rl))
}

// rlimValue reports RLIM_INFINITY and anything beyond int64 as -1.
func rlimValue(v uint64) lua.LNumber {
	if v == unix.RLIM_INFINITY || v > math.MaxInt64 {
		return -1
	}
	return lua.LNumber(v)
}

func (m *module) getrlimit(a args) int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(a.int32(1), &rl); err != nil {
		return a.fail(err)
	}
	a.L.Push(rlimValue(rl.Cur))
	a.L.Push(rlimValue(rl.Max))
	return 2
}

func (m *module) getrusage(a args) int {
	var ru unix.Rusage
	if err := unix.Getrusage(a.optInt32(1, unix.RUSAGE_SELF), &ru); err != nil {
		return a.fail(err)
	}
	a.L.Push(newRusage(a.L, &ru))
	return 1
}
