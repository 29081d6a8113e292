package host

import (
	"embed"
	"os"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
)

// The Lua tests are embedded so that a child running as nobody needs no
// access to the source tree.
//
//go:embed testdata/lua/*.lua
var luaTests embed.FS

// newLuaTestState returns a state with the standard libraries, unix, vow
// (starting the test worker) and the test library.
func newLuaTestState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	lualib.OpenUnix(L, nil)
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	// The children's stderr: the Go runtime's crash dumps of the memory
	// tests would fill the test output.
	OpenVow(L, &VowOptions{Executable: testExe, Stderr: null})
	lib, err := luaTests.ReadFile("testdata/lua/lib.lua")
	if err != nil {
		t.Fatal(err)
	}
	if err := L.DoString(string(lib)); err != nil {
		t.Fatal(err)
	}
	return L
}

// runLuaTest runs testdata/lua/NAME and reports its cases.
func runLuaTest(t *testing.T, name string) {
	t.Helper()
	L := newLuaTestState(t)
	src, err := luaTests.ReadFile("testdata/lua/" + name)
	if err != nil {
		t.Fatal(err)
	}
	fn, err := L.Load(strings.NewReader(string(src)), name)
	if err != nil {
		t.Fatal(err)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	res := L.GetGlobal("RESULTS").(*lua.LTable)
	failures := res.RawGetString("failures").(*lua.LTable)
	for i := 1; i <= failures.Len(); i++ {
		t.Error(failures.RawGetInt(i).String())
	}
	if passed := lua.LVAsNumber(res.RawGetString("passed")); passed == 0 {
		t.Errorf("%s: no case passed", name)
	}
}

func TestVowRunLua(t *testing.T) {
	runLuaTest(t, "vow_run.lua")
}
