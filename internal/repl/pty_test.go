package repl

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox"
)

// The tests here drive the REPL through a real pseudo-terminal: the test
// binary re-executes itself (testutil.Command) on the slave side, as its
// controlling terminal, and runs Run there with unix.pledge and
// unix.unveil wired to package sandbox, so pledges are real and stay in
// the child.

// historyEnv names the history file the child uses.
const historyEnv = "VOW_REPL_TEST_HISTORY"

// childREPL is the child's side: a real session on the terminal. The
// exit status is written on the terminal for the parent to check.
func childREPL(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	lualib.OpenUnix(L, &lualib.Options{
		Pledge: func(promises, execpromises *string, mode int) error {
			if promises == nil {
				return nil // the support probe
			}
			return sandbox.Pledge(*promises, execpromises, sandbox.Mode(mode))
		},
		Unveil: func(path, perms *string) (int, error) {
			switch {
			case path == nil && perms == nil:
				return 0, sandbox.UnveilCommit()
			case path != nil && *path == "" && perms == nil:
				return sandbox.LandlockABI(), nil
			case path == nil || perms == nil:
				return 0, lualib.NewErrno(22, "give a path and permissions, or neither to commit")
			}
			return 0, sandbox.Unveil(*path, *perms)
		},
	})
	status := Run(L, Options{HistoryFile: os.Getenv(historyEnv)})
	fmt.Printf("repl exit status %d\n", status)
	awaitAck()
}

// awaitAck waits for the parent to have read everything (it types Enter)
// before the child exits: output written just before the terminal's last
// user goes away can be lost to the reader on the master side.
func awaitAck() {
	bufio.NewReader(os.Stdin).ReadString('\n')
}

// startTerminal starts the child REPL of the running test on a new
// pseudo-terminal and waits for its first prompt. It returns the
// terminal and the history file.
func startTerminal(t *testing.T) (*testutil.PTY, string) {
	t.Helper()
	hist := filepath.Join(t.TempDir(), "history")
	pty := testutil.NewPTY(t)
	cmd := testutil.Command(t, historyEnv+"="+hist)
	if err := pty.Start(cmd); err != nil {
		t.Fatalf("starting the REPL: %v", err)
	}
	t.Cleanup(func() { pty.Wait(t, cmd) })
	pty.Expect("defaults to PLEDGE_PENALTY_RETURN_EPERM")
	pty.Expect("vow> ")
	return pty, hist
}

// exitTerminal leaves with Ctrl-D on an empty line and checks the status.
// Call it once the prompt is shown: typed before that, while the
// terminal is between its normal and raw modes, Ctrl-D may be lost.
func exitTerminal(pty *testutil.PTY) {
	pty.Send("\x04")
	pty.Expect("repl exit status 0\n")
	pty.Send("\r")
}

func requireSeccomp(t *testing.T) {
	t.Helper()
	if err := sandbox.SeccompAvailable(); err != nil {
		t.Skipf("seccomp filters are not available in this kernel: %v", err)
	}
}

func TestTerminalEditing(t *testing.T) {
	if testutil.InChild(t) {
		childREPL(t)
		return
	}
	pty, hist := startTerminal(t)

	pty.Send("1 + 2\r")
	pty.Expect("\n3\nvow> ")

	// Completion of a field, then Ctrl-C drops the line.
	pty.Send("unix.pl\t")
	pty.Expect("unix.pledge")
	pty.Send("\x03")
	pty.Expect("^C\nvow> ")

	// Completion of a promise name inside unix.pledge's string.
	pty.Send(`x = unix.pledge("std` + "\t")
	pty.Expect(`x = unix.pledge("stdio`)
	pty.Send("\x03")
	pty.Expect("vow> ")

	// A chunk over several lines.
	pty.Send("function f()\r")
	pty.Expect(">> ")
	pty.Send("  return 42\r")
	pty.Expect(">> ")
	pty.Send("end\r")
	pty.Expect("vow> ")
	pty.Send("f()\r")
	pty.Expect("\n42\nvow> ")

	// Ctrl-C on a continuation line drops the whole chunk.
	pty.Send("function g()\r")
	pty.Expect(">> ")
	pty.Send("\x03")
	pty.Expect("vow> ")
	pty.Send("g\r")
	pty.Expect("\nnil\nvow> ")

	// ↑ recalls the previous line.
	pty.Send("\x1b[A")
	pty.Expect("vow> g")
	pty.Send("\r")
	pty.Expect("\nnil\nvow> ")

	// A syntax error does not end the session.
	pty.Send("x = = 1\r")
	pty.Expect("stdin:1: syntax error near '='")
	pty.Expect("vow> ")

	// Ctrl-C interrupts running code (the terminal is in its normal mode
	// while code runs, so it is SIGINT).
	// Until the loop runs the terminal may still be in raw mode, where
	// Ctrl-C is a key; so Ctrl-C is typed until the loop stops (a
	// leftover one cancels an empty line).
	pty.Send("while true do end\r")
	pty.Expect("while true do end\n")
	for i := 0; !strings.Contains(pty.Rest(), "interrupted\n"); i++ {
		if i == 100 {
			t.Fatalf("the loop was not interrupted; output:\n%s", pty.Rest())
		}
		pty.Send("\x03")
		time.Sleep(100 * time.Millisecond)
	}
	pty.Expect("interrupted\nvow> ")

	// Tables are printed.
	pty.Send("{1, 2, k = {v = true}}\r")
	pty.Expect("{1, 2, k = {v = true}}\nvow> ")

	exitTerminal(pty)

	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	for _, want := range []string{"1 + 2\n", "function f()\n  return 42\nend\nf()\n", "while true do end\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("history lacks %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), "unix.pl") {
		t.Errorf("history holds a cancelled line:\n%s", data)
	}
	if st, err := os.Stat(hist); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("history file mode: %v %v, want 0600", st.Mode().Perm(), err)
	}
}

// TestTerminalPledge is the newcomer's session: vow, then
// unix.pledge("stdio"), then io.open("/etc/hosts") fails clearly, with the
// prompt showing the pledge. Without "tty" line editing stops, and the
// REPL says so and keeps working in line mode.
func TestTerminalPledge(t *testing.T) {
	if testutil.InChild(t) {
		childREPL(t)
		return
	}
	requireSeccomp(t)
	pty, hist := startTerminal(t)

	pty.Send(`unix.pledge("stdio")` + "\r")
	pty.Expect("\ntrue\n")
	pty.Expect(`vow: line editing is off: the pledge ("stdio") has no "tty"`)
	pty.Expect("vow[stdio]> ")

	pty.Send(`io.open("/etc/hosts")` + "\r")
	pty.Expect(`nil	"open /etc/hosts: operation not permitted"`)
	pty.Expect(`vow: EPERM under pledge("stdio")`)
	pty.Expect("vow[stdio]> ")

	pty.Send(`unix.open("/etc/hosts")` + "\r")
	pty.Expect("nil\tunix.Errno(EPERM: open() failed: Operation not permitted)")
	pty.Expect("vow[stdio]> ")

	// Line mode: multi-line input, Ctrl-C (now SIGINT) and history.
	pty.Send("function f()\r")
	pty.Expect(">> ")
	pty.Send("\x03")
	pty.Expect("vow[stdio]> ")
	pty.Send("f\r")
	pty.Expect("nil\nvow[stdio]> ")
	pty.Send("after = 1\r")
	pty.Expect("vow[stdio]> ")

	// The process stays pledged: promises can only shrink.
	pty.Send(`unix.pledge("stdio rpath")` + "\r")
	pty.Expect("true\nvow[stdio]> ")

	exitTerminal(pty)

	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	for _, want := range []string{`io.open("/etc/hosts")`, "after = 1"} {
		if !strings.Contains(string(data), want+"\n") {
			t.Errorf("history lacks %q (written after the pledge):\n%s", want, data)
		}
	}
}

// TestTerminalPledgeTTY pledges with "tty": line editing and completion
// keep working under the pledge.
func TestTerminalPledgeTTY(t *testing.T) {
	if testutil.InChild(t) {
		childREPL(t)
		return
	}
	requireSeccomp(t)
	pty, _ := startTerminal(t)

	pty.Send(`unix.pledge("stdio tty")` + "\r")
	pty.Expect("true\nvow[stdio tty]> ")

	pty.Send("math.flo\t")
	pty.Expect("math.floor")
	pty.Send("(2.5)\r")
	pty.Expect("\n2\nvow[stdio tty]> ")

	pty.Send(`io.open("/etc/hosts")` + "\r")
	pty.Expect("operation not permitted")
	pty.Expect("vow[stdio tty]> ")

	pty.Send("unix.getpp\t")
	pty.Expect("unix.getppid")
	pty.Send("\x03")
	pty.Expect("vow[stdio tty]> ")

	if strings.Contains(pty.Output(), "line editing is off") {
		t.Errorf("line editing was given up under a pledge with tty:\n%s", pty.Output())
	}
	exitTerminal(pty)
}

// TestTerminalUnveil commits unveiled paths: the prompt shows +unveil.
func TestTerminalUnveil(t *testing.T) {
	if testutil.InChild(t) {
		childREPL(t)
		return
	}
	if sandbox.LandlockABI() == 0 {
		t.Skip("Landlock is not enabled in this kernel")
	}
	requireSeccomp(t)
	pty, _ := startTerminal(t)

	pty.Send(`unix.unveil("/etc/hosts", "r")` + "\r")
	pty.Expect("true\nvow> ")
	pty.Send("unix.unveil()\r")
	pty.Expect("true\nvow[+unveil]> ")
	pty.Send(`unix.pledge("stdio rpath tty")` + "\r")
	pty.Expect("true\nvow[stdio rpath tty +unveil]> ")
	pty.Send(`io.open("/etc/passwd")` + "\r")
	pty.Expect("permission denied")
	pty.Send(`io.open("/etc/hosts"):read("*l") ~= nil` + "\r")
	pty.Expect("\ntrue\nvow[stdio rpath tty +unveil]> ")
	exitTerminal(pty)
}
