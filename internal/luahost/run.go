package luahost

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Script is a chunk of Lua source to run as a program.
type Script struct {
	// Name is the chunk name used in messages: the path as given on the
	// command line, "(command line)" for vow -e, "stdin" for a script
	// read from standard input.
	Name string
	// Source is the Lua text. A first line starting with '#' (#!/usr/bin/env
	// vow) is skipped, as lua.c does; line numbers stay right.
	Source []byte
	// Arg0 is arg[0]: the script path, "-e" or "-".
	Arg0 string
	// Args are arg[1..] and the main chunk's ... values.
	Args []string
	// Prog is arg[-1], the interpreter (vow's argv[0]); empty leaves it out.
	Prog string
}

// Error is an uncaught Lua error or a syntax error, in the form vow
// reports them (interfaces.md §1): Message is `FILE:LINE: message`.
type Error struct {
	// Message is the error with the position of the code that raised it
	// when known, e.g. "x.lua:3: open() failed: No such file or
	// directory". Values that are not strings are converted with
	// tostring (honouring __tostring) and get the position of the frame
	// that raised them.
	Message string
	// Traceback is gopher-lua's "stack traceback:" block, or "" for a
	// syntax error.
	Traceback string
	// Syntax is true when the chunk did not compile.
	Syntax bool
	// Value is the raised Lua value (nil for a syntax error); pcall
	// callers would have received it.
	Value lua.LValue
}

// Error returns Message.
func (e *Error) Error() string { return e.Message }

// Report returns what vow prints on stderr for e: "vow: " + Message, then
// the traceback, each ending in a newline.
func (e *Error) Report() string {
	var b strings.Builder
	b.WriteString("vow: " + e.Message + "\n")
	if e.Traceback != "" {
		b.WriteString(e.Traceback + "\n")
	}
	return b.String()
}

// Run compiles s and runs it in L as the main chunk: the global arg
// table holds arg[-1] = Prog, arg[0] = Arg0 and arg[1..] = Args, which the
// chunk also receives as .... It returns nil when the chunk returns, and
// an *Error for a syntax error or an uncaught Lua error. os.exit and
// unix.exit end the process from inside Run. Run does not flush buffered
// io files; call lualib.Flush after it.
func Run(L *lua.LState, s *Script) error {
	src := skipShebang(s.Source)
	fn, err := L.Load(bytes.NewReader(src), s.Name)
	if err != nil {
		return syntaxError(err, s.Name, src)
	}
	argt := L.NewTable()
	if s.Prog != "" {
		argt.RawSetInt(-1, lua.LString(s.Prog))
	}
	argt.RawSetInt(0, lua.LString(s.Arg0))
	for i, a := range s.Args {
		argt.RawSetInt(i+1, lua.LString(a))
	}
	L.SetGlobal("arg", argt)

	var caught *Error
	handler := L.NewFunction(func(L *lua.LState) int {
		v := L.Get(1)
		caught = &Error{Value: v, Message: describe(L, v), Traceback: traceback(L)}
		L.Push(v)
		return 1
	})
	L.Push(fn)
	for _, a := range s.Args {
		L.Push(lua.LString(a))
	}
	err = L.PCall(len(s.Args), 0, handler)
	if err == nil {
		return nil
	}
	if caught != nil {
		return caught
	}
	// The handler did not run (gopher-lua reports a stack overflow that
	// way): use what the ApiError holds.
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return &Error{Value: ae.Object, Message: lua.LVAsString(ae.Object), Traceback: ae.StackTrace}
	}
	return &Error{Value: lua.LString(err.Error()), Message: err.Error()}
}

// skipShebang blanks a first line that starts with '#', keeping its
// newline so that line numbers do not move.
func skipShebang(src []byte) []byte {
	if len(src) == 0 || src[0] != '#' {
		return src
	}
	if i := bytes.IndexByte(src, '\n'); i >= 0 {
		return src[i:]
	}
	return nil
}

// describe turns an error value into the message vow prints. Strings and
// numbers already carry their position when the code gave one (error's
// level); other values are converted with tostring and get the position
// of the innermost Lua function on the stack, the code that raised them.
func describe(L *lua.LState, v lua.LValue) string {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return lua.LVAsString(v)
	}
	var msg string
	if mt, ok := L.GetMetaField(v, "__tostring").(*lua.LFunction); ok && mt != nil {
		if err := L.CallByParam(lua.P{Fn: mt, NRet: 1, Protect: true}, v); err == nil {
			msg = lua.LVAsString(L.Get(-1))
			L.Pop(1)
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("(error object is a %s value)", v.Type().String())
	}
	return where(L) + msg
}

// where returns "SOURCE:LINE: " for the innermost Lua function on the
// stack, or "" when there is none.
func where(L *lua.LState) string {
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return ""
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.What != "G" && dbg.CurrentLine > 0 {
			return fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
		}
	}
}

// traceback returns gopher-lua's stack traceback from the function that
// raised the error outwards, leaving out the error handler.
func traceback(L *lua.LState) string {
	tb, ok := L.GetField(L.GetGlobal("debug"), "traceback").(*lua.LFunction)
	if !ok {
		return ""
	}
	// Level 2: skip debug.traceback's caller, the error handler.
	if err := L.CallByParam(lua.P{Fn: tb, NRet: 1, Protect: true}, lua.LNil, lua.LNumber(2)); err != nil {
		return ""
	}
	s := lua.LVAsString(L.Get(-1))
	L.Pop(1)
	return strings.TrimSpace(s)
}

// syntaxError turns a compile error into the `FILE:LINE: message` form.
func syntaxError(err error, name string, src []byte) error {
	var ae *lua.ApiError
	var pe *parse.Error
	if errors.As(err, &ae) && ae.Cause != nil && errors.As(ae.Cause, &pe) {
		line := pe.Pos.Line
		near := fmt.Sprintf("'%s'", pe.Token)
		if line == parse.EOF {
			line = bytes.Count(src, []byte("\n")) + 1
			if len(src) > 0 && src[len(src)-1] == '\n' {
				line--
			}
			near = "<eof>"
		}
		msg := fmt.Sprintf("%s:%d: %s near %s", name, line, pe.Message, near)
		return &Error{Message: msg, Syntax: true}
	}
	msg := err.Error()
	if errors.As(err, &ae) {
		msg = lua.LVAsString(ae.Object)
	}
	return &Error{Message: strings.TrimSpace(msg), Syntax: true}
}
