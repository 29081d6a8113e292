package lualib

import (
	"errors"
	"strconv"
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// errnoTypeName is the registry name of the unix.Errno metatable.
const errnoTypeName = "unix.Errno"

// Errno is the Go value behind a Lua unix.Errno object: an error number,
// the name of the failed call and the text that err:doc() returns.
// Scripts cannot construct one; Go code that returns errors to a binding
// (the sandbox hooks in [Options]) may return an *Errno to choose the
// doc() text, or any error that wraps a [syscall.Errno].
type Errno struct {
	// Errno is the Linux error number.
	Errno syscall.Errno
	// Call is the Lua-visible name of the failed operation, e.g. "open".
	// Bindings fill it in; a hook may leave it empty.
	Call string
	// Doc is the one-sentence explanation; empty means the usual Linux
	// wording for Errno (see [ErrnoDoc]).
	Doc string
}

// Error returns the same text as tostring(err) in Lua.
func (e *Errno) Error() string {
	doc := e.Doc
	if doc == "" {
		doc = ErrnoDoc(e.Errno)
	}
	if e.Call == "" {
		return ErrnoName(e.Errno)
	}
	return e.Call + "() failed: " + doc
}

// Unwrap returns the error number, so errors.Is(err, syscall.ENOENT) works.
func (e *Errno) Unwrap() error { return e.Errno }

// NewErrno returns an error carrying errno and an explanation of its own
// that err:doc() will return (for example "unknown promise 'stdoi' (did you
// mean 'stdio'?)"). Use it in sandbox hooks when the plain Linux wording
// would not tell the user what was wrong.
func NewErrno(errno syscall.Errno, doc string) error {
	return &Errno{Errno: errno, Doc: doc}
}

// errnoNames maps error numbers to the names of lua-unix.md §3.1; for
// aliased numbers the first name in errnoConsts (redbean's spelling) wins.
var errnoNames = func() map[syscall.Errno]string {
	m := make(map[syscall.Errno]string)
	for _, c := range errnoConsts {
		e := syscall.Errno(c.value)
		if _, dup := m[e]; !dup && c.name != "EFTYPE" {
			m[e] = c.name
		}
	}
	return m
}()

// ErrnoName returns the symbolic name that err:name() gives for errno:
// redbean's spelling for the numbers of lua-unix.md §3.1 (11 is "EAGAIN",
// 95 is "ENOTSUP"), else the Linux name, else the decimal number. It never
// returns "".
func ErrnoName(errno syscall.Errno) string {
	if n, ok := errnoNames[errno]; ok {
		return n
	}
	if n := unix.ErrnoName(errno); n != "" {
		return n
	}
	return strconv.Itoa(int(errno))
}

// ErrnoDoc returns the usual Linux (glibc) description of errno with a
// capital first letter, e.g. "No such file or directory".
func ErrnoDoc(errno syscall.Errno) string {
	s := errno.Error()
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		s = string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// errnoFromError turns an error from a system call or a hook into the
// Errno a binding returns. An error that wraps no errno is reported as
// EINVAL with the error's text as its doc (hooks validate input).
func errnoFromError(err error, call string) *Errno {
	var e *Errno
	if errors.As(err, &e) {
		c := *e
		if c.Call == "" {
			c.Call = call
		}
		return &c
	}
	var n syscall.Errno
	if errors.As(err, &n) {
		doc := ""
		if err != error(n) {
			doc = err.Error()
		}
		return &Errno{Errno: n, Call: call, Doc: doc}
	}
	if err == nil {
		err = errors.New("bug: failure without an error")
	}
	return &Errno{Errno: syscall.EINVAL, Call: call, Doc: err.Error()}
}

// newErrnoValue wraps e in a Lua unix.Errno userdata.
func newErrnoValue(L *lua.LState, e *Errno) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = e
	ud.Metatable = L.GetTypeMetatable(errnoTypeName)
	return ud
}

// checkErrno returns the Errno behind the method receiver, raising the
// standard error for anything else.
func checkErrno(L *lua.LState, method string) *Errno {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if e, ok := ud.Value.(*Errno); ok {
			return e
		}
	}
	args{L, method}.typeError(1, errnoTypeName)
	return nil
}

// registerErrno creates the unix.Errno metatable in L.
func registerErrno(L *lua.LState) {
	mt := L.NewTypeMetatable(errnoTypeName)
	methods := L.NewTable()
	set := func(name string, f func(*Errno) lua.LValue) {
		methods.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			L.Push(f(checkErrno(L, name)))
			return 1
		}))
	}
	set("errno", func(e *Errno) lua.LValue { return lua.LNumber(e.Errno) })
	set("name", func(e *Errno) lua.LValue { return lua.LString(ErrnoName(e.Errno)) })
	set("doc", func(e *Errno) lua.LValue {
		if e.Doc != "" {
			return lua.LString(e.Doc)
		}
		return lua.LString(ErrnoDoc(e.Errno))
	})
	set("call", func(e *Errno) lua.LValue { return lua.LString(e.Call) })
	set("winerr", func(e *Errno) lua.LValue { return lua.LNumber(0) })
	mt.RawSetString("__index", methods)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkErrno(L, "__tostring").Error()))
		return 1
	}))
	mt.RawSetString("__name", lua.LString(errnoTypeName))
}
