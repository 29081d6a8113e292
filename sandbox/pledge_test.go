package sandbox

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
)

// busyRuntime exercises what the Go runtime does by itself: goroutines,
// new OS threads, garbage collection, timers, channels, async
// preemption. Under a pledge with any promises it must keep working.
func busyRuntime() {
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // forces new threads (clone)
			var keep [][]byte
			for j := 0; j < 2000; j++ {
				keep = append(keep, make([]byte, 4096))
				if len(keep) > 100 {
					keep = keep[:0]
				}
			}
			time.Sleep(5 * time.Millisecond)
		}()
	}
	deadline := time.Now().Add(60 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ { // preempted loop
		_ = x * x
	}
	runtime.GC()
	wg.Wait()
	ch := make(chan int)
	go func() { ch <- 1 }()
	select {
	case <-ch:
	case <-time.After(time.Second):
		panic("channel stuck")
	}
}

// pledgeChild runs body in a child process and returns what it did.
type pledgeCase struct {
	name     string
	body     func() error // runs in the child; its error becomes exit 1
	exit     int
	signal   syscall.Signal
	inStdout string
	// noCgo: the case makes new threads under a kill penalty, which only
	// a program built without cgo survives (glibc's malloc reads
	// /proc/stat for each new thread).
	noCgo bool
}

func runPledgeCases(t *testing.T, cases []pledgeCase, opts *testutil.Options) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if testutil.InChild(t) {
				if err := c.body(); err != nil {
					fmt.Println("ERROR:", err)
					os.Exit(1)
				}
				fmt.Println("DONE")
				os.Exit(0)
			}
			requireSeccomp(t)
			if c.noCgo && cgoBinary() {
				t.Skip("this test binary uses cgo: glibc opens /proc/stat on every new thread, which a kill-mode pledge " +
					"without rpath punishes; vow itself is built with CGO_ENABLED=0 (run the tests with CGO_ENABLED=0)")
			}
			res := testutil.RunChild(t, opts)
			if res.ExitCode != c.exit || res.Signal != c.signal || !strings.Contains(res.Stdout, c.inStdout) {
				t.Errorf("exit %d signal %v, want exit %d signal %v and %q in stdout\nstdout: %s\nstderr: %.2000s",
					res.ExitCode, res.Signal, c.exit, c.signal, c.inStdout, res.Stdout, res.Stderr)
			}
		})
	}
}

func expectErrno(what string, err error, want syscall.Errno) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("%s: got %v, want %v", what, err, want)
	}
	return nil
}

var pledgeCases = []pledgeCase{
	{name: "StdioRefusesFilesAndSockets", exit: 0, inStdout: "DONE", body: func() error {
		if err := Pledge("stdio", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		busyRuntime()
		_, err := os.Open("/etc/passwd")
		if err := expectErrno("open", err, syscall.EPERM); err != nil {
			return err
		}
		_, err = net.Dial("tcp", "127.0.0.1:9")
		if err := expectErrno("dial", err, syscall.EPERM); err != nil {
			return err
		}
		if _, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0); err != unix.EPERM {
			return fmt.Errorf("unix socket: %v", err)
		}
		if mode, _ := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); mode != 2 {
			return fmt.Errorf("PR_GET_SECCOMP = %d, want 2", mode)
		}
		if set, ok := Pledged(); !ok || set.String() != "stdio" {
			return fmt.Errorf("Pledged() = %q, %v", set, ok)
		}
		fmt.Println("stdout still works")
		return nil
	}},
	{name: "RpathReads", exit: 0, inStdout: "DONE", body: func() error {
		if err := Pledge("stdio rpath", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		if _, err := os.ReadFile("/etc/hostname"); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("read: %v", err)
		}
		err := os.WriteFile(os.DevNull, []byte("x"), 0)
		return expectErrno("write open", err, syscall.EPERM)
	}},
	{name: "KillProcessOnViolation", exit: -1, signal: syscall.SIGSYS, inStdout: "runtime survived", noCgo: true, body: func() error {
		if err := Pledge("stdio", nil, PenaltyKillProcess); err != nil {
			return err
		}
		busyRuntime() // the runtime's own calls must not kill it
		fmt.Println("runtime survived")
		unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		return errors.New("still alive after socket()")
	}},
	{name: "KillThreadMeansProcess", exit: -1, signal: syscall.SIGSYS, inStdout: "runtime survived", noCgo: true, body: func() error {
		if err := Pledge("stdio", nil, PenaltyKillThread); err != nil {
			return err
		}
		busyRuntime()
		fmt.Println("runtime survived")
		go func() { unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) }()
		time.Sleep(2 * time.Second)
		return errors.New("still alive after socket() in another goroutine")
	}},
	{name: "EmptyPromisesStillRunAndExit", exit: 3, inStdout: "before exit", noCgo: true, body: func() error {
		if err := Pledge("", nil, PenaltyKillProcess); err != nil {
			return err
		}
		busyRuntime()
		os.Stdout.WriteString("before exit\n")
		os.Exit(3)
		return nil
	}},
	{name: "RepeatedPledgeOnlyNarrows", exit: 0, inStdout: "DONE", body: func() error {
		if err := Pledge("stdio rpath", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		if err := Pledge("stdio", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		if _, err := os.Open("/etc/passwd"); !errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("open after narrowing: %v", err)
		}
		if err := Pledge("stdio unix", nil, PenaltyReturnEPERM); err != nil {
			return fmt.Errorf("asking for more must succeed: %v", err)
		}
		if _, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0); err != unix.EPERM {
			return fmt.Errorf("unix socket after widening pledge: %v", err)
		}
		if set, _ := Pledged(); set.String() != "stdio" {
			return fmt.Errorf("Pledged() = %q, want the intersection stdio", set)
		}
		return nil
	}},
	{name: "UnknownPromiseInstallsNothing", exit: 0, inStdout: "DONE", body: func() error {
		err := Pledge("stdio rpat", nil, PenaltyReturnEPERM)
		if !errors.Is(err, unix.EINVAL) || !strings.Contains(err.Error(), `did you mean "rpath"?`) {
			return fmt.Errorf("error %v", err)
		}
		if mode, _ := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); mode != 0 {
			return fmt.Errorf("a filter was installed")
		}
		ex := "stdio inet exec"
		if err := Pledge("stdio exec", &ex, PenaltyReturnEPERM); !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("wider execpromises: %v", err)
		}
		if err := Pledge("stdio", nil, Mode(7)); !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("bad penalty: %v", err)
		}
		_, err = os.Open("/etc/passwd")
		return err
	}},
	{name: "ChildProcessWithWait", exit: 0, inStdout: "DONE", body: func() error {
		// exec.Cmd.Wait uses waitid: a pledged Go program can still wait
		// for its children (vow adds waitid to stdio).
		if err := Pledge("stdio rpath proc exec prot_exec", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		cmd := exec.Command("/bin/true")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		return cmd.Run()
	}},
	{name: "ForkRefusedUnderStdio", exit: 0, inStdout: "DONE", body: func() error {
		if err := Pledge("stdio rpath exec prot_exec", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		cmd := exec.Command("/bin/true")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		return expectErrno("fork without proc", cmd.Run(), syscall.EPERM)
	}},
	{name: "NamespacesRefusedUnderProc", exit: 0, inStdout: "DONE", body: func() error {
		if err := Pledge("stdio proc", nil, PenaltyReturnEPERM); err != nil {
			return err
		}
		for _, flag := range []uintptr{unix.CLONE_NEWUSER, unix.CLONE_NEWNET, unix.CLONE_NEWNS, unix.CLONE_NEWPID} {
			_, _, e := unix.RawSyscall6(unix.SYS_CLONE, flag|uintptr(unix.SIGCHLD), 0, 0, 0, 0, 0)
			if e != unix.EPERM {
				return fmt.Errorf("clone(%#x): %v", flag, e)
			}
		}
		return nil
	}},
}

func TestPledge(t *testing.T) { runPledgeCases(t, pledgeCases, nil) }

// TestPledgeUnprivileged runs the same cases as the user nobody: pledge
// needs no privileges.
func TestPledgeUnprivileged(t *testing.T) {
	runPledgeCases(t, pledgeCases, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
}

// cgoBinary reports whether this test binary was built with cgo (where
// the Go runtime cannot run a system call on every thread).
func cgoBinary() bool {
	_, _, e := syscall.AllThreadsSyscall(unix.SYS_GETPID, 0, 0, 0)
	return e == syscall.ENOTSUP
}
