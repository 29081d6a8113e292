package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/sandbox"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// Options configures Run. The zero value reads os.Stdin, writes os.Stdout
// and os.Stderr, keeps no history file and asks package sandbox what is
// pledged.
type Options struct {
	// Stdin, Stdout and Stderr default to the process's. Line editing
	// and completion need Stdin and Stdout to be terminals; otherwise
	// lines are read as they come, with prompts still shown.
	Stdin, Stdout, Stderr *os.File

	// HistoryFile is where entered lines are kept between sessions
	// (created with mode 0600); "" keeps none. vow passes
	// DefaultHistoryFile(). The file is opened before the first line is
	// read, so history keeps being saved after any pledge or unveil.
	HistoryFile string
	// HistoryLimit bounds the file: when it holds more lines at start,
	// the oldest are dropped. 0 means DefaultHistoryLimit.
	HistoryLimit int

	// Pledged reports the promises in force and whether the process has
	// pledged, for the prompt; nil means sandbox.Pledged.
	Pledged func() (promise.Set, bool)
	// Unveiled reports whether unveiled paths have been committed
	// (enforced). When nil, the REPL counts the commits made through
	// unix.unveil at its prompt.
	Unveiled func() bool
}

// Run runs the interactive loop on L until Ctrl-D on an empty line or
// .exit, and returns the exit status: 0, or 1 when reading the input
// fails. (os.exit and unix.exit end the process from inside.) L is ready to use: standard
// libraries and the unix module (lualib.OpenUnix) opened by the caller.
//
// Run replaces unix.pledge in L with a wrapper whose default mode is
// PLEDGE_PENALTY_RETURN_EPERM, so that a call forbidden by a pledge typed
// at the prompt fails with EPERM instead of killing the session
// (interfaces.md §2); an explicit mode is passed on unchanged. It also
// wraps unix.unveil to notice commits, and handles SIGINT itself while
// it runs (Ctrl-C cancels the line being typed, or interrupts the chunk
// being run: L gets a cancellable context derived from L.Context(), and
// L's own context is put back when Run returns).
//
// Each line is added to the history; lines are evaluated as in Lua 5.3's
// interpreter: an expression (or "=expr") prints its values, an unfinished
// chunk continues on a ">> " prompt, and errors are shown without ending
// the session. Lines starting with a dot are REPL commands (.help).
func Run(L *lua.LState, opts Options) int {
	s := newSession(L, opts)
	defer s.close()
	return s.loop()
}

// session is one run of the REPL.
type session struct {
	L      *lua.LState
	opts   Options
	out    io.Writer
	errOut io.Writer
	hist   *history
	pr     *printer

	reader lineReader
	editor *editor // nil unless line editing was started
	sigint chan os.Signal

	// committed is set when unix.unveil() (the commit) succeeded at the
	// prompt.
	committed bool
	// degraded is set once line editing had to be given up.
	degraded bool

	// The context of L while the session runs: Ctrl-C cancels it to
	// interrupt running code, and a new one replaces it. It lasts the
	// whole session because coroutines keep the context they were
	// created under.
	cancel     context.CancelFunc
	parentCtx  context.Context // L's own context, restored at the end
	hadContext bool
}

func newSession(L *lua.LState, opts Options) *session {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Pledged == nil {
		opts.Pledged = sandbox.Pledged
	}
	s := &session{
		L: L, opts: opts, out: opts.Stdout, errOut: opts.Stderr,
		pr:     newPrinter(L),
		sigint: make(chan os.Signal, 1),
	}
	signal.Notify(s.sigint, os.Interrupt)
	s.parentCtx = L.Context()
	s.hadContext = s.parentCtx != nil
	if !s.hadContext {
		s.parentCtx = context.Background()
	}
	s.newContext()

	hist, err := openHistory(opts.HistoryFile, opts.HistoryLimit)
	if err != nil {
		s.note("history is not saved: %v", err)
	}
	s.hist = hist
	s.wrapSandbox()

	s.reader = newLineMode(opts.Stdin, opts.Stdout, s.sigint)
	if isTerminal(opts.Stdin) && isTerminal(opts.Stdout) {
		if ed, err := newEditor(opts.Stdin, opts.Stdout, opts.Stderr, completer{L}, hist.lines, opts.HistoryLimit); err != nil {
			s.note("line editing is off: %v", err)
		} else {
			s.editor, s.reader = ed, ed
		}
	} else if _, err := unix.IoctlGetTermios(int(opts.Stdin.Fd()), unix.TCGETS); errors.Is(err, unix.EPERM) {
		s.degrade()
	}
	s.banner()
	return s
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// newContext gives L a fresh cancellable context.
func (s *session) newContext() {
	if s.cancel != nil {
		s.cancel()
	}
	ctx, cancel := context.WithCancel(s.parentCtx)
	s.cancel = cancel
	s.L.SetContext(ctx)
}

func (s *session) close() {
	signal.Stop(s.sigint)
	s.cancel()
	if s.hadContext {
		s.L.SetContext(s.parentCtx)
	} else {
		s.L.RemoveContext()
	}
	if s.editor != nil {
		s.editor.close()
	}
	s.hist.close()
}

// note writes a message from the REPL itself on stderr, wrapped to 78
// columns.
func (s *session) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprint(s.errOut, wrap(strings.Fields("vow: "+msg), "", 78, "     "))
}

func (s *session) banner() {
	fmt.Fprintf(s.out, "vow: Lua 5.1 (gopher-lua) with the unix module. .help lists the commands.\n")
	if _, ok := s.unixFunc("pledge"); ok {
		fmt.Fprintf(s.out, "unix.pledge() at this prompt defaults to PLEDGE_PENALTY_RETURN_EPERM:\n"+
			"a call the pledge forbids fails with EPERM instead of killing vow.\n")
	}
}

// prompt shows what is in force: vow> , vow[stdio rpath]> , and
// +unveil once unveiled paths are committed.
func (s *session) prompt() string {
	set, pledged := s.opts.Pledged()
	unveiled := s.committed || s.opts.Unveiled != nil && s.opts.Unveiled()
	return makePrompt(set, pledged, unveiled)
}

func makePrompt(set promise.Set, pledged, unveiled bool) string {
	var parts []string
	if pledged {
		parts = append(parts, set.String())
	}
	if unveiled {
		parts = append(parts, "+unveil")
	}
	if len(parts) == 0 {
		return "vow> "
	}
	return "vow[" + strings.TrimSpace(strings.Join(parts, " ")) + "]> "
}

// contPrompt is shown while a chunk is unfinished.
const contPrompt = ">> "

func (s *session) loop() int {
	var chunk []string
	for {
		drain(s.sigint)
		p := contPrompt
		if len(chunk) == 0 {
			p = s.prompt()
		}
		line, err := s.reader.readLine(p)
		switch {
		case err == errInterrupt:
			chunk = nil
			continue
		case err == io.EOF:
			return 0
		case err != nil:
			s.note("reading input: %v", err)
			return 1
		}
		if err := s.hist.add(line); err != nil {
			s.note("history: %v (not saving any more)", err)
			s.hist.close()
			s.hist = &history{last: line}
		}
		if s.editor != nil && !s.degraded {
			s.editor.remember(line)
		}
		if len(chunk) == 0 && isCommand(line) {
			if exit, status := s.command(line); exit {
				return status
			}
			continue
		}
		chunk = append(chunk, line)
		if s.eval(strings.Join(chunk, "\n")) == chunkIncomplete {
			continue
		}
		chunk = nil
		s.afterEval()
	}
}

func drain(ch chan os.Signal) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// afterEval switches to line mode when the terminal cannot be put in raw
// mode any more (a pledge without "tty").
func (s *session) afterEval() {
	if s.editor == nil || s.degraded {
		return
	}
	if _, err := unix.IoctlGetTermios(int(s.opts.Stdin.Fd()), unix.TCGETS); err != nil {
		s.degrade()
	}
}

// degrade gives up line editing and says why and what still works.
func (s *session) degrade() {
	s.degraded = true
	s.reader = newLineMode(s.opts.Stdin, s.opts.Stdout, s.sigint)
	why := "the terminal can no longer be switched to raw mode"
	if set, ok := s.opts.Pledged(); ok && !set.Has(promise.Tty) {
		why = fmt.Sprintf("the pledge (%q) has no \"tty\" promise, so %s", set.String(), why)
	}
	s.note("line editing is off: %s. Tab completion and ↑/↓ history are gone; "+
		"the terminal's own editing (Backspace, Ctrl-U, Ctrl-W), Ctrl-C, Ctrl-D and the history file still work. "+
		"Pledge \"tty\" as well to keep line editing.", why)
}

// unixFunc returns the function unix[name] of the unix table in L.
func (s *session) unixFunc(name string) (*lua.LTable, bool) {
	t, ok := s.L.GetGlobal("unix").(*lua.LTable)
	if !ok {
		return nil, false
	}
	_, ok = t.RawGetString(name).(*lua.LFunction)
	return t, ok
}

// wrapSandbox replaces unix.pledge and unix.unveil with wrappers: pledge
// gets the REPL's default mode (RETURN_EPERM) and unveil's commits are
// counted for the prompt. Both pass everything else through, errors
// included.
func (s *session) wrapSandbox() {
	if t, ok := s.unixFunc("pledge"); ok {
		orig := t.RawGetString("pledge").(*lua.LFunction)
		eperm := lua.LValue(lua.LNumber(sandbox.PenaltyReturnEPERM))
		if v, ok := t.RawGetString("PLEDGE_PENALTY_RETURN_EPERM").(lua.LNumber); ok {
			eperm = v
		}
		t.RawSetString("pledge", s.L.NewFunction(func(L *lua.LState) int {
			args := []lua.LValue{L.Get(1), L.Get(2), L.Get(3)}
			for i := 4; i <= L.GetTop(); i++ {
				args = append(args, L.Get(i))
			}
			if args[2] == lua.LNil {
				args[2] = eperm
			}
			n := call(L, orig, args)
			if n > 0 && lua.LVAsBool(L.Get(-n)) {
				s.afterPledge(args)
			}
			return n
		}))
	}
	if t, ok := s.unixFunc("unveil"); ok {
		orig := t.RawGetString("unveil").(*lua.LFunction)
		t.RawSetString("unveil", s.L.NewFunction(func(L *lua.LState) int {
			var args []lua.LValue
			for i := 1; i <= L.GetTop(); i++ {
				args = append(args, L.Get(i))
			}
			commit := L.Get(1) == lua.LNil && L.Get(2) == lua.LNil
			n := call(L, orig, args)
			if commit && n > 0 && lua.LVAsBool(L.Get(-n)) {
				s.committed = true
			}
			return n
		}))
	}
}

// call calls fn with args on top of L's stack and returns how many
// results it left there. Lua errors propagate.
func call(L *lua.LState, fn *lua.LFunction, args []lua.LValue) int {
	top := L.GetTop()
	L.Push(fn)
	for _, a := range args {
		L.Push(a)
	}
	L.Call(len(args), lua.MultRet)
	return L.GetTop() - top
}

// afterPledge tells what a successful pledge at the prompt did when it
// is not what the prompt shows.
func (s *session) afterPledge(args []lua.LValue) {
	if _, isStr := args[0].(lua.LString); !isStr {
		return // unix.pledge(nil, ...): no new promises
	}
	if _, pledged := s.opts.Pledged(); !pledged {
		s.note("pledge succeeded but nothing is enforced: %v", seccompMissing())
	}
	if m, ok := modeOf(args[2]); ok && m&sandbox.PenaltyMask != sandbox.PenaltyReturnEPERM {
		s.note("this pledge kills vow on a violation (mode %#x); pass unix.PLEDGE_PENALTY_RETURN_EPERM to get EPERM", int(m))
	}
}

func seccompMissing() error {
	if err := sandbox.SeccompAvailable(); err != nil {
		return err
	}
	return errors.New("seccomp is not available in this kernel")
}

// modeOf reads a pledge mode argument as unix.pledge does: a number, or a
// table of numbers that are OR-ed.
func modeOf(v lua.LValue) (sandbox.Mode, bool) {
	switch v := v.(type) {
	case lua.LNumber:
		return sandbox.Mode(v), true
	case *lua.LTable:
		var m sandbox.Mode
		for i := 1; i <= v.Len(); i++ {
			n, ok := v.RawGetInt(i).(lua.LNumber)
			if !ok {
				return 0, false
			}
			m |= sandbox.Mode(n)
		}
		return m, true
	}
	return 0, false
}
