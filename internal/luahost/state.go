package luahost

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/host"
	"github.com/vow-sandbox/vow/lualib"
)

// Config configures the interpreters NewState builds.
type Config struct {
	// DefaultPledgeMode is the mode unix.pledge uses when the script gives
	// none: lualib.PledgePenaltyKillThread (0, redbean's default; vow kills
	// the whole process) for scripts, lualib.PledgePenaltyReturnEPERM for
	// the REPL (interfaces.md §2).
	DefaultPledgeMode int

	// AfterPledge, when set, is called after every pledge that took
	// effect (not the probe), including the one unix.execve makes for
	// execpromises. It runs in the pledged process: it may only use what
	// every pledge allows (the Go runtime's needs, which include write on
	// an open descriptor).
	AfterPledge func(PledgeState)

	// Supervised says a supervising parent takes the violations of this
	// process's pledge: the first pledge is then made with
	// sandbox.PledgeNotify, and PledgeState.Listener tells AfterPledge the
	// listener descriptor for the parent to take (sandbox.TakeListener).
	// Until it does, a refused call blocks. Later pledges are plain.
	Supervised bool
}

// Interpreter limits: gopher-lua's defaults (256 nested calls, a fixed
// 5120-slot register stack) are too small for ordinary scripts. The call
// stack is half of C Lua 5.1's LUAI_MAXCALLS, allocated up front (the kernel backs the
// pages only when used): gopher-lua's growing call stack
// (MinimizeStackMemory) turns an overflow into a Go panic without a
// position. The register stack grows on demand.
const (
	callStackSize   = 10000
	registrySize    = 1024 * 20
	registryMaxSize = 1 << 24
)

// NewState returns a Lua 5.1 interpreter the way vow runs scripts: the
// standard libraries, the unix module as a global and as require "unix"
// with unix.pledge and unix.unveil wired to the sandbox package, the Lua
// 5.2-style assert of lua-unix.md §1.3, and an os.exit that flushes
// buffered io files like unix.exit and also takes true (0) and false (1).
// The vow module (vow.run) is there too. unix.spawn and vow.run start
// restricted children by re-executing the program, so a program that
// builds states with NewState must call sandbox.Init and host.Init first
// in main.
// Close the state when done.
func NewState(cfg Config) *lua.LState {
	L := lua.NewState(lua.Options{
		CallStackSize:   callStackSize,
		RegistrySize:    registrySize,
		RegistryMaxSize: registryMaxSize,
	})
	t := lualib.OpenUnix(L, UnixOptions(cfg))
	installExit(L, t)
	host.OpenVow(L, nil)
	return L
}

// UnixOptions returns the unix module options with the sandbox hooks of
// cfg: Pledge (sandbox.Pledge), Unveil (sandbox.Unveil, UnveilCommit and
// LandlockABI), Spawn (sandbox.Cmd) and BeforeExec (execpromises at
// unix.execve).
func UnixOptions(cfg Config) *lualib.Options {
	h := &hooks{cfg: cfg}
	return &lualib.Options{
		Pledge:            h.pledge,
		Unveil:            h.unveil,
		Spawn:             h.spawn,
		BeforeExec:        h.beforeExec,
		DefaultPledgeMode: cfg.DefaultPledgeMode,
	}
}

// installExit replaces os.exit with one that ends the process through
// unix.exit, which flushes buffered io files first (gopher-lua's own
// os.exit loses them). Like Lua 5.2, true means 0 and false means 1.
func installExit(L *lua.LState, unixTable *lua.LTable) {
	osTable, ok := L.GetGlobal("os").(*lua.LTable)
	if !ok {
		return
	}
	exit := unixTable.RawGetString("exit")
	osTable.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		code := lua.LValue(lua.LNumber(0))
		switch v := L.Get(1).(type) {
		case lua.LBool:
			if !v {
				code = lua.LNumber(1)
			}
		case *lua.LNilType:
		default:
			if _, ok := v.(lua.LNumber); !ok {
				if _, ok := v.(lua.LString); !ok {
					L.RaiseError("bad argument #1 to 'exit' (number or boolean expected, got %s)", v.Type().String())
				}
			}
			code = v
		}
		L.Push(exit)
		L.Push(code)
		L.Call(1, 0)
		return 0
	}))
}
