package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/internal/testutil"
	"github.com/vow-sandbox/vow/sandbox"
)

// newTestPool starts a pool with the test worker and every library, and
// closes it at the end of the test.
func newTestPool(t *testing.T, cfg Config) *Pool {
	t.Helper()
	if cfg.Executable == "" {
		cfg.Executable = testExe
	}
	if cfg.Libraries == 0 {
		cfg.Libraries = LibStandard | LibUnix
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard // the Go runtime's crash dumps
	}
	p, err := NewPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

const testPlugin = `
calls = 0
function add(a, b) calls = calls + 1 return a + b end
function work(n, i) local x = 0 for j = 1, n do x = x + j end return i + 1 end
function echo(...) return ... end
function count() calls = calls + 1 return calls end
function fail(v) error(v, 0) end
function boom() error("boom") end
function spin() while true do end end
function slowgo()
  -- one Go call (the pattern matcher) that runs for seconds without
  -- returning to the interpreter, so it never sees the cancellation
  return (string.rep("a", 3000)):find(".-.-.-b")
end
function die(sig) unix.kill(unix.getpid(), sig or unix.SIGKILL) end
function quit(n) os.exit(n) end
function eat(n)
  local t = {}
  for i = 1, n do t[i] = string.rep("x", 1024) .. i end
  return #t
end
function probe(what, path)
  if what == "read" then
    local fd, err = unix.open(path, unix.O_RDONLY)
    return fd and "ok" or err:name()
  elseif what == "socket" then
    local fd, err = unix.socket(unix.AF_INET, unix.SOCK_STREAM)
    return fd and "ok" or err:name()
  elseif what == "connect" then
    local fd = assert(unix.socket(unix.AF_INET, unix.SOCK_STREAM))
    local ok, err = unix.connect(fd, "127.0.0.1", tonumber(path))
    return ok and "ok" or err:name()
  end
end
function forkbomb(n)
  local refused = 0
  for i = 1, n do
    if os.execute("/bin/true") ~= 0 then refused = refused + 1 end
    local pid, err = unix.fork()
    if not pid then refused = refused + 1 end
  end
  return refused
end
function callhost(name, ...) return host[name](...) end
`

func TestPoolCalls(t *testing.T) {
	p := newTestPool(t, Config{Script: testPlugin, Name: "test.lua", Workers: 2})
	ctx := context.Background()
	tests := []struct {
		fn   string
		args []any
		want []any
	}{
		{"add", []any{1, 2}, []any{3.0}},
		{"echo", nil, []any{}},
		{"echo", []any{nil, "x", nil}, []any{nil, "x", nil}},
		{"echo", []any{[]int{1, 2}, map[string]any{"k": []string{"v"}}}, []any{[]any{1.0, 2.0}, map[string]any{"k": []any{"v"}}}},
		{"echo", []any{"\x00\xff", true, 0.1}, []any{"\x00\xff", true, 0.1}},
	}
	for _, tt := range tests {
		got, err := p.Call(ctx, tt.fn, tt.args...)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s%v: got %#v, %v; want %#v", tt.fn, tt.args, got, err, tt.want)
		}
	}
}

func TestPoolErrors(t *testing.T) {
	p := newTestPool(t, Config{Script: testPlugin, Name: "test.lua"})
	ctx := context.Background()
	tests := []struct {
		fn    string
		args  []any
		msg   string
		value any
	}{
		{"boom", nil, "test.lua:8: boom", "test.lua:8: boom"},
		{"fail", []any{map[string]any{"code": 7}}, "table: ", map[string]any{"code": 7.0}},
		{"nosuch", nil, `the plugin has no function "nosuch" (the global is nil)`, nil},
		{"calls", nil, `the plugin has no function "calls" (the global is number)`, nil},
		{"echo", []any{func() {}}, "argument #1: a Go func() cannot be sent", nil},
	}
	for _, tt := range tests {
		_, err := p.Call(ctx, tt.fn, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want %q", tt.fn, err, tt.msg)
			continue
		}
		var e *Error
		if tt.value != nil && (!errors.As(err, &e) || e.Kind != KindError || !reflect.DeepEqual(e.Value, tt.value)) {
			t.Errorf("%s: error %#v, want KindError with value %#v", tt.fn, err, tt.value)
		}
	}
	if _, err := p.Call(ctx, "not a name"); err == nil || !strings.Contains(err.Error(), "is not the name of a global Lua function") {
		t.Errorf("bad name: %v", err)
	}
	// Errors do not cost the worker: the plugin's state survives.
	if got, err := p.Call(ctx, "count"); err != nil || got[0] != 1.0 {
		t.Errorf("count after errors: %v, %v", got, err)
	}
	if s := p.Stats(); s.Restarts != 0 {
		t.Errorf("%d restarts after plugin errors", s.Restarts)
	}
}

func TestNewPoolErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"syntax", Config{Script: "function f(", Name: "bad.lua"}, "host: loading the plugin: bad.lua at EOF:   syntax error"},
		{"main chunk error", Config{Script: "local x = nil\nx.y = 1", Name: "bad.lua"}, "host: loading the plugin: bad.lua:2: attempt to index a non-table object(nil)"},
		{"workers", Config{Workers: -1}, "Config.Workers is -1"},
		{"promise", Config{Policy: Policy{Promises: "stdio netinet"}}, `unknown promise "netinet"`},
		{"func name", Config{Funcs: map[string]Func{"a-b": func(context.Context, []any) ([]any, error) { return nil, nil }}}, `host function name "a-b" is not a Lua identifier`},
		{"nil func", Config{Funcs: map[string]Func{"f": nil}}, `host function "f" is nil`},
		{"unveil", Config{Policy: Policy{Unveil: []Rule{{"/nonexistent/y", "r"}}}}, `host: a plugin worker: host: setting up the sandbox in the child failed: unveil "/nonexistent/y": it does not exist`},
		{"executable", Config{Executable: "/bin/false"}, "host: the sandboxed child /bin/false ended (exit status 1) before host.Init took over"},
		{"start timeout", Config{Script: "while true do end", StartTimeout: 200 * time.Millisecond}, "did not finish within 200ms (Config.StartTimeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countNow(t)
			if tt.cfg.Executable == "" {
				tt.cfg.Executable = testExe
			}
			p, err := NewPool(tt.cfg)
			if err == nil {
				p.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
			checkNoLeaks(t, before)
		})
	}
}

func TestPoolHostFuncs(t *testing.T) {
	var seen atomic.Value
	p := newTestPool(t, Config{Script: testPlugin, Funcs: map[string]Func{
		"add": func(ctx context.Context, args []any) ([]any, error) {
			return []any{args[0].(float64) + args[1].(float64)}, nil
		},
		"record": func(ctx context.Context, args []any) ([]any, error) {
			seen.Store(args)
			return []any{map[string]any{"ok": true, "n": len(args)}, nil, "tail"}, nil
		},
		"refuse": func(ctx context.Context, args []any) ([]any, error) {
			return nil, errors.New("not allowed: " + args[0].(string))
		},
		"panics": func(ctx context.Context, args []any) ([]any, error) {
			panic("oops")
		},
		"badresult": func(ctx context.Context, args []any) ([]any, error) {
			return []any{make(chan int)}, nil
		},
		"wait": func(ctx context.Context, args []any) ([]any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}})
	ctx := context.Background()
	if got, err := p.Call(ctx, "callhost", "add", 40, 2); err != nil || got[0] != 42.0 {
		t.Errorf("host.add: %v, %v", got, err)
	}
	got, err := p.Call(ctx, "callhost", "record", "a", []any{1, 2}, nil)
	want := []any{map[string]any{"ok": true, "n": 3.0}, nil, "tail"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("host.record: %#v, %v; want %#v", got, err, want)
	}
	if args := seen.Load(); !reflect.DeepEqual(args, []any{"a", []any{1.0, 2.0}, nil}) {
		t.Errorf("host.record saw %#v", args)
	}
	for _, tt := range []struct{ fn, want string }{
		{"refuse", "host.refuse: not allowed: x"},
		{"panics", "host.panics: panic: oops"},
		{"badresult", "host.badresult: result #1 cannot be sent: a Go chan int cannot be sent"},
		{"nosuch", "attempt to call a non-function object"},
	} {
		if _, err := p.Call(ctx, "callhost", tt.fn, "x"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("host.%s: %v, want %q", tt.fn, err, tt.want)
		}
	}
	// A plugin can catch a host function's error.
	p2 := newTestPool(t, Config{Script: `function f() local ok, err = pcall(host.refuse, "y") return ok, err end`,
		Funcs: map[string]Func{"refuse": func(context.Context, []any) ([]any, error) { return nil, errors.New("no") }}})
	if got, err := p2.Call(ctx, "f"); err != nil || got[0] != false || !strings.Contains(got[1].(string), "host.refuse: no") {
		t.Errorf("pcall(host.refuse): %v, %v", got, err)
	}
	// The call's context reaches the host function.
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = p.Call(tctx, "callhost", "wait")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("host.wait: %v, want a deadline error", err)
	}
	if got, err := p.Call(ctx, "add", 1, 1); err != nil || got[0] != 2.0 {
		t.Errorf("call after the deadline: %v, %v", got, err)
	}
	// Host functions exist only during calls.
	_, err = NewPool(Config{Executable: testExe, Script: `host.f()`, Funcs: map[string]Func{"f": func(context.Context, []any) ([]any, error) { return nil, nil }}})
	if err == nil || !strings.Contains(err.Error(), "host.f can only be called while the host is calling the plugin") {
		t.Errorf("host function during load: %v", err)
	}
}

// TestPoolDeadlines: an infinite loop is stopped by the worker itself and
// the worker is kept; a long Go call is killed after KillGrace and the
// worker replaced.
func TestPoolDeadlines(t *testing.T) {
	p := newTestPool(t, Config{Script: testPlugin, Workers: 1, CallTimeout: 300 * time.Millisecond, KillGrace: 100 * time.Millisecond})
	ctx := context.Background()
	start := time.Now()
	_, err := p.Call(ctx, "spin")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindTimeout || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(e.Message, "did not finish within 300ms (Config.CallTimeout)") {
		t.Errorf("spin: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("spin returned after %v", d)
	}
	if got, err := p.Call(ctx, "count"); err != nil || got[0] != 1.0 {
		t.Errorf("after spin: %v, %v (the worker should have been kept)", got, err)
	}
	// The context's own deadline, shorter than CallTimeout.
	dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.Call(dctx, "spin"); !errors.As(err, &e) || e.Kind != KindTimeout || !strings.Contains(e.Message, "the context's deadline passed") {
		t.Errorf("spin with a 50ms context: %v", err)
	}
	if got, err := p.Call(ctx, "count"); err != nil || got[0] != 2.0 {
		t.Errorf("after spin: %v, %v (the worker should have been kept)", got, err)
	}
	if r := p.Stats().Restarts; r != 0 {
		t.Errorf("%d restarts after stopped loops", r)
	}
	// A Go call does not look at the context: killed and replaced.
	start = time.Now()
	if _, err := p.Call(ctx, "slowgo"); !errors.As(err, &e) || e.Kind != KindTimeout {
		t.Errorf("slowgo: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("slowgo returned after %v", d)
	}
	if got, err := p.Call(ctx, "count"); err != nil || got[0] != 1.0 {
		t.Errorf("after slowgo: %v, %v (want a fresh worker)", got, err)
	}
	if r := p.Stats().Restarts; r != 1 {
		t.Errorf("%d restarts after slowgo, want 1", r)
	}
}

func TestPoolCancel(t *testing.T) {
	p := newTestPool(t, Config{Script: testPlugin})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := p.Call(ctx, "spin")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindCanceled || !errors.Is(err, context.Canceled) {
		t.Errorf("canceled spin: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned %v after the start, want about 100ms", d)
	}
	// Already canceled: nothing runs.
	if _, err := p.Call(ctx, "add", 1, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("call with a canceled context: %v", err)
	}
	if got, err := p.Call(context.Background(), "add", 1, 2); err != nil || got[0] != 3.0 {
		t.Errorf("after cancel: %v, %v", got, err)
	}
}

// TestPoolContainment: crashes, bombs and loops fail their call and leave
// the pool healthy.
func TestPoolContainment(t *testing.T) {
	// CallTimeout is long: under load, a CPU second can take many
	// seconds of wall time.
	p := newTestPool(t, Config{Script: testPlugin, Workers: 2, Memory: 32 << 20, CPU: time.Second,
		CallTimeout: time.Minute, Stdout: &strings.Builder{}})
	ctx := context.Background()
	tests := []struct {
		name   string
		fn     string
		args   []any
		kind   Kind
		signal syscall.Signal
		status int
		msg    string
	}{
		{"SIGKILL", "die", nil, KindKilled, syscall.SIGKILL, 0, "killed by SIGKILL"},
		{"SIGTERM", "die", []any{int(syscall.SIGTERM)}, KindKilled, syscall.SIGTERM, 0, "killed by SIGTERM"},
		{"exit", "quit", []any{7}, KindExit, 0, 7, "exited with status 7"},
		{"memory bomb", "eat", []any{1e9}, KindMemory, 0, 0, "ran out of memory (its limit: 32 MiB"},
		{"infinite loop past the CPU limit", "spin", nil, KindTimeout, 0, 0, "used up its CPU time limit of 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			restarts := p.Stats().Restarts
			_, err := p.Call(ctx, tt.fn, tt.args...)
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.kind || e.Signal != tt.signal || e.Status != tt.status ||
				!strings.Contains(e.Message, tt.msg) || e.Func != tt.fn {
				t.Fatalf("%s: %#v, want kind %s signal %d status %d message %q", tt.fn, err, tt.kind, tt.signal, tt.status, tt.msg)
			}
			if got, err := p.Call(ctx, "add", 2, 3); err != nil || got[0] != 5.0 {
				t.Errorf("the pool after %s: %v, %v", tt.name, got, err)
			}
			waitFor(t, "a replacement worker", func() bool { s := p.Stats(); return s.Live == 2 && s.Restarts == restarts+1 })
		})
	}
	t.Run("fork bomb", func(t *testing.T) {
		restarts := p.Stats().Restarts
		got, err := p.Call(ctx, "forkbomb", 200)
		if err != nil || got[0] != 400.0 {
			t.Fatalf("forkbomb: %v, %v; want every one of 400 attempts refused", got, err)
		}
		for _, pid := range p.Stats().PIDs {
			if kids := children(pid); len(kids) > 0 {
				t.Errorf("worker %d has children %v", pid, kids)
			}
		}
		if p.Stats().Restarts != restarts {
			t.Error("a worker was lost to the fork bomb")
		}
	})
}

// children lists the child processes of pid, from every thread.
func children(pid int) []string {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var kids []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	return kids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Errorf("timed out waiting for %s", what)
}

// TestPoolPromises: a plugin that goes beyond its promises gets EPERM,
// beyond its unveils EACCES.
func TestPoolPromises(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		policy     Policy
		what, path string
		want       string
	}{
		{"stdio read", Policy{}, "read", "/etc/passwd", "EPERM"},
		{"stdio socket", Policy{}, "socket", "", "EPERM"},
		{"rpath hidden", Policy{Promises: "stdio rpath", Unveil: []Rule{{"/etc/hostname", "r"}}}, "read", "/etc/passwd", "EACCES"},
		{"rpath unveiled", Policy{Promises: "stdio rpath", Unveil: []Rule{{"/etc/passwd", "r"}}}, "read", "/etc/passwd", "ok"},
		{"inet", Policy{Promises: "stdio inet"}, "socket", "", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPool(t, Config{Script: testPlugin, Policy: tt.policy})
			got, err := p.Call(ctx, "probe", tt.what, tt.path)
			if err != nil || got[0] != tt.want {
				t.Errorf("probe %s %s: %v, %v; want %s", tt.what, tt.path, got, err, tt.want)
			}
		})
	}
}

// TestPoolRandomKills makes 1,000 calls while workers are killed at
// random: every call returns its result or an error, none is lost, and
// the pool ends healthy.
func TestPoolRandomKills(t *testing.T) {
	before := countNow(t)
	p, err := NewPool(Config{Executable: testExe, Script: testPlugin, Workers: 3, Libraries: LibStandard | LibUnix})
	if err != nil {
		t.Fatal(err)
	}
	const calls = 1000
	stop := make(chan struct{})
	var killed atomic.Int64
	var killers sync.WaitGroup
	killers.Add(1)
	go func() {
		defer killers.Done()
		rng := rand.New(rand.NewSource(1))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(1+rng.Intn(10)) * time.Millisecond):
			}
			if pids := p.Stats().PIDs; len(pids) > 0 {
				if syscall.Kill(pids[rng.Intn(len(pids))], syscall.SIGKILL) == nil {
					killed.Add(1)
				}
			}
		}
	}()
	var ok, failed atomic.Int64
	kinds := map[Kind]int{}
	var mu sync.Mutex
	var callers sync.WaitGroup
	for g := 0; g < 6; g++ {
		callers.Add(1)
		go func(g int) {
			defer callers.Done()
			for i := g; i < calls; i += 6 {
				got, err := p.Call(context.Background(), "work", 20000, i)
				switch {
				case err == nil && len(got) == 1 && got[0] == float64(i+1):
					ok.Add(1)
				case err != nil:
					var e *Error
					if !errors.As(err, &e) {
						t.Errorf("call %d: %v is not an *Error", i, err)
					} else {
						mu.Lock()
						kinds[e.Kind]++
						mu.Unlock()
					}
					failed.Add(1)
				default:
					t.Errorf("call %d: wrong result %v", i, got)
				}
			}
		}(g)
	}
	callers.Wait()
	close(stop)
	killers.Wait()
	if ok.Load()+failed.Load() != calls {
		t.Errorf("%d results and %d errors for %d calls", ok.Load(), failed.Load(), calls)
	}
	t.Logf("%d calls: %d results, %d errors %v; %d kills, %d restarts", calls, ok.Load(), failed.Load(), kinds, killed.Load(), p.Stats().Restarts)
	if killed.Load() == 0 {
		t.Error("no worker was killed")
	}
	for k := range kinds {
		if k != KindKilled {
			t.Errorf("errors of kind %s; want only %s", k, KindKilled)
		}
	}
	// A worker killed just before the killer stopped may not have been
	// reaped yet; give the reapers a moment.
	time.Sleep(100 * time.Millisecond)
	for i := 0; i < 10; i++ {
		if got, err := p.Call(context.Background(), "add", 1, 1); err != nil || got[0] != 2.0 {
			t.Errorf("the pool after the kills: %v, %v", got, err)
		}
	}
	waitFor(t, "3 live workers", func() bool { return p.Stats().Live == 3 })
	if s := p.Stats(); s.Live != 3 {
		t.Errorf("stats %+v, %d slots", s, len(p.slots))
	}
	p.Close()
	checkNoLeaks(t, before)
}

func TestPoolConcurrency(t *testing.T) {
	p := newTestPool(t, Config{Script: `function nap(ms) unix.nanosleep(0, ms * 1000000) return unix.getpid() end`, Workers: 2})
	start := time.Now()
	var wg sync.WaitGroup
	pids := make([]any, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := p.Call(context.Background(), "nap", 500)
			if err != nil {
				t.Error(err)
				return
			}
			pids[i] = got[0]
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("two 500ms calls on two workers took %v: they did not run in parallel", d)
	}
	if pids[0] == pids[1] {
		t.Errorf("both calls ran in worker %v", pids[0])
	}
}

func TestPoolClose(t *testing.T) {
	before := countNow(t)
	p, err := NewPool(Config{Executable: testExe, Script: testPlugin, Workers: 2, Stdout: &strings.Builder{}})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), "spin")
		errs <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Errorf("call running at Close: %v, want ErrClosed", err)
	}
	if _, err := p.Call(context.Background(), "add", 1, 2); !errors.Is(err, ErrClosed) {
		t.Errorf("call after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if s := p.Stats(); s.Live != 0 {
		t.Errorf("%d live workers after Close", s.Live)
	}
	checkNoLeaks(t, before)
}

func TestPoolOutput(t *testing.T) {
	var out, errOut testutil.SyncBuffer
	p := newTestPool(t, Config{Script: `function hello() print("out") io.stderr:write("err") end`, Stdout: &out, Stderr: &errOut})
	if _, err := p.Call(context.Background(), "hello"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the output", func() bool { return out.String() == "out\n" && errOut.String() == "err" })
}

func TestPoolDefaultExecutable(t *testing.T) {
	skipIfCgo(t)
	p, err := NewPool(Config{Script: "function f() return 1 end"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got, err := p.Call(context.Background(), "f"); err != nil || got[0] != 1.0 {
		t.Errorf("f: %v, %v", got, err)
	}
}

func TestPoolViolationReportsNoLeaks(t *testing.T) {
	before := countNow(t)
	p, err := NewPool(Config{Executable: testExe, Script: testPlugin, Workers: 2, Libraries: LibStandard | LibUnix,
		Stderr: io.Discard, Policy: Policy{LogViolations: true}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		p.Call(context.Background(), "probe", "socket")
		p.Call(context.Background(), "die")
	}
	p.Close()
	checkNoLeaks(t, before)
}

func TestPoolViolationReports(t *testing.T) {
	var stderr testutil.SyncBuffer
	got := make(chan sandbox.Violation, 10)
	p := newTestPool(t, Config{Script: testPlugin, Workers: 2, Stderr: &stderr,
		Policy:      Policy{LogViolations: true},
		OnViolation: func(v sandbox.Violation) { got <- v }})
	out, err := p.Call(context.Background(), "probe", "read", "/etc/passwd")
	if err != nil || out[0] != "EPERM" {
		t.Fatalf("probe: %v, %v", out, err)
	}
	select {
	case v := <-got:
		pids := p.Stats().PIDs
		if v.Syscall != "openat" || (v.PID != pids[0] && v.PID != pids[1]) {
			t.Errorf("violation %+v, want openat by one of %v", v, pids)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no violation reported")
	}
	waitFor(t, "the log line", func() bool {
		return strings.Contains(stderr.String(), "error: protected syscall openat (ord=101); pledge promise 'rpath' to allow (pid ")
	})
	if got, err := p.Call(context.Background(), "add", 1, 2); err != nil || got[0] != 3.0 {
		t.Errorf("after the violation: %v, %v", got, err)
	}
}
