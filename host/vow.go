package host

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/host/internal/wire"
	"github.com/vow-sandbox/vow/sandbox"
)

// VowModuleName is the name of the Lua module with vow.run, for require
// and the global.
const VowModuleName = "vow"

// VowOptions configures the vow Lua module ([OpenVow]). The zero value
// is what the vow command uses.
type VowOptions struct {
	// Stdout and Stderr are where a child's output goes when opts.stdout
	// or opts.stderr is "inherit" (the default); nil means os.Stdout and
	// os.Stderr.
	Stdout, Stderr *os.File
	// Env is the children's environment; nil means an empty one.
	Env []string
	// Executable is the binary started as the child; it must call [Init]
	// first in main. "" means this program.
	Executable string
	// Context, when not nil, bounds every vow.run: when it is canceled
	// the running child is killed and vow.run raises a Lua error; when
	// its deadline passes vow.run returns an err of kind "timeout". A
	// context set on the state with L.SetContext (a REPL canceling on
	// Ctrl-C, say) takes precedence.
	Context context.Context
}

// MaxCapture is how much of a child's output vow.run keeps for
// opts.stdout = "capture" (per stream); the rest is dropped.
const MaxCapture = 16 << 20

// OpenVow loads the vow module into L: it sets the global vow, makes
// require "vow" return the same table, and returns it. opts may be nil.
//
// vow.run(code, opts, ...) runs the Lua chunk code in a fresh interpreter
// (the standard libraries and the unix module) in a sandboxed child
// process and returns true and the chunk's results, or nil and an error
// table (interfaces.md §2):
//
//	opts.promises  pledge of the child, default "stdio"
//	opts.unveil    list of {path, perms}; default: nothing visible
//	opts.timeout   seconds of wall time (default: none)
//	opts.memory    bytes the code may allocate on top of the child's
//	               start-up footprint (RLIMIT_DATA)
//	opts.cpu       seconds of CPU (RLIMIT_CPU, rounded up)
//	opts.stdout, opts.stderr
//	               "inherit" (default), "capture" (kept in err.stdout /
//	               err.stderr, at most MaxCapture bytes), or a function
//	               called with the captured text when the child has
//	               ended, whether it failed or not [vow extension]
//	opts.penalty   mode flags as for unix.pledge; default
//	               PLEDGE_PENALTY_RETURN_EPERM; with PLEDGE_STDERR_LOGGING
//	               each refused call is named on the child's stderr
//	               ("error: protected syscall socket (ord=029); pledge
//	               promise 'inet' to allow (pid N)")
//
// err.kind is "error" (err.message, err.traceback, err.value: the raised
// value), "timeout", "memory", "killed" (err.signal), or "exit"
// (err.status); err.message always describes what happened, and
// tostring(err) gives "vow.run: KIND: MESSAGE".
//
// Arguments and results are nil, booleans, numbers (exactly, NaN and
// ±inf included), strings (binary-safe) and tables of these; anything
// else, or a table that contains itself, raises an error before the child
// starts. So do bad options and a child that cannot be started or
// restricted: the child inherits the caller's pledge and unveils, so a
// script that pledged needs "stdio proc exec unveil", and one that
// unveiled needs rx on the vow binary.
func OpenVow(L *lua.LState, opts *VowOptions) *lua.LTable {
	v := &vowModule{}
	if opts != nil {
		v.opts = *opts
	}
	t := L.NewTable()
	t.RawSetString("run", L.NewFunction(v.run))
	L.SetGlobal(VowModuleName, t)
	loaded := L.FindTable(L.Get(lua.RegistryIndex).(*lua.LTable), "_LOADED", 1)
	L.SetField(loaded, VowModuleName, t)
	return t
}

type vowModule struct {
	opts VowOptions
}

// vowRunOptions are the keys opts may have.
var vowRunOptions = []string{"cpu", "memory", "penalty", "promises", "stderr", "stdout", "timeout", "unveil"}

// output is one of opts.stdout/opts.stderr after checking.
type output struct {
	capture *captureBuffer // nil: inherit
	fn      *lua.LFunction
}

// runArgError raises `bad argument #n to 'run' (msg)`, as the unix module
// words it.
func runArgError(L *lua.LState, n int, msg string) {
	L.RaiseError("bad argument #%d to 'run' (%s)", n, msg)
}

func runTypeError(L *lua.LState, n int, want string) {
	got := "no value"
	if n <= L.GetTop() {
		got = L.Get(n).Type().String()
	}
	runArgError(L, n, want+" expected, got "+got)
}

func (v *vowModule) run(L *lua.LState) int {
	var code string
	switch c := L.Get(1).(type) {
	case lua.LString:
		code = string(c)
	case lua.LNumber:
		code = c.String()
	default:
		runTypeError(L, 1, "string")
	}
	ro := &RunOptions{
		Libraries:   LibStandard | LibUnix,
		Env:         v.opts.Env,
		Executable:  v.opts.Executable,
		Name:        "vow.run",
		timeoutName: "opts.timeout",
	}
	var outs [2]output
	switch o := L.Get(2).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		outs = vowOptions(L, o, ro)
	default:
		runTypeError(L, 2, "table")
	}
	var w wire.Buffer
	w.Limit = wire.MaxFrame
	w.Reset(0)
	w.Uvarint(uint64(max(L.GetTop()-2, 0)))
	for i := 3; i <= L.GetTop(); i++ {
		if err := wire.EncodeLua(&w, L.Get(i)); err != nil {
			if errors.Is(err, wire.ErrTooLarge) {
				L.RaiseError("vow.run: the arguments are larger than %d bytes", wire.MaxFrame)
			}
			runArgError(L, i, err.Error())
		}
	}
	if v.opts.Stdout != nil { // a nil *os.File must not become a non-nil io.Writer
		ro.Stdout = v.opts.Stdout
	}
	if v.opts.Stderr != nil {
		ro.Stderr = v.opts.Stderr
	}
	if outs[0].capture != nil {
		ro.Stdout = outs[0].capture
	}
	if outs[1].capture != nil {
		ro.Stderr = outs[1].capture
	}

	ctx := L.Context()
	if ctx == nil {
		ctx = v.opts.Context
	}
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := runChild(ctx, code, ro, w.Bytes())

	// Output callbacks run whatever the outcome.
	for _, o := range outs {
		if o.fn != nil {
			L.Push(o.fn)
			L.Push(lua.LString(o.capture.String()))
			L.Call(1, 0)
		}
	}
	var e *Error
	switch {
	case err == nil:
		r := wire.NewReader(res)
		n := r.Count(1)
		L.Push(lua.LTrue)
		for i := 0; i < n; i++ {
			L.Push(wire.DecodeLua(r, L))
		}
		if r.Err() != nil {
			L.RaiseError("vow.run: the child's results are malformed: %v", r.Err())
		}
		return n + 1
	case errors.As(err, &e) && e.Kind != KindCanceled:
		L.Push(lua.LNil)
		L.Push(vowError(L, e, outs))
		return 2
	}
	L.RaiseError("vow.run: %s", strings.TrimPrefix(err.Error(), "host: "))
	return 0
}

// vowError builds the err table of a failed vow.run.
func vowError(L *lua.LState, e *Error, outs [2]output) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("kind", lua.LString(e.Kind))
	t.RawSetString("message", lua.LString(e.Message))
	switch e.Kind {
	case KindError:
		if e.Traceback != "" {
			t.RawSetString("traceback", lua.LString(e.Traceback))
		}
		if len(e.rawValue) > 0 {
			r := wire.NewReader(e.rawValue)
			if val := wire.DecodeLua(r, L); r.Err() == nil {
				t.RawSetString("value", val)
			}
		}
	case KindKilled:
		t.RawSetString("signal", lua.LNumber(e.Signal))
	case KindExit:
		t.RawSetString("status", lua.LNumber(e.Status))
	}
	for i, name := range []string{"stdout", "stderr"} {
		if c := outs[i].capture; c != nil {
			t.RawSetString(name, lua.LString(c.String()))
		}
	}
	mt := L.NewTable()
	msg := fmt.Sprintf("vow.run: %s: %s", e.Kind, e.Message)
	mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(msg))
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}

// vowOptions checks the opts table of vow.run into ro and returns the
// output settings; mistakes raise a Lua error naming the option.
func vowOptions(L *lua.LState, opts *lua.LTable, ro *RunOptions) [2]output {
	bad := func(key, msg string) {
		runArgError(L, 2, "opts."+key+": "+msg)
	}
	num := func(key string, v lua.LValue) float64 {
		n, ok := v.(lua.LNumber)
		if !ok {
			bad(key, "number expected, got "+v.Type().String())
		}
		f := float64(n)
		if math.IsNaN(f) || f < 0 || math.IsInf(f, 0) {
			bad(key, "a finite number >= 0 expected")
		}
		return f
	}
	seconds := func(key string, v lua.LValue) time.Duration {
		f := num(key, v)
		if f > float64(math.MaxInt64)/1e9 {
			bad(key, "too large")
		}
		return time.Duration(f * 1e9)
	}
	str := func(key string, v lua.LValue) string {
		s, ok := v.(lua.LString)
		if !ok {
			bad(key, "string expected, got "+v.Type().String())
		}
		return string(s)
	}
	var keys []string
	opts.ForEach(func(k, _ lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			runArgError(L, 2, "opts keys must be strings")
		}
		keys = append(keys, string(ks))
	})
	sort.Strings(keys)
	var outs [2]output
	for _, key := range keys {
		v := opts.RawGetString(key)
		switch key {
		case "promises":
			ro.Promises = str(key, v)
			if ro.Promises == "" {
				ro.Promises = " " // "" is the empty pledge here, not the default
			}
		case "unveil":
			t, ok := v.(*lua.LTable)
			if !ok {
				bad(key, "table expected, got "+v.Type().String())
			}
			for i := 1; i <= t.Len(); i++ {
				rule, ok := t.RawGetInt(i).(*lua.LTable)
				if !ok {
					bad(fmt.Sprintf("unveil[%d]", i), "{path, perms} expected")
				}
				path, ok1 := rule.RawGetInt(1).(lua.LString)
				perms, ok2 := rule.RawGetInt(2).(lua.LString)
				if !ok1 || !ok2 {
					bad(fmt.Sprintf("unveil[%d]", i), "{path, perms} expected (two strings)")
				}
				ro.Unveil = append(ro.Unveil, Rule{Path: string(path), Perms: string(perms)})
			}
		case "timeout":
			ro.Timeout = seconds(key, v)
			if ro.Timeout == 0 {
				bad(key, "must be more than 0 seconds (leave it out for no timeout)")
			}
		case "cpu":
			ro.CPU = seconds(key, v)
			if ro.CPU == 0 {
				bad(key, "must be more than 0 seconds (leave it out for no limit)")
			}
		case "memory":
			f := num(key, v)
			if f < 1 || f >= 1<<62 {
				bad(key, "a number of bytes from 1 to 2^62 expected (leave it out for no limit)")
			}
			ro.Memory = int64(f)
		case "penalty":
			var mode int64
			switch p := v.(type) {
			case lua.LNumber:
				mode = int64(p)
			case *lua.LTable:
				for i := 1; i <= p.Len(); i++ {
					f, ok := p.RawGetInt(i).(lua.LNumber)
					if !ok {
						bad(key, "a table of integers expected")
					}
					mode |= int64(f)
				}
			default:
				bad(key, "number expected, got "+v.Type().String())
			}
			m := sandbox.Mode(mode)
			if m&^(sandbox.PenaltyMask|sandbox.StderrLogging) != 0 {
				bad(key, fmt.Sprintf("unknown mode bits %#x", int64(m&^(sandbox.PenaltyMask|sandbox.StderrLogging))))
			}
			switch m & sandbox.PenaltyMask {
			case sandbox.PenaltyKillThread, sandbox.PenaltyKillProcess:
				ro.Kill = true
			case sandbox.PenaltyReturnEPERM:
			default:
				bad(key, "unknown penalty (use unix.PLEDGE_PENALTY_KILL_THREAD, _KILL_PROCESS or _RETURN_EPERM)")
			}
			ro.LogViolations = m&sandbox.StderrLogging != 0
		case "stdout", "stderr":
			i := 0
			if key == "stderr" {
				i = 1
			}
			switch s := v.(type) {
			case lua.LString:
				switch s {
				case "inherit":
				case "capture":
					outs[i].capture = &captureBuffer{}
				default:
					bad(key, fmt.Sprintf("%q is not \"inherit\" or \"capture\" (or a function)", string(s)))
				}
			case *lua.LFunction:
				outs[i].capture, outs[i].fn = &captureBuffer{}, s
			default:
				bad(key, "\"inherit\", \"capture\" or a function expected, got "+v.Type().String())
			}
		default:
			bad(key, "unknown option (known: "+strings.Join(vowRunOptions, ", ")+")")
		}
	}
	return outs
}

// captureBuffer keeps the first MaxCapture bytes written to it.
type captureBuffer struct {
	b       []byte
	dropped int64
}

func (c *captureBuffer) Write(p []byte) (int, error) {
	n := min(len(p), MaxCapture-len(c.b))
	c.b = append(c.b, p[:n]...)
	c.dropped += int64(len(p) - n)
	return len(p), nil
}

func (c *captureBuffer) String() string { return string(c.b) }
