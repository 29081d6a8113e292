package lualib

import (
	"runtime"
	"syscall"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// dirObj is the Go value of a unix.Dir: a directory descriptor read with
// getdents64, so "." and ".." are reported (os.ReadDir drops them).
type dirObj struct {
	fd     int
	closed bool
	buf    []byte
	pos    int   // next unread byte of buf[:n]
	n      int   // valid bytes in buf
	off    int64 // d_off of the last entry returned (tell)
}

// newDir takes ownership of fd. A Go finalizer closes it if the script
// drops the object without closing it (gopher-lua never calls __gc).
func newDir(L *lua.LState, fd int) *lua.LUserData {
	d := &dirObj{fd: fd, buf: make([]byte, 8192)}
	runtime.SetFinalizer(d, func(d *dirObj) {
		if !d.closed {
			d.closed = true
			unix.Close(d.fd)
		}
	})
	return newObject(L, dirTypeName, d)
}

// checkDir returns an open Dir receiver; a closed one raises.
func checkDir(L *lua.LState, method string) *dirObj {
	d := checkSelf[*dirObj](L, dirTypeName, method)
	if d.closed {
		L.RaiseError("unix.Dir is closed")
	}
	return d
}

// dirent64 field offsets, taken from x/sys's layout of struct dirent64.
var (
	direntIno    = int(unsafe.Offsetof(unix.Dirent{}.Ino))
	direntOff    = int(unsafe.Offsetof(unix.Dirent{}.Off))
	direntReclen = int(unsafe.Offsetof(unix.Dirent{}.Reclen))
	direntType   = int(unsafe.Offsetof(unix.Dirent{}.Type))
	direntName   = int(unsafe.Offsetof(unix.Dirent{}.Name))
)

// next returns the next entry; ok=false at the end.
func (d *dirObj) next() (name string, kind uint8, ino uint64, off int64, ok bool, err error) {
	for {
		if d.pos >= d.n {
			n, err := unix.Getdents(d.fd, d.buf)
			if err != nil {
				return "", 0, 0, 0, false, err
			}
			if n <= 0 {
				return "", 0, 0, 0, false, nil
			}
			d.pos, d.n = 0, n
		}
		rec := d.buf[d.pos:d.n]
		if len(rec) < direntName {
			d.pos = d.n
			continue
		}
		reclen := int(*(*uint16)(unsafe.Pointer(&rec[direntReclen])))
		if reclen == 0 || reclen > len(rec) {
			d.pos = d.n
			continue
		}
		d.pos += reclen
		ino = *(*uint64)(unsafe.Pointer(&rec[direntIno]))
		off = *(*int64)(unsafe.Pointer(&rec[direntOff]))
		kind = rec[direntType]
		nameb := rec[direntName:reclen]
		for i, c := range nameb {
			if c == 0 {
				nameb = nameb[:i]
				break
			}
		}
		d.off = off
		return string(nameb), kind, ino, off, true, nil
	}
}

func dirRead(L *lua.LState) int {
	d := checkDir(L, "read")
	name, kind, ino, off, ok, err := d.next()
	if err != nil {
		return args{L, "readdir"}.fail(err)
	}
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LString(name))
	L.Push(lua.LNumber(kind))
	L.Push(lua.LNumber(ino))
	L.Push(lua.LNumber(off))
	return 4
}

func registerDir(L *lua.LState) {
	methods := map[string]lua.LGFunction{
		"read": dirRead,
		"close": func(L *lua.LState) int {
			d := checkSelf[*dirObj](L, dirTypeName, "close")
			if d.closed {
				L.Push(lua.LTrue)
				return 1
			}
			d.closed = true
			runtime.SetFinalizer(d, nil)
			if err := unix.Close(d.fd); err != nil {
				return args{L, "closedir"}.fail(err)
			}
			L.Push(lua.LTrue)
			return 1
		},
		"fd": func(L *lua.LState) int {
			L.Push(lua.LNumber(checkDir(L, "fd").fd))
			return 1
		},
		"tell": func(L *lua.LState) int {
			L.Push(lua.LNumber(checkDir(L, "tell").off))
			return 1
		},
		"rewind": func(L *lua.LState) int {
			d := checkDir(L, "rewind")
			if _, err := unix.Seek(d.fd, 0, unix.SEEK_SET); err == nil {
				d.pos, d.n, d.off = 0, 0, 0
			}
			return 0
		},
	}
	mt := registerMethods(L, dirTypeName, methods, func(L *lua.LState) int {
		d := checkSelf[*dirObj](L, dirTypeName, "__tostring")
		if d.closed {
			L.Push(lua.LString("unix.Dir(closed)"))
		} else {
			L.Push(lua.LString("unix.Dir(" + itoa(d.fd) + ")"))
		}
		return 1
	})
	// dir(...) reads the next entry, so `for name, kind in dir do` works.
	mt.RawSetString("__call", L.NewFunction(func(L *lua.LState) int {
		defer recoverBinding(L, "read")
		return dirRead(L)
	}))
}

func itoa(i int) string {
	return lua.LNumber(i).String()
}

// opendir and fdopendir ------------------------------------------------------

func (m *module) opendir(a args) int {
	fd, err := unix.Open(a.str(1), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return a.fail(err)
	}
	a.L.Push(newDir(a.L, fd))
	return 1
}

func (m *module) fdopendir(a args) int {
	fd := a.int32(1)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return a.fail(err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return a.fail(syscall.ENOTDIR)
	}
	a.L.Push(newDir(a.L, fd))
	return 1
}
