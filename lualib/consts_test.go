package lualib

import (
	"runtime"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// constRow is one integer field of the unix table: its x/sys value (or, for
// a † name, the spec's) and the value lua-unix.md §3 gives for x86-64.
type constRow struct {
	name      string
	xsys      int64
	specAMD64 int64
}

// dagger marks a name without an x/sys constant: the spec value is all
// there is to compare with.
const dagger = -1 << 62

var constRows = []constRow{
	// §3.1
	{"EPERM", int64(unix.EPERM), 1}, {"ENOENT", int64(unix.ENOENT), 2}, {"ESRCH", int64(unix.ESRCH), 3},
	{"EINTR", int64(unix.EINTR), 4}, {"EIO", int64(unix.EIO), 5}, {"ENXIO", int64(unix.ENXIO), 6},
	{"E2BIG", int64(unix.E2BIG), 7}, {"ENOEXEC", int64(unix.ENOEXEC), 8}, {"EBADF", int64(unix.EBADF), 9},
	{"ECHILD", int64(unix.ECHILD), 10}, {"EAGAIN", int64(unix.EAGAIN), 11}, {"ENOMEM", int64(unix.ENOMEM), 12},
	{"EACCES", int64(unix.EACCES), 13}, {"EFAULT", int64(unix.EFAULT), 14}, {"ENOTBLK", int64(unix.ENOTBLK), 15},
	{"EBUSY", int64(unix.EBUSY), 16}, {"EEXIST", int64(unix.EEXIST), 17}, {"EXDEV", int64(unix.EXDEV), 18},
	{"ENODEV", int64(unix.ENODEV), 19}, {"ENOTDIR", int64(unix.ENOTDIR), 20}, {"EISDIR", int64(unix.EISDIR), 21},
	{"EINVAL", int64(unix.EINVAL), 22}, {"ENFILE", int64(unix.ENFILE), 23}, {"EMFILE", int64(unix.EMFILE), 24},
	{"ENOTTY", int64(unix.ENOTTY), 25}, {"ETXTBSY", int64(unix.ETXTBSY), 26}, {"EFBIG", int64(unix.EFBIG), 27},
	{"ENOSPC", int64(unix.ENOSPC), 28}, {"ESPIPE", int64(unix.ESPIPE), 29}, {"EROFS", int64(unix.EROFS), 30},
	{"EMLINK", int64(unix.EMLINK), 31}, {"EPIPE", int64(unix.EPIPE), 32}, {"EDOM", int64(unix.EDOM), 33},
	{"ERANGE", int64(unix.ERANGE), 34}, {"EDEADLK", int64(unix.EDEADLK), 35}, {"ENAMETOOLONG", int64(unix.ENAMETOOLONG), 36},
	{"ENOLCK", int64(unix.ENOLCK), 37}, {"ENOSYS", int64(unix.ENOSYS), 38}, {"ENOTEMPTY", int64(unix.ENOTEMPTY), 39},
	{"ELOOP", int64(unix.ELOOP), 40}, {"ENOMSG", int64(unix.ENOMSG), 42}, {"EIDRM", int64(unix.EIDRM), 43},
	{"ENOSTR", int64(unix.ENOSTR), 60}, {"ENODATA", int64(unix.ENODATA), 61}, {"ETIME", int64(unix.ETIME), 62},
	{"ENOSR", int64(unix.ENOSR), 63}, {"ENONET", int64(unix.ENONET), 64}, {"EREMOTE", int64(unix.EREMOTE), 66},
	{"ENOLINK", int64(unix.ENOLINK), 67}, {"EPROTO", int64(unix.EPROTO), 71}, {"EMULTIHOP", int64(unix.EMULTIHOP), 72},
	{"EBADMSG", int64(unix.EBADMSG), 74}, {"EOVERFLOW", int64(unix.EOVERFLOW), 75}, {"EBADFD", int64(unix.EBADFD), 77},
	{"EILSEQ", int64(unix.EILSEQ), 84}, {"ERESTART", int64(unix.ERESTART), 85}, {"EUSERS", int64(unix.EUSERS), 87},
	{"ENOTSOCK", int64(unix.ENOTSOCK), 88}, {"EDESTADDRREQ", int64(unix.EDESTADDRREQ), 89}, {"EMSGSIZE", int64(unix.EMSGSIZE), 90},
	{"EPROTOTYPE", int64(unix.EPROTOTYPE), 91}, {"ENOPROTOOPT", int64(unix.ENOPROTOOPT), 92}, {"EPROTONOSUPPORT", int64(unix.EPROTONOSUPPORT), 93},
	{"ESOCKTNOSUPPORT", int64(unix.ESOCKTNOSUPPORT), 94}, {"ENOTSUP", int64(unix.ENOTSUP), 95}, {"EOPNOTSUPP", int64(unix.EOPNOTSUPP), 95},
	{"EPFNOSUPPORT", int64(unix.EPFNOSUPPORT), 96}, {"EAFNOSUPPORT", int64(unix.EAFNOSUPPORT), 97}, {"EADDRINUSE", int64(unix.EADDRINUSE), 98},
	{"EADDRNOTAVAIL", int64(unix.EADDRNOTAVAIL), 99}, {"ENETDOWN", int64(unix.ENETDOWN), 100}, {"ENETUNREACH", int64(unix.ENETUNREACH), 101},
	{"ENETRESET", int64(unix.ENETRESET), 102}, {"ECONNABORTED", int64(unix.ECONNABORTED), 103}, {"ECONNRESET", int64(unix.ECONNRESET), 104},
	{"ENOBUFS", int64(unix.ENOBUFS), 105}, {"EISCONN", int64(unix.EISCONN), 106}, {"ENOTCONN", int64(unix.ENOTCONN), 107},
	{"ESHUTDOWN", int64(unix.ESHUTDOWN), 108}, {"ETOOMANYREFS", int64(unix.ETOOMANYREFS), 109}, {"ETIMEDOUT", int64(unix.ETIMEDOUT), 110},
	{"ECONNREFUSED", int64(unix.ECONNREFUSED), 111}, {"EHOSTDOWN", int64(unix.EHOSTDOWN), 112}, {"EHOSTUNREACH", int64(unix.EHOSTUNREACH), 113},
	{"EALREADY", int64(unix.EALREADY), 114}, {"EINPROGRESS", int64(unix.EINPROGRESS), 115}, {"ESTALE", int64(unix.ESTALE), 116},
	{"EDQUOT", int64(unix.EDQUOT), 122}, {"ENOMEDIUM", int64(unix.ENOMEDIUM), 123}, {"EMEDIUMTYPE", int64(unix.EMEDIUMTYPE), 124},
	{"ECANCELED", int64(unix.ECANCELED), 125}, {"EOWNERDEAD", int64(unix.EOWNERDEAD), 130}, {"ENOTRECOVERABLE", int64(unix.ENOTRECOVERABLE), 131},
	{"ERFKILL", int64(unix.ERFKILL), 132}, {"EHWPOISON", int64(unix.EHWPOISON), 133},
	{"EFTYPE", dagger, 79},

	// §3.2
	{"SIGHUP", int64(unix.SIGHUP), 1}, {"SIGINT", int64(unix.SIGINT), 2}, {"SIGQUIT", int64(unix.SIGQUIT), 3},
	{"SIGILL", int64(unix.SIGILL), 4}, {"SIGTRAP", int64(unix.SIGTRAP), 5}, {"SIGABRT", int64(unix.SIGABRT), 6},
	{"SIGBUS", int64(unix.SIGBUS), 7}, {"SIGFPE", int64(unix.SIGFPE), 8}, {"SIGKILL", int64(unix.SIGKILL), 9},
	{"SIGUSR1", int64(unix.SIGUSR1), 10}, {"SIGSEGV", int64(unix.SIGSEGV), 11}, {"SIGUSR2", int64(unix.SIGUSR2), 12},
	{"SIGPIPE", int64(unix.SIGPIPE), 13}, {"SIGALRM", int64(unix.SIGALRM), 14}, {"SIGTERM", int64(unix.SIGTERM), 15},
	{"SIGCHLD", int64(unix.SIGCHLD), 17}, {"SIGCONT", int64(unix.SIGCONT), 18}, {"SIGSTOP", int64(unix.SIGSTOP), 19},
	{"SIGTSTP", int64(unix.SIGTSTP), 20}, {"SIGTTIN", int64(unix.SIGTTIN), 21}, {"SIGTTOU", int64(unix.SIGTTOU), 22},
	{"SIGURG", int64(unix.SIGURG), 23}, {"SIGXCPU", int64(unix.SIGXCPU), 24}, {"SIGXFSZ", int64(unix.SIGXFSZ), 25},
	{"SIGVTALRM", int64(unix.SIGVTALRM), 26}, {"SIGPROF", int64(unix.SIGPROF), 27}, {"SIGWINCH", int64(unix.SIGWINCH), 28},
	{"SIGSYS", int64(unix.SIGSYS), 31},
	{"SIG_DFL", dagger, 0}, {"SIG_IGN", dagger, 1},
	{"SIG_BLOCK", unix.SIG_BLOCK, 0}, {"SIG_UNBLOCK", unix.SIG_UNBLOCK, 1}, {"SIG_SETMASK", unix.SIG_SETMASK, 2},
	{"SA_NOCLDSTOP", dagger, 1}, {"SA_NOCLDWAIT", dagger, 2}, {"SA_RESTART", dagger, 0x10000000},
	{"SA_NODEFER", dagger, 0x40000000}, {"SA_RESETHAND", dagger, 0x80000000},
	{"ITIMER_REAL", unix.ITIMER_REAL, 0}, {"ITIMER_VIRTUAL", unix.ITIMER_VIRTUAL, 1}, {"ITIMER_PROF", unix.ITIMER_PROF, 2},

	// §3.3
	{"O_RDONLY", unix.O_RDONLY, 0}, {"O_WRONLY", unix.O_WRONLY, 1}, {"O_RDWR", unix.O_RDWR, 2},
	{"O_ACCMODE", unix.O_ACCMODE, 3}, {"O_CREAT", unix.O_CREAT, 64}, {"O_EXCL", unix.O_EXCL, 128},
	{"O_NOCTTY", unix.O_NOCTTY, 256}, {"O_TRUNC", unix.O_TRUNC, 512}, {"O_APPEND", unix.O_APPEND, 1024},
	{"O_NONBLOCK", unix.O_NONBLOCK, 2048}, {"O_DSYNC", unix.O_DSYNC, 4096}, {"O_DIRECT", unix.O_DIRECT, 16384},
	{"O_DIRECTORY", unix.O_DIRECTORY, 65536}, {"O_NOFOLLOW", unix.O_NOFOLLOW, 131072}, {"O_NOATIME", unix.O_NOATIME, 262144},
	{"O_CLOEXEC", unix.O_CLOEXEC, 524288}, {"O_SYNC", unix.O_SYNC, 1052672}, {"O_UNLINK", dagger, 0x10000000},

	// §3.4
	{"AT_FDCWD", unix.AT_FDCWD, -100}, {"AT_SYMLINK_NOFOLLOW", unix.AT_SYMLINK_NOFOLLOW, 0x100}, {"AT_EACCESS", unix.AT_EACCESS, 0x200},
	{"F_OK", unix.F_OK, 0}, {"X_OK", unix.X_OK, 1}, {"W_OK", unix.W_OK, 2}, {"R_OK", unix.R_OK, 4},
	{"SEEK_SET", unix.SEEK_SET, 0}, {"SEEK_CUR", unix.SEEK_CUR, 1}, {"SEEK_END", unix.SEEK_END, 2},
	{"UTIME_NOW", unix.UTIME_NOW, 0x3fffffff}, {"UTIME_OMIT", unix.UTIME_OMIT, 0x3ffffffe},

	// §3.5
	{"F_GETFD", unix.F_GETFD, 1}, {"F_SETFD", unix.F_SETFD, 2}, {"F_GETFL", unix.F_GETFL, 3}, {"F_SETFL", unix.F_SETFL, 4},
	{"F_GETLK", unix.F_GETLK, 5}, {"F_SETLK", unix.F_SETLK, 6}, {"F_SETLKW", unix.F_SETLKW, 7},
	{"F_RDLCK", unix.F_RDLCK, 0}, {"F_WRLCK", unix.F_WRLCK, 1}, {"F_UNLCK", unix.F_UNLCK, 2}, {"FD_CLOEXEC", unix.FD_CLOEXEC, 1},

	// §3.6
	{"DT_UNKNOWN", unix.DT_UNKNOWN, 0}, {"DT_FIFO", unix.DT_FIFO, 1}, {"DT_CHR", unix.DT_CHR, 2}, {"DT_DIR", unix.DT_DIR, 4},
	{"DT_BLK", unix.DT_BLK, 6}, {"DT_REG", unix.DT_REG, 8}, {"DT_LNK", unix.DT_LNK, 10}, {"DT_SOCK", unix.DT_SOCK, 12},

	// §3.7
	{"WNOHANG", unix.WNOHANG, 1}, {"WUNTRACED", unix.WUNTRACED, 2},
	{"RLIMIT_CPU", unix.RLIMIT_CPU, 0}, {"RLIMIT_FSIZE", unix.RLIMIT_FSIZE, 1}, {"RLIMIT_RSS", unix.RLIMIT_RSS, 5},
	{"RLIMIT_NPROC", unix.RLIMIT_NPROC, 6}, {"RLIMIT_NOFILE", unix.RLIMIT_NOFILE, 7}, {"RLIMIT_AS", unix.RLIMIT_AS, 9},
	{"RUSAGE_SELF", unix.RUSAGE_SELF, 0}, {"RUSAGE_CHILDREN", unix.RUSAGE_CHILDREN, -1}, {"RUSAGE_THREAD", unix.RUSAGE_THREAD, 1},
	{"RUSAGE_BOTH", dagger, -2},

	// §3.8
	{"AF_UNSPEC", unix.AF_UNSPEC, 0}, {"AF_UNIX", unix.AF_UNIX, 1}, {"AF_INET", unix.AF_INET, 2},
	{"SOCK_STREAM", unix.SOCK_STREAM, 1}, {"SOCK_DGRAM", unix.SOCK_DGRAM, 2}, {"SOCK_RAW", unix.SOCK_RAW, 3},
	{"SOCK_RDM", unix.SOCK_RDM, 4}, {"SOCK_SEQPACKET", unix.SOCK_SEQPACKET, 5},
	{"SOCK_NONBLOCK", unix.SOCK_NONBLOCK, 0x800}, {"SOCK_CLOEXEC", unix.SOCK_CLOEXEC, 0x80000},
	{"IPPROTO_IP", unix.IPPROTO_IP, 0}, {"IPPROTO_ICMP", unix.IPPROTO_ICMP, 1}, {"IPPROTO_TCP", unix.IPPROTO_TCP, 6},
	{"IPPROTO_UDP", unix.IPPROTO_UDP, 17}, {"IPPROTO_RAW", unix.IPPROTO_RAW, 255},
	{"SOL_IP", unix.SOL_IP, 0}, {"SOL_SOCKET", unix.SOL_SOCKET, 1}, {"SOL_TCP", unix.SOL_TCP, 6}, {"SOL_UDP", unix.SOL_UDP, 17},
	{"SO_DEBUG", unix.SO_DEBUG, 1}, {"SO_REUSEADDR", unix.SO_REUSEADDR, 2}, {"SO_TYPE", unix.SO_TYPE, 3},
	{"SO_ERROR", unix.SO_ERROR, 4}, {"SO_DONTROUTE", unix.SO_DONTROUTE, 5}, {"SO_BROADCAST", unix.SO_BROADCAST, 6},
	{"SO_SNDBUF", unix.SO_SNDBUF, 7}, {"SO_RCVBUF", unix.SO_RCVBUF, 8}, {"SO_KEEPALIVE", unix.SO_KEEPALIVE, 9},
	{"SO_OOBINLINE", unix.SO_OOBINLINE, 10}, {"SO_LINGER", unix.SO_LINGER, 13}, {"SO_REUSEPORT", unix.SO_REUSEPORT, 15},
	{"SO_RCVLOWAT", unix.SO_RCVLOWAT, 18}, {"SO_SNDLOWAT", unix.SO_SNDLOWAT, 19}, {"SO_RCVTIMEO", unix.SO_RCVTIMEO, 20},
	{"SO_SNDTIMEO", unix.SO_SNDTIMEO, 21}, {"SO_ACCEPTCONN", unix.SO_ACCEPTCONN, 30},
	{"TCP_NODELAY", unix.TCP_NODELAY, 1}, {"TCP_MAXSEG", unix.TCP_MAXSEG, 2}, {"TCP_CORK", unix.TCP_CORK, 3},
	{"TCP_KEEPIDLE", unix.TCP_KEEPIDLE, 4}, {"TCP_KEEPINTVL", unix.TCP_KEEPINTVL, 5}, {"TCP_KEEPCNT", unix.TCP_KEEPCNT, 6},
	{"TCP_SYNCNT", unix.TCP_SYNCNT, 7}, {"TCP_DEFER_ACCEPT", unix.TCP_DEFER_ACCEPT, 9}, {"TCP_WINDOW_CLAMP", unix.TCP_WINDOW_CLAMP, 10},
	{"TCP_QUICKACK", unix.TCP_QUICKACK, 12}, {"TCP_FASTOPEN", unix.TCP_FASTOPEN, 23}, {"TCP_NOTSENT_LOWAT", unix.TCP_NOTSENT_LOWAT, 25},
	{"TCP_SAVE_SYN", unix.TCP_SAVE_SYN, 27}, {"TCP_SAVED_SYN", unix.TCP_SAVED_SYN, 28}, {"TCP_FASTOPEN_CONNECT", unix.TCP_FASTOPEN_CONNECT, 30},
	{"IP_TOS", unix.IP_TOS, 1}, {"IP_TTL", unix.IP_TTL, 2}, {"IP_HDRINCL", unix.IP_HDRINCL, 3}, {"IP_OPTIONS", unix.IP_OPTIONS, 4},
	{"IP_PKTINFO", unix.IP_PKTINFO, 8}, {"IP_RECVTTL", unix.IP_RECVTTL, 12}, {"IP_RECVTOS", unix.IP_RECVTOS, 13}, {"IP_MTU", unix.IP_MTU, 14},
	{"IP_MULTICAST_IF", unix.IP_MULTICAST_IF, 32}, {"IP_MULTICAST_TTL", unix.IP_MULTICAST_TTL, 33},
	{"IP_MULTICAST_LOOP", unix.IP_MULTICAST_LOOP, 34}, {"IP_ADD_MEMBERSHIP", unix.IP_ADD_MEMBERSHIP, 35},
	{"IP_DROP_MEMBERSHIP", unix.IP_DROP_MEMBERSHIP, 36},
	{"SHUT_RD", unix.SHUT_RD, 0}, {"SHUT_WR", unix.SHUT_WR, 1}, {"SHUT_RDWR", unix.SHUT_RDWR, 2},
	{"MSG_OOB", unix.MSG_OOB, 1}, {"MSG_PEEK", unix.MSG_PEEK, 2}, {"MSG_DONTROUTE", unix.MSG_DONTROUTE, 4},
	{"MSG_CTRUNC", unix.MSG_CTRUNC, 8}, {"MSG_TRUNC", unix.MSG_TRUNC, 32}, {"MSG_DONTWAIT", unix.MSG_DONTWAIT, 64},
	{"MSG_WAITALL", unix.MSG_WAITALL, 256}, {"MSG_NOSIGNAL", unix.MSG_NOSIGNAL, 0x4000}, {"MSG_MORE", unix.MSG_MORE, 0x8000},

	// §3.9
	{"POLLIN", unix.POLLIN, 1}, {"POLLPRI", unix.POLLPRI, 2}, {"POLLOUT", unix.POLLOUT, 4}, {"POLLERR", unix.POLLERR, 8},
	{"POLLHUP", unix.POLLHUP, 16}, {"POLLNVAL", unix.POLLNVAL, 32}, {"POLLRDNORM", dagger, 64}, {"POLLRDBAND", dagger, 128},
	{"POLLWRNORM", dagger, 256}, {"POLLWRBAND", dagger, 512}, {"POLLRDHUP", unix.POLLRDHUP, 0x2000},

	// §3.10
	{"CLOCK_REALTIME", unix.CLOCK_REALTIME, 0}, {"CLOCK_MONOTONIC", unix.CLOCK_MONOTONIC, 1},
	{"CLOCK_PROCESS_CPUTIME_ID", unix.CLOCK_PROCESS_CPUTIME_ID, 2}, {"CLOCK_THREAD_CPUTIME_ID", unix.CLOCK_THREAD_CPUTIME_ID, 3},
	{"CLOCK_MONOTONIC_RAW", unix.CLOCK_MONOTONIC_RAW, 4}, {"CLOCK_REALTIME_COARSE", unix.CLOCK_REALTIME_COARSE, 5},
	{"CLOCK_MONOTONIC_COARSE", unix.CLOCK_MONOTONIC_COARSE, 6}, {"CLOCK_BOOTTIME", unix.CLOCK_BOOTTIME, 7},

	// §3.11 and pledge.md §4.1
	{"PLEDGE_PENALTY_KILL_THREAD", dagger, 0}, {"PLEDGE_PENALTY_KILL_PROCESS", dagger, 1},
	{"PLEDGE_PENALTY_RETURN_EPERM", dagger, 2}, {"PLEDGE_STDERR_LOGGING", dagger, 16},

	// §3.12
	{"ST_RDONLY", unix.ST_RDONLY, 1}, {"ST_NOSUID", unix.ST_NOSUID, 2}, {"ST_NODEV", unix.ST_NODEV, 4},
	{"ST_NOEXEC", unix.ST_NOEXEC, 8}, {"ST_SYNCHRONOUS", unix.ST_SYNCHRONOUS, 16}, {"ST_MANDLOCK", unix.ST_MANDLOCK, 64},
	{"ST_WRITE", dagger, 128}, {"ST_APPEND", dagger, 256}, {"ST_IMMUTABLE", dagger, 512},
	{"ST_NOATIME", unix.ST_NOATIME, 1024}, {"ST_NODIRATIME", unix.ST_NODIRATIME, 2048}, {"ST_RELATIME", unix.ST_RELATIME, 4096},

	// §3.13
	{"LOG_EMERG", dagger, 0}, {"LOG_ALERT", dagger, 1}, {"LOG_CRIT", dagger, 2}, {"LOG_ERR", dagger, 3},
	{"LOG_WARNING", dagger, 4}, {"LOG_NOTICE", dagger, 5}, {"LOG_INFO", dagger, 6}, {"LOG_DEBUG", dagger, 7},
	{"BUFSIZ", dagger, 4096}, {"CLK_TCK", dagger, 100}, {"NAME_MAX", unix.NAME_MAX, 255}, {"NSIG", dagger, 64},
	{"PATH_MAX", unix.PathMax, 4096}, {"PIPE_BUF", dagger, 4096},
}

// arm64Differences is lua-unix.md §3.14.
var arm64Differences = map[string]int64{"O_DIRECTORY": 0x4000, "O_NOFOLLOW": 0x8000, "O_DIRECT": 0x10000}

func TestConstants(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tbl := OpenUnix(L, nil)
	seen := map[string]bool{}
	for _, row := range constRows {
		t.Run(row.name, func(t *testing.T) {
			seen[row.name] = true
			v, ok := tbl.RawGetString(row.name).(lua.LNumber)
			if !ok {
				t.Fatalf("unix.%s is %v, want a number", row.name, tbl.RawGetString(row.name))
			}
			got := int64(v)
			if row.xsys != dagger && got != row.xsys {
				t.Errorf("unix.%s = %d, x/sys has %d", row.name, got, row.xsys)
			}
			want := row.specAMD64
			if runtime.GOARCH == "arm64" {
				if w, ok := arm64Differences[row.name]; ok {
					want = w
				}
			}
			if got != want {
				t.Errorf("unix.%s = %d, lua-unix.md §3 says %d on %s", row.name, got, want, runtime.GOARCH)
			}
		})
	}
	// ARG_MAX is computed; the rule is glibc's.
	seen["ARG_MAX"] = true
	if am := int64(tbl.RawGetString("ARG_MAX").(lua.LNumber)); am < 131072 || am > 6291456 {
		t.Errorf("ARG_MAX = %d, outside [128 KiB, 6 MiB]", am)
	}
	// Nothing else numeric may be in the table (lua-unix.md §3: no
	// invented names).
	tbl.ForEach(func(k, v lua.LValue) {
		if _, isNum := v.(lua.LNumber); isNum && !seen[k.String()] {
			t.Errorf("unix.%s = %v is not a constant of lua-unix.md §3", k, v)
		}
	})
}

func TestArgMax(t *testing.T) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_STACK, &rl); err != nil {
		t.Skip(err)
	}
	want := int64(rl.Cur / 4)
	if rl.Cur == unix.RLIM_INFINITY || want > 6291456 {
		want = 6291456
	}
	want = max(want, 131072)
	if got := argMax(); got != want {
		t.Errorf("argMax() = %d, want %d for RLIMIT_STACK %d", got, want, rl.Cur)
	}
}
