package lualib

import (
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// args reads the arguments of one call of a unix.* binding and raises the
// standard Lua errors (`bad argument #N to 'NAME' (...)`) for mistakes in
// the calling code. fn is the Lua-visible name used in those messages and
// as the Errno's call() name.
type args struct {
	L  *lua.LState
	fn string
}

// argError raises `bad argument #n to 'fn' (msg)` at the caller's line.
func (a args) argError(n int, msg string) {
	a.L.RaiseError("bad argument #%d to '%s' (%s)", n, a.fn, msg)
}

// typeError raises `bad argument #n to 'fn' (want expected, got TYPE)`.
func (a args) typeError(n int, want string) {
	got := "no value"
	if n <= a.L.GetTop() {
		got = a.L.Get(n).Type().String()
	}
	a.argError(n, want+" expected, got "+got)
}

// isNone reports whether argument n is absent or nil: the two mean the same
// for every optional parameter (lua-unix.md §1.4).
func (a args) isNone(n int) bool {
	return a.L.Get(n) == lua.LNil
}

// lvInt converts a Lua number (or a string that converts to one) to an
// int64. It returns ok=false with a reason for non-numbers ("") and for
// numbers without an integer representation.
func lvInt(v lua.LValue) (i int64, reason string, ok bool) {
	var f float64
	switch x := v.(type) {
	case lua.LNumber:
		f = float64(x)
	case lua.LString:
		s := strings.TrimSpace(string(x))
		neg := false
		t := s
		if strings.HasPrefix(t, "-") {
			neg, t = true, t[1:]
		}
		if strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X") {
			u, err := strconv.ParseUint(t[2:], 16, 64)
			if err != nil {
				return 0, "", false
			}
			f = float64(u)
			if neg {
				f = -f
			}
		} else {
			g, err := strconv.ParseFloat(s, 64)
			if err != nil || strings.ContainsAny(s, "xXpP") || strings.EqualFold(strings.TrimLeft(s, "+-"), "inf") || strings.EqualFold(strings.TrimLeft(s, "+-"), "infinity") || strings.EqualFold(strings.TrimLeft(s, "+-"), "nan") {
				return 0, "", false
			}
			f = g
		}
	default:
		return 0, "", false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, "number has no integer representation", false
	}
	return int64(f), "", true
}

// int returns argument n as an integer; it must be present.
func (a args) int(n int) int64 {
	i, reason, ok := lvInt(a.L.Get(n))
	if !ok {
		if reason != "" {
			a.argError(n, reason)
		}
		a.typeError(n, "number")
	}
	return i
}

// optInt returns argument n as an integer, or def when it is absent or nil.
func (a args) optInt(n int, def int64) int64 {
	if a.isNone(n) {
		return def
	}
	return a.int(n)
}

// rangeInt returns argument n, which must lie in [lo, hi].
func (a args) rangeInt(n int, lo, hi int64) int64 {
	i := a.int(n)
	if i < lo || i > hi {
		a.argError(n, "number out of range")
	}
	return i
}

// int32 returns argument n as a C int (file descriptors, flags, pids).
func (a args) int32(n int) int {
	return int(a.rangeInt(n, math.MinInt32, math.MaxInt32))
}

// optInt32 is int32 with a default for an absent or nil argument.
func (a args) optInt32(n int, def int) int {
	if a.isNone(n) {
		return def
	}
	return a.int32(n)
}

// uint32 returns argument n as an unsigned 32-bit value; -1 is accepted
// and means 0xffffffff (as for chown's "leave unchanged").
func (a args) uint32(n int) uint32 {
	return uint32(a.rangeInt(n, -1, math.MaxUint32))
}

// str returns argument n as a string; numbers are converted the Lua way.
func (a args) str(n int) string {
	v := a.L.Get(n)
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return x.String()
	}
	a.typeError(n, "string")
	return ""
}

// optStr returns argument n as a string and whether it was given.
func (a args) optStr(n int) (string, bool) {
	if a.isNone(n) {
		return "", false
	}
	return a.str(n), true
}

// flags returns argument n as a flag set: an integer, or a sequence of
// integers that are OR-ed (lua-unix.md §1.5); def when absent or nil.
func (a args) flags(n int, def int64) int64 {
	v := a.L.Get(n)
	switch x := v.(type) {
	case *lua.LNilType:
		return def
	case *lua.LTable:
		return a.flagTable(n, x)
	}
	return a.int(n)
}

// flags32 is flags for a C int parameter.
func (a args) flags32(n int, def int) int {
	f := a.flags(n, int64(def))
	if f < math.MinInt32 || f > math.MaxUint32 {
		a.argError(n, "number out of range")
	}
	return int(int32(uint32(f)))
}

func (a args) flagTable(n int, t *lua.LTable) int64 {
	var f int64
	for i := 1; i <= t.Len(); i++ {
		v, reason, ok := lvInt(t.RawGetInt(i))
		if !ok {
			if reason == "" {
				reason = "table of integers expected, got " + t.RawGetInt(i).Type().String() + " at index " + strconv.Itoa(i)
			}
			a.argError(n, reason)
		}
		f |= v
	}
	return f
}

// mode returns argument n as a file mode: an integer, a string of octal
// digits ("0755", "755") or a sequence of integers; def when absent or nil.
func (a args) mode(n int, def uint32) uint32 {
	v := a.L.Get(n)
	var m int64
	switch x := v.(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		s := string(x)
		if s == "" {
			a.argError(n, "invalid octal mode")
		}
		u, err := strconv.ParseUint(s, 8, 32)
		if err != nil || strings.ContainsAny(s, "+-_ ") {
			a.argError(n, "invalid octal mode")
		}
		return uint32(u)
	case *lua.LTable:
		m = a.flagTable(n, x)
	default:
		m = a.int(n)
	}
	if m < 0 || m > math.MaxUint32 {
		a.argError(n, "number out of range")
	}
	return uint32(m)
}

// push helpers -------------------------------------------------------------

func (a args) pushInt(i int64) int {
	a.L.Push(lua.LNumber(i))
	return 1
}

func (a args) pushTrue() int {
	a.L.Push(lua.LTrue)
	return 1
}

func (a args) pushStr(s string) int {
	a.L.Push(lua.LString(s))
	return 1
}

// fail pushes the failure shape `nil, Errno` for err, naming this call.
func (a args) fail(err error) int {
	return a.failAs(a.fn, err)
}

// failAs is fail with another call name (e.g. "closedir" for Dir:close).
func (a args) failAs(call string, err error) int {
	a.L.Push(lua.LNil)
	a.L.Push(newErrnoValue(a.L, errnoFromError(err, call)))
	return 2
}

// result pushes true on success, or nil, Errno.
func (a args) result(err error) int {
	if err != nil {
		return a.fail(err)
	}
	return a.pushTrue()
}

// intResult pushes i on success, or nil, Errno.
func (a args) intResult(i int, err error) int {
	if err != nil {
		return a.fail(err)
	}
	return a.pushInt(int64(i))
}
