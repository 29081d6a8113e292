package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

// runOpts returns RunOptions for tests: the test worker, every library.
func runOpts(o RunOptions) *RunOptions {
	if o.Executable == "" {
		o.Executable = testExe
	}
	if o.Libraries == 0 {
		o.Libraries = LibStandard | LibUnix
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard // the Go runtime's crash dumps
	}
	return &o
}

func TestRunResults(t *testing.T) {
	out, err := Run(context.Background(), `local a, b, t = ... return a + b, t.k .. "!", nil, {1, x = {true}}`,
		runOpts(RunOptions{}), 1, 2.5, map[string]any{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{3.5, "v!", nil, map[any]any{1.0: 1.0, "x": []any{true}}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got %#v, want %#v", out, want)
	}
}

func TestRunGoValuesRoundTrip(t *testing.T) {
	nan := math.Float64frombits(0x7ff8000000000abc)
	in := []any{
		nil, true, false, 0, -1, 1 << 53, -(1 << 53), 0.1, math.Inf(1), math.Inf(-1), math.Copysign(0, -1), nan,
		"", "a\x00\xffb", strings.Repeat("long", 100000),
		[]any{1, []any{2, []any{3}}}, map[string]any{"a": map[string]any{"b": "c"}, "": 1},
		map[any]any{true: 1, 2.5: "x", -7: false},
	}
	out, err := Run(context.Background(), "return ...", runOpts(RunOptions{}), in...)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d results, want %d", len(out), len(in))
	}
	want := []any{
		nil, true, false, 0.0, -1.0, float64(1 << 53), -float64(1 << 53), 0.1, math.Inf(1), math.Inf(-1), math.Copysign(0, -1), nan,
		"", "a\x00\xffb", strings.Repeat("long", 100000),
		[]any{1.0, []any{2.0, []any{3.0}}}, map[string]any{"a": map[string]any{"b": "c"}, "": 1.0},
		map[any]any{true: 1.0, 2.5: "x", -7.0: false},
	}
	for i := range want {
		g, w := out[i], want[i]
		if gf, ok := g.(float64); ok {
			if wf, ok := w.(float64); !ok || math.Float64bits(gf) != math.Float64bits(wf) {
				t.Errorf("value %d: got %v (%#x), want %v", i+1, gf, math.Float64bits(gf), w)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("value %d: got %#v, want %#v", i+1, g, w)
		}
	}
}

func TestRunRefusesBeforeStarting(t *testing.T) {
	cyc := map[string]any{}
	cyc["x"] = cyc
	tests := []struct {
		name string
		opts RunOptions
		args []any
		want string
	}{
		{"function", RunOptions{}, []any{1, func() {}}, "argument #2: a Go func() cannot be sent"},
		{"cycle", RunOptions{}, []any{cyc}, "argument #1: at .x: the value contains itself"},
		{"promise", RunOptions{Policy: Policy{Promises: "stdio rpth"}}, nil, `unknown promise "rpth" (did you mean "rpath"?)`},
		{"perms", RunOptions{Policy: Policy{Unveil: []Rule{{"/tmp", "rz"}}}}, nil, `unknown permission 'z'`},
		{"too large", RunOptions{MaxMessage: 100}, []any{strings.Repeat("x", 200)}, "larger than the limit of 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := runOpts(tt.opts)
			o.Executable = "/nonexistent/must-not-start"
			_, err := Run(context.Background(), "return 1", o, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRunSetupErrors(t *testing.T) {
	_, err := Run(context.Background(), "return 1", runOpts(RunOptions{Policy: Policy{Unveil: []Rule{{"/nonexistent/x", "r"}}}}))
	if err == nil || !strings.Contains(err.Error(), `setting up the sandbox in the child failed: unveil "/nonexistent/x": it does not exist`) {
		t.Errorf("missing unveil path: %v", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a setup failure is not the code's failure, got *Error %v", e)
	}
	_, err = Run(context.Background(), "return 1", runOpts(RunOptions{Executable: "/nonexistent/worker"}))
	if err == nil || !strings.Contains(err.Error(), "starting the sandboxed child /nonexistent/worker") {
		t.Errorf("missing executable: %v", err)
	}
	_, err = Run(context.Background(), "return 1", runOpts(RunOptions{Executable: "/bin/true"}))
	if err == nil || !strings.Contains(err.Error(), "the sandboxed child /bin/true ended (exit status 0) before host.Init took over: the program must call host.Init() first in main") {
		t.Errorf("a binary that does not call Init: %v", err)
	}
}

// TestRunKinds checks every Kind of Error from Run.
func TestRunKinds(t *testing.T) {
	tests := []struct {
		name string
		code string
		opts RunOptions
		ctx  func() (context.Context, context.CancelFunc)
		want Error
		is   error
	}{
		{name: "error", code: "error('boom')", want: Error{Kind: KindError, Message: "run:1: boom", Value: "run:1: boom"}},
		{name: "error value", code: "error({code = 7}, 0)",
			want: Error{Kind: KindError, Message: "table: ", Value: map[string]any{"code": 7.0}}},
		{name: "syntax", code: "return +", want: Error{Kind: KindError, Message: "run line:1"}},
		{name: "result not sendable", code: "return print",
			want: Error{Kind: KindError, Message: "result #1 cannot be returned: a function cannot be sent"}},
		{name: "timeout", code: "while true do end", opts: RunOptions{Timeout: 200 * time.Millisecond},
			want: Error{Kind: KindTimeout, Message: "did not finish within 200ms (RunOptions.Timeout)"}},
		{name: "deadline", code: "while true do end",
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 200*time.Millisecond)
			},
			want: Error{Kind: KindTimeout, Message: "the context's deadline passed"}, is: context.DeadlineExceeded},
		{name: "canceled", code: "while true do end",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx, cancel
			},
			want: Error{Kind: KindCanceled, Message: "the call was canceled"}, is: context.Canceled},
		{name: "cpu", code: "while true do end", opts: RunOptions{CPU: time.Second},
			want: Error{Kind: KindTimeout, Message: "used up its CPU time limit of 1s"}},
		{name: "memory table", code: "local t = {} for i = 1, 1e9 do t[i] = i end", opts: RunOptions{Memory: 16 << 20},
			want: Error{Kind: KindMemory, Message: "ran out of memory (its limit: 16 MiB on top of its start-up footprint)"}},
		{name: "memory string", code: "local s = string.rep('x', 2^20) for i = 1, 40 do s = s .. s end",
			opts: RunOptions{Memory: 64 << 20}, want: Error{Kind: KindMemory, Message: "ran out of memory"}},
		{name: "killed", code: "unix.kill(unix.getpid(), unix.SIGKILL)",
			want: Error{Kind: KindKilled, Signal: syscall.SIGKILL, Message: "killed by SIGKILL"}},
		{name: "kill penalty", code: "unix.socket()", opts: RunOptions{Policy: Policy{Kill: true}},
			want: Error{Kind: KindKilled, Signal: syscall.SIGSYS, Message: "killed by SIGSYS (a system call its promises do not allow"}},
		{name: "exit", code: "os.exit(3)", want: Error{Kind: KindExit, Status: 3, Message: "exited with status 3 before returning"}},
		{name: "exit 0", code: "unix.exit(0)", want: Error{Kind: KindExit, Status: 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			start := time.Now()
			_, err := Run(ctx, tt.code, runOpts(tt.opts))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *Error", err)
			}
			if e.Kind != tt.want.Kind || !strings.Contains(e.Message, tt.want.Message) ||
				e.Signal != tt.want.Signal || e.Status != tt.want.Status {
				t.Errorf("got kind %q message %q signal %d status %d, want %q %q %d %d",
					e.Kind, e.Message, e.Signal, e.Status, tt.want.Kind, tt.want.Message, tt.want.Signal, tt.want.Status)
			}
			if tt.want.Value != nil && !reflect.DeepEqual(e.Value, tt.want.Value) {
				t.Errorf("value %#v, want %#v", e.Value, tt.want.Value)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) is false", err, tt.is)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestRunPromisesAndUnveil checks that code gets EPERM for what its
// promises lack and EACCES for what is not unveiled, and that granting
// works.
func TestRunPromisesAndUnveil(t *testing.T) {
	dir := t.TempDir()
	probe := `
		local what, path = ...
		local r
		if what == "read" then
			local fd, err = unix.open(path, unix.O_RDONLY)
			r = fd and "ok" or err:name()
		elseif what == "write" then
			local fd, err = unix.open(path, {unix.O_WRONLY, unix.O_CREAT}, "0644")
			r = fd and "ok" or err:name()
		elseif what == "io.open" then
			local f, err = io.open(path)
			r = f and "ok" or err
		elseif what == "socket" then
			local fd, err = unix.socket(unix.AF_INET, unix.SOCK_STREAM)
			r = fd and "ok" or err:name()
		elseif what == "spawn" then
			r = os.execute("/bin/true") == 0 and "ok" or "failed"
		end
		return r`
	tests := []struct {
		name       string
		policy     Policy
		what, path string
		want       string
	}{
		{"stdio read", Policy{}, "read", "/etc/passwd", "EPERM"},
		{"stdio io.open", Policy{}, "io.open", "/etc/passwd", "operation not permitted"},
		{"stdio socket", Policy{}, "socket", "", "EPERM"},
		{"stdio spawn", Policy{}, "spawn", "", "failed"},
		{"rpath, nothing unveiled", Policy{Promises: "stdio rpath"}, "read", "/etc/passwd", "EACCES"},
		{"rpath, unveiled", Policy{Promises: "stdio rpath", Unveil: []Rule{{"/etc/passwd", "r"}}}, "read", "/etc/passwd", "ok"},
		{"rpath, other file", Policy{Promises: "stdio rpath", Unveil: []Rule{{"/etc/passwd", "r"}}}, "read", "/etc/group", "EACCES"},
		{"write without wpath", Policy{Promises: "stdio rpath", Unveil: []Rule{{dir, "rwc"}}}, "write", dir + "/f", "EPERM"},
		{"write read-only unveil", Policy{Promises: "stdio rpath wpath cpath", Unveil: []Rule{{dir, "r"}}}, "write", dir + "/f", "EACCES"},
		{"write granted", Policy{Promises: "stdio rpath wpath cpath", Unveil: []Rule{{dir, "rwc"}}}, "write", dir + "/g", "ok"},
		{"inet", Policy{Promises: "stdio inet"}, "socket", "", "ok"},
		{"proc exec, nothing unveiled", Policy{Promises: "stdio proc exec"}, "spawn", "", "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Run(context.Background(), probe, runOpts(RunOptions{Policy: tt.policy}), tt.what, tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := out[0].(string); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRunEnvironment(t *testing.T) {
	t.Setenv("VOW_HOST_SECRET", "s3cret")
	out, err := Run(context.Background(), `return os.getenv("VOW_HOST_SECRET"), os.getenv("VOW_HOST_WORKER"), os.getenv("A")`,
		runOpts(RunOptions{Env: []string{"A=b"}}))
	if err != nil {
		t.Fatal(err)
	}
	if out[0] != nil || out[1] != nil || out[2] != "b" {
		t.Errorf("environment leaked or lost: %#v", out)
	}
}

func TestRunOutput(t *testing.T) {
	var stdout, stderr strings.Builder
	_, err := Run(context.Background(), `io.write("out") io.stderr:write("err") print("p")`,
		runOpts(RunOptions{Stdout: &stdout, Stderr: &stderr}))
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "outp\n" || stderr.String() != "err" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}
	// One writer for both: written by one copier at a time (go test -race).
	var both strings.Builder
	if _, err := Run(context.Background(), `for i = 1, 100 do io.write("o") io.stderr:write("e") end`,
		runOpts(RunOptions{Stdout: &both, Stderr: &both})); err != nil {
		t.Fatal(err)
	}
	if strings.Count(both.String(), "o") != 100 || strings.Count(both.String(), "e") != 100 {
		t.Errorf("both: %q", both.String())
	}
}

func TestRunDefaultLibraries(t *testing.T) {
	out, err := Run(context.Background(), `return type(io), type(os), type(dofile), type(require), type(unix), type(string.rep)`,
		&RunOptions{Executable: testExe})
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"nil", "nil", "nil", "nil", "nil", "function"}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got %v, want %v", out, want)
	}
}

func TestRunDefaultExecutable(t *testing.T) {
	skipIfCgo(t)
	out, err := Run(context.Background(), "return 6 * 7", nil)
	if err != nil || len(out) != 1 || out[0] != 42.0 {
		t.Errorf("Run with nil options: %v, %v", out, err)
	}
}

func TestRunNoLeaks(t *testing.T) {
	before := countNow(t)
	var sink strings.Builder
	for _, code := range []string{"return 1", "error('x')", "while true do end", "os.exit(1)", "unix.socket()"} {
		for _, log := range []bool{false, true} {
			Run(context.Background(), code, runOpts(RunOptions{Timeout: 100 * time.Millisecond, Stdout: &sink, Stderr: &sink,
				Policy: Policy{LogViolations: log}}))
		}
	}
	checkNoLeaks(t, before)
}

// TestRunFromRestrictedHost runs children from a host that pledged or
// unveiled itself (in a test child, since that cannot be undone): the
// child inherits the host's restrictions, so the host needs "stdio proc
// exec unveil" and rx on the worker binary, and is told so otherwise.
func TestRunFromRestrictedHost(t *testing.T) {
	exe := testExe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		promises string
		unveil   []Rule
		want     string // on stdout; "ok" for success
	}{
		{"pledged enough", "stdio proc exec unveil", nil, "ok"},
		{"pledged without unveil", "stdio proc exec", nil, `needs the promises "stdio proc exec unveil"`},
		{"pledged without proc exec", "stdio unveil", nil, `a pledge without "proc exec"`},
		{"unveiled with the binary", "", []Rule{{exe, "rx"}}, "ok"},
		{"unveiled without the binary", "", []Rule{{"/tmp", "r"}}, "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if testutil.InChild(t) {
				for _, r := range tt.unveil {
					if err := sandbox.Unveil(r.Path, r.Perms); err != nil {
						fmt.Println("unveil:", err)
						return
					}
				}
				if tt.unveil != nil {
					if err := sandbox.UnveilCommit(); err != nil {
						fmt.Println("commit:", err)
						return
					}
				}
				if tt.promises != "" {
					if err := sandbox.Pledge(tt.promises, nil, sandbox.PenaltyReturnEPERM); err != nil {
						fmt.Println("pledge:", err)
						return
					}
				}
				// Default stdout: the child's output is this process's.
				out, err := Run(context.Background(), `io.write("from the child\n") return 1`,
					&RunOptions{Executable: testExe, Libraries: LibSafe | LibIO})
				if err != nil {
					fmt.Println(err)
					return
				}
				fmt.Println(out[0], "ok")
				return
			}
			if tt.unveil != nil && cgoEnabled && sandbox.LandlockABI() > 0 && sandbox.LandlockABI() < 8 {
				t.Skip("a cgo test binary cannot unveil all its threads on this kernel (Landlock ABI < 8)")
			}
			res := testutil.RunChild(t, nil)
			if !strings.Contains(res.Stdout, tt.want) {
				t.Errorf("stdout %q, want %q (stderr %q)", res.Stdout, tt.want, res.Stderr)
			}
			if tt.want == "ok" && !strings.Contains(res.Stdout, "from the child\n1 ok") {
				t.Errorf("stdout %q, want the child's output then the result", res.Stdout)
			}
		})
	}
}

// TestRunViolationReports: with LogViolations a supervisor in the host
// names each refused call on the child's stderr, and OnViolation hears of
// it; the penalty still applies.
func TestRunViolationReports(t *testing.T) {
	var stderr testutil.SyncBuffer
	var mu sync.Mutex
	var seen []sandbox.Violation
	out, err := Run(context.Background(), `local fd, err = unix.socket() return err:name()`, runOpts(RunOptions{
		Policy: Policy{LogViolations: true},
		Stderr: &stderr,
		OnViolation: func(v sandbox.Violation) {
			mu.Lock()
			seen = append(seen, v)
			mu.Unlock()
		},
	}))
	if err != nil || out[0] != "EPERM" {
		t.Fatalf("socket under stdio with logging: %v, %v", out, err)
	}
	if !strings.Contains(stderr.String(), "error: protected syscall socket (ord=029); pledge promise 'inet' to allow (pid ") {
		t.Errorf("stderr %q, want the violation named", stderr.String())
	}
	mu.Lock()
	if len(seen) != 1 || seen[0].Syscall != "socket" {
		t.Errorf("OnViolation saw %+v", seen)
	}
	mu.Unlock()

	// The kill penalty, carried out by the supervisor.
	_, err = Run(context.Background(), `unix.socket()`, runOpts(RunOptions{Policy: Policy{Kill: true, LogViolations: true}, Stderr: &stderr}))
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindKilled || e.Signal != syscall.SIGSYS {
		t.Errorf("kill penalty under supervision: %v", err)
	}
}
