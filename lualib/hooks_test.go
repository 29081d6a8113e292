package lualib

import (
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// run executes code in a fresh state with opts and returns the error.
func run(t *testing.T, opts *Options, code string) error {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	OpenUnix(L, opts)
	return L.DoString(code)
}

func TestHooksAbsent(t *testing.T) {
	if err := run(t, nil, `
		assert(unix.pledge == nil and unix.unveil == nil and unix.spawn == nil, "no stubs")
		assert(unix.fork ~= nil)`); err != nil {
		t.Fatal(err)
	}
	if err := run(t, &Options{Pledge: func(*string, *string, int) error { return nil }}, `
		assert(type(unix.pledge) == "function")
		assert(unix.unveil == nil and unix.spawn == nil)`); err != nil {
		t.Fatal(err)
	}
}

type pledgeCall struct {
	promises, execpromises *string
	mode                   int
}

func ptr(s string) *string { return &s }

func TestPledgeHook(t *testing.T) {
	tests := []struct {
		name        string
		defaultMode int
		code        string
		want        pledgeCall
	}{
		{"probe", 0, `assert(unix.pledge() == true)`, pledgeCall{nil, nil, 0}},
		{"probe with nils", 0, `assert(unix.pledge(nil, nil))`, pledgeCall{nil, nil, 0}},
		{"promises", 0, `assert(unix.pledge("stdio rpath"))`, pledgeCall{ptr("stdio rpath"), nil, 0}},
		{"both and mode", 0, `assert(unix.pledge("stdio exec", "stdio", unix.PLEDGE_PENALTY_RETURN_EPERM))`,
			pledgeCall{ptr("stdio exec"), ptr("stdio"), 2}},
		{"mode table", 0, `assert(unix.pledge("", nil, {unix.PLEDGE_PENALTY_RETURN_EPERM, unix.PLEDGE_STDERR_LOGGING}))`,
			pledgeCall{ptr(""), nil, 18}},
		{"repl default mode", PledgePenaltyReturnEPERM, `assert(unix.pledge("stdio"))`, pledgeCall{ptr("stdio"), nil, 2}},
		{"explicit 0 beats the default", PledgePenaltyReturnEPERM, `assert(unix.pledge("stdio", nil, 0))`, pledgeCall{ptr("stdio"), nil, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []pledgeCall
			opts := &Options{DefaultPledgeMode: tt.defaultMode, Pledge: func(p, e *string, mode int) error {
				got = append(got, pledgeCall{p, e, mode})
				return nil
			}}
			if err := run(t, opts, tt.code); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], tt.want) {
				t.Errorf("hook saw %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPledgeHookErrors(t *testing.T) {
	opts := &Options{Pledge: func(p, _ *string, _ int) error {
		if p != nil && *p == "stdoi" {
			return NewErrno(syscall.EINVAL, "unknown promise 'stdoi' (did you mean 'stdio'?)")
		}
		return syscall.EPERM
	}}
	if err := run(t, opts, `
		local ok, err = unix.pledge("stdoi")
		assert(ok == nil)
		assert(err:errno() == unix.EINVAL and err:name() == "EINVAL" and err:call() == "pledge")
		assert(err:doc() == "unknown promise 'stdoi' (did you mean 'stdio'?)", err:doc())
		assert(tostring(err) == "pledge() failed: unknown promise 'stdoi' (did you mean 'stdio'?)")
		local ok2, err2 = unix.pledge("stdio")
		assert(ok2 == nil and err2:errno() == unix.EPERM and err2:doc() == "Operation not permitted")
		local ok3, msg = pcall(unix.pledge, {})
		assert(not ok3 and msg:find("bad argument #1 to 'pledge' (string expected, got table)", 1, true), msg)
	`); err != nil {
		t.Fatal(err)
	}
}

func TestUnveilHook(t *testing.T) {
	type call struct{ path, perms *string }
	var got []call
	opts := &Options{Unveil: func(path, perms *string) (int, error) {
		got = append(got, call{path, perms})
		if path != nil && *path == "/missing" {
			return 0, syscall.ENOENT
		}
		return 7, nil
	}}
	if err := run(t, opts, `
		local ok, abi = unix.unveil("", nil)
		assert(ok == true and abi == 7, "probe returns true, abi")
		assert(select("#", unix.unveil("/tmp", "rwc")) == 1, "staging returns only true")
		assert(select("#", unix.unveil()) == 1, "commit returns only true")
		local r, err = unix.unveil("/missing", "r")
		assert(r == nil and err:name() == "ENOENT" and err:call() == "unveil")
	`); err != nil {
		t.Fatal(err)
	}
	want := []call{{ptr(""), nil}, {ptr("/tmp"), ptr("rwc")}, {nil, nil}, {ptr("/missing"), ptr("r")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hook saw %v, want %v", got, want)
	}
}

func TestSpawnHook(t *testing.T) {
	var got *SpawnRequest
	opts := &Options{Spawn: func(req *SpawnRequest) (int, error) {
		got = req
		if req.Prog == "/nonexistent" {
			return 0, syscall.ENOENT
		}
		return 4242, nil
	}}
	if err := run(t, opts, `
		local pid = assert(unix.spawn("/bin/ls", {"ls", "-l", 1}, {
			env = {"PATH=/bin"}, dir = "/tmp", stdin = 5, stderr = 1,
			promises = "stdio rpath", execpromises = "stdio",
			penalty = {unix.PLEDGE_PENALTY_RETURN_EPERM, unix.PLEDGE_STDERR_LOGGING},
			unveil = {{"/usr", "rx"}, {"/tmp", "rwc"}},
			rlimits = {cpu = 2, nofile = 64, as = -1},
		}))
		assert(pid == 4242)
	`); err != nil {
		t.Fatal(err)
	}
	penalty := 18
	want := &SpawnRequest{
		Prog: "/bin/ls", Argv: []string{"ls", "-l", "1"}, Env: []string{"PATH=/bin"}, Dir: "/tmp",
		Stdin: 5, Stdout: 1, Stderr: 1, Promises: ptr("stdio rpath"), ExecPromises: ptr("stdio"),
		Unveil:  []UnveilRule{{"/usr", "rx"}, {"/tmp", "rwc"}},
		Penalty: &penalty, Rlimits: map[string]int64{"cpu": 2, "nofile": 64, "as": -1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request\n got %+v\nwant %+v", got, want)
	}

	if err := run(t, opts, `
		local pid = assert(unix.spawn("/bin/true", {"true"}))
	`); err != nil {
		t.Fatal(err)
	}
	if got.Env != nil || got.Stdin != 0 || got.Stdout != 1 || got.Stderr != 2 || got.Promises != nil || got.Penalty != nil {
		t.Errorf("defaults: %+v", got)
	}

	for _, tt := range []struct{ code, want string }{
		{`unix.spawn("/bin/true", {"true"}, {bogus = 1})`, "bad argument #3 to 'spawn' (unknown option 'bogus'"},
		{`unix.spawn("/bin/true", {"true"}, {env = "x"})`, "opts.env: table expected, got string"},
		{`unix.spawn("/bin/true", {"true"}, {rlimits = {stack = 1}})`, "opts.rlimits: unknown limit 'stack'"},
		{`unix.spawn("/bin/true", {"true"}, {unveil = {{"/x"}}})`, "opts.unveil[1]: {path, perms} expected"},
		{`unix.spawn("/bin/true", "true")`, "bad argument #2 to 'spawn' (table expected, got string)"},
		{`local p, e = unix.spawn("/nonexistent", {"x"}); assert(p == nil and e:name() == "ENOENT" and e:call() == "spawn"); error("ok")`, "ok"},
	} {
		err := run(t, opts, tt.code)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.code, err, tt.want)
		}
	}
}

func TestBeforeExecHook(t *testing.T) {
	called := 0
	opts := &Options{BeforeExec: func() error {
		called++
		return NewErrno(syscall.EPERM, "execpromises could not be installed")
	}}
	if err := run(t, opts, `
		local ok, err = unix.execve("/bin/true", {"true"})
		assert(ok == nil and err:name() == "EPERM" and err:call() == "execve")
		assert(err:doc() == "execpromises could not be installed")
	`); err != nil {
		t.Fatal(err)
	}
	if called != 1 {
		t.Errorf("BeforeExec called %d times", called)
	}
}

// TestGoPanicBecomesLuaError checks that a panic inside a binding (here
// in a hook) is a catchable Lua error, not a crash.
func TestGoPanicBecomesLuaError(t *testing.T) {
	opts := &Options{Pledge: func(*string, *string, int) error {
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	}}
	err := run(t, opts, `
		local ok, msg = pcall(unix.pledge, "stdio")
		assert(not ok)
		assert(msg:find("bug: unix.pledge: Go panic", 1, true), msg)
		-- the interpreter still works afterwards
		assert(unix.getpid() > 0)
		unix.pledge("stdio")
	`)
	if err == nil || !strings.Contains(err.Error(), "bug: unix.pledge: Go panic: assignment to entry in nil map") {
		t.Fatalf("uncaught panic error = %v", err)
	}
}

// TestPreload checks require "unix" through package.preload.
func TestPreload(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	Preload(L, nil)
	if err := L.DoString(`
		assert(unix == nil, "Preload sets no global")
		local u = require("unix")
		assert(u.O_RDONLY == 0 and type(u.open) == "function")
		assert(require("unix") == u, "same table")
	`); err != nil {
		t.Fatal(err)
	}
}

// TestCoroutines checks that bindings work from coroutines (their own
// LState) and that errors there name the binding.
func TestCoroutines(t *testing.T) {
	if err := run(t, nil, `
		local co = coroutine.create(function()
			coroutine.yield(unix.getpid())
			local _, err = unix.open("/nonexistent")
			coroutine.yield(err:name())
			unix.close({})
		end)
		local ok, pid = coroutine.resume(co)
		assert(ok and pid == unix.getpid())
		local ok2, name = coroutine.resume(co)
		assert(ok2 and name == "ENOENT")
		local ok3, msg = coroutine.resume(co)
		assert(not ok3 and msg:find("bad argument #1 to 'close'", 1, true), msg)
	`); err != nil {
		t.Fatal(err)
	}
}

// TestDirFinalizerClosesFd: a Dir the script drops without closing has
// its descriptor closed by a Go finalizer (gopher-lua has no __gc).
func TestDirFinalizerClosesFd(t *testing.T) {
	fd := func() int {
		L := lua.NewState()
		defer L.Close()
		OpenUnix(L, nil)
		if err := L.DoString(`FD = assert(unix.opendir("/")):fd()`); err != nil {
			t.Fatal(err)
		}
		return int(L.GetGlobal("FD").(lua.LNumber))
	}()
	for range 100 {
		runtime.GC()
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == syscall.EBADF {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("descriptor %d of a dropped unix.Dir is still open", fd)
}
