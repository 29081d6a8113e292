package promise

// Entry is one line of the promise table: a system call (kernel name) and
// the rule its arguments must pass (nil: any arguments). A name that does
// not exist on an architecture is left out there.
type Entry struct {
	Syscall string
	Rule    Rule
}

// Argument constants used by the table (pledge.md §3.7 and Appendix B;
// the values are the same on x86-64 and arm64).
const (
	protRW          = 0x3     // PROT_READ | PROT_WRITE
	mapLockNonblock = 0x12000 // MAP_LOCKED | MAP_NONBLOCK
	mapLockNbHuge   = 0x52000 // MAP_LOCKED | MAP_NONBLOCK | MAP_HUGETLB
	sockFlags       = 0x80800 // SOCK_CLOEXEC | SOCK_NONBLOCK
	cloneThread     = 0x10F00 // CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD
	// cloneRefused: CLONE_PTRACE, CLONE_NEWNS, CLONE_UNTRACED and every
	// namespace flag (pledge.md §0.4; vow refuses them for threads too).
	cloneRefused = 0x2000 | 0x20000 | 0x800000 | 0x02000000 | 0x04000000 |
		0x08000000 | 0x10000000 | 0x20000000 | 0x40000000

	solIP, solSocket, solTCP, solIPv6   = 0, 1, 6, 41
	afUnix, afInet, afInet6             = 1, 2, 10
	sockStream, sockDgram               = 1, 2
	ipprotoICMP, ipprotoTCP, ipprotoUDP = 1, 6, 17

	prSetVMA = 0x53564D41
)

// Shared argument rules (pledge.md §3.7, amended by §0).
var (
	mmapNoExec     = And{NoBits(2, ^uint32(protRW)), NoBits(3, mapLockNonblock)} // R-MMAP-NOEXEC
	mmapExec       = NoBits(3, mapLockNbHuge)                                    // R-MMAP-EXEC
	mprotectNoExec = NoBits(2, ^uint32(protRW))                                  // R-MPROTECT-NOEXEC
	fcntlStdio     = In(1, 0, 1, 2, 3, 4, 1030)                                  // R-FCNTL-STDIO: F_DUPFD..F_SETFL, F_DUPFD_CLOEXEC
	fcntlLock      = In(1, 5, 6, 7, 36, 37, 38)                                  // R-FCNTL-LOCK: F_GETLK..F_SETLKW, F_OFD_*
	ioctlStdio     = In(1, 0x541B, 0x5421, 0x5451, 0x5450)                       // R-IOCTL-STDIO: FIONREAD FIONBIO FIOCLEX FIONCLEX
	ioctlTty       = In(1, 0x5401, 0x5402, 0x5403, 0x5404, 0x5409, 0x540A,       // R-IOCTL-TTY: TCGETS TCSETS TCSETSW TCSETSF TCSBRK TCXONC
		0x540B, 0x540F, 0x5410, 0x5413, 0x5414, 0x5427) // TCFLSH TIOCGPGRP TIOCSPGRP TIOCGWINSZ TIOCSWINSZ TIOCSBRK
	ioctlInet  = Eq(1, 0x8905) // R-IOCTL-INET: SIOCATMARK
	socketInet = And{In(0, afInet, afInet6), MaskIn(1, ^uint32(sockFlags), sockStream, sockDgram),
		In(2, 0, ipprotoICMP, ipprotoTCP, ipprotoUDP)} // R-SOCKET-INET
	socketAnet = And{In(0, afInet, afInet6), MaskIn(1, ^uint32(sockFlags), sockStream),
		In(2, 0, ipprotoICMP, ipprotoTCP)} // R-SOCKET-ANET
	socketUnix = And{Eq(0, afUnix), MaskIn(1, ^uint32(sockFlags), sockStream, sockDgram), Eq(2, 0)} // R-SOCKET-UNIX
	// R-SETSOCKOPT as (level, optname) pairs (pledge.md §0.2).
	setsockopt = Or{
		And{Eq(1, solSocket), In(2, 2, 3, 4, 5, 6, 9, 15, 20, 21)}, // SO_REUSEADDR TYPE ERROR DONTROUTE BROADCAST KEEPALIVE REUSEPORT RCVTIMEO SNDTIMEO
		And{Eq(1, solTCP), In(2, 1, 3, 4, 5, 6, 12, 23, 30)},       // TCP_NODELAY CORK KEEPIDLE KEEPINTVL KEEPCNT QUICKACK FASTOPEN FASTOPEN_CONNECT
		And{Eq(1, solIP), In(2, 11, 12)},                           // IP_RECVERR IP_RECVTTL
		And{Eq(1, solIPv6), Eq(2, 26)},                             // IPV6_V6ONLY
	}
	getsockopt    = And{Eq(1, solSocket), In(2, 2, 3, 4, 9, 15, 20, 21)}   // R-GETSOCKOPT as pairs
	sendtoNoAddr  = Null{4}                                                // R-SENDTO-NOADDR
	prlimitGet    = Null{2}                                                // R-PRLIMIT-GETONLY
	selfPID       = SelfPID{0}                                             // R-KILL-SELF, R-TGKILL-SELF
	cloneThreadOK = And{AllBits(0, cloneThread), NoBits(0, cloneRefused)}  // R-CLONE-THREAD
	cloneProcOK   = NoBits(0, cloneRefused)                                // R-CLONE-PROC
	prctlStdio    = In(0, 15, 16, 21, 22, 23, 24, 38)                      // R-PRCTL-STDIO: PR_SET/GET_NAME, PR_GET/SET_SECCOMP, PR_CAPBSET_READ/DROP, PR_SET_NO_NEW_PRIVS
	noSpecialMode = func(arg int) Rule { return NoBits(arg, modeSpecial) } // R-MODE-NOBITS
)

// table is THE promise table: pledge.md §3.6 in upstream order, amended
// by §0 (vow's decisions), one slice per promise.
var table = [Count][]Entry{
	Stdio: {
		{"rt_sigreturn", nil}, {"restart_syscall", nil}, {"exit_group", nil},
		{"sched_yield", nil}, {"sched_getaffinity", nil}, {"clock_getres", nil},
		{"clock_gettime", nil}, {"clock_nanosleep", nil}, {"close_range", nil},
		{"close", nil}, {"write", nil}, {"writev", nil}, {"pwrite64", nil},
		{"pwritev", nil}, {"pwritev2", nil}, {"read", nil}, {"readv", nil},
		{"pread64", nil}, {"preadv", nil}, {"preadv2", nil}, {"dup", nil},
		{"dup2", nil}, {"dup3", nil}, {"fchdir", nil}, {"fcntl", fcntlStdio},
		{"fstat", nil}, {"fsync", nil}, {"sysinfo", nil}, {"fdatasync", nil},
		{"ftruncate", nil}, {"getrandom", nil}, {"getgroups", nil},
		{"getpgid", nil}, {"getpgrp", nil}, {"getpid", nil}, {"gettid", nil},
		{"getuid", nil}, {"getgid", nil}, {"getsid", nil}, {"getppid", nil},
		{"geteuid", nil}, {"getegid", nil}, {"getrlimit", nil},
		{"getresgid", nil}, {"getresuid", nil}, {"getitimer", nil},
		{"setitimer", nil}, {"timerfd_create", nil}, {"timerfd_settime", nil},
		{"timerfd_gettime", nil}, {"copy_file_range", nil},
		{"gettimeofday", nil}, {"sendfile", nil}, {"vmsplice", nil},
		{"splice", nil}, {"lseek", nil}, {"tee", nil}, {"brk", nil},
		{"msync", nil}, {"mmap", mmapNoExec}, {"mlock", nil}, {"mlock2", nil},
		{"munlock", nil}, {"mremap", nil}, {"munmap", nil}, {"mincore", nil},
		{"madvise", nil}, {"fadvise64", nil}, {"mprotect", mprotectNoExec},
		{"arch_prctl", nil}, {"migrate_pages", nil}, {"sync_file_range", nil},
		{"set_tid_address", nil}, {"membarrier", nil}, {"nanosleep", nil},
		{"pipe", nil}, {"pipe2", nil}, {"poll", nil}, {"ppoll", nil},
		{"select", nil}, {"pselect6", nil}, {"epoll_create", nil},
		{"epoll_create1", nil}, {"epoll_ctl", nil}, {"epoll_wait", nil},
		{"epoll_pwait", nil}, {"epoll_pwait2", nil}, {"recvfrom", nil},
		{"sendto", sendtoNoAddr}, {"ioctl", ioctlStdio}, {"alarm", nil},
		{"pause", nil}, {"shutdown", nil}, {"eventfd", nil},
		{"eventfd2", nil}, {"signalfd", nil}, {"signalfd4", nil},
		{"rt_sigaction", nil}, {"sigaltstack", nil}, {"rt_sigprocmask", nil},
		{"rt_sigsuspend", nil}, {"rt_sigpending", nil}, {"kill", selfPID},
		// tkill is in no promise: a thread id cannot be checked against
		// the caller (pledge.md §0.3).
		{"tgkill", selfPID}, {"socketpair", nil}, {"getrusage", nil},
		{"times", nil}, {"umask", nil}, {"wait4", nil}, {"uname", nil},
		{"prctl", prctlStdio}, {"clone", cloneThreadOK}, {"futex", nil},
		{"set_robust_list", nil}, {"get_robust_list", nil},
		{"prlimit64", prlimitGet}, {"sched_setaffinity", nil},
		{"rt_sigtimedwait", nil}, {"getcpu", nil}, {"rseq", nil},
		// vow additions (pledge.md §0.5).
		{"waitid", nil}, {"timer_create", nil}, {"timer_settime", nil},
		{"timer_gettime", nil}, {"timer_getoverrun", nil}, {"timer_delete", nil},
	},
	Rpath: {
		{"chdir", nil}, {"getcwd", nil},
		{"open", Open{FlagsArg: 1, ModeArg: 2, Grant: Read}},
		{"openat", Open{FlagsArg: 2, ModeArg: 3, Grant: Read}},
		{"stat", nil}, {"lstat", nil}, {"fstat", nil}, {"newfstatat", nil},
		{"statx", nil}, {"access", nil}, {"faccessat", nil},
		{"faccessat2", nil}, {"readlink", nil}, {"readlinkat", nil},
		{"statfs", nil}, {"fstatfs", nil}, {"getdents64", nil},
		{"getdents", nil},
		// vow additions (pledge.md §0.5).
		{"inotify_init1", nil}, {"inotify_add_watch", nil}, {"inotify_rm_watch", nil},
	},
	Wpath: {
		{"getcwd", nil},
		{"open", Open{FlagsArg: 1, ModeArg: 2, Grant: Write}},
		{"openat", Open{FlagsArg: 2, ModeArg: 3, Grant: Write}},
		// creat is open(O_CREAT|O_WRONLY|O_TRUNC): it needs wpath and
		// cpath (pledge.md §0.1).
		{"creat", Open{FlagsArg: -1, ModeArg: 1, Grant: Write}},
		{"stat", nil}, {"fstat", nil}, {"lstat", nil}, {"newfstatat", nil},
		{"statx", nil}, {"access", nil}, {"truncate", nil},
		{"faccessat", nil}, {"faccessat2", nil}, {"readlinkat", nil},
		{"chmod", noSpecialMode(1)}, {"fchmod", noSpecialMode(1)},
		{"fchmodat", noSpecialMode(2)},
		// vow addition (pledge.md §0.5).
		{"fallocate", nil},
	},
	Cpath: {
		{"open", Open{FlagsArg: 1, ModeArg: 2, Grant: Create}},
		{"openat", Open{FlagsArg: 2, ModeArg: 3, Grant: Create}},
		{"creat", Open{FlagsArg: -1, ModeArg: 1, Grant: Create}},
		{"rename", nil}, {"renameat", nil}, {"renameat2", nil}, {"link", nil},
		{"linkat", nil}, {"symlink", nil}, {"symlinkat", nil}, {"rmdir", nil},
		{"unlink", nil}, {"unlinkat", nil}, {"mkdir", nil}, {"mkdirat", nil},
	},
	Dpath: {{"mknod", nil}, {"mknodat", nil}},
	Flock: {{"flock", nil}, {"fcntl", fcntlLock}},
	Fattr: {
		{"chmod", noSpecialMode(1)}, {"fchmod", noSpecialMode(1)},
		{"fchmodat", noSpecialMode(2)}, {"utime", nil}, {"utimes", nil},
		{"futimesat", nil}, {"utimensat", nil},
	},
	Inet: {
		{"socket", socketInet}, {"listen", nil}, {"bind", nil}, {"sendto", nil},
		{"connect", nil}, {"accept", nil}, {"accept4", nil},
		{"ioctl", ioctlInet}, {"getsockopt", getsockopt},
		{"setsockopt", setsockopt}, {"getpeername", nil}, {"getsockname", nil},
	},
	Unix: {
		{"socket", socketUnix}, {"listen", nil}, {"bind", nil},
		{"connect", nil}, {"sendto", nil}, {"accept", nil}, {"accept4", nil},
		{"getsockopt", getsockopt}, {"setsockopt", setsockopt},
		{"getpeername", nil}, {"getsockname", nil},
	},
	DNS: {
		{"socket", socketInet}, {"bind", nil}, {"sendto", nil},
		{"connect", nil}, {"recvfrom", nil}, {"setsockopt", setsockopt},
		{"newfstatat", nil},
		{"openat", Open{FlagsArg: 2, ModeArg: 3, Grant: Read}},
		{"read", nil}, {"close", nil}, {"recvmsg", nil}, {"sendmsg", nil},
	},
	Tty:    {{"ioctl", ioctlTty}},
	Recvfd: {{"recvmsg", nil}, {"recvmmsg", nil}},
	Proc: {
		{"fork", nil}, {"vfork", nil}, {"clone", cloneProcOK}, {"kill", nil},
		{"tgkill", nil}, {"setsid", nil}, {"setpgid", nil},
		{"prlimit64", nil}, {"setrlimit", nil}, {"getpriority", nil},
		{"setpriority", nil}, {"ioprio_get", nil}, {"ioprio_set", nil},
		{"sched_getscheduler", nil}, {"sched_setscheduler", nil},
		{"sched_get_priority_min", nil}, {"sched_get_priority_max", nil},
		{"sched_getparam", nil}, {"sched_setparam", nil},
	},
	Exec: {{"execve", nil}, {"execveat", nil}},
	ID: {
		{"setuid", nil}, {"setreuid", nil}, {"setresuid", nil},
		{"setgid", nil}, {"setregid", nil}, {"setresgid", nil},
		{"setgroups", nil}, {"prlimit64", nil}, {"setrlimit", nil},
		{"getpriority", nil}, {"setpriority", nil}, {"setfsuid", nil},
		{"setfsgid", nil},
	},
	Unveil: {
		{"landlock_create_ruleset", nil}, {"landlock_add_rule", nil},
		{"landlock_restrict_self", nil},
	},
	Sendfd: {{"sendmsg", nil}, {"sendmmsg", nil}},
	Settime: {
		{"settimeofday", nil}, {"clock_adjtime", nil},
		{"clock_settime", nil}, // vow addition (pledge.md §0.5)
	},
	ProtExec: {{"mmap", mmapExec}, {"mprotect", nil}},
	Vminfo:   {{"sched_yield", nil}},
	Tmppath:  {{"lstat", nil}, {"unlink", nil}, {"unlinkat", nil}},
	Chown: {
		{"chown", nil}, {"fchown", nil}, {"lchown", nil}, {"fchownat", nil},
	},
	Anet: {
		{"socket", socketAnet}, {"listen", nil}, {"bind", nil}, {"sendto", nil},
		{"accept", nil}, {"accept4", nil}, {"ioctl", ioctlInet},
		{"getsockopt", getsockopt}, {"setsockopt", setsockopt},
		{"getpeername", nil}, {"getsockname", nil},
	},
}

// Entries returns promise p's table entries in table order.
func Entries(p Promise) []Entry { return table[p] }

// Default lists the system calls allowed whatever the promises, even the
// empty set (pledge.md §3.5): thread exit, and arch_prctl on x86-64 for a
// freshly exec'd static program's TLS set-up.
var Default = []Entry{{"exit", nil}, {"arch_prctl", nil}}

// Runtime is what the Go runtime itself needs after start-up (pledge.md
// §9.2, §0.17). It is added on top of the promises only when a Go process
// pledges itself, never to a filter for a child.
var Runtime = []Entry{
	{"futex", nil}, {"sched_yield", nil}, {"nanosleep", nil},
	{"clock_gettime", nil}, {"mmap", mmapNoExec}, {"mprotect", mprotectNoExec},
	{"munmap", nil}, {"madvise", nil}, {"rt_sigaction", nil},
	{"rt_sigprocmask", nil}, {"rt_sigreturn", nil}, {"sigaltstack", nil},
	{"clone", cloneThreadOK}, {"exit_group", nil}, {"gettid", nil},
	{"getpid", nil}, {"tgkill", selfPID}, {"kill", selfPID},
	{"sched_getaffinity", nil}, {"pread64", nil}, {"read", nil},
	{"write", nil}, {"close", nil}, {"epoll_create1", nil},
	{"epoll_ctl", nil}, {"epoll_pwait", nil}, {"eventfd2", nil},
	{"fcntl", fcntlStdio}, {"getrandom", nil}, {"setitimer", nil},
	{"timer_create", nil}, {"timer_settime", nil}, {"timer_delete", nil},
	// New threads of a program built with cgo: glibc registers rseq and
	// a robust futex list for each, and aborts when rseq is refused.
	{"rseq", nil}, {"set_robust_list", nil},
	// seccomp(SECCOMP_SET_MODE_FILTER or SECCOMP_GET_ACTION_AVAIL): a Go
	// process narrows its pledge again with TSYNC; a new filter only adds
	// restrictions.
	{"seccomp", In(0, 1, 2)},
	// prctl(PR_SET_VMA) names the runtime's mappings; PR_SET_NO_NEW_PRIVS
	// precedes every further pledge.
	{"prctl", In(0, prSetVMA, 38)},
}

// labels are upstream's names for system calls whose libc name differs
// from the kernel's (pledge.md Appendix A); violation messages use them.
var labels = map[string]string{
	"rt_sigreturn": "sigreturn", "rt_sigaction": "sigaction",
	"rt_sigprocmask": "sigprocmask", "rt_sigsuspend": "sigsuspend",
	"rt_sigpending": "sigpending", "rt_sigtimedwait": "sigtimedwait",
	"rt_sigqueueinfo": "sigqueueinfo", "rt_tgsigqueueinfo": "tgsigqueueinfo",
	"pread64": "pread", "pwrite64": "pwrite", "fadvise64": "fadvise",
	"prlimit64": "prlimit", "newfstatat": "fstatat", "getdents64": "getdents",
	"getdents": "oldgetdents",
}

// Label returns the name violation messages use for a system call.
func Label(syscall string) string {
	if l, ok := labels[syscall]; ok {
		return l
	}
	return syscall
}

// Granting returns the promises whose table lists syscall (with any
// argument rule), in bit order: the promises a violation message names.
func Granting(syscall string) []Promise {
	var ps []Promise
	for p := Promise(0); p < Count; p++ {
		for _, e := range table[p] {
			if e.Syscall == syscall {
				ps = append(ps, p)
				break
			}
		}
	}
	return ps
}
