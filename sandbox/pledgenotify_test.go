package sandbox

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// TestPledgeNotify pledges a child with a supervised filter and answers
// its violations from the test process: the child prints its listener's
// descriptor number, the parent takes it and serves; each refused call is
// logged with the promises that would allow it, then fails with EPERM or
// kills the child.
func TestPledgeNotify(t *testing.T) {
	if os.Getenv("VOW_TEST_NOTIFY") != "" {
		mode := PenaltyReturnEPERM
		if os.Getenv("VOW_TEST_NOTIFY") == "kill" {
			mode = PenaltyKillProcess
		}
		fd, err := PledgeNotify("stdio", nil, mode)
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Println("fd", fd)
		_, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		fmt.Println("socket:", err)
		_, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		fmt.Println("socket again:", err)
		if _, err := PledgeNotify("stdio", nil, mode); err == nil || !strings.Contains(err.Error(), "already has a supervised pledge") {
			fmt.Println("second PledgeNotify:", err)
		}
		os.Exit(0)
	}
	requireSeccomp(t)
	for _, mode := range []string{"eperm", "kill"} {
		t.Run(mode, func(t *testing.T) {
			exe, _ := os.Executable()
			cmd := exec.Command(exe, "-test.run=^TestPledgeNotify$")
			cmd.Env = append(os.Environ(), "VOW_TEST_NOTIFY="+mode)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			rd := bufio.NewReader(out)
			line, err := rd.ReadString('\n')
			var fd int
			if _, serr := fmt.Sscanf(line, "fd %d", &fd); err != nil || serr != nil {
				cmd.Process.Kill()
				t.Fatalf("child said %q (%v)", line, err)
			}
			f, err := TakeListener(cmd.Process.Pid, fd)
			if err != nil {
				cmd.Process.Kill()
				t.Fatal(err)
			}
			var log testutil.SyncBuffer
			var mu sync.Mutex
			var seen []Violation
			m := PenaltyReturnEPERM
			if mode == "kill" {
				m = PenaltyKillProcess
			}
			sup := NewSupervisor(f, SupervisorConfig{Promises: promise.MustParse("stdio"), Mode: m, Log: &log,
				OnViolation: func(v Violation) { mu.Lock(); seen = append(seen, v); mu.Unlock() }})
			go sup.Serve()
			rest := new(bytes.Buffer)
			rest.ReadFrom(rd)
			werr := cmd.Wait()
			sup.Close()
			mu.Lock()
			defer mu.Unlock()
			wantLine := "error: protected syscall socket (ord=029); pledge promise 'inet' to allow (pid " + fmt.Sprint(cmd.Process.Pid) + ")"
			if sysnoSocket() != 41 {
				wantLine = "error: protected syscall socket"
			}
			if !strings.Contains(log.String(), wantLine) {
				t.Errorf("log %q lacks %q", log.String(), wantLine)
			}
			if len(seen) == 0 || seen[0].Syscall != "socket" || fmt.Sprint(seen[0].Promises) != "[inet dns anet]" {
				// socket(AF_INET, SOCK_STREAM): 'unix' lists socket too,
				// but not for this family.
				t.Errorf("violations seen: %+v", seen)
			}
			switch mode {
			case "eperm":
				if werr != nil || rest.String() != "socket: operation not permitted\nsocket again: operation not permitted\n" {
					t.Errorf("child: %v, output %q", werr, rest.String())
				}
				if n := strings.Count(log.String(), "\n"); n != 3 {
					t.Errorf("one line per promise, once per distinct call: got %d lines:\n%s", n, log.String())
				}
			case "kill":
				ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
				if !ws.Signaled() || !sup.Killed(cmd.Process.Pid) || rest.Len() != 0 {
					t.Errorf("child: %v, output %q, killed by supervisor %v", werr, rest.String(), sup.Killed(cmd.Process.Pid))
				}
			}
		})
	}
}

func sysnoSocket() int { return unix.SYS_SOCKET }
