package lualib

import (
	"math"
	"sort"
	"syscall"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

var sockFuncs = map[string]binding{
	"socket": func(_ *module, a args) int {
		family := a.optInt32(1, unix.AF_INET)
		typ := a.flags32(2, unix.SOCK_STREAM)
		return a.intResult(unix.Socket(family, typ, a.optInt32(3, 0)))
	},
	"socketpair": (*module).socketpair,
	"bind":       (*module).bind,
	"connect":    (*module).connect,
	"listen": func(_ *module, a args) int {
		return a.result(unix.Listen(a.int32(1), a.optInt32(2, 10)))
	},
	"accept":      (*module).accept,
	"recv":        (*module).recv,
	"recvfrom":    (*module).recvfrom,
	"send":        (*module).send,
	"sendto":      (*module).sendto,
	"shutdown":    func(_ *module, a args) int { return a.result(unix.Shutdown(a.int32(1), a.int32(2))) },
	"getsockname": func(m *module, a args) int { return m.sockname(a, unix.SYS_GETSOCKNAME) },
	"getpeername": func(m *module, a args) int { return m.sockname(a, unix.SYS_GETPEERNAME) },
	"getsockopt":  (*module).getsockopt,
	"setsockopt":  (*module).setsockopt,
	"poll":        (*module).poll,
	"gethostname": (*module).gethostname,
}

// maxUnixPath is the longest AF_UNIX path vow accepts (lua-unix.md §2.5).
const maxUnixPath = 107

// sockaddr is a kernel socket address being built or read back.
type sockaddr struct {
	raw unix.RawSockaddrAny
	len uint32
}

func (s *sockaddr) ptr() uintptr { return uintptr(unsafe.Pointer(&s.raw)) }

// addrArgs reads an address starting at argument n: a string is an
// AF_UNIX path (one argument), a number an IPv4 address in host byte order
// followed by a port (two arguments). With optional, nothing at all means
// 0.0.0.0:0. It returns the number of arguments used.
func (a args) addrArgs(n int, optional bool) (*sockaddr, int) {
	sa := &sockaddr{}
	v := a.L.Get(n)
	if s, ok := v.(lua.LString); ok {
		path := string(s)
		if len(path) > maxUnixPath {
			a.L.RaiseError("unix path too long")
		}
		u := (*unix.RawSockaddrUnix)(unsafe.Pointer(&sa.raw))
		u.Family = unix.AF_UNIX
		for i := 0; i < len(path); i++ {
			u.Path[i] = int8(path[i])
		}
		sa.len = uint32(unsafe.Offsetof(u.Path)) + uint32(len(path))
		if len(path) > 0 && path[0] != 0 {
			sa.len++ // the terminating NUL; abstract names have none
		}
		return sa, 1
	}
	var ip, port int64
	if !(optional && v == lua.LNil) {
		ip = a.rangeInt(n, math.MinInt32, math.MaxUint32)
	}
	if optional {
		port = a.optInt(n+1, 0)
	} else {
		port = a.int(n + 1)
	}
	if port < 0 || port > math.MaxUint16 {
		a.argError(n+1, "number out of range")
	}
	in := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa.raw))
	in.Family = unix.AF_INET
	p := (*[2]byte)(unsafe.Pointer(&in.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	u := uint32(ip)
	in.Addr = [4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}
	sa.len = uint32(unsafe.Sizeof(*in))
	return sa, 2
}

// pushAddr pushes an address the kernel returned: ip, port for AF_INET or
// one path string for AF_UNIX (unnamed: "", abstract: a leading NUL byte).
// An empty address (e.g. recvfrom on TCP) is reported in the socket's
// own family. Other families raise "bad family" (lua-unix.md §1.2).
func (a args) pushAddr(fd int, sa *sockaddr) int {
	family := int(sa.raw.Addr.Family)
	if sa.len == 0 {
		family, _ = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN)
	}
	switch family {
	case unix.AF_INET:
		if sa.len == 0 {
			a.L.Push(lua.LNumber(0))
			a.L.Push(lua.LNumber(0))
			return 2
		}
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa.raw))
		p := (*[2]byte)(unsafe.Pointer(&in.Port))
		ip := uint32(in.Addr[0])<<24 | uint32(in.Addr[1])<<16 | uint32(in.Addr[2])<<8 | uint32(in.Addr[3])
		a.L.Push(lua.LNumber(ip))
		a.L.Push(lua.LNumber(int(p[0])<<8 | int(p[1])))
		return 2
	case unix.AF_UNIX:
		u := (*unix.RawSockaddrUnix)(unsafe.Pointer(&sa.raw))
		n := int(sa.len) - int(unsafe.Offsetof(u.Path))
		n = max(0, min(n, len(u.Path)))
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(u.Path[i])
		}
		if n > 0 && b[0] != 0 {
			for i, c := range b {
				if c == 0 {
					b = b[:i]
					break
				}
			}
		}
		a.L.Push(lua.LString(b))
		return 1
	}
	a.L.RaiseError("bad family")
	return 0
}

// retry runs f until it fails with something other than EINTR: the Go
// runtime's own signals (SIGURG) interrupt calls a C program would not
// see interrupted (lua-unix.md §1.8).
func retry(f func() syscall.Errno) syscall.Errno {
	for {
		if e := f(); e != syscall.EINTR {
			return e
		}
	}
}

func errOrNil(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func (m *module) socketpair(a args) int {
	family := a.optInt32(1, unix.AF_UNIX)
	typ := a.flags32(2, unix.SOCK_STREAM)
	fds, err := unix.Socketpair(family, typ, a.optInt32(3, 0))
	if err != nil {
		return a.fail(err)
	}
	a.L.Push(lua.LNumber(fds[0]))
	a.L.Push(lua.LNumber(fds[1]))
	return 2
}

func (m *module) bind(a args) int {
	fd := a.int32(1)
	sa, _ := a.addrArgs(2, true)
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), sa.ptr(), uintptr(sa.len))
	return a.result(errOrNil(e))
}

func (m *module) connect(a args) int {
	fd := a.int32(1)
	sa, _ := a.addrArgs(2, false)
	_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), sa.ptr(), uintptr(sa.len))
	if e == syscall.EINTR {
		// The connection goes on in the background: wait for it and
		// collect its result, as a restarted connect would.
		e = retry(func() syscall.Errno {
			_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}, -1)
			return errnoOf(err)
		})
		if e == 0 {
			soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err != nil {
				return a.fail(err)
			}
			e = syscall.Errno(soerr)
		}
	}
	return a.result(errOrNil(e))
}

// errnoOf returns the errno inside err, EIO for a foreign error, 0 for nil.
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

func (m *module) accept(a args) int {
	fd := a.int32(1)
	flags := a.flags32(2, 0)
	sa := &sockaddr{len: uint32(unsafe.Sizeof(unix.RawSockaddrAny{}))}
	var nfd uintptr
	e := retry(func() syscall.Errno {
		var e syscall.Errno
		sa.len = uint32(unsafe.Sizeof(sa.raw))
		nfd, _, e = unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), sa.ptr(), uintptr(unsafe.Pointer(&sa.len)), uintptr(flags), 0, 0)
		return e
	})
	if e != 0 {
		return a.fail(e)
	}
	a.L.Push(lua.LNumber(int(nfd)))
	return 1 + a.pushAddr(int(nfd), sa)
}

func (m *module) sockname(a args, sysno uintptr) int {
	fd := a.int32(1)
	sa := &sockaddr{len: uint32(unsafe.Sizeof(unix.RawSockaddrAny{}))}
	_, _, e := unix.RawSyscall(sysno, uintptr(fd), sa.ptr(), uintptr(unsafe.Pointer(&sa.len)))
	if e != 0 {
		return a.fail(e)
	}
	return a.pushAddr(fd, sa)
}

// bufPtr returns a pointer to b's data that is valid even for len 0.
func bufPtr(b []byte) uintptr {
	if len(b) == 0 {
		return uintptr(unsafe.Pointer(&zeroByte))
	}
	return uintptr(unsafe.Pointer(&b[0]))
}

var zeroByte byte

// recvCommon reads with recvfrom; with from, it also returns the sender.
func (m *module) recvCommon(a args, from bool) int {
	fd := a.int32(1)
	bufsiz := a.optInt(2, 1500)
	flags := a.flags32(3, 0)
	if bufsiz < 0 {
		return a.fail(syscall.EINVAL)
	}
	buf := make([]byte, min(bufsiz, maxRead))
	sa := &sockaddr{}
	var n uintptr
	e := retry(func() syscall.Errno {
		var e syscall.Errno
		if from {
			sa.len = uint32(unsafe.Sizeof(sa.raw))
			n, _, e = unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), bufPtr(buf), uintptr(len(buf)), uintptr(flags), sa.ptr(), uintptr(unsafe.Pointer(&sa.len)))
		} else {
			n, _, e = unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), bufPtr(buf), uintptr(len(buf)), uintptr(flags), 0, 0)
		}
		return e
	})
	if e != 0 {
		return a.fail(e)
	}
	a.pushStr(string(buf[:n]))
	if !from {
		return 1
	}
	return 1 + a.pushAddr(fd, sa)
}

func (m *module) recv(a args) int     { return m.recvCommon(a, false) }
func (m *module) recvfrom(a args) int { return m.recvCommon(a, true) }

func (m *module) sendCommon(a args, fd int, data []byte, flags int, sa *sockaddr) int {
	var n uintptr
	e := retry(func() syscall.Errno {
		var e syscall.Errno
		if sa == nil {
			n, _, e = unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), bufPtr(data), uintptr(len(data)), uintptr(flags), 0, 0)
		} else {
			n, _, e = unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), bufPtr(data), uintptr(len(data)), uintptr(flags), sa.ptr(), uintptr(sa.len))
		}
		return e
	})
	if e != 0 {
		return a.fail(e)
	}
	return a.pushInt(int64(n))
}

func (m *module) send(a args) int {
	fd := a.int32(1)
	data := []byte(a.str(2))
	return m.sendCommon(a, fd, data, a.flags32(3, 0), nil)
}

func (m *module) sendto(a args) int {
	fd := a.int32(1)
	data := []byte(a.str(2))
	sa, used := a.addrArgs(3, false)
	return m.sendCommon(a, fd, data, a.flags32(3+used, 0), sa)
}

// Socket options (lua-unix.md §2.5): how each (level, optname) pair's
// value is passed.
type sockoptKind int

const (
	optBool sockoptKind = iota + 1
	optInt
	optTime
	optLinger
	optBytes // get only
)

type sockoptKey struct{ level, name int }

var sockopts = map[sockoptKey]sockoptKind{
	{unix.SOL_SOCKET, unix.SO_TYPE}:           optBool,
	{unix.SOL_SOCKET, unix.SO_DEBUG}:          optBool,
	{unix.SOL_SOCKET, unix.SO_ERROR}:          optBool,
	{unix.SOL_SOCKET, unix.SO_ACCEPTCONN}:     optBool,
	{unix.SOL_SOCKET, unix.SO_BROADCAST}:      optBool,
	{unix.SOL_SOCKET, unix.SO_REUSEADDR}:      optBool,
	{unix.SOL_SOCKET, unix.SO_REUSEPORT}:      optBool,
	{unix.SOL_SOCKET, unix.SO_KEEPALIVE}:      optBool,
	{unix.SOL_SOCKET, unix.SO_DONTROUTE}:      optBool,
	{unix.SOL_TCP, unix.TCP_NODELAY}:          optBool,
	{unix.SOL_TCP, unix.TCP_CORK}:             optBool,
	{unix.SOL_TCP, unix.TCP_QUICKACK}:         optBool,
	{unix.SOL_TCP, unix.TCP_SAVE_SYN}:         optBool,
	{unix.SOL_TCP, unix.TCP_FASTOPEN_CONNECT}: optBool,
	{unix.SOL_TCP, unix.TCP_DEFER_ACCEPT}:     optBool,
	{unix.SOL_IP, unix.IP_HDRINCL}:            optBool,

	{unix.SOL_SOCKET, unix.SO_SNDBUF}:      optInt,
	{unix.SOL_SOCKET, unix.SO_RCVBUF}:      optInt,
	{unix.SOL_SOCKET, unix.SO_RCVLOWAT}:    optInt,
	{unix.SOL_SOCKET, unix.SO_SNDLOWAT}:    optInt,
	{unix.SOL_TCP, unix.TCP_FASTOPEN}:      optInt,
	{unix.SOL_TCP, unix.TCP_KEEPCNT}:       optInt,
	{unix.SOL_TCP, unix.TCP_MAXSEG}:        optInt,
	{unix.SOL_TCP, unix.TCP_SYNCNT}:        optInt,
	{unix.SOL_TCP, unix.TCP_NOTSENT_LOWAT}: optInt,
	{unix.SOL_TCP, unix.TCP_WINDOW_CLAMP}:  optInt,
	{unix.SOL_TCP, unix.TCP_KEEPIDLE}:      optInt,
	{unix.SOL_TCP, unix.TCP_KEEPINTVL}:     optInt,
	{unix.SOL_IP, unix.IP_TOS}:             optInt,
	{unix.SOL_IP, unix.IP_MTU}:             optInt,
	{unix.SOL_IP, unix.IP_TTL}:             optInt,

	{unix.SOL_SOCKET, unix.SO_RCVTIMEO}: optTime,
	{unix.SOL_SOCKET, unix.SO_SNDTIMEO}: optTime,
	{unix.SOL_SOCKET, unix.SO_LINGER}:   optLinger,
	{unix.SOL_TCP, unix.TCP_SAVED_SYN}:  optBytes,
}

// lookupSockopt finds the kind of an option; unknown pairs, optname 0 and
// level -1 are ENOPROTOOPT before any system call.
func lookupSockopt(level, name int) (sockoptKind, bool) {
	if name == 0 || level == -1 {
		return 0, false
	}
	k, ok := sockopts[sockoptKey{level, name}]
	return k, ok
}

func (m *module) getsockopt(a args) int {
	fd, level, name := a.int32(1), a.int32(2), a.int32(3)
	kind, ok := lookupSockopt(level, name)
	if !ok {
		return a.fail(syscall.ENOPROTOOPT)
	}
	switch kind {
	case optBool, optInt:
		v, err := unix.GetsockoptInt(fd, level, name)
		return a.intResult(v, err)
	case optTime:
		tv, err := unix.GetsockoptTimeval(fd, level, name)
		if err != nil {
			return a.fail(err)
		}
		a.L.Push(lua.LNumber(tv.Sec))
		a.L.Push(lua.LNumber(int64(tv.Usec) * 1000))
		return 2
	case optLinger:
		l, err := unix.GetsockoptLinger(fd, level, name)
		if err != nil {
			return a.fail(err)
		}
		a.L.Push(lua.LNumber(l.Linger))
		a.L.Push(lua.LBool(l.Onoff != 0))
		return 2
	}
	// optBytes: binary data, up to 1500 bytes.
	buf := make([]byte, 1500)
	l := uint32(len(buf))
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return a.fail(e)
	}
	return a.pushStr(string(buf[:min(int(l), len(buf))]))
}

func (m *module) setsockopt(a args) int {
	fd, level, name := a.int32(1), a.int32(2), a.int32(3)
	kind, ok := lookupSockopt(level, name)
	if !ok || kind == optBytes {
		return a.fail(syscall.ENOPROTOOPT)
	}
	var err error
	switch kind {
	case optBool:
		v := 0
		if lua.LVAsBool(a.L.Get(4)) {
			v = 1
		}
		err = unix.SetsockoptInt(fd, level, name, v)
	case optInt:
		err = unix.SetsockoptInt(fd, level, name, a.int32(4))
	case optTime:
		secs := a.int(4)
		nanos := a.optInt(5, 0)
		// No normalisation: nanos outside [0, 1e9) reach the kernel,
		// which refuses them (EDOM) as it does for redbean.
		tv := unix.Timeval{Sec: secs, Usec: nanos / 1000}
		err = unix.SetsockoptTimeval(fd, level, name, &tv)
	case optLinger:
		l := unix.Linger{Linger: int32(a.int32(4))}
		if lua.LVAsBool(a.L.Get(5)) {
			l.Onoff = 1
		}
		err = unix.SetsockoptLinger(fd, level, name, &l)
	}
	return a.result(err)
}

func (m *module) poll(a args) int {
	t, ok := a.L.Get(1).(*lua.LTable)
	if !ok {
		a.typeError(1, "table")
	}
	timeout := int64(-1)
	if !a.isNone(2) {
		timeout = a.int(2)
	}
	if !a.isNone(3) {
		a.argError(3, "unix.Sigset expected (signal masks are not supported)")
	}
	var fds []unix.PollFd
	t.ForEach(func(k, v lua.LValue) {
		kn, ok := k.(lua.LNumber)
		if !ok || float64(kn) != math.Trunc(float64(kn)) || kn < math.MinInt32 || kn > math.MaxInt32 {
			return
		}
		var ev int64
		if vt, ok := v.(*lua.LTable); ok {
			ev = a.flagTable(1, vt)
		} else if i, _, ok := lvInt(v); ok {
			ev = i
		} else {
			a.argError(1, "events must be integers")
		}
		fds = append(fds, unix.PollFd{Fd: int32(kn), Events: int16(ev)})
	})
	sort.Slice(fds, func(i, j int) bool { return fds[i].Fd < fds[j].Fd })
	deadline := time.Now().Add(time.Duration(timeout) * time.Millisecond)
	for {
		ms := -1
		if timeout >= 0 {
			ms = int(max(0, time.Until(deadline).Milliseconds()))
			if timeout > 0 && ms == 0 && time.Until(deadline) > 0 {
				ms = 1
			}
		}
		_, err := unix.Poll(fds, ms)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return a.fail(err)
		}
		break
	}
	res := a.L.NewTable()
	for _, p := range fds {
		if p.Revents != 0 && p.Fd >= 0 {
			res.RawSetInt(int(p.Fd), lua.LNumber(uint16(p.Revents)))
		}
	}
	a.L.Push(res)
	return 1
}

func (m *module) gethostname(a args) int {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return a.fail(err)
	}
	b := u.Nodename[:]
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	return a.pushStr(string(b))
}
