package luahost

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/vow-sandbox/vow/host"
	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/lualib"
	"github.com/vow-sandbox/vow/sandbox"
)

// The Lua scenarios are embedded so that a child running as nobody needs
// no access to the source tree.
//
//go:embed testdata/*.lua
var luaTests embed.FS

// probeEnv makes the test binary a probe program for execpromises.lua:
// it tries a socket, a read and a create and prints the outcomes.
const probeEnv = "LUAHOST_TEST_PROBE"

// probeBinEnv passes the path of testutil's static probe program.
const probeBinEnv = "LUAHOST_TEST_PROBE_BIN"

// tmpEnv passes the scenario's scratch directory to the child.
const tmpEnv = "LUAHOST_TEST_TMPDIR"

func TestMain(m *testing.M) {
	sandbox.Init() // unix.spawn's launcher
	host.Init()    // vow.run's children
	if os.Getenv(probeEnv) != "" {
		os.Exit(probe())
	}
	code := m.Run()
	testutil.CleanupProbe()
	os.Exit(code)
}

// probe runs as the program exec'd under execpromises.
func probe() int {
	outcome := func(err error) string {
		if err == nil {
			return "ok"
		}
		var n syscall.Errno
		if errors.As(err, &n) {
			return unix.ErrnoName(n)
		}
		return err.Error()
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.Close(fd)
	}
	fmt.Println("socket:", outcome(err))
	fd, err = unix.Open("/etc/passwd", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
	}
	fmt.Println("read:", outcome(err))
	fd, err = unix.Open(filepath.Join(os.Getenv("PROBE_DIR"), "after"), unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o600)
	if err == nil {
		unix.Close(fd)
	}
	fmt.Println("create:", outcome(err))
	return 0
}

// runScenario is the child's side: it runs testdata/name in a vow
// interpreter with the globals the scenarios use, and exits with 0, the
// script's own exit status, or 1 after printing an uncaught error.
func runScenario(name string) {
	src, err := luaTests.ReadFile("testdata/" + name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	L := NewState(Config{})
	L.SetGlobal("TMPDIR", lua.LString(os.Getenv(tmpEnv)))
	L.SetGlobal("LANDLOCK_ABI", lua.LNumber(sandbox.LandlockABI()))
	L.SetGlobal("PROBE", lua.LString(exe))
	L.SetGlobal("PROBE_ENV", lua.LString(probeEnv+"=1"))
	L.SetGlobal("PROBE_BIN", lua.LString(os.Getenv(probeBinEnv)))
	err = Run(L, &Script{Name: name, Source: src, Arg0: name})
	lualib.Flush(L)
	if err != nil {
		os.Stderr.WriteString(err.(*Error).Report())
		os.Exit(1)
	}
	os.Exit(0)
}

// scenarios are the pledge and unveil behaviours seen from Lua. Each runs
// in a re-executed test binary, as root and (nobody set) as nobody.
var scenarios = []struct {
	file       string
	wantExit   int
	wantSignal syscall.Signal
	wantStdout string
	landlock   bool // needs Landlock
	nobody     bool
}{
	{"pledge_eperm.lua", 0, 0, "ok\n", false, true},
	{"pledge_kill.lua", -1, syscall.SIGSYS, "pledged\n", false, true},
	{"pledge_kill_process.lua", -1, syscall.SIGSYS, "rpath works\n", false, false},
	{"pledge_error_promise.lua", 0, 0, "ok\n", false, false},
	{"pledge_empty.lua", 42, 0, "", false, true},
	{"pledge_logging.lua", 0, 0, "ok\n", false, false},
	{"unveil.lua", 0, 0, "ok\n", true, true},
	{"unveil_remove.lua", 0, 0, "ok\n", true, true},
	{"execpromises.lua", 0, 0, "socket: EPERM\nread: ok\ncreate: EPERM\n", false, true},
	{"spawn.lua", 0, 0, "ok\n", true, true},
}

func TestSandboxFromLua(t *testing.T) {
	for _, user := range []string{"root", "nobody"} {
		t.Run(user, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(strings.TrimSuffix(sc.file, ".lua"), func(t *testing.T) {
					if testutil.InChild(t) {
						runScenario(sc.file)
					}
					if sc.landlock && sandbox.LandlockABI() == 0 {
						t.Skip("Landlock is not available in this kernel, so unveil restricts nothing")
					}
					opts := &testutil.Options{}
					if user == "nobody" {
						if !sc.nobody {
							t.Skip("covered as root")
						}
						opts.UID, opts.GID = testutil.Nobody, testutil.Nobody
					}
					tmp := scratchDir(t, opts.UID)
					opts.Env = []string{tmpEnv + "=" + tmp}
					if sc.file == "spawn.lua" {
						opts.Env = append(opts.Env, probeBinEnv+"="+testutil.Probe(t))
					}
					res := testutil.RunChild(t, opts)
					if res.ExitCode != sc.wantExit || res.Signal != sc.wantSignal {
						t.Errorf("exit %d, signal %v; want exit %d, signal %v\nstderr:\n%s", res.ExitCode, res.Signal,
							sc.wantExit, sc.wantSignal, res.Stderr)
					}
					if res.Stdout != sc.wantStdout {
						t.Errorf("stdout %q, want %q\nstderr:\n%s", res.Stdout, sc.wantStdout, res.Stderr)
					}
					if sc.file == "execpromises.lua" {
						if _, err := os.Stat(filepath.Join(tmp, "before")); err != nil {
							t.Errorf("the file created before the exec is missing: %v", err)
						}
					}
				})
			}
		})
	}
}

// scratchDir returns a temporary directory the child (running as uid)
// can use.
func scratchDir(t *testing.T, uid uint32) string {
	t.Helper()
	tmp := t.TempDir()
	if uid != 0 {
		// t.TempDir's parent is private to root.
		if err := os.Chmod(filepath.Dir(tmp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(tmp, int(uid), int(uid)); err != nil {
			t.Fatal(err)
		}
	}
	return tmp
}

// TestPledgeMistakes covers the argument checks of unix.pledge and
// unix.unveil that fail before anything reaches the kernel, so they can
// run in the test process itself.
func TestPledgeMistakes(t *testing.T) {
	tests := []struct {
		name, code, want string
	}{
		{"unknown promise", `return unix.pledge("stdoi")`,
			"EINVAL pledge() failed: unknown promise 'stdoi' (did you mean 'stdio'?)"},
		{"unknown promise without suggestion", `return unix.pledge("stdio zzzzzzzz")`,
			"EINVAL pledge() failed: unknown promise 'zzzzzzzz' (valid promises: "},
		{"openbsd-only promise", `return unix.pledge("stdio getpw")`,
			"EINVAL pledge() failed: unknown promise 'getpw' (OpenBSD only; on Linux use 'rpath'"},
		{"unknown execpromise", `return unix.pledge("stdio exec", "stdio rpat")`,
			"EINVAL pledge() failed: execpromises: unknown promise 'rpat' (did you mean 'rpath'?)"},
		{"execpromises wider", `return unix.pledge("stdio exec", "stdio inet")`,
			"EINVAL pledge() failed: execpromises 'stdio inet exec' are not a subset of promises 'stdio exec' (extra: inet)"},
		{"execpromises without promises", `return unix.pledge(nil, "stdio")`,
			"EINVAL pledge() failed: execpromises given without promises"},
		{"too long", `return unix.pledge(string.rep("stdio ", 50))`,
			"EINVAL pledge() failed: promise string is 300 bytes, at most 255 are allowed"},
		{"bad penalty", `return unix.pledge("stdio", nil, 3)`,
			"EINVAL pledge() failed: unknown penalty 3 in mode 3: use unix.PLEDGE_PENALTY_KILL_THREAD (0)"},
		{"bad penalty with logging", `return unix.pledge("stdio", nil, 16 + 7)`,
			"EINVAL pledge() failed: unknown penalty 7 in mode 23"},
		{"unveil perms without path", `return unix.unveil(nil, "r")`,
			"EINVAL unveil() failed: permissions without a path"},
		{"unveil path without perms", `return unix.unveil("/tmp")`,
			`EINVAL unveil() failed: no permissions for "/tmp"`},
		{"unveil empty path", `return unix.unveil("", "r")`,
			`EINVAL unveil() failed: empty path: unveil("", nil) is the support probe`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := NewState(Config{})
			defer L.Close()
			if err := L.DoString(`local ok, err = (function() ` + tt.code + ` end)()
				assert(ok == nil, "want failure")
				RESULT = err:name() .. " " .. tostring(err)`); err != nil {
				t.Fatal(err)
			}
			got := lua.LVAsString(L.GetGlobal("RESULT"))
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %q\nwant %q…", got, tt.want)
			}
		})
	}
	if _, ok := sandbox.Pledged(); ok {
		t.Fatal("a mistake installed a pledge")
	}
}

func TestArgumentTypes(t *testing.T) {
	tests := []struct{ code, want string }{
		{`unix.pledge({})`, "bad argument #1 to 'pledge' (string expected, got table)"},
		{`unix.pledge("stdio", {})`, "bad argument #2 to 'pledge' (string expected, got table)"},
		{`unix.pledge("stdio", nil, "x")`, "bad argument #3 to 'pledge'"},
		{`unix.pledge("stdio", nil, 1.5)`, "bad argument #3 to 'pledge' (number has no integer representation)"},
		{`unix.unveil({})`, "bad argument #1 to 'unveil' (string expected, got table)"},
		{`unix.unveil("/tmp", true)`, "bad argument #2 to 'unveil' (string expected, got boolean)"},
		{`os.exit({})`, "bad argument #1 to 'exit' (number or boolean expected, got table)"},
	}
	for _, tt := range tests {
		L := NewState(Config{})
		err := Run(L, &Script{Name: "t.lua", Source: []byte(tt.code)})
		L.Close()
		var le *Error
		if !errors.As(err, &le) {
			t.Errorf("%s: got %v, want a Lua error", tt.code, err)
			continue
		}
		if want := "t.lua:1: " + tt.want; !strings.HasPrefix(le.Message, want) {
			t.Errorf("%s:\n got  %q\n want %q…", tt.code, le.Message, want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name, src   string
		wantMessage string
		wantTrace   []string // lines the traceback contains, in order
		syntax      bool
	}{
		{"error", "local x = 1\nerror('boom')", "s.lua:2: boom",
			[]string{"stack traceback:", "\t[G]: in function 'error'", "\ts.lua:2: in main chunk"}, false},
		{"errno from assert", "assert(unix.open('/nonexistent/x'))", "s.lua:1: open() failed: No such file or directory",
			[]string{"\t[G]: in function 'assert'", "\ts.lua:1: in main chunk"}, false},
		{"table value", "local function f()\n error({}) end\nf()", "s.lua:2: (error object is a table value)",
			[]string{"\ts.lua:2: in function 'f'", "\ts.lua:3: in main chunk"}, false},
		{"__tostring value", "error(setmetatable({}, {__tostring = function() return 'custom' end}))", "s.lua:1: custom", nil, false},
		{"runtime error", "local t\nreturn t.x", "s.lua:2: attempt to index a non-table object(nil) with key 'x'", nil, false},
		{"level 0", "error('bare', 0)", "bare", nil, false},
		{"stack overflow", "local function f() return 1 + f() end\nf()", "s.lua:1: stack overflow", []string{"\t..."}, false},
		{"syntax", "x = = 1", "s.lua:1: syntax error near '='", nil, true},
		{"syntax at eof", "for i = 1, 2 do\n", "s.lua:1: syntax error near <eof>", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := NewState(Config{})
			defer L.Close()
			err := Run(L, &Script{Name: "s.lua", Source: []byte(tt.src)})
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want *Error", err)
			}
			if le.Message != tt.wantMessage {
				t.Errorf("message %q, want %q", le.Message, tt.wantMessage)
			}
			if le.Syntax != tt.syntax {
				t.Errorf("Syntax = %v, want %v", le.Syntax, tt.syntax)
			}
			if tt.syntax && le.Traceback != "" {
				t.Errorf("a syntax error has no traceback, got %q", le.Traceback)
			}
			if !tt.syntax && !strings.HasPrefix(le.Traceback, "stack traceback:\n") {
				t.Errorf("traceback %q", le.Traceback)
			}
			rest := le.Traceback
			for _, line := range tt.wantTrace {
				i := strings.Index(rest, line)
				if i < 0 {
					t.Errorf("traceback lacks %q (in order):\n%s", line, le.Traceback)
					break
				}
				rest = rest[i+len(line):]
			}
			if strings.Contains(le.Traceback, "(anonymous)") {
				t.Errorf("the error handler shows in the traceback:\n%s", le.Traceback)
			}
			if want := "vow: " + tt.wantMessage + "\n"; !strings.HasPrefix(le.Report(), want) {
				t.Errorf("report %q, want prefix %q", le.Report(), want)
			}
		})
	}
}

func TestRunArgs(t *testing.T) {
	L := NewState(Config{})
	defer L.Close()
	err := Run(L, &Script{
		Name:   "a.lua",
		Source: []byte("#!/usr/bin/env vow\nRESULT = table.concat({arg[-1], arg[0], arg[1], arg[2], #arg, select('#', ...), ...}, ',')\nLINE = debug.getinfo(1, 'l').currentline"),
		Arg0:   "a.lua",
		Args:   []string{"x", "y z"},
		Prog:   "vow",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := lua.LVAsString(L.GetGlobal("RESULT")), "vow,a.lua,x,y z,2,2,x,y z"; got != want {
		t.Errorf("arg and ... give %q, want %q", got, want)
	}
	if got := lua.LVAsString(L.GetGlobal("LINE")); got != "3" {
		t.Errorf("after a #! line the third line is line %s", got)
	}
}

func TestOsExitFlushes(t *testing.T) {
	tests := []struct {
		name, code, stdout string
		exit               int
	}{
		{"number", `io.stdout:setvbuf("full") io.write("kept") os.exit(3)`, "kept", 3},
		{"true", `os.exit(true)`, "", 0},
		{"false", `os.exit(false)`, "", 1},
		{"none", `os.exit()`, "", 0},
		{"string number", `os.exit("7")`, "", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testutil.InChild(t) {
				L := NewState(Config{})
				_ = Run(L, &Script{Name: "e.lua", Source: []byte(tt.code)})
				os.Exit(99)
			}
			res := testutil.RunChild(t, nil)
			if res.ExitCode != tt.exit || res.Stdout != tt.stdout {
				t.Errorf("exit %d, stdout %q; want %d, %q (stderr %q)", res.ExitCode, res.Stdout, tt.exit, tt.stdout, res.Stderr)
			}
		})
	}
}

func TestKernelError(t *testing.T) {
	tests := []struct {
		err     error
		wantDoc string
	}{
		{fmt.Errorf("pledge(%q): installing the seccomp filter failed: %w", "stdio", unix.EPERM),
			`pledge("stdio"): installing the seccomp filter failed`},
		{fmt.Errorf("unveil %q: it does not exist: %w", "/x", unix.ENOENT), `"/x": it does not exist`},
		{fmt.Errorf("unveil: the Landlock system calls are refused: %w", unix.EPERM), "the Landlock system calls are refused"},
	}
	for _, tt := range tests {
		var e *lualib.Errno
		if !errors.As(kernelError(tt.err), &e) {
			t.Fatalf("%v: not an Errno", tt.err)
		}
		if e.Doc != tt.wantDoc {
			t.Errorf("doc %q, want %q", e.Doc, tt.wantDoc)
		}
	}
	if kernelError(nil) != nil {
		t.Error("kernelError(nil) is not nil")
	}
}
