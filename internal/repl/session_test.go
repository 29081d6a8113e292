package repl

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox/promise"
)

// fakeSandbox stands in for package sandbox in tests that must not
// really pledge: unix.pledge and unix.unveil record what was asked.
type fakeSandbox struct {
	mu        sync.Mutex
	set       promise.Set
	pledged   bool
	modes     []int
	committed bool
}

func (f *fakeSandbox) pledge(p, _ *string, mode int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes = append(f.modes, mode)
	if p == nil {
		return nil
	}
	set, err := promise.Parse(*p)
	if err != nil {
		return lualib.NewErrno(syscall.EINVAL, err.Error())
	}
	if f.pledged {
		set &= f.set
	}
	f.set, f.pledged = set, true
	return nil
}

func (f *fakeSandbox) Pledged() (promise.Set, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.set, f.pledged
}

func (f *fakeSandbox) unveil(path, perms *string) (int, error) {
	return 0, nil
}

// newFakeState returns a state with the unix module wired to f (or with
// no sandbox functions when f is nil).
func newFakeState(t *testing.T, f *fakeSandbox) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	opts := &lualib.Options{}
	if f != nil {
		opts.Pledge, opts.Unveil = f.pledge, f.unveil
	}
	lualib.OpenUnix(L, opts)
	return L
}

// piped runs a REPL session with pipes for stdin, stdout and stderr (so
// in line mode), driven by the test.
type piped struct {
	t      *testing.T
	in     *os.File
	mu     sync.Mutex
	out    bytes.Buffer // stdout and stderr, interleaved
	stdout bytes.Buffer
	stderr bytes.Buffer
	wake   chan struct{}
	mark   int
	done   chan int
}

func startPiped(t *testing.T, L *lua.LState, opts Options) *piped {
	t.Helper()
	p := &piped{t: t, wake: make(chan struct{}, 1), done: make(chan int, 1)}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p.in = inW
	var readers sync.WaitGroup
	collect := func(r *os.File, own *bytes.Buffer) {
		defer readers.Done()
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			own.Write(buf[:n])
			p.mu.Unlock()
			select {
			case p.wake <- struct{}{}:
			default:
			}
			if err != nil {
				r.Close()
				return
			}
		}
	}
	readers.Add(2)
	go collect(outR, &p.stdout)
	go collect(errR, &p.stderr)
	opts.Stdin, opts.Stdout, opts.Stderr = inR, outW, errW
	go func() {
		status := Run(L, opts)
		inR.Close()
		outW.Close()
		errW.Close()
		readers.Wait()
		p.done <- status
	}()
	t.Cleanup(func() { inW.Close() })
	return p
}

func (p *piped) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, s); err != nil {
		p.t.Fatalf("writing %q: %v", s, err)
	}
}

// expect waits for want in the combined output after the last match.
func (p *piped) expect(want string) {
	p.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		p.mu.Lock()
		s := p.out.String()
		p.mu.Unlock()
		if i := strings.Index(s[p.mark:], want); i >= 0 {
			p.mark += i + len(want)
			return
		}
		select {
		case <-p.wake:
		case <-deadline:
			p.t.Fatalf("no %q; output after the last match:\n%s", want, s[p.mark:])
		}
	}
}

// finish closes stdin and returns the exit status and the outputs.
func (p *piped) finish() (status int, stdout, stderr string) {
	p.t.Helper()
	p.in.Close()
	select {
	case status = <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatal("the REPL did not end at the end of its input")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return status, p.stdout.String(), p.stderr.String()
}

// runSession runs input through a whole session and returns what it wrote.
func runSession(t *testing.T, L *lua.LState, opts Options, input string) (status int, stdout, stderr string) {
	t.Helper()
	p := startPiped(t, L, opts)
	p.send(input)
	return p.finish()
}

func TestSession(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		noSandbox bool
		stdout    []string // each must appear, in order
		stderr    []string
		notOut    []string // must not appear in stdout
		notErr    []string
	}{
		{name: "bare expression prints", input: "1 + 2\n", stdout: []string{"vow> 3\n"}},
		{name: "=expr prints", input: "=math.max(1, 5)\n", stdout: []string{"5\n"}},
		{name: "several values", input: "1, 'a', nil\n", stdout: []string{"1\t\"a\"\tnil\n"}},
		{name: "statement prints nothing", input: "x = 41\nx + 1\n", stdout: []string{"vow> vow> 42\n"}},
		{name: "call without results prints nothing", input: "print\n(function() end)()\n7\n", stdout: []string{"function: 0x", "vow> vow> 7\n"}},
		{name: "table printed", input: "{b = 2, a = {1, 2}}\n", stdout: []string{"{a = {1, 2}, b = 2}\n"}},
		{name: "local lasts one line", input: "local y = 5\ny\n", stdout: []string{"vow> vow> nil\n"}},
		{name: "coroutine lives across lines", input: "co = coroutine.create(function() coroutine.yield(1) return 2 end)\n" +
			"coroutine.resume(co)\ncoroutine.resume(co)\n", stdout: []string{"true\t1\n", "true\t2\n"}},
		{name: "multi-line function", input: "function f(a)\n  return a * 2\nend\nf(21)\n",
			stdout: []string{"vow> >> >> vow> 42\n"}},
		{name: "multi-line table", input: "t = {\n  1,\n  2,\n}\n#t\n", stdout: []string{">> >> >> vow> 2\n"}},
		{name: "multi-line long string", input: "s = [[one\ntwo]]\ns\n", stdout: []string{">> vow> \"one\\ntwo\"\n"}},
		{name: "syntax error keeps the session", input: "x = = 1\n1\n",
			stderr: []string{"stdin:1: syntax error near '='\n"}, stdout: []string{"vow> vow> 1\n"}},
		{name: "syntax error in a multi-line chunk", input: "if x then\n  y = = 2\n3\n",
			stderr: []string{"stdin:2: syntax error near '='"}, stdout: []string{"vow> >> vow> 3\n"}},
		{name: "runtime error keeps the session", input: "error('boom')\n2\n",
			stderr: []string{"stdin:1: boom\n"}, stdout: []string{"2\n"}, notErr: []string{"traceback"}},
		{name: "error in a function shows the traceback", input: "function f() error('deep') end\nf()\n",
			stderr: []string{"stdin:1: deep\nstack traceback:\n", "in function 'f'"}},
		{name: "error value printed", input: "error({code = 1})\n", stderr: []string{"error: {code = 1}\n"}},
		{name: "errno raised by assert", input: `assert(unix.open("/nonexistent/x"))` + "\n",
			stderr: []string{"error: unix.Errno(ENOENT: open() failed: No such file or directory)\n"}},
		{name: "errno returned", input: `unix.open("/nonexistent/x")` + "\n",
			stdout: []string{"nil\tunix.Errno(ENOENT: open() failed: No such file or directory)\n"}},
		{name: "help", input: ".help\n", stdout: []string{"Commands:", ".promises", ".exit", "Tab", "Ctrl-C", "PLEDGE_PENALTY_RETURN_EPERM"}},
		{name: "promises summary", input: ".promises\n",
			stdout: []string{"Not pledged", "  stdio", "rt_sigreturn", "  rpath", "  anet", ".promises NAME"}},
		{name: "promises detail", input: ".promises rpath tty\n",
			stdout: []string{"rpath: 21 system calls", "with any arguments:", "chdir getcwd", "only when the arguments pass:",
				"openat     flags arg2; grants read", "tty: 1 system call\n", "ioctl      arg1 in {0x5401", ",\n               0x540f,", "0x5427}\n"}},
		{name: "promises error flag", input: ".promises error\n", stdout: []string{"error: not a promise"}},
		{name: "promises unknown", input: ".promises stdoi\n", stderr: []string{`unknown promise "stdoi" (did you mean "stdio"?)`}},
		{name: "unknown command", input: ".frob\n.pro\n", stderr: []string{"unknown command .frob (.help lists the commands)",
			"unknown command .pro (did you mean .promises?)"}},
		{name: "exit command", input: ".exit\n1 + 1\n", notOut: []string{"2\n"}},
		{name: "dot number is Lua", input: ".5\n", stdout: []string{"0.5\n"}},
		{name: "banner says EPERM", input: "", stdout: []string{".help", "defaults to PLEDGE_PENALTY_RETURN_EPERM"}},
		{name: "banner without pledge", input: "", noSandbox: true, notOut: []string{"PLEDGE_PENALTY_RETURN_EPERM"}},
		{name: "pledge changes the prompt", input: `unix.pledge("stdio rpath")` + "\n1\n",
			stdout: []string{"vow> true\nvow[stdio rpath]> 1\n"}},
		{name: "pledges narrow", input: `unix.pledge("stdio rpath")` + "\n" + `unix.pledge("stdio")` + "\n",
			stdout: []string{"vow[stdio rpath]> true\nvow[stdio]> "}},
		{name: "bad pledge keeps the prompt", input: `unix.pledge("stdoi")` + "\n",
			stdout: []string{"nil\tunix.Errno(EINVAL: pledge() failed: unknown promise \"stdoi\" (did you mean \"stdio\"?))\nvow> "}},
		{name: "kill mode warned", input: `unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_KILL_PROCESS)` + "\n",
			stderr: []string{"this pledge kills vow on a violation"}},
		{name: "kill mode as a flag table warned", input: `unix.pledge("stdio", nil, {unix.PLEDGE_PENALTY_KILL_PROCESS, unix.PLEDGE_STDERR_LOGGING})` + "\n",
			stderr: []string{"this pledge kills vow on a violation (mode 0x11)"}},
		{name: "EPERM mode not warned", input: `unix.pledge("stdio", nil, {unix.PLEDGE_PENALTY_RETURN_EPERM, unix.PLEDGE_STDERR_LOGGING})` + "\n",
			notErr: []string{"kills"}},
		{name: "EPERM explained under a pledge", input: `unix.pledge("stdio")` + "\n" +
			`nil, "open /etc/hosts: operation not permitted"` + "\n",
			stderr: []string{`EPERM under pledge("stdio")`, ".promises"}},
		{name: "EPERM not explained without a pledge", input: `nil, "open /etc/hosts: operation not permitted"` + "\n",
			notErr: []string{"EPERM under"}},
		{name: "unveil commit shows in the prompt", input: `unix.unveil("/tmp", "r")` + "\n" + "unix.unveil()\n" +
			`unix.pledge("stdio")` + "\n",
			stdout: []string{"vow> true\nvow> true\nvow[+unveil]> true\nvow[stdio +unveil]> "}},
		{name: "promises marked in force", input: `unix.pledge("stdio tty")` + "\n.promises\n",
			stdout: []string{`In force: "stdio tty"`, "* stdio", "  rpath", "* tty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeSandbox{}
			var L *lua.LState
			if tt.noSandbox {
				L = newFakeState(t, nil)
			} else {
				L = newFakeState(t, fake)
			}
			status, stdout, stderr := runSession(t, L, Options{Pledged: fake.Pledged}, tt.input)
			if status != 0 {
				t.Errorf("exit status %d", status)
			}
			check := func(what, got string, want, not []string) {
				rest := got
				for _, w := range want {
					i := strings.Index(rest, w)
					if i < 0 {
						t.Errorf("%s lacks %q (in order); it is:\n%s", what, w, got)
						return
					}
					rest = rest[i+len(w):]
				}
				for _, n := range not {
					if strings.Contains(got, n) {
						t.Errorf("%s has %q; it is:\n%s", what, n, got)
					}
				}
			}
			check("stdout", stdout, tt.stdout, tt.notOut)
			check("stderr", stderr, tt.stderr, tt.notErr)
		})
	}
}

func TestSessionDefaultPledgeMode(t *testing.T) {
	fake := &fakeSandbox{}
	L := newFakeState(t, fake)
	runSession(t, L, Options{Pledged: fake.Pledged}, strings.Join([]string{
		`unix.pledge("stdio rpath")`,
		`unix.pledge("stdio", nil)`,
		`unix.pledge("stdio", nil, nil)`,
		`unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_KILL_PROCESS)`,
		`unix.pledge("stdio", nil, 0)`,
		`unix.pledge()`,
	}, "\n")+"\n")
	want := []int{2, 2, 2, 1, 0, 2}
	if len(fake.modes) != len(want) {
		t.Fatalf("modes %v, want %v", fake.modes, want)
	}
	for i := range want {
		if fake.modes[i] != want[i] {
			t.Errorf("modes %v, want %v (RETURN_EPERM = 2 unless a mode is given)", fake.modes, want)
			break
		}
	}
}

func TestSessionPledgeInCoroutine(t *testing.T) {
	fake := &fakeSandbox{}
	L := newFakeState(t, fake)
	_, stdout, stderr := runSession(t, L, Options{Pledged: fake.Pledged},
		`coroutine.wrap(function() return unix.pledge("stdio") end)()`+"\n")
	if !strings.Contains(stdout, "vow> true\nvow[stdio]> ") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}

func TestSessionUnveiledOption(t *testing.T) {
	committed := false
	L := newFakeState(t, nil)
	L.SetGlobal("commit", L.NewFunction(func(*lua.LState) int { committed = true; return 0 }))
	_, stdout, _ := runSession(t, L, Options{
		Pledged:  func() (promise.Set, bool) { return 0, false },
		Unveiled: func() bool { return committed },
	}, "commit()\n")
	if !strings.Contains(stdout, "vow> vow[+unveil]> ") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

func TestSessionEndsInsideChunk(t *testing.T) {
	L := newFakeState(t, nil)
	status, stdout, _ := runSession(t, L, Options{}, "function f()\n")
	if status != 0 || !strings.HasSuffix(stdout, ">> \n") {
		t.Errorf("status %d, stdout:\n%q", status, stdout)
	}
}

// TestSessionInterrupt sends SIGINT to the test process while the REPL
// handles it: a half-typed chunk is dropped, and a running loop stops.
func TestSessionInterrupt(t *testing.T) {
	L := newFakeState(t, nil)
	p := startPiped(t, L, Options{})
	p.send("function f()\n")
	p.expect(">> ")
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	p.expect("\nvow> ")
	p.send("f\n")
	p.expect("nil\n") // the chunk was dropped: f is not defined
	p.send("while true do end\n")
	for i := 0; ; i++ {
		syscall.Kill(os.Getpid(), syscall.SIGINT)
		time.Sleep(50 * time.Millisecond)
		p.mu.Lock()
		done := strings.Contains(p.stderr.String(), "interrupted\n")
		p.mu.Unlock()
		if done {
			break
		}
		if i == 200 {
			t.Fatal("the loop was not interrupted")
		}
	}
	p.send("6 * 7\n")
	p.expect("42\n")
	// A coroutine made after the interrupt runs in the new context.
	p.send("co = coroutine.wrap(function() coroutine.yield(1) return 2 end)\n")
	p.send("co()\n")
	p.expect("1\n")
	p.send("co()\n")
	p.expect("2\n")
	if status, _, _ := p.finish(); status != 0 {
		t.Errorf("exit status %d", status)
	}
}

func TestSessionHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	L := newFakeState(t, nil)
	runSession(t, L, Options{HistoryFile: path}, "x = 1\n\nx = 1\n  \nfunction f()\nend\n.help\n")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := "x = 1\nfunction f()\nend\n.help\n"; string(data) != want {
		t.Errorf("history file:\n%q\nwant\n%q", data, want)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("history file mode %v, want 0600", st.Mode().Perm())
	}
	// A second session appends.
	runSession(t, newFakeState(t, nil), Options{HistoryFile: path}, "2\n")
	data, _ = os.ReadFile(path)
	if !strings.HasSuffix(string(data), ".help\n2\n") {
		t.Errorf("second session did not append:\n%q", data)
	}
}

func TestHistoryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	var lines []string
	for i := 0; i < 30; i++ {
		lines = append(lines, "line"+string(rune('a'+i%26))+strings.Repeat("!", i/26))
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := openHistory(path, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.add("new"); err != nil {
		t.Fatal(err)
	}
	h.close()
	data, _ := os.ReadFile(path)
	want := strings.Join(append(lines[20:], "new"), "\n") + "\n"
	if string(data) != want {
		t.Errorf("trimmed history:\n%q\nwant\n%q", data, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after trimming, want 0600", st.Mode().Perm())
	}
	if len(h.lines) != 10 || h.lines[0] != lines[20] {
		t.Errorf("loaded %q", h.lines)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestHistoryLooseModeNarrowed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hist")
	if err := os.WriteFile(path, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := openHistory(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.close()
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestHistoryUnavailable(t *testing.T) {
	L := newFakeState(t, nil)
	status, stdout, stderr := runSession(t, L, Options{HistoryFile: filepath.Join(t.TempDir(), "no", "such", "dir", "hist")}, "1\n")
	if status != 0 || !strings.Contains(stdout, "1\n") {
		t.Errorf("status %d, stdout %q", status, stdout)
	}
	if !strings.Contains(stderr, "vow: history is not saved:") {
		t.Errorf("stderr %q lacks the history warning", stderr)
	}
}

func TestDefaultHistoryFile(t *testing.T) {
	t.Setenv("HOME", "/home/someone")
	if got := DefaultHistoryFile(); got != "/home/someone/.vow_history" {
		t.Errorf("DefaultHistoryFile() = %q", got)
	}
	t.Setenv("HOME", "")
	if got := DefaultHistoryFile(); got != "" {
		t.Errorf("without HOME: %q, want \"\"", got)
	}
}

func TestMakePrompt(t *testing.T) {
	tests := []struct {
		set               promise.Set
		pledged, unveiled bool
		want              string
	}{
		{0, false, false, "vow> "},
		{promise.MustParse("stdio rpath"), true, false, "vow[stdio rpath]> "},
		{promise.MustParse("stdio"), true, true, "vow[stdio +unveil]> "},
		{0, false, true, "vow[+unveil]> "},
		{0, true, false, "vow[]> "},
		{promise.MustParse("stdio error"), true, false, "vow[stdio error]> "},
	}
	for _, tt := range tests {
		if got := makePrompt(tt.set, tt.pledged, tt.unveiled); got != tt.want {
			t.Errorf("makePrompt(%v, %v, %v) = %q, want %q", tt.set, tt.pledged, tt.unveiled, got, tt.want)
		}
	}
}
