package lualib

import (
	"golang.org/x/sys/unix"
)

// konst is one integer field of the unix table.
type konst struct {
	name  string
	value int64
}

// Values come from golang.org/x/sys/unix for the build's GOARCH. The few
// names x/sys does not have (marked † in lua-unix.md §3) are spelled out
// below in dagger* with their spec values.

// errnoConsts is lua-unix.md §3.1. Order matters for aliases: the first
// name of a number is what Errno:name() returns (ENOTSUP before EOPNOTSUPP).
var errnoConsts = []konst{
	{"EPERM", int64(unix.EPERM)}, {"ENOENT", int64(unix.ENOENT)}, {"ESRCH", int64(unix.ESRCH)},
	{"EINTR", int64(unix.EINTR)}, {"EIO", int64(unix.EIO)}, {"ENXIO", int64(unix.ENXIO)},
	{"E2BIG", int64(unix.E2BIG)}, {"ENOEXEC", int64(unix.ENOEXEC)}, {"EBADF", int64(unix.EBADF)},
	{"ECHILD", int64(unix.ECHILD)}, {"EAGAIN", int64(unix.EAGAIN)}, {"ENOMEM", int64(unix.ENOMEM)},
	{"EACCES", int64(unix.EACCES)}, {"EFAULT", int64(unix.EFAULT)}, {"ENOTBLK", int64(unix.ENOTBLK)},
	{"EBUSY", int64(unix.EBUSY)}, {"EEXIST", int64(unix.EEXIST)}, {"EXDEV", int64(unix.EXDEV)},
	{"ENODEV", int64(unix.ENODEV)}, {"ENOTDIR", int64(unix.ENOTDIR)}, {"EISDIR", int64(unix.EISDIR)},
	{"EINVAL", int64(unix.EINVAL)}, {"ENFILE", int64(unix.ENFILE)}, {"EMFILE", int64(unix.EMFILE)},
	{"ENOTTY", int64(unix.ENOTTY)}, {"ETXTBSY", int64(unix.ETXTBSY)}, {"EFBIG", int64(unix.EFBIG)},
	{"ENOSPC", int64(unix.ENOSPC)}, {"ESPIPE", int64(unix.ESPIPE)}, {"EROFS", int64(unix.EROFS)},
	{"EMLINK", int64(unix.EMLINK)}, {"EPIPE", int64(unix.EPIPE)}, {"EDOM", int64(unix.EDOM)},
	{"ERANGE", int64(unix.ERANGE)}, {"EDEADLK", int64(unix.EDEADLK)}, {"ENAMETOOLONG", int64(unix.ENAMETOOLONG)},
	{"ENOLCK", int64(unix.ENOLCK)}, {"ENOSYS", int64(unix.ENOSYS)}, {"ENOTEMPTY", int64(unix.ENOTEMPTY)},
	{"ELOOP", int64(unix.ELOOP)}, {"ENOMSG", int64(unix.ENOMSG)}, {"EIDRM", int64(unix.EIDRM)},
	{"ENOSTR", int64(unix.ENOSTR)}, {"ENODATA", int64(unix.ENODATA)}, {"ETIME", int64(unix.ETIME)},
	{"ENOSR", int64(unix.ENOSR)}, {"ENONET", int64(unix.ENONET)}, {"EREMOTE", int64(unix.EREMOTE)},
	{"ENOLINK", int64(unix.ENOLINK)}, {"EPROTO", int64(unix.EPROTO)}, {"EMULTIHOP", int64(unix.EMULTIHOP)},
	{"EBADMSG", int64(unix.EBADMSG)}, {"EOVERFLOW", int64(unix.EOVERFLOW)}, {"EBADFD", int64(unix.EBADFD)},
	{"EILSEQ", int64(unix.EILSEQ)}, {"ERESTART", int64(unix.ERESTART)}, {"EUSERS", int64(unix.EUSERS)},
	{"ENOTSOCK", int64(unix.ENOTSOCK)}, {"EDESTADDRREQ", int64(unix.EDESTADDRREQ)}, {"EMSGSIZE", int64(unix.EMSGSIZE)},
	{"EPROTOTYPE", int64(unix.EPROTOTYPE)}, {"ENOPROTOOPT", int64(unix.ENOPROTOOPT)}, {"EPROTONOSUPPORT", int64(unix.EPROTONOSUPPORT)},
	{"ESOCKTNOSUPPORT", int64(unix.ESOCKTNOSUPPORT)}, {"ENOTSUP", int64(unix.ENOTSUP)}, {"EOPNOTSUPP", int64(unix.EOPNOTSUPP)},
	{"EPFNOSUPPORT", int64(unix.EPFNOSUPPORT)}, {"EAFNOSUPPORT", int64(unix.EAFNOSUPPORT)}, {"EADDRINUSE", int64(unix.EADDRINUSE)},
	{"EADDRNOTAVAIL", int64(unix.EADDRNOTAVAIL)}, {"ENETDOWN", int64(unix.ENETDOWN)}, {"ENETUNREACH", int64(unix.ENETUNREACH)},
	{"ENETRESET", int64(unix.ENETRESET)}, {"ECONNABORTED", int64(unix.ECONNABORTED)}, {"ECONNRESET", int64(unix.ECONNRESET)},
	{"ENOBUFS", int64(unix.ENOBUFS)}, {"EISCONN", int64(unix.EISCONN)}, {"ENOTCONN", int64(unix.ENOTCONN)},
	{"ESHUTDOWN", int64(unix.ESHUTDOWN)}, {"ETOOMANYREFS", int64(unix.ETOOMANYREFS)}, {"ETIMEDOUT", int64(unix.ETIMEDOUT)},
	{"ECONNREFUSED", int64(unix.ECONNREFUSED)}, {"EHOSTDOWN", int64(unix.EHOSTDOWN)}, {"EHOSTUNREACH", int64(unix.EHOSTUNREACH)},
	{"EALREADY", int64(unix.EALREADY)}, {"EINPROGRESS", int64(unix.EINPROGRESS)}, {"ESTALE", int64(unix.ESTALE)},
	{"EDQUOT", int64(unix.EDQUOT)}, {"ENOMEDIUM", int64(unix.ENOMEDIUM)}, {"EMEDIUMTYPE", int64(unix.EMEDIUMTYPE)},
	{"ECANCELED", int64(unix.ECANCELED)}, {"EOWNERDEAD", int64(unix.EOWNERDEAD)}, {"ENOTRECOVERABLE", int64(unix.ENOTRECOVERABLE)},
	{"ERFKILL", int64(unix.ERFKILL)}, {"EHWPOISON", int64(unix.EHWPOISON)},
	// EFTYPE is a Cosmopolitan number Linux never returns (x/sys's EFTYPE
	// is an unrelated placeholder); defined for source compatibility.
	{"EFTYPE", daggerEFTYPE},
}

// signalConsts is lua-unix.md §3.2 (numbers 16, 29 and 30 have no
// constant in redbean).
var signalConsts = []konst{
	{"SIGHUP", int64(unix.SIGHUP)}, {"SIGINT", int64(unix.SIGINT)}, {"SIGQUIT", int64(unix.SIGQUIT)},
	{"SIGILL", int64(unix.SIGILL)}, {"SIGTRAP", int64(unix.SIGTRAP)}, {"SIGABRT", int64(unix.SIGABRT)},
	{"SIGBUS", int64(unix.SIGBUS)}, {"SIGFPE", int64(unix.SIGFPE)}, {"SIGKILL", int64(unix.SIGKILL)},
	{"SIGUSR1", int64(unix.SIGUSR1)}, {"SIGSEGV", int64(unix.SIGSEGV)}, {"SIGUSR2", int64(unix.SIGUSR2)},
	{"SIGPIPE", int64(unix.SIGPIPE)}, {"SIGALRM", int64(unix.SIGALRM)}, {"SIGTERM", int64(unix.SIGTERM)},
	{"SIGCHLD", int64(unix.SIGCHLD)}, {"SIGCONT", int64(unix.SIGCONT)}, {"SIGSTOP", int64(unix.SIGSTOP)},
	{"SIGTSTP", int64(unix.SIGTSTP)}, {"SIGTTIN", int64(unix.SIGTTIN)}, {"SIGTTOU", int64(unix.SIGTTOU)},
	{"SIGURG", int64(unix.SIGURG)}, {"SIGXCPU", int64(unix.SIGXCPU)}, {"SIGXFSZ", int64(unix.SIGXFSZ)},
	{"SIGVTALRM", int64(unix.SIGVTALRM)}, {"SIGPROF", int64(unix.SIGPROF)}, {"SIGWINCH", int64(unix.SIGWINCH)},
	{"SIGSYS", int64(unix.SIGSYS)},
}

// otherConsts is the rest of lua-unix.md §3 that x/sys has.
var otherConsts = []konst{
	// §3.2 signal-related
	{"SIG_BLOCK", unix.SIG_BLOCK}, {"SIG_UNBLOCK", unix.SIG_UNBLOCK}, {"SIG_SETMASK", unix.SIG_SETMASK},
	{"ITIMER_REAL", unix.ITIMER_REAL}, {"ITIMER_VIRTUAL", unix.ITIMER_VIRTUAL}, {"ITIMER_PROF", unix.ITIMER_PROF},

	// §3.3 open() flags
	{"O_RDONLY", unix.O_RDONLY}, {"O_WRONLY", unix.O_WRONLY}, {"O_RDWR", unix.O_RDWR},
	{"O_ACCMODE", unix.O_ACCMODE}, {"O_CREAT", unix.O_CREAT}, {"O_EXCL", unix.O_EXCL},
	{"O_NOCTTY", unix.O_NOCTTY}, {"O_TRUNC", unix.O_TRUNC}, {"O_APPEND", unix.O_APPEND},
	{"O_NONBLOCK", unix.O_NONBLOCK}, {"O_DSYNC", unix.O_DSYNC}, {"O_DIRECT", unix.O_DIRECT},
	{"O_DIRECTORY", unix.O_DIRECTORY}, {"O_NOFOLLOW", unix.O_NOFOLLOW}, {"O_NOATIME", unix.O_NOATIME},
	{"O_CLOEXEC", unix.O_CLOEXEC}, {"O_SYNC", unix.O_SYNC},

	// §3.4 *at() and access
	{"AT_FDCWD", unix.AT_FDCWD}, {"AT_SYMLINK_NOFOLLOW", unix.AT_SYMLINK_NOFOLLOW}, {"AT_EACCESS", unix.AT_EACCESS},
	{"F_OK", unix.F_OK}, {"X_OK", unix.X_OK}, {"W_OK", unix.W_OK}, {"R_OK", unix.R_OK},
	{"SEEK_SET", unix.SEEK_SET}, {"SEEK_CUR", unix.SEEK_CUR}, {"SEEK_END", unix.SEEK_END},
	{"UTIME_NOW", unix.UTIME_NOW}, {"UTIME_OMIT", unix.UTIME_OMIT},

	// §3.5 fcntl()
	{"F_GETFD", unix.F_GETFD}, {"F_SETFD", unix.F_SETFD}, {"F_GETFL", unix.F_GETFL}, {"F_SETFL", unix.F_SETFL},
	{"F_GETLK", unix.F_GETLK}, {"F_SETLK", unix.F_SETLK}, {"F_SETLKW", unix.F_SETLKW},
	{"F_RDLCK", unix.F_RDLCK}, {"F_WRLCK", unix.F_WRLCK}, {"F_UNLCK", unix.F_UNLCK}, {"FD_CLOEXEC", unix.FD_CLOEXEC},

	// §3.6 directory entry types
	{"DT_UNKNOWN", unix.DT_UNKNOWN}, {"DT_FIFO", unix.DT_FIFO}, {"DT_CHR", unix.DT_CHR}, {"DT_DIR", unix.DT_DIR},
	{"DT_BLK", unix.DT_BLK}, {"DT_REG", unix.DT_REG}, {"DT_LNK", unix.DT_LNK}, {"DT_SOCK", unix.DT_SOCK},

	// §3.7 processes, limits, usage
	{"WNOHANG", unix.WNOHANG}, {"WUNTRACED", unix.WUNTRACED},
	{"RLIMIT_CPU", unix.RLIMIT_CPU}, {"RLIMIT_FSIZE", unix.RLIMIT_FSIZE}, {"RLIMIT_RSS", unix.RLIMIT_RSS},
	{"RLIMIT_NPROC", unix.RLIMIT_NPROC}, {"RLIMIT_NOFILE", unix.RLIMIT_NOFILE}, {"RLIMIT_AS", unix.RLIMIT_AS},
	{"RUSAGE_SELF", unix.RUSAGE_SELF}, {"RUSAGE_CHILDREN", unix.RUSAGE_CHILDREN}, {"RUSAGE_THREAD", unix.RUSAGE_THREAD},

	// §3.8 sockets
	{"AF_UNSPEC", unix.AF_UNSPEC}, {"AF_UNIX", unix.AF_UNIX}, {"AF_INET", unix.AF_INET},
	{"SOCK_STREAM", unix.SOCK_STREAM}, {"SOCK_DGRAM", unix.SOCK_DGRAM}, {"SOCK_RAW", unix.SOCK_RAW},
	{"SOCK_RDM", unix.SOCK_RDM}, {"SOCK_SEQPACKET", unix.SOCK_SEQPACKET},
	{"SOCK_NONBLOCK", unix.SOCK_NONBLOCK}, {"SOCK_CLOEXEC", unix.SOCK_CLOEXEC},
	{"IPPROTO_IP", unix.IPPROTO_IP}, {"IPPROTO_ICMP", unix.IPPROTO_ICMP}, {"IPPROTO_TCP", unix.IPPROTO_TCP},
	{"IPPROTO_UDP", unix.IPPROTO_UDP}, {"IPPROTO_RAW", unix.IPPROTO_RAW},
	{"SOL_IP", unix.SOL_IP}, {"SOL_SOCKET", unix.SOL_SOCKET}, {"SOL_TCP", unix.SOL_TCP}, {"SOL_UDP", unix.SOL_UDP},
	{"SO_DEBUG", unix.SO_DEBUG}, {"SO_REUSEADDR", unix.SO_REUSEADDR}, {"SO_TYPE", unix.SO_TYPE},
	{"SO_ERROR", unix.SO_ERROR}, {"SO_DONTROUTE", unix.SO_DONTROUTE}, {"SO_BROADCAST", unix.SO_BROADCAST},
	{"SO_SNDBUF", unix.SO_SNDBUF}, {"SO_RCVBUF", unix.SO_RCVBUF}, {"SO_KEEPALIVE", unix.SO_KEEPALIVE},
	{"SO_OOBINLINE", unix.SO_OOBINLINE}, {"SO_LINGER", unix.SO_LINGER}, {"SO_REUSEPORT", unix.SO_REUSEPORT},
	{"SO_RCVLOWAT", unix.SO_RCVLOWAT}, {"SO_SNDLOWAT", unix.SO_SNDLOWAT}, {"SO_RCVTIMEO", unix.SO_RCVTIMEO},
	{"SO_SNDTIMEO", unix.SO_SNDTIMEO}, {"SO_ACCEPTCONN", unix.SO_ACCEPTCONN},
	{"TCP_NODELAY", unix.TCP_NODELAY}, {"TCP_MAXSEG", unix.TCP_MAXSEG}, {"TCP_CORK", unix.TCP_CORK},
	{"TCP_KEEPIDLE", unix.TCP_KEEPIDLE}, {"TCP_KEEPINTVL", unix.TCP_KEEPINTVL}, {"TCP_KEEPCNT", unix.TCP_KEEPCNT},
	{"TCP_SYNCNT", unix.TCP_SYNCNT}, {"TCP_DEFER_ACCEPT", unix.TCP_DEFER_ACCEPT}, {"TCP_WINDOW_CLAMP", unix.TCP_WINDOW_CLAMP},
	{"TCP_QUICKACK", unix.TCP_QUICKACK}, {"TCP_FASTOPEN", unix.TCP_FASTOPEN}, {"TCP_NOTSENT_LOWAT", unix.TCP_NOTSENT_LOWAT},
	{"TCP_SAVE_SYN", unix.TCP_SAVE_SYN}, {"TCP_SAVED_SYN", unix.TCP_SAVED_SYN}, {"TCP_FASTOPEN_CONNECT", unix.TCP_FASTOPEN_CONNECT},
	{"IP_TOS", unix.IP_TOS}, {"IP_TTL", unix.IP_TTL}, {"IP_HDRINCL", unix.IP_HDRINCL}, {"IP_OPTIONS", unix.IP_OPTIONS},
	{"IP_PKTINFO", unix.IP_PKTINFO}, {"IP_RECVTTL", unix.IP_RECVTTL}, {"IP_RECVTOS", unix.IP_RECVTOS}, {"IP_MTU", unix.IP_MTU},
	{"IP_MULTICAST_IF", unix.IP_MULTICAST_IF}, {"IP_MULTICAST_TTL", unix.IP_MULTICAST_TTL},
	{"IP_MULTICAST_LOOP", unix.IP_MULTICAST_LOOP}, {"IP_ADD_MEMBERSHIP", unix.IP_ADD_MEMBERSHIP},
	{"IP_DROP_MEMBERSHIP", unix.IP_DROP_MEMBERSHIP},
	{"SHUT_RD", unix.SHUT_RD}, {"SHUT_WR", unix.SHUT_WR}, {"SHUT_RDWR", unix.SHUT_RDWR},
	{"MSG_OOB", unix.MSG_OOB}, {"MSG_PEEK", unix.MSG_PEEK}, {"MSG_DONTROUTE", unix.MSG_DONTROUTE},
	{"MSG_CTRUNC", unix.MSG_CTRUNC}, {"MSG_TRUNC", unix.MSG_TRUNC}, {"MSG_DONTWAIT", unix.MSG_DONTWAIT},
	{"MSG_WAITALL", unix.MSG_WAITALL}, {"MSG_NOSIGNAL", unix.MSG_NOSIGNAL},
	{"MSG_MORE", unix.MSG_MORE}, // [vow]: redbean's manual mentions it, its table lacks it

	// §3.9 poll()
	{"POLLIN", unix.POLLIN}, {"POLLPRI", unix.POLLPRI}, {"POLLOUT", unix.POLLOUT}, {"POLLERR", unix.POLLERR},
	{"POLLHUP", unix.POLLHUP}, {"POLLNVAL", unix.POLLNVAL}, {"POLLRDHUP", unix.POLLRDHUP},

	// §3.10 clocks
	{"CLOCK_REALTIME", unix.CLOCK_REALTIME}, {"CLOCK_MONOTONIC", unix.CLOCK_MONOTONIC},
	{"CLOCK_PROCESS_CPUTIME_ID", unix.CLOCK_PROCESS_CPUTIME_ID}, {"CLOCK_THREAD_CPUTIME_ID", unix.CLOCK_THREAD_CPUTIME_ID},
	{"CLOCK_MONOTONIC_RAW", unix.CLOCK_MONOTONIC_RAW}, {"CLOCK_REALTIME_COARSE", unix.CLOCK_REALTIME_COARSE},
	{"CLOCK_MONOTONIC_COARSE", unix.CLOCK_MONOTONIC_COARSE}, {"CLOCK_BOOTTIME", unix.CLOCK_BOOTTIME},

	// §3.12 statfs flags
	{"ST_RDONLY", unix.ST_RDONLY}, {"ST_NOSUID", unix.ST_NOSUID}, {"ST_NODEV", unix.ST_NODEV},
	{"ST_NOEXEC", unix.ST_NOEXEC}, {"ST_SYNCHRONOUS", unix.ST_SYNCHRONOUS}, {"ST_MANDLOCK", unix.ST_MANDLOCK},
	{"ST_NOATIME", unix.ST_NOATIME}, {"ST_NODIRATIME", unix.ST_NODIRATIME}, {"ST_RELATIME", unix.ST_RELATIME},

	// §3.13 limits
	{"NAME_MAX", unix.NAME_MAX},
	{"PATH_MAX", unix.PathMax},
}

// The † values of lua-unix.md §3: no same-named constant in x/sys.
const (
	daggerEFTYPE = 79

	daggerSIG_DFL      = 0
	daggerSIG_IGN      = 1
	daggerSA_NOCLDSTOP = 1
	daggerSA_NOCLDWAIT = 2
	daggerSA_RESTART   = 0x10000000
	daggerSA_NODEFER   = 0x40000000
	daggerSA_RESETHAND = 0x80000000

	// daggerO_UNLINK is redbean's "delete when closed" flag; vow unlinks
	// the path right after a successful open and never passes the bit on.
	daggerO_UNLINK = 0x10000000

	daggerRUSAGE_BOTH = -2

	daggerPOLLRDNORM = 0x40
	daggerPOLLRDBAND = 0x80
	daggerPOLLWRNORM = 0x100
	daggerPOLLWRBAND = 0x200

	// pledge.md §4.1.
	daggerPLEDGE_PENALTY_KILL_THREAD  = 0x0000
	daggerPLEDGE_PENALTY_KILL_PROCESS = 0x0001
	daggerPLEDGE_PENALTY_RETURN_EPERM = 0x0002
	daggerPLEDGE_STDERR_LOGGING       = 0x0010

	daggerST_WRITE     = 128
	daggerST_APPEND    = 256
	daggerST_IMMUTABLE = 512

	daggerBUFSIZ   = 4096
	daggerCLK_TCK  = 100
	daggerNSIG     = 64
	daggerPIPE_BUF = 4096
)

// PLEDGE_* values (pledge.md §4.1), for Go code that calls the hooks.
const (
	// PledgePenaltyKillThread kills the offending thread (vow: the process).
	PledgePenaltyKillThread = daggerPLEDGE_PENALTY_KILL_THREAD
	// PledgePenaltyKillProcess kills the whole process.
	PledgePenaltyKillProcess = daggerPLEDGE_PENALTY_KILL_PROCESS
	// PledgePenaltyReturnEPERM makes a forbidden call fail with EPERM.
	PledgePenaltyReturnEPERM = daggerPLEDGE_PENALTY_RETURN_EPERM
	// PledgeStderrLogging is OR-ed on top: log every violation to stderr.
	PledgeStderrLogging = daggerPLEDGE_STDERR_LOGGING
)

var daggerConsts = []konst{
	{"SIG_DFL", daggerSIG_DFL}, {"SIG_IGN", daggerSIG_IGN},
	{"SA_NOCLDSTOP", daggerSA_NOCLDSTOP}, {"SA_NOCLDWAIT", daggerSA_NOCLDWAIT},
	{"SA_RESTART", daggerSA_RESTART}, {"SA_NODEFER", daggerSA_NODEFER}, {"SA_RESETHAND", daggerSA_RESETHAND},
	{"O_UNLINK", daggerO_UNLINK},
	{"RUSAGE_BOTH", daggerRUSAGE_BOTH},
	{"POLLRDNORM", daggerPOLLRDNORM}, {"POLLRDBAND", daggerPOLLRDBAND},
	{"POLLWRNORM", daggerPOLLWRNORM}, {"POLLWRBAND", daggerPOLLWRBAND},
	{"PLEDGE_PENALTY_KILL_THREAD", daggerPLEDGE_PENALTY_KILL_THREAD},
	{"PLEDGE_PENALTY_KILL_PROCESS", daggerPLEDGE_PENALTY_KILL_PROCESS},
	{"PLEDGE_PENALTY_RETURN_EPERM", daggerPLEDGE_PENALTY_RETURN_EPERM},
	{"PLEDGE_STDERR_LOGGING", daggerPLEDGE_STDERR_LOGGING},
	{"ST_WRITE", daggerST_WRITE}, {"ST_APPEND", daggerST_APPEND}, {"ST_IMMUTABLE", daggerST_IMMUTABLE},
	{"LOG_EMERG", 0}, {"LOG_ALERT", 1}, {"LOG_CRIT", 2}, {"LOG_ERR", 3},
	{"LOG_WARNING", 4}, {"LOG_NOTICE", 5}, {"LOG_INFO", 6}, {"LOG_DEBUG", 7},
	{"BUFSIZ", daggerBUFSIZ}, {"CLK_TCK", daggerCLK_TCK}, {"NSIG", daggerNSIG}, {"PIPE_BUF", daggerPIPE_BUF},
}

// argMax is ARG_MAX (lua-unix.md §3.13): glibc's sysconf(_SC_ARG_MAX)
// rule, max(min(RLIMIT_STACK soft / 4, 6 MiB), 128 KiB).
func argMax() int64 {
	const lo, hi = 131072, 6291456
	var rl unix.Rlimit
	v := int64(2097152)
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) == nil {
		if rl.Cur/4 < hi {
			v = int64(rl.Cur / 4)
		} else {
			v = hi
		}
	}
	return max(v, lo)
}

// allConsts returns every integer field of the unix table.
func allConsts() []konst {
	var all []konst
	all = append(all, errnoConsts...)
	all = append(all, signalConsts...)
	all = append(all, otherConsts...)
	all = append(all, daggerConsts...)
	all = append(all, konst{"ARG_MAX", argMax()})
	return all
}
