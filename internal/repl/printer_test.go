package repl

import (
	"regexp"
	"strings"
	"syscall"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
)

// evalValues runs "return " + expr in a fresh state with the unix module
// and returns the values.
func evalValues(t *testing.T, L *lua.LState, expr string) []lua.LValue {
	t.Helper()
	top := L.GetTop()
	if err := L.DoString("return " + expr); err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	vals := []lua.LValue{}
	for i := top + 1; i <= L.GetTop(); i++ {
		vals = append(vals, L.Get(i))
	}
	L.SetTop(top)
	return vals
}

func TestPrinter(t *testing.T) {
	tests := []struct {
		name, expr string
		want       string // exact, unless wantRe is set
		wantRe     string
		width      int
	}{
		{name: "nil", expr: "nil", want: "nil"},
		{name: "booleans", expr: "true, false", want: "true\tfalse"},
		{name: "integer", expr: "42", want: "42"},
		{name: "negative integer", expr: "-7", want: "-7"},
		{name: "float", expr: "1.5", want: "1.5"},
		{name: "huge number", expr: "2^60", want: "1152921504606846976"},
		{name: "not a number", expr: "0/0", want: "NaN"},
		{name: "several values", expr: `1, "a", nil`, want: "1\t\"a\"\tnil"},
		{name: "string quoted", expr: `"hi"`, want: `"hi"`},
		{name: "string escapes", expr: `"a\"b\\c\n\t\0z"`, want: `"a\"b\\c\n\t\000z"`},
		{name: "string control and invalid bytes", expr: `"\1\127\255"`, want: `"\001\127\255"`},
		{name: "string UTF-8 kept", expr: `"héllo ✓"`, want: `"héllo ✓"`},
		{name: "top-level long string in full", expr: `string.rep("x", 300)`, want: `"` + strings.Repeat("x", 300) + `"`},
		{name: "empty table", expr: "{}", want: "{}"},
		{name: "sequence", expr: "{1, 2, 3}", want: "{1, 2, 3}"},
		{name: "sorted string keys", expr: "{b = 2, a = 1, c = 3}", want: "{a = 1, b = 2, c = 3}"},
		{name: "sequence then keys", expr: `{10, 20, x = "y", [5] = 5}`, want: `{10, 20, [5] = 5, x = "y"}`},
		{name: "hole ends the sequence", expr: "{1, nil, 3}", want: "{1, [3] = 3}"},
		{name: "keys needing brackets", expr: `{["a b"] = 1, ["end"] = 2, [1.5] = 3, [true] = 4}`,
			want: `{[1.5] = 3, ["a b"] = 1, ["end"] = 2, [true] = 4}`},
		{name: "nested on one line", expr: "{a = {b = {c = 1}}}", want: "{a = {b = {c = 1}}}"},
		{name: "wide table breaks into lines", width: 30,
			expr: `{alpha = "aaaaaaaa", beta = "bbbbbbbb", gamma = {1, 2}}`,
			want: "{\n  alpha = \"aaaaaaaa\",\n  beta = \"bbbbbbbb\",\n  gamma = {1, 2},\n}"},
		{name: "nested multi-line indents", width: 20,
			expr: `{t = {one = 1111111, two = 2222222}}`,
			want: "{\n  t = {\n    one = 1111111,\n    two = 2222222,\n  },\n}"},
		{name: "cycle marked", expr: "(function() local t = {} t.self = t return t end)()", want: "{self = <cycle>}"},
		{name: "deep cycle marked", expr: "(function() local t = {x = {}} t.x.up = t return t end)()", want: "{x = {up = <cycle>}}"},
		{name: "shared table is not a cycle", expr: "(function() local s = {1} return {a = s, b = s} end)()", want: "{a = {1}, b = {1}}"},
		{name: "depth limit", expr: "{{{{{{{{1}}}}}}}}", want: "{{{{{{{…}}}}}}}"},
		{name: "many entries cut", expr: "(function() local t = {} for i = 1, 150 do t[i] = i end return t end)()",
			wantRe: `^\{\n  1,\n(  \d+,\n)+  100,\n  …\(50 more\)\n\}$`},
		{name: "long string in table cut", expr: `{string.rep("y", 500)}`, wantRe: `^\{\n  "y{200}"…\(500 bytes\),\n\}$`},
		{name: "function", expr: "print", wantRe: `^function: 0x[0-9a-f]+$`},
		{name: "__tostring used", expr: `setmetatable({}, {__tostring = function() return "obj!" end})`, want: "obj!"},
		{name: "failing __tostring", expr: `setmetatable({}, {__tostring = function() error("no") end})`,
			wantRe: `^table: 0x[0-9a-f]+ \(__tostring failed: .*no\)$`},
		{name: "coroutine", expr: "coroutine.create(print)", wantRe: `^thread: 0x[0-9a-f]+$`},
		{name: "errno with call", expr: `select(2, unix.open("/nonexistent/x"))`,
			want: "unix.Errno(ENOENT: open() failed: No such file or directory)"},
		{name: "errno in a table", expr: `{err = select(2, unix.rmdir("/nonexistent/x"))}`,
			want: "{err = unix.Errno(ENOENT: rmdir() failed: No such file or directory)}"},
		{name: "nil and errno", expr: `unix.open("/nonexistent/x")`,
			want: "nil\tunix.Errno(ENOENT: open() failed: No such file or directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			lualib.OpenUnix(L, nil)
			p := newPrinter(L)
			if tt.width > 0 {
				p.Width = tt.width
			}
			got := p.values(evalValues(t, L, tt.expr))
			if tt.wantRe != "" {
				if !regexp.MustCompile(tt.wantRe).MatchString(got) {
					t.Errorf("%s printed\n%s\nwant match for %s", tt.expr, got, tt.wantRe)
				}
				return
			}
			if got != tt.want {
				t.Errorf("%s printed\n%s\nwant\n%s", tt.expr, got, tt.want)
			}
		})
	}
}

func TestPrinterErrnoDoc(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct {
		e    *lualib.Errno
		want string
	}{
		{&lualib.Errno{Errno: syscall.EPERM, Call: "open"}, "unix.Errno(EPERM: open() failed: Operation not permitted)"},
		{&lualib.Errno{Errno: syscall.EINVAL, Call: "pledge", Doc: "unknown promise 'stdoi' (did you mean 'stdio'?)"},
			"unix.Errno(EINVAL: pledge() failed: unknown promise 'stdoi' (did you mean 'stdio'?))"},
		{&lualib.Errno{Errno: syscall.ENOSYS}, "unix.Errno(ENOSYS: Function not implemented)"},
	}
	for _, tt := range tests {
		ud := L.NewUserData()
		ud.Value = tt.e
		if got := newPrinter(L).value(ud); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}

func TestPrinterTotalBudget(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	vals := evalValues(t, L, `(function()
		local t = {}
		for i = 1, 50 do t[i] = {} for j = 1, 50 do t[i][j] = j end end
		return t end)()`)
	p := newPrinter(L)
	p.MaxTotal = 300
	got := p.value(vals[0])
	if n := strings.Count(got, "more)"); n == 0 {
		t.Errorf("a table of 2550 entries with MaxTotal 300 was not cut:\n%s", got)
	}
	if len(got) > 5000 {
		t.Errorf("output of %d bytes for MaxTotal 300", len(got))
	}
}
