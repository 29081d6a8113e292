package lualib

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Metatable names of the objects (lua-unix.md §2.10).
const (
	statTypeName   = "unix.Stat"
	rusageTypeName = "unix.Rusage"
	dirTypeName    = "unix.Dir"
)

// registerMethods creates (or refreshes) the metatable name with the given
// methods behind __index, a __tostring and a __name.
func registerMethods(L *lua.LState, name string, methods map[string]lua.LGFunction, tostring lua.LGFunction) *lua.LTable {
	mt := L.NewTypeMetatable(name)
	idx := L.NewTable()
	for k, f := range methods {
		f, k := f, k
		idx.RawSetString(k, L.NewFunction(func(L *lua.LState) int {
			defer recoverBinding(L, k)
			return f(L)
		}))
	}
	mt.RawSetString("__index", idx)
	mt.RawSetString("__name", lua.LString(name))
	if tostring != nil {
		mt.RawSetString("__tostring", L.NewFunction(tostring))
	}
	return mt
}

// checkSelf returns the Go value of type T behind the receiver of a
// method, raising the standard error otherwise.
func checkSelf[T any](L *lua.LState, typeName, method string) T {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if v, ok := ud.Value.(T); ok {
			return v
		}
	}
	args{L, method}.typeError(1, typeName)
	var zero T
	return zero
}

func newObject(L *lua.LState, typeName string, v any) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	ud.Metatable = L.GetTypeMetatable(typeName)
	return ud
}

// unix.Stat ------------------------------------------------------------------

// statObj is the Go value of a unix.Stat.
type statObj struct{ st unix.Stat_t }

func newStat(L *lua.LState, st *unix.Stat_t) *lua.LUserData {
	return newObject(L, statTypeName, &statObj{*st})
}

func registerStat(L *lua.LState) {
	intm := func(name string, f func(*unix.Stat_t) int64) lua.LGFunction {
		return func(L *lua.LState) int {
			L.Push(lua.LNumber(f(&checkSelf[*statObj](L, statTypeName, name).st)))
			return 1
		}
	}
	timem := func(name string, f func(*unix.Stat_t) unix.Timespec) lua.LGFunction {
		return func(L *lua.LState) int {
			ts := f(&checkSelf[*statObj](L, statTypeName, name).st)
			L.Push(lua.LNumber(ts.Sec))
			L.Push(lua.LNumber(ts.Nsec))
			return 2
		}
	}
	methods := map[string]lua.LGFunction{
		"size":    intm("size", func(s *unix.Stat_t) int64 { return s.Size }),
		"mode":    intm("mode", func(s *unix.Stat_t) int64 { return int64(s.Mode) }),
		"uid":     intm("uid", func(s *unix.Stat_t) int64 { return int64(s.Uid) }),
		"gid":     intm("gid", func(s *unix.Stat_t) int64 { return int64(s.Gid) }),
		"ino":     intm("ino", func(s *unix.Stat_t) int64 { return int64(s.Ino) }),
		"dev":     intm("dev", func(s *unix.Stat_t) int64 { return int64(s.Dev) }),
		"rdev":    intm("rdev", func(s *unix.Stat_t) int64 { return int64(s.Rdev) }),
		"nlink":   intm("nlink", func(s *unix.Stat_t) int64 { return int64(s.Nlink) }),
		"blocks":  intm("blocks", func(s *unix.Stat_t) int64 { return s.Blocks }),
		"blksize": intm("blksize", func(s *unix.Stat_t) int64 { return int64(s.Blksize) }),
		"gen":     intm("gen", func(*unix.Stat_t) int64 { return 0 }),
		"flags":   intm("flags", func(*unix.Stat_t) int64 { return 0 }),
		"atim":    timem("atim", func(s *unix.Stat_t) unix.Timespec { return s.Atim }),
		"mtim":    timem("mtim", func(s *unix.Stat_t) unix.Timespec { return s.Mtim }),
		"ctim":    timem("ctim", func(s *unix.Stat_t) unix.Timespec { return s.Ctim }),
		// Linux's stat has no birth time; like redbean, report the
		// earliest of the three times it has.
		"birthtim": timem("birthtim", func(s *unix.Stat_t) unix.Timespec {
			t := s.Atim
			for _, u := range []unix.Timespec{s.Mtim, s.Ctim} {
				if u.Sec < t.Sec || (u.Sec == t.Sec && u.Nsec < t.Nsec) {
					t = u
				}
			}
			return t
		}),
	}
	registerMethods(L, statTypeName, methods, func(L *lua.LState) int {
		s := &checkSelf[*statObj](L, statTypeName, "__tostring").st
		var b strings.Builder
		fmt.Fprintf(&b, "unix.Stat({size=%d", s.Size)
		field := func(name string, v int64, format string) {
			if v != 0 {
				fmt.Fprintf(&b, ", %s="+format, name, v)
			}
		}
		field("mode", int64(s.Mode), "0%o")
		field("ino", int64(s.Ino), "%d")
		field("nlink", int64(s.Nlink), "%d")
		field("uid", int64(s.Uid), "%d")
		field("gid", int64(s.Gid), "%d")
		field("flags", 0, "%d")
		field("dev", int64(s.Dev), "%d")
		field("rdev", int64(s.Rdev), "%d")
		field("blksize", int64(s.Blksize), "%d")
		field("blocks", s.Blocks, "%d")
		b.WriteString("})")
		L.Push(lua.LString(b.String()))
		return 1
	})
}

// unix.Rusage ----------------------------------------------------------------

type rusageObj struct{ ru unix.Rusage }

func newRusage(L *lua.LState, ru *unix.Rusage) *lua.LUserData {
	return newObject(L, rusageTypeName, &rusageObj{*ru})
}

// rusageFields lists the integer methods in the order of lua-unix.md §2.10.
var rusageFields = []struct {
	name string
	get  func(*unix.Rusage) int64
}{
	{"maxrss", func(r *unix.Rusage) int64 { return r.Maxrss }},
	{"ixrss", func(r *unix.Rusage) int64 { return r.Ixrss }},
	{"idrss", func(r *unix.Rusage) int64 { return r.Idrss }},
	{"isrss", func(r *unix.Rusage) int64 { return r.Isrss }},
	{"minflt", func(r *unix.Rusage) int64 { return r.Minflt }},
	{"majflt", func(r *unix.Rusage) int64 { return r.Majflt }},
	{"nswap", func(r *unix.Rusage) int64 { return r.Nswap }},
	{"inblock", func(r *unix.Rusage) int64 { return r.Inblock }},
	{"oublock", func(r *unix.Rusage) int64 { return r.Oublock }},
	{"msgsnd", func(r *unix.Rusage) int64 { return r.Msgsnd }},
	{"msgrcv", func(r *unix.Rusage) int64 { return r.Msgrcv }},
	{"nsignals", func(r *unix.Rusage) int64 { return r.Nsignals }},
	{"nvcsw", func(r *unix.Rusage) int64 { return r.Nvcsw }},
	{"nivcsw", func(r *unix.Rusage) int64 { return r.Nivcsw }},
}

func registerRusage(L *lua.LState) {
	methods := map[string]lua.LGFunction{}
	for _, f := range rusageFields {
		f := f
		methods[f.name] = func(L *lua.LState) int {
			L.Push(lua.LNumber(f.get(&checkSelf[*rusageObj](L, rusageTypeName, f.name).ru)))
			return 1
		}
	}
	timem := func(name string, f func(*unix.Rusage) unix.Timeval) lua.LGFunction {
		return func(L *lua.LState) int {
			tv := f(&checkSelf[*rusageObj](L, rusageTypeName, name).ru)
			L.Push(lua.LNumber(tv.Sec))
			L.Push(lua.LNumber(int64(tv.Usec) * 1000))
			return 2
		}
	}
	methods["utime"] = timem("utime", func(r *unix.Rusage) unix.Timeval { return r.Utime })
	methods["stime"] = timem("stime", func(r *unix.Rusage) unix.Timeval { return r.Stime })
	registerMethods(L, rusageTypeName, methods, func(L *lua.LState) int {
		r := &checkSelf[*rusageObj](L, rusageTypeName, "__tostring").ru
		var b strings.Builder
		fmt.Fprintf(&b, "{utime={%d, %d}", r.Utime.Sec, int64(r.Utime.Usec)*1000)
		if r.Stime.Sec != 0 || r.Stime.Usec != 0 {
			fmt.Fprintf(&b, ", stime={%d, %d}", r.Stime.Sec, int64(r.Stime.Usec)*1000)
		}
		for _, f := range rusageFields {
			if v := f.get(r); v != 0 {
				fmt.Fprintf(&b, ", %s=%d", f.name, v)
			}
		}
		b.WriteString("}")
		L.Push(lua.LString(b.String()))
		return 1
	})
}

// S_IS* ----------------------------------------------------------------------

func sIsFunc(kind uint32) binding {
	return func(_ *module, a args) int {
		a.L.Push(lua.LBool(uint32(a.int(1))&unix.S_IFMT == kind))
		return 1
	}
}
