// Command probe makes one system call (or a few) and prints the outcome,
// for tests that run it restricted by pledge and unveil: "ok" on success,
// else the errno's name ("EPERM", "EACCES", …). Tests build it with
// CGO_ENABLED=0 (testutil.Probe), so it is a static executable.
//
//	probe OP [ARGS...]
//
// The Go runtime settings below keep its own start-up quiet under a
// pledge: no PR_SET_VMA names for mappings, no cgroup reading for
// GOMAXPROCS (both would be refused, and logged, under most promises).
//
//go:debug decoratemappings=0
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: probe OP [ARGS...]")
		os.Exit(2)
	}
	op, args := os.Args[1], os.Args[2:]
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch op {
	case "exit": // exit with status N
		n, _ := strconv.Atoi(arg(0))
		os.Exit(n)
	case "pid": // print the pid, then run the rest as another op
		fmt.Printf("pid %d\n", os.Getpid())
		if len(args) > 0 {
			os.Args = append(os.Args[:1], args...)
			main()
		}
		return
	case "repeat": // repeat N OP ARGS: run OP N times
		n, _ := strconv.Atoi(arg(0))
		for range n {
			os.Args = append([]string{os.Args[0]}, args[1:]...)
			main()
		}
		return
	case "ids":
		groups, _ := syscall.Getgroups()
		fmt.Printf("uid %d euid %d gid %d egid %d groups %v\n", syscall.Getuid(), syscall.Geteuid(), syscall.Getgid(), syscall.Getegid(), groups)
		return
	case "status": // the lines of /proc/self/status starting with the given prefixes
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			result(err)
			return
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, p := range args {
				if strings.HasPrefix(line, p) {
					fmt.Println(strings.Join(strings.Fields(line), " "))
				}
			}
		}
		return
	case "rlimits": // cpu fsize as nproc nofile: soft/hard
		for _, r := range []struct {
			name string
			res  int
		}{{"cpu", unix.RLIMIT_CPU}, {"fsize", unix.RLIMIT_FSIZE}, {"as", unix.RLIMIT_AS}, {"nproc", unix.RLIMIT_NPROC}, {"nofile", unix.RLIMIT_NOFILE}} {
			var l unix.Rlimit
			unix.Prlimit(0, r.res, nil, &l)
			fmt.Printf("%s %s/%s\n", r.name, lim(l.Cur), lim(l.Max))
		}
		return
	case "sched": // niceness and scheduling policy
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
		pol, _, _ := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
		fmt.Printf("nice %d (err %v) policy %d\n", 20-prio, err, pol)
		return
	case "fds": // open descriptors from 3 up
		var open []string
		for fd := 3; fd < 64; fd++ {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
				open = append(open, strconv.Itoa(fd))
			}
		}
		fmt.Printf("fds [%s]\n", strings.Join(open, " "))
		return
	case "cwd":
		wd, err := os.Getwd()
		fmt.Println("cwd", wd, err)
		return
	case "getenv":
		v, ok := os.LookupEnv(arg(0))
		fmt.Printf("%s=%q %v\n", arg(0), v, ok)
		return
	case "catchsys": // catch SIGSYS, then make the call of OP
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGSYS)
		os.Args = append(os.Args[:1], args...)
		main()
		select {
		case <-c:
			fmt.Println("caught SIGSYS")
		case <-time.After(time.Second):
		}
		return
	}
	result(do(op, args))
}

func lim(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "inf"
	}
	return strconv.FormatUint(v, 10)
}

// result prints ok or the errno's name.
func result(err error) {
	if err == nil {
		fmt.Println("ok")
		return
	}
	var e syscall.Errno
	for u := err; u != nil; {
		if x, ok := u.(syscall.Errno); ok {
			e = x
			break
		}
		w, ok := u.(interface{ Unwrap() error })
		if !ok {
			break
		}
		u = w.Unwrap()
	}
	if e != 0 {
		fmt.Println(unix.ErrnoName(e))
		return
	}
	fmt.Println("error:", err)
}

// do makes the system calls of op.
func do(op string, args []string) error {
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch op {
	case "getpid":
		syscall.Getpid()
		return nil
	case "killself": // kill(getpid(), 0): stdio's self-only rule
		return unix.Kill(os.Getpid(), 0)
	case "read":
		fd, err := unix.Open(arg(0), unix.O_RDONLY, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		_, err = unix.Read(fd, make([]byte, 16))
		return err
	case "readdir":
		fd, err := unix.Open(arg(0), unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		_, err = unix.Getdents(fd, make([]byte, 4096))
		return err
	case "write":
		fd, err := unix.Open(arg(0), unix.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		_, err = unix.Write(fd, []byte("x"))
		return err
	case "create":
		fd, err := unix.Open(arg(0), unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o644)
		if err == nil {
			unix.Close(fd)
		}
		return err
	case "mkdir":
		return unix.Mkdir(arg(0), 0o755)
	case "unlink":
		return unix.Unlink(arg(0))
	case "rename":
		return unix.Rename(arg(0), arg(1))
	case "mkfifo":
		return unix.Mknodat(unix.AT_FDCWD, arg(0), unix.S_IFIFO|0o644, 0)
	case "flock": // on stdin
		return unix.Flock(0, unix.LOCK_SH)
	case "fchmod": // on stdin
		return unix.Fchmod(0, 0o644)
	case "fchown": // on stdin, changing nothing
		return unix.Fchown(0, -1, -1)
	case "tty": // TIOCGWINSZ on stdin: ENOTTY when allowed and not a terminal
		_, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
		return err
	case "inet":
		return socket(unix.AF_INET, unix.SOCK_STREAM)
	case "inet-dgram":
		return socket(unix.AF_INET, unix.SOCK_DGRAM)
	case "unix":
		return socket(unix.AF_UNIX, unix.SOCK_STREAM)
	case "connect": // TCP connect to ADDR (host:port)
		c, err := net.DialTimeout("tcp", arg(0), 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	case "sendfd", "recvfd":
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		if op == "sendfd" {
			return unix.Sendmsg(fds[0], []byte("x"), unix.UnixRights(0), nil, 0)
		}
		if _, err := unix.Write(fds[0], []byte("x")); err != nil {
			return err
		}
		_, _, _, _, err = unix.Recvmsg(fds[1], make([]byte, 1), nil, 0)
		return err
	case "fork": // fork(); the child exits at once
		r, _, e := unix.RawSyscall(unix.SYS_CLONE, uintptr(unix.SIGCHLD), 0, 0)
		if e != 0 {
			return e
		}
		if r == 0 {
			unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
		}
		var ws unix.WaitStatus
		_, err := unix.Wait4(int(r), &ws, 0, nil)
		return err
	case "setpgid":
		return unix.Setpgid(0, 0)
	case "setuid": // to the current uid: allowed is a no-op
		_, _, e := unix.RawSyscall(unix.SYS_SETUID, uintptr(unix.Getuid()), 0, 0)
		if e != 0 {
			return e
		}
		return nil
	case "landlock":
		_, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
		if e != 0 {
			return e
		}
		return nil
	case "settime": // an invalid clock: EINVAL when allowed
		ts := unix.Timespec{}
		_, _, e := unix.Syscall(unix.SYS_CLOCK_SETTIME, 1234, uintptr(unsafe.Pointer(&ts)), 0)
		if e != 0 {
			return e
		}
		return nil
	case "protexec":
		b, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_ANON)
		if err == nil {
			unix.Munmap(b)
		}
		return err
	case "exec": // execve ARGS
		return syscall.Exec(arg(0), args, os.Environ())
	case "kcmp": // in no promise
		_, _, e := unix.Syscall6(unix.SYS_KCMP, uintptr(os.Getpid()), uintptr(os.Getpid()), 0, 0, 0, 0)
		if e != 0 {
			return e
		}
		return nil
	case "exitgroup":
		unix.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
		return nil
	}
	return fmt.Errorf("unknown op %q", op)
}

func socket(family, typ int) error {
	fd, err := unix.Socket(family, typ, 0)
	if err == nil {
		unix.Close(fd)
	}
	return err
}
