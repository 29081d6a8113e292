package host

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// Library is a set of Lua libraries to open in a state.
type Library uint

// The libraries. LibSafe is what a state gets when no library is named.
const (
	// LibBase is the base library (print, pairs, pcall, tostring, …)
	// without dofile and loadfile, which read files; LibIO brings them
	// back.
	LibBase Library = 1 << iota
	// LibTable is the table library.
	LibTable
	// LibString is the string library.
	LibString
	// LibMath is the math library.
	LibMath
	// LibCoroutine is the coroutine library.
	LibCoroutine
	// LibPackage is package, require and module, which load modules
	// from files.
	LibPackage
	// LibIO is the io library, and dofile and loadfile in the base
	// library.
	LibIO
	// LibOS is the os library: os.execute, os.remove, os.getenv,
	// os.exit, …
	LibOS
	// LibDebug is the debug library; it can read and change any value,
	// metatables and upvalues included, so it breaks any sandbox inside
	// the interpreter.
	LibDebug
	// LibChannel is gopher-lua's channel library.
	LibChannel
	// LibUnix is vow's unix module (package lualib), also reachable as
	// require "unix" when LibPackage is open. In a sandboxed child its
	// unix.pledge and unix.unveil narrow the child further.
	LibUnix

	// LibSafe is the default set: base (without dofile, loadfile),
	// table, string, math and coroutine. Nothing in it reaches files,
	// processes or the network.
	LibSafe = LibBase | LibTable | LibString | LibMath | LibCoroutine
	// LibStandard is every gopher-lua standard library.
	LibStandard = LibSafe | LibPackage | LibIO | LibOS | LibDebug | LibChannel
)

var libOpeners = []struct {
	lib  Library
	name string
	open lua.LGFunction
}{
	{LibPackage, lua.LoadLibName, lua.OpenPackage}, // first, as lua.OpenLibs does
	{LibBase, lua.BaseLibName, lua.OpenBase},
	{LibTable, lua.TabLibName, lua.OpenTable},
	{LibString, lua.StringLibName, lua.OpenString},
	{LibMath, lua.MathLibName, lua.OpenMath},
	{LibCoroutine, lua.CoroutineLibName, lua.OpenCoroutine},
	{LibIO, lua.IoLibName, lua.OpenIo},
	{LibOS, lua.OsLibName, lua.OpenOs},
	{LibDebug, lua.DebugLibName, lua.OpenDebug},
	{LibChannel, lua.ChannelLibName, lua.OpenChannel},
}

// openLibraries opens libs in L (LibSafe when libs is 0). unixOpts
// configures the unix module.
func openLibraries(L *lua.LState, libs Library, unixOpts *lualib.Options) {
	if libs == 0 {
		libs = LibSafe
	}
	for _, l := range libOpeners {
		if libs&l.lib == 0 {
			continue
		}
		L.Push(L.NewFunction(l.open))
		L.Push(lua.LString(l.name))
		L.Call(1, 0)
	}
	if libs&LibBase != 0 && libs&LibIO == 0 {
		L.SetGlobal("dofile", lua.LNil)
		L.SetGlobal("loadfile", lua.LNil)
	}
	if libs&LibBase != 0 && libs&LibPackage == 0 {
		// gopher-lua's base library defines these; they need package.
		L.SetGlobal("require", lua.LNil)
		L.SetGlobal("module", lua.LNil)
	}
	if libs&LibUnix != 0 {
		if libs&LibPackage != 0 {
			lualib.Preload(L, unixOpts)
		}
		lualib.OpenUnix(L, unixOpts)
	}
}

// Policy is what sandboxed code may do: the pledge promises of its
// process, the paths it may see, and what a violation does.
type Policy struct {
	// Promises are the pledge promises (interfaces.md; "stdio rpath
	// inet" …). "" means "stdio": computation, and reading and writing
	// descriptors it already has; a string of spaces asks for no
	// promise at all. The Go runtime's own needs are always allowed on
	// top.
	Promises string
	// Unveil lists the paths the code may see, with their permissions;
	// nothing else on the filesystem can be opened, listed, executed,
	// created or removed (Landlock). Empty: nothing is visible.
	Unveil []Rule
	// Kill makes a violation kill the process with SIGSYS (the call
	// fails with KindKilled) instead of failing with EPERM, the default.
	Kill bool
	// LogViolations reports each refused call (PLEDGE_STDERR_LOGGING).
	// In a sandboxed child, a supervisor in the host process prints it
	// on the child's stderr destination in the pledge command's words:
	//
	//	error: protected syscall socket (ord=029); pledge promise 'inet' to allow (pid 4242)
	//
	// (the refused calls then take a round trip through the host, and
	// the host needs ptrace access to its children: not under Yama's
	// ptrace_scope 2 or 3). For an in-process pledge (StateOptions.Pledge)
	// the kernel records them in the audit log instead (see
	// sandbox.StderrLogging).
	LogViolations bool
}

// Rule unveils Path with Perms, letters of "rwxc" (see sandbox.Unveil).
type Rule struct {
	Path, Perms string
}

// promises returns p.Promises with the default applied.
func (p *Policy) promises() string {
	if p.Promises == "" {
		return "stdio"
	}
	return p.Promises
}

// mode returns the pledge mode word of p.
func (p *Policy) mode() sandbox.Mode {
	m := sandbox.PenaltyReturnEPERM
	if p.Kill {
		m = sandbox.PenaltyKillProcess
	}
	if p.LogViolations {
		m |= sandbox.StderrLogging
	}
	return m
}

// check validates the promises and permission letters, so that a mistake
// is reported before any process starts.
func (p *Policy) check() error {
	if _, err := promise.Parse(p.promises()); err != nil {
		return fmt.Errorf("host: promises %q: %w", p.Promises, err)
	}
	for i, r := range p.Unveil {
		if r.Path == "" {
			return fmt.Errorf("host: unveil rule %d: empty path", i+1)
		}
		for _, c := range r.Perms {
			if c != 'r' && c != 'w' && c != 'x' && c != 'c' {
				return fmt.Errorf("host: unveil rule %d (%q): unknown permission %q in %q (use the letters r, w, x and c)", i+1, r.Path, c, r.Perms)
			}
		}
	}
	return nil
}

// apply restricts the calling process with p: unveil, commit, pledge.
func (p *Policy) apply() error {
	for _, r := range p.Unveil {
		if err := sandbox.Unveil(r.Path, r.Perms); err != nil {
			return err
		}
	}
	if err := sandbox.UnveilCommit(); err != nil {
		return err
	}
	return sandbox.Pledge(p.promises(), nil, p.mode())
}

// StateOptions configures [NewState].
type StateOptions struct {
	// Libraries to open; 0 means LibSafe.
	Libraries Library
	// Lua is passed to lua.NewState (stack sizes and the like);
	// SkipOpenLibs is ignored, the libraries are chosen by Libraries.
	Lua lua.Options
	// Unix configures the unix module when Libraries has LibUnix; nil
	// gives it no pledge, unveil or spawn (see lualib.Options).
	Unix *lualib.Options
	// Context, when not nil, is set with L.SetContext: the state stops
	// with a Lua error when it is canceled or its deadline passes. Use
	// context.WithTimeout for a time limit and [LimitInstructions] for an
	// instruction limit. Checking it costs a little on every instruction.
	Context context.Context
	// Pledge, when not nil, restricts THIS WHOLE PROCESS with the policy
	// (every thread, irreversibly: unveil, then pledge) before NewState
	// returns. Use it in a program that exists to run the script; to
	// restrict only the script, use [Run] or a [Pool], which run it in a
	// sandboxed child process. It needs a binary built with
	// CGO_ENABLED=0 on kernels whose Landlock is older than ABI 8.
	Pledge *Policy
}

// NewState returns a gopher-lua state with only the chosen libraries,
// optionally limited by a context and with this process pledged. Memory
// cannot be limited per state inside one Go process; run untrusted code
// in a [Pool] or with [Run] to limit it.
func NewState(opts *StateOptions) (*lua.LState, error) {
	if opts == nil {
		opts = &StateOptions{}
	}
	if opts.Pledge != nil {
		if err := opts.Pledge.check(); err != nil {
			return nil, err
		}
	}
	lo := opts.Lua
	lo.SkipOpenLibs = true
	L := lua.NewState(lo)
	openLibraries(L, opts.Libraries, opts.Unix)
	if opts.Context != nil {
		L.SetContext(opts.Context)
	}
	if opts.Pledge != nil {
		if err := opts.Pledge.apply(); err != nil {
			L.Close()
			return nil, fmt.Errorf("host: restricting this process: %w", err)
		}
	}
	return L, nil
}

// ErrInstructionLimit is the error of a context from [LimitInstructions]
// whose budget is spent; a state using it raises a Lua error with this
// message.
var ErrInstructionLimit = errors.New("instruction limit exceeded")

// LimitInstructions returns a context that is done after n Lua virtual
// machine instructions, or when parent is. Give it to a state with
// L.SetContext (or StateOptions.Context): gopher-lua checks the context
// once per instruction, which is what is counted. A call into a Go
// function (string.rep, table.sort, a host function) counts as one
// instruction however long it runs; combine with a deadline for those.
// The budget is shared by everything that uses the context.
func LimitInstructions(parent context.Context, n int64) context.Context {
	c := &instrCtx{Context: parent}
	c.left.Store(n)
	return c
}

// instrCtx counts calls of Done: gopher-lua's context-aware VM loop
// (mainLoopWithContext) calls it once before each instruction.
type instrCtx struct {
	context.Context
	left atomic.Int64
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Done returns a closed channel once the budget is spent.
func (c *instrCtx) Done() <-chan struct{} {
	if c.left.Add(-1) < 0 {
		return closedChan
	}
	return c.Context.Done()
}

// Err returns ErrInstructionLimit once the budget is spent.
func (c *instrCtx) Err() error {
	if c.left.Load() < 0 {
		return ErrInstructionLimit
	}
	return c.Context.Err()
}
