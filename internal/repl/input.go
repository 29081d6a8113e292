package repl

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/chzyer/readline"
	"golang.org/x/sys/unix"
)

// errInterrupt is what a lineReader returns when Ctrl-C cancelled the
// line being typed.
var errInterrupt = errors.New("interrupted")

// lineReader reads one line of input after showing a prompt. It returns
// io.EOF for Ctrl-D on an empty line (or the end of the input) and
// errInterrupt for Ctrl-C.
type lineReader interface {
	readLine(prompt string) (string, error)
}

// editor is the full line editor: chzyer/readline in raw mode, with
// completion and in-memory history. It needs the terminal ioctls (the
// "tty" promise once pledged).
type editor struct {
	rl    *readline.Instance
	inFd  int
	outFd int

	mu       sync.Mutex
	raw      *readline.State // the mode to restore, while in raw mode
	onResize func()
	winch    chan os.Signal
}

// noClose keeps readline from closing the REPL's stdin.
type noClose struct{ io.Reader }

func (noClose) Close() error { return nil }

// newEditor starts a line editor on in and out, which must be terminals.
// history is loaded into its in-memory history.
func newEditor(in, out, errOut *os.File, comp completer, history []string, limit int) (*editor, error) {
	e := &editor{inFd: int(in.Fd()), outFd: int(out.Fd())}
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	cfg := &readline.Config{
		Stdin:                  noClose{in},
		Stdout:                 out,
		Stderr:                 errOut,
		HistoryLimit:           limit,
		DisableAutoSaveHistory: true,
		AutoComplete:           comp,
		FuncIsTerminal:         func() bool { return true },
		FuncGetWidth:           e.width,
		FuncMakeRaw:            e.makeRaw,
		FuncExitRaw:            e.exitRaw,
		FuncOnWidthChanged:     e.watchWidth,
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return nil, err
	}
	e.rl = rl
	for _, h := range history {
		_ = rl.SaveHistory(h)
	}
	return e, nil
}

func (e *editor) readLine(prompt string) (string, error) {
	e.rl.SetPrompt(prompt)
	line, err := e.rl.Readline()
	switch {
	case err == readline.ErrInterrupt:
		return "", errInterrupt
	case err != nil:
		return "", err
	}
	return line, nil
}

// remember adds an entered line to the editor's history (↑, Ctrl-R).
func (e *editor) remember(line string) { _ = e.rl.SaveHistory(line) }

// width is the terminal's width, 80 when it cannot be known (readline
// turns completion off for width 0).
func (e *editor) width() int {
	if ws, err := unix.IoctlGetWinsize(e.outFd, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
		return int(ws.Col)
	}
	return 80
}

func (e *editor) makeRaw() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.raw != nil {
		return nil
	}
	st, err := readline.MakeRaw(e.inFd)
	if err != nil {
		return err
	}
	e.raw = st
	return nil
}

func (e *editor) exitRaw() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.raw == nil {
		return nil
	}
	st := e.raw
	e.raw = nil
	return readline.Restore(e.inFd, st)
}

// watchWidth calls f on SIGWINCH while the editor is in use.
func (e *editor) watchWidth(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onResize = f
	if e.winch != nil {
		return
	}
	e.winch = make(chan os.Signal, 1)
	signal.Notify(e.winch, syscall.SIGWINCH)
	go func(ch chan os.Signal) {
		for range ch {
			e.mu.Lock()
			f, raw := e.onResize, e.raw != nil
			e.mu.Unlock()
			if f != nil && raw { // only while a line is being edited
				f()
			}
		}
	}(e.winch)
}

func (e *editor) close() {
	e.rl.Close()
	e.mu.Lock()
	if e.winch != nil {
		signal.Stop(e.winch)
		close(e.winch)
		e.winch = nil
	}
	e.mu.Unlock()
}

// lineMode reads lines as the kernel's line discipline delivers them: no
// raw mode, no completion. It is used when stdin is not a terminal and
// after a pledge without "tty". Ctrl-C arrives as SIGINT.
type lineMode struct {
	in     *bufio.Reader
	out    io.Writer
	sigint <-chan os.Signal
	// pending receives the outstanding read's result. A read is started
	// only when a line is wanted, so nothing reads stdin while Lua code
	// runs (io.read gets its input).
	pending chan lineResult
}

type lineResult struct {
	line string
	err  error
}

func newLineMode(in io.Reader, out io.Writer, sigint <-chan os.Signal) *lineMode {
	return &lineMode{in: bufio.NewReader(in), out: out, sigint: sigint}
}

func (m *lineMode) readLine(prompt string) (string, error) {
	io.WriteString(m.out, prompt)
	if m.pending == nil {
		ch := make(chan lineResult, 1)
		m.pending = ch
		go func() {
			line, err := m.in.ReadString('\n')
			ch <- lineResult{line, err}
		}()
	}
	select {
	case r := <-m.pending:
		m.pending = nil
		line := strings.TrimRight(r.line, "\r\n")
		if r.err != nil && r.line == "" {
			if r.err == io.EOF {
				fmt.Fprintln(m.out)
			}
			return "", r.err
		}
		return line, nil
	case <-m.sigint:
		// The kernel dropped the half-typed line and echoed ^C; the read
		// stays outstanding for the next line.
		fmt.Fprintln(m.out)
		return "", errInterrupt
	}
}
