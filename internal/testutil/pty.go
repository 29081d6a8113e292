package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// OpenPTY opens a new pseudo-terminal pair the way posix_openpt,
// unlockpt and ptsname do: /dev/ptmx gives the master, TIOCSPTLCK unlocks
// the slave and TIOCGPTN names it. Both ends are close-on-exec; hand the
// slave to a child through exec.Cmd's Stdin/Stdout/Stderr.
func OpenPTY() (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fail := func(what string, err error) (*os.File, *os.File, error) {
		unix.Close(m)
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		return fail("unlock the pty slave (TIOCSPTLCK)", err)
	}
	n, err := unix.IoctlGetUint32(m, unix.TIOCGPTN)
	if err != nil {
		return fail("find the pty slave (TIOCGPTN)", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	s, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fail("open "+name, err)
	}
	return os.NewFile(uintptr(m), "/dev/ptmx"), os.NewFile(uintptr(s), name), nil
}

// PTY drives a program through a pseudo-terminal, expect-style: Start runs
// it with the slave as its controlling terminal and stdio, Send types,
// Expect waits for output.
type PTY struct {
	t             testing.TB
	master, slave *os.File
	// Timeout bounds each Expect (default 20 s).
	Timeout time.Duration

	mu     sync.Mutex
	out    bytes.Buffer // everything read from the master, raw
	mark   int          // Expect searches the plain output after this offset
	closed bool         // the reader saw EOF or an error
	wake   chan struct{}
}

// NewPTY opens a pseudo-terminal of 80×24 for a test, skipping the test
// when the system has none, and closes it at the end of the test.
func NewPTY(t testing.TB) *PTY {
	t.Helper()
	m, s, err := OpenPTY()
	if err != nil {
		t.Skipf("testutil: no pseudo-terminals here: %v", err)
	}
	p := &PTY{t: t, master: m, slave: s, Timeout: 20 * time.Second, wake: make(chan struct{}, 1)}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatalf("testutil: set the pty size: %v", err)
	}
	t.Cleanup(func() {
		p.slave.Close()
		p.master.Close()
	})
	return p
}

// Start runs cmd in a new session whose controlling terminal is the
// slave, with the slave as stdin, stdout and stderr, and starts
// collecting its output. The test keeps no copy of the slave, so the
// master reads EOF once the program and its children are gone.
func (p *PTY) Start(cmd *exec.Cmd) error {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, p.slave, p.slave
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0 // the child's fd 0
	if err := cmd.Start(); err != nil {
		return err
	}
	p.slave.Close()
	go p.read()
	return nil
}

func (p *PTY) read() {
	buf := make([]byte, 4096)
	for {
		n, err := p.master.Read(buf)
		p.mu.Lock()
		p.out.Write(buf[:n])
		if err != nil {
			p.closed = true // EIO once every slave descriptor is closed
		}
		p.mu.Unlock()
		select {
		case p.wake <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// Send types s on the terminal (use "\r" for Enter, "\t" for Tab, "\x03"
// for Ctrl-C, "\x04" for Ctrl-D).
func (p *PTY) Send(s string) {
	p.t.Helper()
	if _, err := p.master.WriteString(s); err != nil {
		p.t.Fatalf("testutil: typing %q: %v", s, err)
	}
}

// ansi matches the terminal control sequences Plain removes.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[@-Z\\-_]|\r|\x07`)

// Plain returns s without ANSI control sequences, carriage returns and
// bells: what a reader of the screen would have seen written, in order.
func Plain(s string) string { return ansi.ReplaceAllString(s, "") }

// Output returns everything the program wrote so far, as Plain text.
func (p *PTY) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plain()
}

// plain is Plain of the output, leaving out a control sequence still
// being written (so that offsets into it stay valid as output arrives).
// Callers hold p.mu.
func (p *PTY) plain() string {
	raw := p.out.String()
	if i := strings.LastIndexByte(raw, '\x1b'); i >= 0 && len(raw)-i < 64 {
		if loc := ansi.FindStringIndex(raw[i:]); loc == nil || loc[0] != 0 {
			raw = raw[:i]
		}
	}
	return Plain(raw)
}

// Expect waits until the output written since the previous successful
// Expect contains want (compared as Plain text), then moves past it. It
// fails the test, showing the output, when Timeout passes or the program
// closes the terminal first.
func (p *PTY) Expect(want string) {
	p.t.Helper()
	deadline := time.NewTimer(p.Timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		plain := p.plain()
		closed := p.closed
		p.mu.Unlock()
		if i := strings.Index(plain[p.mark:], want); i >= 0 {
			p.mark += i + len(want)
			return
		}
		if closed {
			p.t.Fatalf("testutil: the program closed the terminal before writing %q; after the last match it wrote:\n%s", want, plain[p.mark:])
		}
		select {
		case <-p.wake:
		case <-deadline.C:
			p.t.Fatalf("testutil: no %q within %v; after the last match the program wrote:\n%s", want, p.Timeout, plain[p.mark:])
		}
	}
}

// Rest returns the Plain output after the last match.
func (p *PTY) Rest() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.plain()[p.mark:]
}

// Command returns the command RunChild would run for the current test
// (the test binary, running only this test, with InChild true) without
// starting it, for tests that need to set it up themselves, e.g. on a
// pseudo-terminal.
func Command(t testing.TB, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("testutil: cannot find the test binary: %v", err)
	}
	cmd := exec.Command(exe, "-test.run="+runPattern(t.Name()), "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// Wait waits for cmd, started with p.Start, to end, and fails t (showing
// the terminal's output) if it fails or has not ended within 20 seconds,
// when it is killed.
func (p *PTY) Wait(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s: %v; output:\n%s", cmd.Path, err, p.Output())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Errorf("%s did not end; output:\n%s", cmd.Path, p.Output())
	}
}
