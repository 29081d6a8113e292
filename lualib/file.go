package lualib

import (
	"os"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

var fileFuncs = map[string]binding{
	"open":         (*module).open,
	"close":        func(_ *module, a args) int { return a.result(unix.Close(a.int32(1))) },
	"read":         (*module).read,
	"write":        (*module).write,
	"lseek":        (*module).lseek,
	"dup":          (*module).dup,
	"pipe":         (*module).pipe,
	"fcntl":        (*module).fcntl,
	"ftruncate":    func(_ *module, a args) int { return a.result(unix.Ftruncate(a.int32(1), a.optInt(2, 0))) },
	"fsync":        func(_ *module, a args) int { return a.result(unix.Fsync(a.int32(1))) },
	"fdatasync":    func(_ *module, a args) int { return a.result(unix.Fdatasync(a.int32(1))) },
	"tmpfd":        (*module).tmpfd,
	"isatty":       (*module).isatty,
	"tiocgwinsz":   (*module).tiocgwinsz,
	"tcgetwinsize": (*module).tiocgwinsz,
	"fstat":        (*module).fstat,
	"fdopendir":    (*module).fdopendir,
	"sync": func(_ *module, a args) int {
		unix.Sync()
		return 0
	},
}

// maxRead is the largest size read and recv ask the kernel for.
const maxRead = 0x7ffff000

func (m *module) open(a args) int {
	path := a.str(1)
	flags := a.flags(2, unix.O_RDONLY)
	mode := a.mode(3, 0o644)
	dirfd := a.optInt32(4, unix.AT_FDCWD)
	unlink := flags&daggerO_UNLINK != 0
	flags &^= daggerO_UNLINK
	fd, err := unix.Openat(dirfd, path, int(int32(uint32(flags))), mode)
	if err != nil {
		return a.fail(err)
	}
	if unlink {
		// O_UNLINK: the name goes now, the file when the last fd closes.
		_ = unix.Unlinkat(dirfd, path, 0)
	}
	return a.pushInt(int64(fd))
}

func (m *module) read(a args) int {
	fd := a.int32(1)
	bufsiz := a.optInt(2, daggerBUFSIZ)
	offset := a.optInt(3, -1)
	if bufsiz < 0 {
		return a.fail(syscall.EINVAL)
	}
	bufsiz = min(bufsiz, maxRead)
	buf := make([]byte, bufsiz)
	var n int
	var err error
	if offset == -1 {
		n, err = unix.Read(fd, buf)
	} else {
		n, err = unix.Pread(fd, buf, offset)
	}
	if err != nil {
		return a.fail(err)
	}
	return a.pushStr(string(buf[:n]))
}

func (m *module) write(a args) int {
	fd := a.int32(1)
	data := []byte(a.str(2))
	offset := a.optInt(3, -1)
	var n int
	var err error
	if offset == -1 {
		n, err = unix.Write(fd, data)
	} else {
		n, err = unix.Pwrite(fd, data, offset)
	}
	return a.intResult(n, err)
}

func (m *module) lseek(a args) int {
	fd := a.int32(1)
	off := a.int(2)
	whence := a.optInt32(3, unix.SEEK_SET)
	pos, err := unix.Seek(fd, off, whence)
	if err != nil {
		return a.fail(err)
	}
	return a.pushInt(pos)
}

func (m *module) dup(a args) int {
	oldfd := a.int32(1)
	flags := a.flags32(3, 0)
	if a.isNone(2) {
		lowest := a.optInt32(4, 0)
		cmd := unix.F_DUPFD
		switch flags {
		case 0:
		case unix.O_CLOEXEC:
			cmd = unix.F_DUPFD_CLOEXEC
		default:
			return a.fail(syscall.EINVAL)
		}
		return a.intResult(unix.FcntlInt(uintptr(oldfd), cmd, lowest))
	}
	newfd := a.int32(2)
	if newfd == oldfd {
		return a.fail(syscall.EINVAL)
	}
	if err := unix.Dup3(oldfd, newfd, flags); err != nil {
		return a.fail(err)
	}
	return a.pushInt(int64(newfd))
}

func (m *module) pipe(a args) int {
	var p [2]int
	if err := unix.Pipe2(p[:], a.flags32(1, 0)); err != nil {
		return a.fail(err)
	}
	a.L.Push(lua.LNumber(p[0]))
	a.L.Push(lua.LNumber(p[1]))
	return 2
}

func (m *module) fcntl(a args) int {
	fd := a.int32(1)
	cmd := a.int32(2)
	switch cmd {
	case unix.F_GETFD, unix.F_GETFL:
		return a.intResult(unix.FcntlInt(uintptr(fd), cmd, 0))
	case unix.F_SETFD, unix.F_SETFL:
		_, err := unix.FcntlInt(uintptr(fd), cmd, a.flags32(3, 0))
		return a.result(err)
	case unix.F_SETLK, unix.F_SETLKW, unix.F_GETLK:
		lk := unix.Flock_t{
			Type:   int16(a.optInt32(3, unix.F_RDLCK)),
			Start:  a.optInt(4, 0),
			Len:    a.optInt(5, 0),
			Whence: int16(a.optInt32(6, unix.SEEK_SET)),
		}
		call := "fcntl(F_SETLK*)"
		if cmd == unix.F_GETLK {
			call = "fcntl(F_GETLK)"
		}
		var err error
		for {
			err = unix.FcntlFlock(uintptr(fd), cmd, &lk)
			if err != syscall.EINTR || cmd == unix.F_GETLK {
				break
			}
		}
		if err != nil {
			return a.failAs(call, err)
		}
		if cmd != unix.F_GETLK {
			return a.pushTrue()
		}
		if lk.Type == unix.F_UNLCK {
			return a.pushInt(unix.F_UNLCK)
		}
		for _, v := range []int64{int64(lk.Type), lk.Start, lk.Len, int64(lk.Whence), int64(lk.Pid)} {
			a.L.Push(lua.LNumber(v))
		}
		return 5
	}
	return a.fail(syscall.EINVAL)
}

func (m *module) tmpfd(a args) int {
	dir := os.Getenv("TMPDIR")
	if dir == "" {
		dir = "/tmp"
	}
	// Like Cosmopolitan's tmpfd(): not close-on-exec, as with open().
	fd, err := unix.Open(dir, unix.O_RDWR|unix.O_TMPFILE, 0o600)
	if err == nil {
		return a.pushInt(int64(fd))
	}
	// Filesystems without O_TMPFILE: create a unique name and unlink it.
	f, cerr := os.CreateTemp(dir, "vow-tmpfd-")
	if cerr != nil {
		return a.fail(err)
	}
	defer f.Close()
	os.Remove(f.Name())
	nfd, derr := unix.FcntlInt(f.Fd(), unix.F_DUPFD, 0)
	return a.intResult(nfd, derr)
}

func (m *module) isatty(a args) int {
	_, err := unix.IoctlGetTermios(a.int32(1), unix.TCGETS)
	switch err {
	case nil:
		return a.pushTrue()
	case syscall.EBADF, syscall.EPERM:
		return a.fail(err)
	}
	return a.fail(syscall.ENOTTY)
}

func (m *module) tiocgwinsz(a args) int {
	ws, err := unix.IoctlGetWinsize(a.int32(1), unix.TIOCGWINSZ)
	if err != nil {
		return a.fail(err)
	}
	a.L.Push(lua.LNumber(ws.Row))
	a.L.Push(lua.LNumber(ws.Col))
	return 2
}

func (m *module) fstat(a args) int {
	var st unix.Stat_t
	if err := unix.Fstat(a.int32(1), &st); err != nil {
		return a.fail(err)
	}
	a.L.Push(newStat(a.L, &st))
	return 1
}
