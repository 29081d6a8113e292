package lualib

import (
	"embed"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vow-sandbox/vow/internal/testutil"
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// The Lua tests are embedded so a child running as nobody needs no access
// to the source tree.
//
//go:embed testdata/*.lua testdata/lib/*.lua
var luaTests embed.FS

// holdLockEnv makes the test binary a lock holder for fcntl tests.
const holdLockEnv = "LUALIB_TEST_HOLD_LOCK"

func TestMain(m *testing.M) {
	if spec := os.Getenv(holdLockEnv); spec != "" {
		holdLock(spec)
	}
	os.Exit(m.Run())
}

// holdLock takes a write lock PATH:START:LEN and sleeps until killed.
func holdLock(spec string) {
	i := strings.LastIndexByte(spec, ':')
	j := strings.LastIndexByte(spec[:i], ':')
	start, _ := strconv.ParseInt(spec[j+1:i], 10, 64)
	length, _ := strconv.ParseInt(spec[i+1:], 10, 64)
	fd, err := unix.Open(spec[:j], unix.O_RDWR, 0)
	if err != nil {
		os.Exit(3)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: unix.SEEK_SET, Start: start, Len: length}
	if unix.FcntlFlock(uintptr(fd), unix.F_SETLKW, &lk) != nil {
		os.Exit(4)
	}
	time.Sleep(60 * time.Second)
	os.Exit(0)
}

// luaFiles lists the test scripts (not the helper library).
func luaFiles(t *testing.T) []string {
	t.Helper()
	ents, err := luaTests.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".lua") {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	return files
}

// newTestState returns a fresh interpreter with the unix module loaded
// and the test library (testdata/lib/test.lua) and Go helpers installed.
func newTestState(t testing.TB, opts *Options) (*lua.LState, string) {
	t.Helper()
	L := lua.NewState()
	OpenUnix(L, opts)
	// $TMPDIR may not be writable for nobody; /tmp and /dev/shm are.
	var tmp string
	var err error
	for _, dir := range []string{"", "/tmp", "/dev/shm"} {
		if tmp, err = os.MkdirTemp(dir, "lualib-test-"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		L.Close()
		// Lua tests chmod things; make sure cleanup can remove them.
		_ = os.Chmod(tmp, 0o700)
		os.RemoveAll(tmp)
	})
	helpers := L.NewTable()
	helpers.RawSetString("tmpdir", lua.LString(tmp))
	helpers.RawSetString("root", lua.LBool(os.Geteuid() == 0))
	// test.spawn(prog, arg...) starts a program and returns its pid without
	// reaping it, so unix.wait and unix.kill have a child to work on.
	helpers.RawSetString("spawn", L.NewFunction(func(L *lua.LState) int {
		var argv []string
		for i := 1; i <= L.GetTop(); i++ {
			argv = append(argv, L.CheckString(i))
		}
		pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
			Env:   os.Environ(),
			Files: []uintptr{0, 1, 2},
		})
		if err != nil {
			L.RaiseError("test.spawn: %v", err)
		}
		L.Push(lua.LNumber(pid))
		return 1
	}))
	// test.lockholder(path, start, len) starts a process that holds a
	// POSIX write lock on that range until it is killed.
	helpers.RawSetString("lockholder", L.NewFunction(func(L *lua.LState) int {
		exe, err := os.Executable()
		if err != nil {
			L.RaiseError("test.lockholder: %v", err)
		}
		spec := fmt.Sprintf("%s:%d:%d", L.CheckString(1), L.CheckInt(2), L.CheckInt(3))
		pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{
			Env:   append(os.Environ(), holdLockEnv+"="+spec),
			Files: []uintptr{0, 1, 2},
		})
		if err != nil {
			L.RaiseError("test.lockholder: %v", err)
		}
		L.Push(lua.LNumber(pid))
		return 1
	}))
	L.SetGlobal("test", helpers)
	lib, err := luaTests.ReadFile("testdata/lib/test.lua")
	if err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(string(lib)); err != nil {
		t.Fatalf("loading test library: %v", err)
	}
	return L, tmp
}

// runLuaFile runs one embedded test script and reports every failed case.
func runLuaFile(t testing.TB, name string, opts *Options) {
	t.Helper()
	src, err := luaTests.ReadFile(path.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	L, _ := newTestState(t, opts)
	fn, err := L.Load(strings.NewReader(string(src)), name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	reportCases(t, L)
}

// reportCases turns the test library's results into test failures.
func reportCases(t testing.TB, L *lua.LState) {
	t.Helper()
	res := L.GetGlobal("TEST_RESULTS").(*lua.LTable)
	passed := int(lua.LVAsNumber(res.RawGetString("passed")))
	skipped := res.RawGetString("skipped").(*lua.LTable)
	failures := res.RawGetString("failures").(*lua.LTable)
	for i := 1; i <= failures.Len(); i++ {
		t.Error(lua.LVAsString(failures.RawGetInt(i)))
	}
	for i := 1; i <= skipped.Len(); i++ {
		t.Log("skipped: " + lua.LVAsString(skipped.RawGetInt(i)))
	}
	if passed == 0 && failures.Len() == 0 && skipped.Len() == 0 {
		t.Error("no test case ran")
	}
	t.Logf("%d cases passed, %d failed, %d skipped", passed, failures.Len(), skipped.Len())
}

// TestLua runs every testdata/*.lua file in a fresh interpreter.
func TestLua(t *testing.T) {
	for _, f := range luaFiles(t) {
		t.Run(strings.TrimSuffix(f, ".lua"), func(t *testing.T) {
			runLuaFile(t, f, nil)
		})
	}
}

// nobodyFiles are run again as the unprivileged user nobody, where
// permission checks really apply.
var nobodyFiles = []string{"errno.lua", "file.lua", "path.lua", "proc.lua", "socket.lua", "nobody.lua"}

// TestLuaAsNobody runs some of the Lua tests as uid/gid 65534.
func TestLuaAsNobody(t *testing.T) {
	if testutil.InChild(t) {
		if os.Getuid() != 65534 {
			t.Fatalf("child runs as uid %d, want 65534", os.Getuid())
		}
		for _, f := range nobodyFiles {
			t.Run(strings.TrimSuffix(f, ".lua"), func(t *testing.T) { runLuaFile(t, f, nil) })
		}
		return
	}
	res := testutil.RunChild(t, &testutil.Options{UID: testutil.Nobody, GID: testutil.Nobody})
	if res.ExitCode != 0 {
		t.Fatalf("child as nobody failed (exit %d, signal %v):\n%s\n%s", res.ExitCode, res.Signal, res.Stdout, res.Stderr)
	}
	if !strings.Contains(res.Stdout, "PASS") {
		t.Fatalf("child ran no test:\n%s", res.Stdout)
	}
}
