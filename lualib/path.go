package lualib

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

var pathFuncs = map[string]binding{
	"stat":     (*module).stat,
	"lstat":    (*module).lstat,
	"access":   (*module).access,
	"mkdir":    (*module).mkdir,
	"makedirs": (*module).makedirs,
	"rmdir": func(_ *module, a args) int {
		return a.result(unix.Unlinkat(a.optInt32(2, unix.AT_FDCWD), a.str(1), unix.AT_REMOVEDIR))
	},
	"unlink": func(_ *module, a args) int {
		return a.result(unix.Unlinkat(a.optInt32(2, unix.AT_FDCWD), a.str(1), 0))
	},
	"rmrf": (*module).rmrf,
	"rename": func(_ *module, a args) int {
		old, new := a.str(1), a.str(2)
		return a.result(unix.Renameat(a.optInt32(3, unix.AT_FDCWD), old, a.optInt32(4, unix.AT_FDCWD), new))
	},
	"link": func(_ *module, a args) int {
		old, new := a.str(1), a.str(2)
		flags := a.flags32(3, 0)
		return a.result(unix.Linkat(a.optInt32(4, unix.AT_FDCWD), old, a.optInt32(5, unix.AT_FDCWD), new, flags))
	},
	"symlink": func(_ *module, a args) int {
		target, link := a.str(1), a.str(2)
		return a.result(unix.Symlinkat(target, a.optInt32(3, unix.AT_FDCWD), link))
	},
	"readlink": (*module).readlink,
	"realpath": (*module).realpath,
	"chdir":    func(_ *module, a args) int { return a.result(unix.Chdir(a.str(1))) },
	"getcwd": func(_ *module, a args) int {
		wd, err := unix.Getwd()
		if err != nil {
			return a.fail(err)
		}
		return a.pushStr(wd)
	},
	"chmod": func(_ *module, a args) int {
		path := a.str(1)
		if a.isNone(2) {
			a.typeError(2, "number")
		}
		mode := a.mode(2, 0)
		return a.result(unix.Fchmodat(a.optInt32(4, unix.AT_FDCWD), path, mode, a.flags32(3, 0)))
	},
	"chown": func(_ *module, a args) int {
		path := a.str(1)
		uid, gid := a.uint32(2), a.uint32(3)
		return a.result(unix.Fchownat(a.optInt32(5, unix.AT_FDCWD), path, int(int32(uid)), int(int32(gid)), a.flags32(4, 0)))
	},
	"truncate": func(_ *module, a args) int {
		return a.result(unix.Truncate(a.str(1), a.optInt(2, 0)))
	},
	"opendir":   (*module).opendir,
	"utimensat": (*module).utimensat,
	"futimens":  (*module).futimens,
}

func (m *module) stat(a args) int {
	path := a.str(1)
	flags := a.flags32(2, 0)
	dirfd := a.optInt32(3, unix.AT_FDCWD)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, path, &st, flags); err != nil {
		return a.fail(err)
	}
	a.L.Push(newStat(a.L, &st))
	return 1
}

func (m *module) lstat(a args) int {
	path := a.str(1)
	dirfd := a.optInt32(2, unix.AT_FDCWD)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, path, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return a.fail(err)
	}
	a.L.Push(newStat(a.L, &st))
	return 1
}

func (m *module) access(a args) int {
	path := a.str(1)
	how := a.flags(2, 0)
	if a.isNone(2) {
		a.typeError(2, "number")
	}
	flags := a.flags32(3, 0)
	dirfd := a.optInt32(4, unix.AT_FDCWD)
	return a.result(unix.Faccessat(dirfd, path, uint32(how), flags))
}

func (m *module) mkdir(a args) int {
	path := a.str(1)
	mode := a.mode(2, 0o755)
	dirfd := a.optInt32(3, unix.AT_FDCWD)
	return a.result(unix.Mkdirat(dirfd, path, mode))
}

func (m *module) makedirs(a args) int {
	return a.result(makedirs(a.str(1), a.mode(2, 0o755)))
}

// makedirs is mkdir -p with the errors of lua-unix.md §2.4.
func makedirs(path string, mode uint32) error {
	if path == "" {
		return syscall.ENOENT
	}
	if len(path) >= unix.PathMax {
		return syscall.ENAMETOOLONG
	}
	err := unix.Mkdir(path, mode)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EEXIST):
		var st unix.Stat_t
		if serr := unix.Stat(path, &st); serr != nil {
			return serr
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return syscall.EEXIST
		}
		return nil
	case errors.Is(err, syscall.ENOENT):
		parent := strings.TrimRight(path, "/")
		if i := strings.LastIndexByte(parent, '/'); i > 0 {
			parent = strings.TrimRight(parent[:i], "/")
		} else {
			return err // "" or relative name whose parent is "." or "/"
		}
		if parent == "" {
			return err
		}
		if perr := makedirs(parent, mode); perr != nil {
			return perr
		}
		err = unix.Mkdir(path, mode)
		if errors.Is(err, syscall.EEXIST) {
			return makedirs(path, mode)
		}
		return err
	}
	return err
}

// rmrf deletes path recursively without following symlinks.
func (m *module) rmrf(a args) int {
	path := a.str(1)
	if filepath.Clean(path) == "/" {
		return a.fail(syscall.ENOTSUP)
	}
	return a.result(rmrf(unix.AT_FDCWD, path, true))
}

// rmrf removes name (relative to dirfd). Entries that vanish meanwhile are
// ignored except for the top one.
func rmrf(dirfd int, name string, top bool) error {
	ignore := func(err error) error {
		if !top && errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return err
	}
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil {
		return nil
	}
	if !errors.Is(err, syscall.EISDIR) && !errors.Is(err, syscall.EPERM) {
		return ignore(err)
	}
	var st unix.Stat_t
	if serr := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); serr != nil {
		return ignore(serr)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return err
	}
	if err := rmrfContents(dirfd, name); err != nil {
		return err
	}
	return ignore(unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR))
}

func rmrfContents(dirfd int, name string) error {
	const oflags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(dirfd, name, oflags, 0)
	if errors.Is(err, syscall.EACCES) {
		// An unreadable directory: give ourselves access and retry.
		if unix.Fchmodat(dirfd, name, 0o700, 0) == nil {
			fd, err = unix.Openat(dirfd, name, oflags, 0)
		}
	}
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return err
	}
	defer unix.Close(fd)
	d := &dirObj{fd: fd, buf: make([]byte, 8192)}
	for {
		ent, _, _, _, ok, err := d.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if ent == "." || ent == ".." {
			continue
		}
		if err := rmrf(fd, ent, false); err != nil {
			return err
		}
	}
}

func (m *module) readlink(a args) int {
	path := a.str(1)
	dirfd := a.optInt32(2, unix.AT_FDCWD)
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dirfd, path, buf)
	if err != nil {
		return a.fail(err)
	}
	if n >= len(buf) {
		return a.fail(syscall.ENAMETOOLONG)
	}
	return a.pushStr(string(buf[:n]))
}

// realpath resolves path with the kernel: open it with O_PATH and read
// back the name of the descriptor. Without /proc it falls back to a
// resolution in Go.
func (m *module) realpath(a args) int {
	path := a.str(1)
	if path == "" {
		return a.fail(syscall.ENOENT)
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return a.fail(err)
	}
	defer unix.Close(fd)
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf)
	if err == nil && n < len(buf) && n > 0 && buf[0] == '/' && !strings.HasSuffix(string(buf[:n]), " (deleted)") {
		return a.pushStr(string(buf[:n]))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return a.fail(err)
	}
	res, err := filepath.EvalSymlinks(abs)
	if err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			err = syscall.ELOOP // EvalSymlinks: "too many links"
		}
		return a.fail(err)
	}
	return a.pushStr(res)
}

// timesArgs reads asecs, ananos, msecs, mnanos starting at argument n:
// a missing nanos value means UTIME_NOW, so no
// arguments at all set both times to now.
func (a args) timesArgs(n int) []unix.Timespec {
	ts := make([]unix.Timespec, 2)
	for i := range 2 {
		secs := a.optInt(n+2*i, 0)
		nanos := a.optInt(n+2*i+1, unix.UTIME_NOW)
		ts[i] = unix.Timespec{Sec: secs, Nsec: nanos}
	}
	return ts
}

func (m *module) utimensat(a args) int {
	path := a.str(1)
	ts := a.timesArgs(2)
	dirfd := a.optInt32(6, unix.AT_FDCWD)
	flags := a.flags32(7, 0)
	if err := unix.UtimesNanoAt(dirfd, path, ts, flags); err != nil {
		return a.fail(err)
	}
	return a.pushInt(0)
}

func (m *module) futimens(a args) int {
	fd := a.int32(1)
	ts := a.timesArgs(2)
	// utimensat(fd, NULL, times, 0) is futimens; x/sys has no wrapper
	// that passes a NULL path.
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return a.fail(e)
	}
	return a.pushInt(0)
}
