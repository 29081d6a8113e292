package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/internal/speccases"
	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox/filter"
	"github.com/vow-sandbox/vow/sandbox/promise"
	"github.com/vow-sandbox/vow/sandbox/sysno"
)

// marker is the errno the kernel tests' filters return instead of EPERM,
// so a refusal by the filter cannot be confused with the kernel's EPERM.
const marker = unix.ENOTRECOVERABLE

// unsafeToRun are system calls a case may not really make in the test
// process: they exit, fork, block, change identity or the machine, or
// break the Go runtime. The emulator tests still check their cases.
var unsafeToRun = map[string]bool{
	"exit": true, "exit_group": true, "clone": true, "fork": true, "vfork": true,
	"rt_sigreturn": true, "restart_syscall": true, "setuid": true, "setgid": true,
	"setreuid": true, "setregid": true, "setresuid": true, "setresgid": true,
	"setfsuid": true, "setfsgid": true, "setgroups": true, "capset": true,
	"reboot": true, "poll": true, "ppoll": true, "select": true, "pselect6": true,
	"epoll_wait": true, "epoll_pwait": true, "epoll_pwait2": true,
	"rt_sigsuspend": true, "pause": true, "sync": true, "syncfs": true,
	"seccomp": true, "arch_prctl": true, "alarm": true, "close": true,
	"close_range": true, "dup2": true, "dup3": true, "ptrace": true,
	"personality": true, "acct": true, "sethostname": true, "setdomainname": true,
	"settimeofday": true, "clock_settime": true, "clock_adjtime": true,
	"mount": true, "umount2": true, "pivot_root": true, "chroot": true,
	"unshare": true, "setns": true, "set_tid_address": true,
	"set_robust_list": true, "rseq": true, "brk": true, "munmap": true,
	"mremap": true, "madvise": true, "setsid": true, "setpgid": true,
	"sched_setscheduler": true, "sched_setattr": true, "setpriority": true,
	"setrlimit": true, "rt_sigprocmask": true, "sigaltstack": true,
	"rt_sigaction": true, "kill": false, "modify_ldt": true, "ioperm": true,
	"iopl": true, "mlockall": true, "prctl": false,
}

// TestPledgeKernelCases runs the hand-written cases of
// testdata/pledge-cases.txt for real: for each promise set a child
// process pledges itself (with the Go runtime baseline, as every
// in-process pledge) and makes each case's system call with its
// arguments; the kernel's answer must be the verdict the promise table
// gives.
func TestPledgeKernelCases(t *testing.T) {
	arch := sysno.Native()
	if arch == nil {
		t.Skip("unsupported architecture")
	}
	if set, ok := os.LookupEnv("VOW_TEST_PROMISES"); ok && testutil.InChild(t) {
		runCasesChild(t, arch, set)
		return
	}
	requireSeccomp(t)
	cases, err := speccases.Read(speccases.Path(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	seen := map[string]bool{}
	for _, c := range cases {
		if c.On(arch) && !seen[c.Promises] {
			seen[c.Promises] = true
			sets = append(sets, c.Promises)
		}
	}
	run := 0
	for _, set := range sets {
		res := testutil.RunChild(t, &testutil.Options{Env: []string{"VOW_TEST_PROMISES=" + set}})
		if res.ExitCode != 0 {
			t.Errorf("pledge(%q): child exit %d signal %v\nstdout: %s\nstderr: %s", set, res.ExitCode, res.Signal, res.Stdout, res.Stderr)
			continue
		}
		for _, line := range strings.Split(res.Stdout, "\n") {
			switch {
			case strings.HasPrefix(line, "RAN "):
				n, _ := strconv.Atoi(strings.TrimPrefix(line, "RAN "))
				run += n
			case strings.HasPrefix(line, "FAIL "):
				t.Errorf("pledge(%q): %s", set, strings.TrimPrefix(line, "FAIL "))
			}
		}
	}
	if run < 500 {
		t.Errorf("only %d cases ran under the kernel", run)
	}
	t.Logf("%d promise sets, %d system calls made under the kernel", len(sets), run)
}

func runCasesChild(t *testing.T, arch *sysno.Arch, promises string) {
	pid := uint32(os.Getpid())
	cases, err := speccases.Read(speccases.Path(), pid)
	if err != nil {
		fmt.Println("FAIL", err)
		return
	}
	set, err := promise.Parse(promises)
	if err != nil {
		fmt.Println("FAIL", err)
		return
	}
	pol := &filter.Policy{Promises: set, Penalty: filter.ReturnEPERM, Runtime: true, PID: pid}
	prog, err := filter.Compile(pol)
	if err != nil {
		fmt.Println("FAIL", err)
		return
	}
	deny, _ := pol.DenyAction()
	for i, in := range prog.Insns {
		if in.Code == unix.BPF_RET|unix.BPF_K && in.K == deny {
			prog.Insns[i].K = unix.SECCOMP_RET_ERRNO | uint32(marker)
		}
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if err := installFilter(prog.Insns, unix.SECCOMP_FILTER_FLAG_TSYNC); err != nil {
		fmt.Fprintln(out, "FAIL install:", err)
		return
	}
	ran := 0
	for _, c := range cases {
		if c.Promises != promises || !c.On(arch) {
			continue
		}
		nr, ok := c.Number(arch)
		name := arch.SyscallName(nr)
		if !ok || unsafeToRun[name] || (name == "" && nr < 447) {
			continue
		}
		want, err := filter.Evaluate(pol, &filter.Data{Nr: nr, Arch: arch.Audit, Args: c.Args})
		if err != nil {
			fmt.Fprintln(out, "FAIL", err)
			continue
		}
		a := c.Args
		_, _, e := unix.RawSyscall6(uintptr(nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		got := "allow"
		switch e {
		case marker:
			got = "deny"
		case unix.ENOSYS:
			got = "enosys"
		}
		wantS := map[string]string{"allow": "allow", "errno ENOSYS": "enosys"}[filter.Describe(want)]
		if wantS == "" {
			wantS = "deny"
		}
		if got == "enosys" && wantS == "allow" && nr >= 447 {
			got = "allow" // the kernel itself lacks the call
		}
		if got != wantS {
			fmt.Fprintf(out, "FAIL line %d: kernel says %s (errno %v), table %s: %s\n", c.Line, got, e, wantS, c.Text)
		}
		ran++
	}
	fmt.Fprintln(out, "RAN", ran)
}

func requireSeccomp(t *testing.T) {
	t.Helper()
	if err := SeccompAvailable(); err != nil {
		t.Skipf("seccomp filters are not available in this kernel: %v", err)
	}
}
