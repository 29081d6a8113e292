package lualib

import (
	"syscall"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

var timeFuncs = map[string]binding{
	"clock_gettime": func(_ *module, a args) int {
		var ts unix.Timespec
		if err := unix.ClockGettime(int32(a.optInt32(1, unix.CLOCK_REALTIME)), &ts); err != nil {
			return a.fail(err)
		}
		a.L.Push(lua.LNumber(ts.Sec))
		a.L.Push(lua.LNumber(ts.Nsec))
		return 2
	},
	"nanosleep": (*module).nanosleep,
}

// nanosleep sleeps the whole time: an EINTR can only come from the Go
// runtime's own signals (vow has no Lua signal handlers), so it goes on
// with the remaining time (lua-unix.md §1.8).
func (m *module) nanosleep(a args) int {
	secs := a.int(1)
	nanos := a.optInt(2, 0)
	req := unix.Timespec{Sec: secs, Nsec: nanos}
	for {
		var rem unix.Timespec
		err := unix.Nanosleep(&req, &rem)
		if err == syscall.EINTR {
			req = rem
			continue
		}
		if err != nil {
			return a.fail(err)
		}
		break
	}
	a.L.Push(lua.LNumber(0))
	a.L.Push(lua.LNumber(0))
	return 2
}
