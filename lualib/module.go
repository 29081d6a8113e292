package lualib

import (
	"fmt"
	"os"
	"runtime/debug"

	lua "github.com/yuin/gopher-lua"
)

// ModuleName is the name of the module for require and of the global.
const ModuleName = "unix"

// Options configures the unix module. The zero value gives every
// function that needs no sandbox; the sandbox entry points appear in the
// table only when their hook is set (a name without a hook is undefined,
// never a stub).
type Options struct {
	// Pledge implements unix.pledge. promises and execpromises are nil
	// when the script passed nil or nothing (nil, nil is the support
	// probe); mode is the script's mode, or DefaultPledgeMode when the
	// script gave none. Return nil on success, or an error wrapping a
	// [syscall.Errno] (use [NewErrno] to choose the doc() text).
	Pledge func(promises, execpromises *string, mode int) error

	// DefaultPledgeMode is the mode unix.pledge passes to Pledge when the
	// script gives none: 0 (PLEDGE_PENALTY_KILL_THREAD) for scripts, as in
	// redbean; the REPL sets PLEDGE_PENALTY_RETURN_EPERM.
	DefaultPledgeMode int

	// Unveil implements unix.unveil. path and perms are nil when the
	// script passed nil or nothing. For the probe unveil("", nil) abi is
	// the Landlock ABI version, which the binding returns as a second
	// value; otherwise it is ignored.
	Unveil func(path, perms *string) (abi int, err error)

	// Spawn implements unix.spawn: the binding parses and checks the
	// script's arguments into a SpawnRequest (interfaces.md §2), the hook
	// starts the child and returns its pid. The child must not be reaped
	// by the hook (scripts call unix.wait).
	Spawn func(req *SpawnRequest) (pid int, err error)

	// BeforeExec, when set, runs right before unix.execve replaces the
	// process (the sandbox installs the execpromises filter there). If it
	// fails, execve fails with its error and does not exec.
	BeforeExec func() error
}

// SpawnRequest is unix.spawn(prog, argv[, opts]) after argument checking.
type SpawnRequest struct {
	// Prog is run as given (no $PATH search); Argv[0] is the program name.
	Prog string
	Argv []string
	// Env is opts.env; nil means the current environment.
	Env []string
	// Dir is opts.dir; "" means the current directory.
	Dir string
	// Stdin, Stdout and Stderr are the descriptors handed to the child as
	// 0, 1 and 2 (default 0, 1, 2).
	Stdin, Stdout, Stderr int
	// Promises and ExecPromises are opts.promises and opts.execpromises;
	// nil when not given.
	Promises, ExecPromises *string
	// Unveil is opts.unveil, applied and committed in the child.
	Unveil []UnveilRule
	// Penalty is opts.penalty (mode flags as for unix.pledge); nil when
	// not given.
	Penalty *int
	// Rlimits is opts.rlimits by resource name ("cpu", "as", "nofile",
	// "nproc", "fsize"); -1 means unlimited.
	Rlimits map[string]int64
}

// UnveilRule is one {path, perms} entry of opts.unveil.
type UnveilRule struct {
	Path, Perms string
}

// module is one loaded instance of the unix table.
type module struct {
	opts Options
	// buffered holds io files switched to buffered output with setvbuf,
	// flushed by unix.exit (lua-unix.md §1.8).
	buffered []*lua.LUserData
}

// binding is the Go side of one unix.* function.
type binding func(m *module, a args) int

// wrap turns a binding into a Lua function that names itself in argument
// errors and turns a Go panic into a Lua error instead of killing the
// interpreter. Lua errors raised by gopher-lua (which are panics too) pass
// through unchanged.
func (m *module) wrap(L *lua.LState, name string, f binding) *lua.LFunction {
	return L.NewFunction(func(L *lua.LState) int {
		defer recoverBinding(L, name)
		return f(m, args{L, name})
	})
}

// recoverBinding is deferred by every binding.
func recoverBinding(L *lua.LState, name string) {
	r := recover()
	if r == nil {
		return
	}
	switch r.(type) {
	case *lua.ApiError, *lua.LState:
		panic(r) // a Lua error on its way up
	}
	if os.Getenv("VOW_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "vow: panic in unix.%s: %v\n%s", name, r, debug.Stack())
	}
	L.RaiseError("bug: unix.%s: Go panic: %v", name, r)
}

// newModule builds a fresh unix table for L.
func newModule(L *lua.LState, opts *Options) *lua.LTable {
	m := &module{}
	if opts != nil {
		m.opts = *opts
	}
	registerErrno(L)
	registerStat(L)
	registerDir(L)
	registerRusage(L)
	m.hookSetvbuf(L)

	ud := L.NewUserData()
	ud.Value = m
	L.SetField(L.Get(lua.RegistryIndex), moduleRegistryKey, ud)

	t := L.NewTable()
	for _, c := range allConsts() {
		t.RawSetString(c.name, lua.LNumber(c.value))
	}
	for name, f := range m.functions() {
		t.RawSetString(name, m.wrap(L, name, f))
	}
	return t
}

// functions lists every binding of the table, sandbox hooks included when
// they are set.
func (m *module) functions() map[string]binding {
	fns := map[string]binding{}
	for _, group := range []map[string]binding{
		procFuncs, fileFuncs, pathFuncs, sockFuncs, timeFuncs, bitFuncs, miscFuncs,
	} {
		for k, v := range group {
			fns[k] = v
		}
	}
	if m.opts.Pledge != nil {
		fns["pledge"] = (*module).pledge
	}
	if m.opts.Unveil != nil {
		fns["unveil"] = (*module).unveil
	}
	if m.opts.Spawn != nil {
		fns["spawn"] = (*module).spawn
	}
	return fns
}

// OpenUnix loads the unix module into L the way vow's interpreters do:
// it builds the table, sets the global unix, makes require "unix" return
// the same table, and installs the Lua 5.2-style assert (see [OpenAssert]).
// opts may be nil. It returns the table.
func OpenUnix(L *lua.LState, opts *Options) *lua.LTable {
	t := newModule(L, opts)
	L.SetGlobal(ModuleName, t)
	loaded := L.FindTable(L.Get(lua.RegistryIndex).(*lua.LTable), "_LOADED", 1)
	L.SetField(loaded, ModuleName, t)
	OpenAssert(L)
	return t
}

// Preload registers the unix module in L's package.preload, so that the
// first require "unix" builds it (and later ones return the same table).
// Unlike OpenUnix it sets no global and leaves assert alone. The package
// library must be open. opts may be nil.
func Preload(L *lua.LState, opts *Options) {
	var o *Options
	if opts != nil {
		c := *opts
		o = &c
	}
	L.PreloadModule(ModuleName, func(L *lua.LState) int {
		L.Push(newModule(L, o))
		return 1
	})
}

// OpenAssert replaces the global assert with the Lua 5.2 behaviour that
// lua-unix.md §1.3 requires: when the first argument is false or nil it
// raises the second argument unchanged, whatever its type (a string gets
// no position prefix, as in C Lua; no message means "assertion failed!"), so
// assert(unix.open(path)) raises the unix.Errno itself. Otherwise it
// returns all its arguments.
func OpenAssert(L *lua.LState) {
	L.SetGlobal("assert", L.NewFunction(luaAssert))
}

func luaAssert(L *lua.LState) int {
	if L.GetTop() == 0 {
		args{L, "assert"}.argError(1, "value expected")
	}
	if lua.LVAsBool(L.Get(1)) {
		return L.GetTop()
	}
	// Level 0: no position prefix, as in C Lua, whose assert reports the
	// message exactly as given.
	msg := L.Get(2)
	if msg == lua.LNil {
		msg = lua.LString("assertion failed!")
	}
	L.Error(msg, 0)
	return 0
}

// hookSetvbuf wraps the io library's file:setvbuf so that unix.exit can
// flush files the script made buffered. It does nothing when the io
// library is not open.
func (m *module) hookSetvbuf(L *lua.LState) {
	mt, ok := L.GetTypeMetatable("FILE*").(*lua.LTable)
	if !ok {
		return
	}
	idx, ok := mt.RawGetString("__index").(*lua.LTable)
	if !ok {
		return
	}
	orig, ok := idx.RawGetString("setvbuf").(*lua.LFunction)
	if !ok {
		return
	}
	idx.RawSetString("setvbuf", L.NewFunction(func(L *lua.LState) int {
		if ud, ok := L.Get(1).(*lua.LUserData); ok {
			if L.OptString(2, "") != "no" {
				m.rememberBuffered(ud)
			}
		}
		top := L.GetTop()
		L.Push(orig)
		for i := 1; i <= top; i++ {
			L.Push(L.Get(i))
		}
		L.Call(top, lua.MultRet)
		return L.GetTop() - top
	}))
}

func (m *module) rememberBuffered(ud *lua.LUserData) {
	for _, u := range m.buffered {
		if u == ud {
			return
		}
	}
	m.buffered = append(m.buffered, ud)
}

// flushIO flushes io.stdout, io.stderr, the default output file and every
// file the script made buffered; errors are ignored (the process is about
// to end).
func (m *module) flushIO(L *lua.LState) {
	var files []lua.LValue
	if io, ok := L.GetGlobal("io").(*lua.LTable); ok {
		files = append(files, io.RawGetString("stdout"), io.RawGetString("stderr"))
		if out, ok := io.RawGetString("output").(*lua.LFunction); ok {
			if L.CallByParam(lua.P{Fn: out, NRet: 1, Protect: true}) == nil {
				files = append(files, L.Get(-1))
				L.Pop(1)
			}
		}
	}
	for _, u := range m.buffered {
		files = append(files, u)
	}
	for _, f := range files {
		ud, ok := f.(*lua.LUserData)
		if !ok {
			continue
		}
		flush := L.GetField(ud, "flush")
		if fn, ok := flush.(*lua.LFunction); ok {
			_ = L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, ud)
		}
	}
}
