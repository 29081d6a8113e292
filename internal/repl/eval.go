package repl

import (
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
)

// chunkName names typed code in messages (stdin:1: ...), as lua.c does.
const chunkName = "stdin"

// chunkStatus is what eval did with a chunk.
type chunkStatus int

const (
	chunkDone       chunkStatus = iota // run, or rejected with an error shown
	chunkIncomplete                    // unfinished: more lines are needed
)

// compile turns typed code into a function the way Lua 5.3's
// interpreter does: "=expr" is "return expr"; otherwise the code is
// first tried as an expression whose values are returned, then as a
// statement. incomplete reports code that ends too early (an unclosed
// block, bracket or long string), which is not an error yet.
//
// An expression is compiled as the arguments of an identity function
// rather than after a plain return, so that calling a function at the
// prompt is not a tail call and its frame shows in tracebacks. The code
// stays on line 1, and the closing parenthesis on a line of its own
// survives a trailing comment.
func compile(L *lua.LState, code string) (fn *lua.LFunction, incomplete bool, err error) {
	expr, isExpr := strings.CutPrefix(code, "=")
	if fn, err := L.Load(strings.NewReader("return (function(...) return ... end)("+expr+"\n)"), chunkName); err == nil {
		return fn, false, nil
	}
	if isExpr {
		code = "return " + expr
	}
	fn, err = L.Load(strings.NewReader(code), chunkName)
	if err != nil {
		if isIncomplete(err.Error(), code) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("%s", syntaxMessage(err.Error()))
	}
	return fn, false, nil
}

// isIncomplete recognises gopher-lua's parse errors at the end of the
// input that more lines could fix (Lua's "<eof>" test in lua.c): a
// syntax error at EOF, an unfinished long string or comment, and an
// unfinished quoted string whose line ends with a backslash.
func isIncomplete(msg, code string) bool {
	if !strings.Contains(msg, " at EOF:") {
		return false
	}
	msg = strings.TrimSpace(msg)
	switch {
	case strings.HasSuffix(msg, "syntax error"),
		strings.HasSuffix(msg, "unterminated multiline string"),
		strings.HasSuffix(msg, "invalid multiline comment"):
		return true
	case strings.HasSuffix(msg, "unterminated string"):
		return strings.HasSuffix(code, "\\")
	}
	return false
}

var (
	nearRe = regexp.MustCompile(`^(\S+) line:(\d+)\(column:\d+\) near '(.*)':\s+(.*?)\s*$`)
	eofRe  = regexp.MustCompile(`^(\S+) at EOF:\s+(.*?)\s*$`)
)

// syntaxMessage rewrites gopher-lua's parse errors in Lua's own style:
// "stdin line:1(column:5) near '=':   syntax error" becomes
// "stdin:1: syntax error near '='".
func syntaxMessage(msg string) string {
	msg = strings.TrimSpace(msg)
	if m := nearRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s:%s: %s near '%s'", m[1], m[2], m[4], m[3])
	}
	if m := eofRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%s: %s at the end of the input", m[1], m[2])
	}
	return msg
}

// eval compiles and runs one chunk, printing its values or its error.
func (s *session) eval(code string) chunkStatus {
	fn, incomplete, err := compile(s.L, code)
	if incomplete {
		return chunkIncomplete
	}
	if err != nil {
		fmt.Fprintln(s.errOut, err)
		return chunkDone
	}
	vals, errVal, interrupted := s.run(fn)
	switch {
	case interrupted:
		fmt.Fprintln(s.errOut, "interrupted")
	case errVal != nil:
		fmt.Fprintln(s.errOut, s.errorText(errVal))
		s.hintEPERM([]lua.LValue{errVal.Object})
	default:
		if len(vals) > 0 {
			fmt.Fprintln(s.out, s.pr.values(vals))
		}
		s.hintEPERM(vals)
	}
	return chunkDone
}

// run calls fn and returns its results, or its error. Ctrl-C (SIGINT)
// while it runs cancels it between two Lua instructions (a blocking
// system call finishes first).
func (s *session) run(fn *lua.LFunction) (vals []lua.LValue, errVal *lua.ApiError, interrupted bool) {
	L := s.L
	var hit atomic.Bool
	done, stopped := make(chan struct{}), make(chan struct{})
	drain(s.sigint)
	go func() {
		defer close(stopped)
		select {
		case <-s.sigint:
			hit.Store(true)
			s.cancel()
		case <-done:
		}
	}()
	top := L.GetTop()
	L.Push(fn)
	err := L.PCall(0, lua.MultRet, nil)
	close(done)
	<-stopped
	if hit.Load() {
		s.newContext()
	}
	if err != nil {
		L.SetTop(top)
		if hit.Load() {
			return nil, nil, true
		}
		if ae, ok := err.(*lua.ApiError); ok {
			return nil, ae, false
		}
		return nil, &lua.ApiError{Object: lua.LString(err.Error())}, false
	}
	n := L.GetTop() - top
	for i := 1; i <= n; i++ {
		vals = append(vals, L.Get(top+i))
	}
	L.SetTop(top)
	return vals, nil, false
}

// errorText renders a runtime error: its message (a non-string error
// value through the printer), and the traceback when the error happened
// inside a function rather than in the typed chunk itself.
func (s *session) errorText(e *lua.ApiError) string {
	msg := ""
	if str, ok := e.Object.(lua.LString); ok {
		msg = string(str)
	} else {
		msg = "error: " + s.pr.value(e.Object)
	}
	var frames []string
	deeper := false
	for _, l := range strings.Split(e.StackTrace, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || t == "stack traceback:" || t == "[G]: ?" {
			continue
		}
		frames = append(frames, "\t"+t)
		if !strings.HasSuffix(t, "in main chunk") && !strings.HasPrefix(t, "[G]:") {
			deeper = true
		}
	}
	if deeper {
		msg += "\nstack traceback:\n" + strings.Join(frames, "\n")
	}
	return msg
}

// hintEPERM explains an EPERM among vals when a pledge is in force: the
// pledge most likely refused the call.
func (s *session) hintEPERM(vals []lua.LValue) {
	set, pledged := s.opts.Pledged()
	if !pledged {
		return
	}
	for _, v := range vals {
		if isEPERM(v) {
			s.note("EPERM under pledge(%q): the pledge most likely refused a system call here; "+
				".promises lists what each promise allows.", set.String())
			return
		}
	}
}

// isEPERM reports whether v is a unix.Errno EPERM or a message saying
// "operation not permitted" (io.open's errors).
func isEPERM(v lua.LValue) bool {
	switch v := v.(type) {
	case *lua.LUserData:
		e, ok := v.Value.(*lualib.Errno)
		return ok && e.Errno == syscall.EPERM
	case lua.LString:
		return strings.Contains(strings.ToLower(string(v)), "operation not permitted")
	}
	return false
}
