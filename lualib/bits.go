package lualib

import (
	"math"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// The bit helpers [vow] stand in for Lua 5.3's operators, which Lua 5.1
// lacks (lua-unix.md §1.5). They work on 64-bit two's complement integers
// (so AT_FDCWD = -100 works); arguments from 2^63 to 2^64-1 are taken as
// their unsigned bit pattern. Results above 2^53 lose precision as Lua
// numbers do.
var bitFuncs = map[string]binding{
	"bor":  foldBits(func(x, y uint64) uint64 { return x | y }, 0),
	"band": foldBits(func(x, y uint64) uint64 { return x & y }, math.MaxUint64),
	"bxor": foldBits(func(x, y uint64) uint64 { return x ^ y }, 0),
	"bnot": func(_ *module, a args) int { return pushBits(a, ^a.bits(1)) },
	"btest": func(_ *module, a args) int {
		v := uint64(math.MaxUint64)
		for i := 1; i <= max(1, a.L.GetTop()); i++ {
			v &= a.bits(i)
		}
		a.L.Push(lua.LBool(v != 0))
		return 1
	},
	"lshift": func(_ *module, a args) int {
		x, n := a.bits(1), a.rangeInt(2, 0, 63)
		return pushBits(a, x<<uint(n))
	},
	"rshift": func(_ *module, a args) int {
		x, n := a.bits(1), a.rangeInt(2, 0, 63)
		return pushBits(a, x>>uint(n))
	},
}

var miscFuncs = map[string]binding{
	"S_ISREG":  sIsFunc(unix.S_IFREG),
	"S_ISDIR":  sIsFunc(unix.S_IFDIR),
	"S_ISLNK":  sIsFunc(unix.S_IFLNK),
	"S_ISCHR":  sIsFunc(unix.S_IFCHR),
	"S_ISBLK":  sIsFunc(unix.S_IFBLK),
	"S_ISFIFO": sIsFunc(unix.S_IFIFO),
	"S_ISSOCK": sIsFunc(unix.S_IFSOCK),
	"major": func(_ *module, a args) int {
		return a.pushInt(int64(unix.Major(a.bits(1))))
	},
	"minor": func(_ *module, a args) int {
		return a.pushInt(int64(unix.Minor(a.bits(1))))
	},
}

// bits reads argument n as a 64-bit pattern.
func (a args) bits(n int) uint64 {
	if f, ok := a.L.Get(n).(lua.LNumber); ok && float64(f) >= 1<<63 && float64(f) < 1<<64 && float64(f) == math.Trunc(float64(f)) {
		return uint64(f)
	}
	return uint64(a.int(n))
}

// pushBits pushes a result as a signed 64-bit integer.
func pushBits(a args, v uint64) int {
	return a.pushInt(int64(v))
}

func foldBits(op func(x, y uint64) uint64, identity uint64) binding {
	return func(_ *module, a args) int {
		v := identity
		top := a.L.GetTop()
		if top == 0 && identity != 0 {
			a.typeError(1, "number")
		}
		for i := 1; i <= top; i++ {
			v = op(v, a.bits(i))
		}
		return pushBits(a, v)
	}
}
