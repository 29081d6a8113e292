package sandbox_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

func strp(s string) *string { return &s }

func modep(m sandbox.Mode) *sandbox.Mode { return &m }

// runProbe runs the probe with args under c and returns its stdout.
func runProbe(t *testing.T, c *sandbox.Cmd, args ...string) (string, error) {
	t.Helper()
	c.Path = testutil.Probe(t)
	c.Args = append([]string{"probe"}, args...)
	var out bytes.Buffer
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout = w
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
	done := make(chan struct{})
	go func() { out.ReadFrom(r); close(done) }()
	err = c.Run()
	w.Close()
	<-done
	r.Close()
	return out.String(), err
}

func TestCmdRun(t *testing.T) {
	out, err := runProbe(t, &sandbox.Cmd{Promises: strp("stdio")}, "killself")
	if err != nil || out != "ok\n" {
		t.Fatalf("probe killself under stdio: %q, %v", out, err)
	}
	out, err = runProbe(t, &sandbox.Cmd{Promises: strp("stdio")}, "inet")
	if err != nil || out != "EPERM\n" {
		t.Fatalf("probe inet under stdio: %q, %v", out, err)
	}
	// No promises: no filter at all.
	out, err = runProbe(t, &sandbox.Cmd{}, "inet")
	if err != nil || out != "ok\n" {
		t.Fatalf("probe inet without a pledge: %q, %v", out, err)
	}
	_, err = runProbe(t, &sandbox.Cmd{Promises: strp("stdio")}, "exit", "3")
	var ee *sandbox.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit 3: %v", err)
	}
}

func TestCmdEnvDir(t *testing.T) {
	dir := t.TempDir()
	out, err := runProbe(t, &sandbox.Cmd{Env: []string{"VOW_X=1"}, Dir: dir, Promises: strp("stdio rpath")}, "getenv", "VOW_X")
	if err != nil || out != "VOW_X=\"1\" true\n" {
		t.Errorf("env: %q, %v", out, err)
	}
	out, _ = runProbe(t, &sandbox.Cmd{Dir: dir, Promises: strp("stdio rpath")}, "cwd")
	if out != "cwd "+dir+" <nil>\n" {
		t.Errorf("dir: %q", out)
	}
	out, _ = runProbe(t, &sandbox.Cmd{Rlimits: []sandbox.Rlimit{{Resource: unix.RLIMIT_NOFILE, Cur: 32, Max: 32}}}, "rlimits")
	if !strings.Contains(out, "nofile 32/32") {
		t.Errorf("rlimits: %q", out)
	}
}

// TestCmdExecPromises: the program runs under the pledge's execpromises
// (pledge.md §5.3, the upstream tests of §8.1).
func TestCmdExecPromises(t *testing.T) {
	for _, c := range []struct {
		promises string
		exec     *string
		want     string
	}{
		{"stdio inet exec", nil, "ok"},
		{"stdio inet exec", strp("stdio exec"), "EPERM"},
		{"stdio exec", strp("stdio"), "EPERM"},
		{"stdio inet tty exec", strp("stdio tty"), "EPERM"},
		{"stdio inet", strp("stdio inet"), "ok"},
	} {
		out, err := runProbe(t, &sandbox.Cmd{Promises: &c.promises, ExecPromises: c.exec}, "inet")
		if err != nil || out != c.want+"\n" {
			t.Errorf("pledge(%q, %v) then socket(AF_INET): %q, %v; want %s", c.promises, c.exec, out, err, c.want)
		}
	}
	// The program execs another one: both run under the same filter.
	probe := testutil.Probe(t)
	out, _ := runProbe(t, &sandbox.Cmd{Promises: strp("stdio exec"), ExecPromises: strp("stdio")}, "exec", probe, "inet")
	if out != "EPERM\n" {
		t.Errorf("exec'd twice: %q", out)
	}
	// execpromises wider than promises.
	_, err := runProbe(t, &sandbox.Cmd{Promises: strp("stdio exec"), ExecPromises: strp("stdio inet")}, "inet")
	var le *sandbox.LaunchError
	if !errors.As(err, &le) || le.Code != 19 || !errors.Is(err, unix.EINVAL) || !strings.Contains(le.Msg, "not a subset") {
		t.Errorf("non-subset execpromises: %v", err)
	}
}

// TestCmdLaunchErrors: failures before the program runs come back from
// Start with the pledge command's exit code and the errno.
func TestCmdLaunchErrors(t *testing.T) {
	probe := testutil.Probe(t)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		cmd   sandbox.Cmd
		code  int
		errno syscall.Errno
		msg   string
	}{
		{"not-found", sandbox.Cmd{Path: "vow-no-such-program", Env: []string{"PATH=" + dir}}, 10, unix.ENOENT, "sandbox: vow-no-such-program: no such file or directory (searched $PATH: " + dir + ")"},
		{"bad-promise", sandbox.Cmd{Path: probe, Promises: strp("stdoi")}, 21, unix.EINVAL, "sandbox: unknown promise 'stdoi' (did you mean 'stdio'?)"},
		{"bad-execpromise", sandbox.Cmd{Path: probe, Promises: strp("stdio"), ExecPromises: strp("inte")}, 21, unix.EINVAL, "did you mean 'inet'?"},
		{"execpromises-alone", sandbox.Cmd{Path: probe, ExecPromises: strp("stdio")}, 19, unix.EINVAL, "ExecPromises given without Promises"},
		{"bad-mode", sandbox.Cmd{Path: probe, Mode: modep(7)}, 19, unix.EINVAL, "unknown penalty"},
		{"dir", sandbox.Cmd{Path: probe, Dir: filepath.Join(dir, "missing")}, 8, unix.ENOENT, "(the working directory)"},
		{"unveil-missing", sandbox.Cmd{Path: probe, Unveil: []sandbox.UnveilRule{{Path: filepath.Join(dir, "missing"), Perms: "r"}}}, 20, unix.ENOENT, "does not exist"},
		{"unveil-bad-perm", sandbox.Cmd{Path: probe, Unveil: []sandbox.UnveilRule{{Path: dir, Perms: "q"}}}, 20, unix.EINVAL, "unknown permission"},
		{"program-not-unveiled", sandbox.Cmd{Path: probe, Unveil: []sandbox.UnveilRule{{Path: dir, Perms: "r"}}}, 127, unix.EACCES, "unveil it with \"rx\""},
		{"name", sandbox.Cmd{Path: "vow-no-such-program", Name: "myhost", Env: []string{}}, 10, unix.ENOENT, "myhost: vow-no-such-program"},
		{"rlimit", sandbox.Cmd{Path: probe, Rlimits: []sandbox.Rlimit{{Resource: 99}}}, 1, unix.EINVAL, "unknown resource limit 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.code == 127 && sandbox.LandlockABI() == 0 {
				t.Skip("needs Landlock")
			}
			err := c.cmd.Start()
			var le *sandbox.LaunchError
			if !errors.As(err, &le) || le.Code != c.code || le.Errno != c.errno || !strings.Contains(le.Msg, c.msg) {
				t.Fatalf("Start: %#v, want code %d, errno %v, message with %q", err, c.code, c.errno, c.msg)
			}
			if c.cmd.Process != nil {
				t.Errorf("a failed Start left Process set")
			}
		})
	}
}

// TestCmdLog: violations are reported with the program's pid, which is
// the launcher's (it execs in place); nothing else leaks into the program.
func TestCmdLog(t *testing.T) {
	var log testutil.SyncBuffer
	c := &sandbox.Cmd{Promises: strp("stdio"), Log: &log}
	out, err := runProbe(t, c, "pid", "repeat", "2", "unix")
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscanf(out, "pid %d\n", &pid)
	if pid != c.Process.Pid {
		t.Errorf("the program's pid %d is not the started process %d", pid, c.Process.Pid)
	}
	nr, _ := sysno.Native().Number("socket")
	want := fmt.Sprintf("error: protected syscall socket (ord=%03x); pledge promise 'unix' to allow (pid %d)\n", nr, pid)
	if got := log.String(); strings.Count(got, want) != 1 {
		t.Errorf("log:\n%s\nwant once: %s", got, want)
	}
	// Neither the listener nor the launcher's socket reaches the program.
	out, _ = runProbe(t, &sandbox.Cmd{Promises: strp("stdio"), Log: &log}, "fds")
	if out != "fds []\n" {
		t.Errorf("descriptors of a supervised program: %q", out)
	}
}

// TestCmdLogNamesPromises: the log names the promises that allow the
// refused call with its arguments: a creating open needs wpath and cpath
// together (not rpath, which the program has, nor dns, which only opens
// for reading).
func TestCmdLogNamesPromises(t *testing.T) {
	var log testutil.SyncBuffer
	c := &sandbox.Cmd{Promises: strp("stdio rpath"), Log: &log}
	out, err := runProbe(t, c, "create", filepath.Join(t.TempDir(), "new"))
	if err != nil || out != "EPERM\n" {
		t.Fatalf("probe create under 'stdio rpath': %q, %v", out, err)
	}
	nr, _ := sysno.Native().Number("openat")
	var want string
	for _, p := range []string{"wpath", "cpath"} {
		want += fmt.Sprintf("error: protected syscall openat (ord=%03x); pledge promise '%s' to allow (pid %d)\n", nr, p, c.Process.Pid)
	}
	if got := log.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
}

// TestCmdKill: a kill penalty under supervision ends a Go program (whose
// runtime catches SIGSYS) with SIGKILL and a C program with SIGSYS, as
// the kernel's kill penalty does; KilledForViolation tells.
func TestCmdKill(t *testing.T) {
	var log testutil.SyncBuffer
	// (rpath: the Go runtime reads a /sys file before it catches SIGSYS.)
	c := &sandbox.Cmd{Promises: strp("stdio rpath"), Mode: modep(sandbox.PenaltyKillProcess), Log: &log}
	_, err := runProbe(t, c, "inet")
	ws := c.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ws.Signaled() || ws.Signal() != unix.SIGKILL || !c.KilledForViolation() {
		t.Errorf("Go program: %v (killed for violation: %v)", err, c.KilledForViolation())
	}
	if _, err := os.Stat("/bin/ls"); err != nil {
		t.Skip("no /bin/ls")
	}
	// ls asks whether stdout is a terminal (ioctl TCGETS, tty).
	c = &sandbox.Cmd{Path: "/bin/ls", Promises: strp("stdio rpath"), ImplicitPromises: true, Mode: modep(sandbox.PenaltyKillThread), Log: &log}
	err = c.Run()
	ws = c.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ws.Signaled() || ws.Signal() != unix.SIGSYS || !c.KilledForViolation() {
		t.Errorf("ls: %v, want killed by SIGSYS", err)
	}
	// Without logging the kernel kills.
	c = &sandbox.Cmd{Path: "/bin/ls", Promises: strp("stdio rpath"), ImplicitPromises: true, Mode: modep(sandbox.PenaltyKillProcess)}
	err = c.Run()
	ws = c.ProcessState.Sys().(syscall.WaitStatus)
	if err == nil || !ws.Signaled() || ws.Signal() != unix.SIGSYS || c.KilledForViolation() {
		t.Errorf("ls without logging: %v, want killed by SIGSYS", err)
	}
}

// TestEmptyPromisesExitGroup: the empty promise set refuses exit_group
// softly with EPERM (pledge.md §3.4). A launched program always has at
// least exec, so this is checked on one locked thread of a child test
// process carrying the empty set's filter.
func TestEmptyPromisesExitGroup(t *testing.T) {
	if testutil.InChild(t) {
		runtime.GOMAXPROCS(4)
		debug.SetGCPercent(-1)
		prog, err := filter.Compile(&filter.Policy{Promises: promise.Set(0), Penalty: filter.KillProcess})
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		var errno atomic.Int64
		errno.Store(-1)
		go func() {
			runtime.LockOSThread()
			if err := sandbox.InstallThreadFilter(prog.Insns); err != nil {
				errno.Store(-2)
				return
			}
			_, _, e := syscall.RawSyscall(unix.SYS_EXIT_GROUP, 77, 0, 0)
			errno.Store(int64(e))
			syscall.RawSyscall(unix.SYS_EXIT, 0, 0, 0) // allowed: the default block
		}()
		for deadline := time.Now().Add(5 * time.Second); errno.Load() == -1 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		fmt.Printf("errno %d\n", errno.Load())
		os.Exit(0)
	}
	r := testutil.RunChild(t, nil)
	if want := fmt.Sprintf("errno %d\n", int(unix.EPERM)); r.ExitCode != 0 || r.Stdout != want {
		t.Errorf("exit_group under the empty set: exit %d signal %v stdout %q, want %q", r.ExitCode, r.Signal, r.Stdout, want)
	}
}

func TestViolationLines(t *testing.T) {
	v := sandbox.Violation{PID: 42, Nr: 41, Syscall: "socket", Promises: promise.Granting("socket")}
	want := []string{
		"error: protected syscall socket (ord=029); pledge promise 'inet' to allow (pid 42)",
		"error: protected syscall socket (ord=029); pledge promise 'unix' to allow (pid 42)",
		"error: protected syscall socket (ord=029); pledge promise 'dns' to allow (pid 42)",
		"error: protected syscall socket (ord=029); pledge promise 'anet' to allow (pid 42)",
	}
	if got := v.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("socket:\n%s", strings.Join(got, "\n"))
	}
	v = sandbox.Violation{PID: 7, Nr: 13, Syscall: "rt_sigaction", Promises: promise.Granting("rt_sigaction")}
	if got := v.Lines(); len(got) != 1 || got[0] != "error: protected syscall sigaction (ord=00d); pledge promise 'stdio' to allow (pid 7)" {
		t.Errorf("labels: %q", got)
	}
	v = sandbox.Violation{PID: 7, Nr: 312, Syscall: "kcmp"}
	if got := v.Lines(); len(got) != 1 || got[0] != "error: bad syscall kcmp (ord=138) (pid 7)" {
		t.Errorf("bad syscall: %q", got)
	}
	v = sandbox.Violation{PID: 7, Nr: 999}
	if got := v.Lines(); got[0] != "error: bad syscall unknown (ord=3e7) (pid 7)" {
		t.Errorf("unknown: %q", got)
	}
}

func TestTakeListenerErrors(t *testing.T) {
	_, err := sandbox.TakeListener(os.Getpid(), 0)
	if !errors.Is(err, unix.EBADF) || !strings.Contains(err.Error(), "not a seccomp listener") {
		t.Errorf("TakeListener of stdin: %v", err)
	}
}

func TestPromiseMessage(t *testing.T) {
	for in, want := range map[string]string{
		"stdoi":   "unknown promise 'stdoi' (did you mean 'stdio'?)",
		"getpw":   "unknown promise 'getpw' (OpenBSD only;",
		"zzzzzzz": "unknown promise 'zzzzzzz' (valid promises: stdio rpath",
	} {
		_, err := promise.Parse(in)
		if got := sandbox.PromiseMessage(err); !strings.HasPrefix(got, want) {
			t.Errorf("%q: %q", in, got)
		}
	}
}

// TestMissingInit: a binary whose main does not call Init gets an error
// from Start instead of running itself again as the launcher.
func TestMissingInit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "noinit")
	build := exec.Command("go", "build", "-o", bin, "./testdata/noinit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build testdata/noinit: %v\n%s", err, out)
	}
	out, _ := exec.Command(bin).CombinedOutput()
	if !strings.Contains(string(out), "its main does not call sandbox.Init first") {
		t.Errorf("output %q", out)
	}
}

// TestExecLogNeedsFile: Exec's watcher logs to a descriptor, so any
// other Log is refused before anything is applied.
func TestExecLogNeedsFile(t *testing.T) {
	p := "stdio"
	var buf bytes.Buffer
	err := (&sandbox.Cmd{Path: "/bin/true", Promises: &p, Log: &buf}).Exec()
	var le *sandbox.LaunchError
	if !errors.As(err, &le) || le.Errno != unix.ENOTSUP || !strings.Contains(le.Msg, "not an *os.File") {
		t.Errorf("Exec with a bytes.Buffer log: %v, want ENOTSUP naming *os.File", err)
	}
	if sandbox.ExecCanLog(&buf) {
		t.Error("ExecCanLog(*bytes.Buffer) = true")
	}
}
