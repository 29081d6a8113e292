package vowcmd

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/host"
	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

// asVowEnv makes the test binary behave as `vow` (the script part of
// cmd/vow), so the tests run the real parent/worker pair: the worker is
// this binary again.
const asVowEnv = "VOWCMD_TEST_AS_VOW"

func TestMain(m *testing.M) {
	sandbox.Init() // unix.spawn's launcher
	host.Init()    // vow.run's children
	if os.Getenv(asVowEnv) != "" {
		os.Exit(Script(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// The numbers violation reports show, as upstream prints them.
var (
	ordSocket = fmt.Sprintf("(ord=%03x)", unix.SYS_SOCKET)
	ordOpenat = fmt.Sprintf("(ord=%03x)", unix.SYS_OPENAT)
)

// vowRun is what one `vow ARGS` did.
type vowRun struct {
	stdout, stderr string
	exit           int // -1 when killed
	signal         syscall.Signal
}

// vowOpts are the inputs of one `vow ARGS`.
type vowOpts struct {
	stdin io.Reader
	dir   string
	env   []string
}

// runVow runs the test binary as vow with args and waits for it.
func runVow(t *testing.T, o vowOpts, args ...string) vowRun {
	t.Helper()
	cmd := vowCommand(t, o, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("starting vow: %v", err)
	}
	return vowResult(cmd, stdout.String(), stderr.String())
}

func vowCommand(t *testing.T, o vowOpts, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), asVowEnv+"=1")
	cmd.Env = append(cmd.Env, o.env...)
	cmd.Stdin = o.stdin
	cmd.Dir = o.dir
	return cmd
}

func vowResult(cmd *exec.Cmd, stdout, stderr string) vowRun {
	r := vowRun{stdout: stdout, stderr: stderr}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		r.exit, r.signal = -1, ws.Signal()
	} else {
		r.exit = ws.ExitStatus()
	}
	return r
}

// writeFile writes a file into dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runnerCase is one behaviour of `vow SCRIPT`, `vow -e` or `vow < SCRIPT`.
type runnerCase struct {
	name  string
	args  []string // "$DIR" is replaced by a scratch directory
	files map[string]string
	stdin string
	// want: exact stdout; exit status or signal; stderr exact (wantErr)
	// or by prefix (wantErrPrefix) or containing each of wantErrHas.
	wantOut       string
	wantExit      int
	wantSignal    syscall.Signal
	wantErr       *string
	wantErrPrefix string
	wantErrHas    []string
}

func str(s string) *string { return &s }

var runnerCases = []runnerCase{
	// exit statuses
	{name: "normal end", args: []string{"-e", `print("hi")`}, wantOut: "hi\n", wantErr: str("")},
	{name: "os.exit", args: []string{"-e", `print("x") os.exit(5)`}, wantOut: "x\n", wantExit: 5, wantErr: str("")},
	{name: "os.exit true", args: []string{"-e", `os.exit(true)`}, wantErr: str("")},
	{name: "os.exit false", args: []string{"-e", `os.exit(false)`}, wantExit: 1, wantErr: str("")},
	{name: "unix.exit keeps the low 8 bits", args: []string{"-e", `unix.exit(300)`}, wantExit: 44, wantErr: str("")},
	{name: "exit status across execve", args: []string{"-e", `unix.execve("/bin/sh", {"sh", "-c", "exit 7"})`}, wantExit: 7, wantErr: str("")},
	{name: "buffered output is flushed on exit", args: []string{"-e", `io.stdout:setvbuf("full") io.write("kept") os.exit(3)`},
		wantOut: "kept", wantExit: 3},
	{name: "buffered output is flushed at the end", args: []string{"-e", `io.stdout:setvbuf("full") io.write("kept")`},
		wantOut: "kept"},
	{name: "buffered output is flushed on an error", args: []string{"-e", `io.stdout:setvbuf("full") io.write("kept") error("x")`},
		wantOut: "kept", wantExit: 1, wantErrPrefix: "vow: (command line):1: x\n"},

	// uncaught errors: status 1, `vow: FILE:LINE: message` and a traceback
	{name: "error", args: []string{"-e", `error("boom")`}, wantExit: 1,
		wantErr: str("vow: (command line):1: boom\nstack traceback:\n\t[G]: in function 'error'\n\t(command line):1: in main chunk\n\t[G]: ?\n")},
	{name: "errno raised by assert", args: []string{"$DIR/e.lua"},
		files:    map[string]string{"e.lua": "local unix = require 'unix'\nassert(unix.open('/nonexistent/file'))\n"},
		wantExit: 1, wantErrPrefix: "vow: $DIR/e.lua:2: open() failed: No such file or directory\nstack traceback:\n"},
	{name: "error in a function", args: []string{"$DIR/f.lua"},
		files:    map[string]string{"f.lua": "local function f()\n  local t = nil\n  return t.x\nend\nf()\n"},
		wantExit: 1, wantErrHas: []string{"vow: $DIR/f.lua:3: attempt to index", "\t$DIR/f.lua:3: in function 'f'", "\t$DIR/f.lua:5: in main chunk"}},
	{name: "syntax error", args: []string{"$DIR/s.lua"}, files: map[string]string{"s.lua": "print(1)\nx = = 2\n"},
		wantExit: 1, wantErr: str("vow: $DIR/s.lua:2: syntax error near '='\n")},
	{name: "bad argument type", args: []string{"-e", `unix.unveil({})`}, wantExit: 1,
		wantErrPrefix: "vow: (command line):1: bad argument #1 to 'unveil' (string expected, got table)\n"},
	{name: "bad argument type to pledge", args: []string{"-e", `unix.pledge("stdio", {})`}, wantExit: 1,
		wantErrPrefix: "vow: (command line):1: bad argument #2 to 'pledge' (string expected, got table)\n"},
	{name: "missing argument", args: []string{"-e", `unix.open()`}, wantExit: 1,
		wantErrPrefix: "vow: (command line):1: bad argument #1 to 'open' (string expected, got no value)\n"},

	// usage errors: status 2
	{name: "script does not exist", args: []string{"$DIR/nope.lua"}, wantExit: 2,
		wantErr: str("vow: cannot read the script $DIR/nope.lua: no such file or directory\n")},
	{name: "script is a directory", args: []string{"$DIR"}, wantExit: 2,
		wantErr: str("vow: cannot read the script $DIR: is a directory\n")},
	{name: "unknown option", args: []string{"-x"}, wantExit: 2,
		wantErrPrefix: "vow: unknown option \"-x\" (to run a script whose name starts with '-', write vow -- -x)\n\nusage:\n"},
	{name: "-e without code", args: []string{"-e"}, wantExit: 2,
		wantErrPrefix: "vow: -e needs the code to run: vow -e CODE [ARGS...]\n"},
	{name: "empty script name", args: []string{""}, wantExit: 2, wantErrPrefix: "vow: empty script name\n"},

	// arg, ..., the script sources
	{name: "arg of a file", args: []string{"$DIR/a.lua", "x", "y z"},
		files:   map[string]string{"a.lua": "#!/usr/bin/env vow\nprint(arg[0], arg[1], arg[2], #arg, ...)\n"},
		wantOut: "$DIR/a.lua\tx\ty z\t2\tx\ty z\n", wantErr: str("")},
	{name: "arg of -e", args: []string{"-e", `print(arg[0], #arg, ...)`, "a", "b"}, wantOut: "-e\t2\ta\tb\n", wantErr: str("")},
	{name: "script on stdin", stdin: "print('stdin', arg[0], #arg)\n", wantOut: "stdin\t-\t0\n", wantErr: str("")},
	{name: "script on stdin with -", args: []string{"-", "a"}, stdin: "print(arg[0], ...)", wantOut: "-\ta\n", wantErr: str("")},
	{name: "error in a script on stdin", stdin: "\nerror('e')", wantExit: 1, wantErrPrefix: "vow: stdin:2: e\n"},
	{name: "empty stdin", stdin: "", wantErr: str("")},
	{name: "-- before a name with a dash", args: []string{"--", "-d.lua", "q"}, files: map[string]string{"-d.lua": "print(arg[0], arg[1])"},
		wantOut: "-d.lua\tq\n", wantErr: str("")},
	{name: "globals", args: []string{"-e", `print(require("unix") == unix, type(string.format), type(io.open), type(os.time), type(coroutine.wrap), type(vow.run))`},
		wantOut: "true\tfunction\tfunction\tfunction\tfunction\tfunction\n", wantErr: str("")},
	{name: "the worker marker is hidden", args: []string{"-e", `
		print(os.getenv("VOW_SCRIPT_WORKER"))
		for _, kv in ipairs(unix.environ()) do assert(not kv:find("VOW_SCRIPT_WORKER", 1, true), kv) end`},
		wantOut: "nil\n", wantErr: str("")},
	{name: "the first descriptor is 3", args: []string{"-e", `print(unix.open("/dev/null"))`}, wantOut: "3\n", wantErr: str("")},

	// pledge from a script
	{name: "pledge EPERM mode", args: []string{"-e", `
		assert(unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))
		print(io.open("/etc/passwd"))
		print(unix.socket())`},
		wantOut: "nil\topen /etc/passwd: operation not permitted\t1\nnil\tsocket() failed: Operation not permitted\n", wantErr: str("")},
	{name: "pledge kill is reported", args: []string{"-e", `unix.pledge("stdio rpath") print("before") unix.socket() print("after")`},
		wantOut: "before\n", wantExit: -1, wantSignal: syscall.SIGSYS,
		wantErrPrefix: "vow: (command line) killed by the pledge: socket " + ordSocket + " needs one of the promises 'inet', 'dns', 'anet' (SIGSYS)\n" +
			"vow: promises in force: stdio rpath\n"},
	{name: "pledge kill in a file", args: []string{"$DIR/k.lua"}, files: map[string]string{"k.lua": `unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_KILL_PROCESS) io.open("/etc/passwd")`},
		wantExit: -1, wantSignal: syscall.SIGSYS,
		wantErrPrefix: "vow: $DIR/k.lua killed by the pledge: openat " + ordOpenat + " needs one of the promises 'rpath', 'dns' (SIGSYS)\n"},
	{name: "a kill pledge stays under a later EPERM pledge", args: []string{"-e", `
		assert(unix.pledge("stdio rpath"))
		assert(unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))
		print(unix.open("/etc/passwd"))
		unix.socket()`},
		wantOut: "nil\topen() failed: Operation not permitted\n", wantExit: -1, wantSignal: syscall.SIGSYS,
		wantErrHas: []string{"killed by the pledge: socket " + ordSocket + " needs one of the promises 'inet', 'dns', 'anet' (SIGSYS)", "vow: promises in force: stdio\n"}},
	{name: "SIGSYS without a kill pledge is not blamed on it", args: []string{"-e", `
		assert(unix.pledge("stdio", nil, unix.PLEDGE_PENALTY_RETURN_EPERM))
		unix.raise(unix.SIGSYS)`},
		wantExit: -1, wantSignal: syscall.SIGSYS, wantErr: str("")},
	{name: "vow.run runs code in a sandboxed child", args: []string{"-e", `
		print(vow.run("return 1 + ...", nil, 41))
		print(vow.run("return io.open('/etc/passwd')"))
		local ok, err = vow.run("error('boom')")
		print(ok, err.kind, err.message)
		print(require("vow") == vow)`},
		wantOut: "true\t42\ntrue\tnil\topen /etc/passwd: operation not permitted\t1\nnil\terror\tvow.run:1: boom\ntrue\n", wantErr: str("")},
	{name: "other signals pass through", args: []string{"-e", `unix.kill(unix.getpid(), unix.SIGTERM)`},
		wantExit: -1, wantSignal: syscall.SIGTERM, wantErr: str("")},
	{name: "unknown promise", args: []string{"-e", `print(unix.pledge("stdoi"))`},
		wantOut: "nil\tpledge() failed: unknown promise 'stdoi' (did you mean 'stdio'?)\n", wantErr: str("")},
}

func TestRunner(t *testing.T) {
	for _, tc := range runnerCases {
		t.Run(tc.name, func(t *testing.T) { checkRunnerCase(t, tc) })
	}
}

// nobodyRunnerCases are run again as the unprivileged user nobody.
var nobodyRunnerCases = []string{"normal end", "error", "pledge EPERM mode", "pledge kill is reported",
	"exit status across execve", "script does not exist"}

func TestRunnerAsNobody(t *testing.T) {
	if testutil.InChild(t) {
		if os.Getuid() != testutil.Nobody {
			t.Fatalf("child runs as uid %d, want %d", os.Getuid(), testutil.Nobody)
		}
		for _, tc := range runnerCases {
			for _, name := range nobodyRunnerCases {
				if tc.name == name {
					t.Run(tc.name, func(t *testing.T) { checkRunnerCase(t, tc) })
				}
			}
		}
		return
	}
	res := testutil.RunChild(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, "PASS") {
		t.Fatalf("as nobody (exit %d, signal %v):\n%s\n%s", res.ExitCode, res.Signal, res.Stdout, res.Stderr)
	}
}

func checkRunnerCase(t *testing.T, tc runnerCase) {
	t.Helper()
	dir := t.TempDir()
	subst := func(s string) string { return strings.ReplaceAll(s, "$DIR", dir) }
	for name, content := range tc.files {
		writeFile(t, dir, name, content)
	}
	var args []string
	for _, a := range tc.args {
		args = append(args, subst(a))
	}
	o := vowOpts{stdin: strings.NewReader(tc.stdin), dir: dir}
	r := runVow(t, o, args...)
	if r.exit != tc.wantExit || r.signal != tc.wantSignal {
		t.Errorf("exit %d signal %v, want exit %d signal %v\nstderr:\n%s", r.exit, r.signal, tc.wantExit, tc.wantSignal, r.stderr)
	}
	if want := subst(tc.wantOut); r.stdout != want {
		t.Errorf("stdout:\n%q\nwant:\n%q", r.stdout, want)
	}
	if tc.wantErr != nil {
		if want := subst(*tc.wantErr); r.stderr != want {
			t.Errorf("stderr:\n%q\nwant:\n%q", r.stderr, want)
		}
	}
	if want := subst(tc.wantErrPrefix); !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr:\n%q\nwant a prefix:\n%q", r.stderr, want)
	}
	for _, part := range tc.wantErrHas {
		if want := subst(part); !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// TestRunnerForwardsSignals: a SIGTERM sent to vow reaches the worker,
// and vow then dies of it too.
func TestRunnerForwardsSignals(t *testing.T) {
	cmd := vowCommand(t, vowOpts{}, "-e", `print(unix.getpid()) io.stdout:flush() unix.nanosleep(30) print("not reached")`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the worker's pid: %v (stderr %q)", err, stderr.String())
	}
	var worker int
	fmt.Sscan(line, &worker)
	if worker == 0 || worker == cmd.Process.Pid {
		t.Errorf("the script runs in process %d, vow is %d: want a separate worker", worker, cmd.Process.Pid)
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	r := vowResult(cmd, "", stderr.String())
	if r.signal != syscall.SIGTERM {
		t.Errorf("vow ended with exit %d signal %v, want signal SIGTERM (stderr %q)", r.exit, r.signal, r.stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("vow took %v to end after SIGTERM", d)
	}
}

func TestParseScriptArgs(t *testing.T) {
	code := func(s string) *string { return &s }
	tests := []struct {
		args     []string
		terminal bool
		want     *invocation
		wantErr  string
	}{
		{nil, false, &invocation{}, ""},
		{nil, true, nil, "REPL"},
		{[]string{"--"}, true, nil, "REPL"},
		{[]string{"x.lua", "-e", "y"}, true, &invocation{path: "x.lua", args: []string{"-e", "y"}}, ""},
		{[]string{"-e", "print(1)", "a"}, true, &invocation{code: code("print(1)"), args: []string{"a"}}, ""},
		{[]string{"-e"}, false, nil, "-e needs the code to run"},
		{[]string{"-", "a"}, true, &invocation{args: []string{"a"}}, ""},
		{[]string{"--", "-x.lua"}, false, &invocation{path: "-x.lua", args: []string{}}, ""},
		{[]string{"-v"}, false, nil, `unknown option "-v"`},
	}
	for _, tt := range tests {
		got, err := parseScriptArgs(tt.args, tt.terminal)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.args, got, tt.want)
		}
	}
}
