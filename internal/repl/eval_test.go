package repl

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestCompile(t *testing.T) {
	tests := []struct {
		code       string
		incomplete bool
		err        string // "" when it compiles
	}{
		{code: "1 + 2"},
		{code: "=1 + 2"},
		{code: "x = 1"},
		{code: "print(1)"},
		{code: "local x = 1"},
		{code: "return 1, 2"},
		{code: ""},
		{code: "-- just a comment"},
		{code: "function f()", incomplete: true},
		{code: "function f()\n  return 1", incomplete: true},
		{code: "function f()\n  return 1\nend"},
		{code: "if x then", incomplete: true},
		{code: "for i = 1, 3 do", incomplete: true},
		{code: "t = {", incomplete: true},
		{code: "t = {\n  a = 1,", incomplete: true},
		{code: "print(", incomplete: true},
		{code: "x =", incomplete: true},
		{code: "=f(", incomplete: true},
		{code: "s = [[first line", incomplete: true},
		{code: "s = [==[ first", incomplete: true},
		{code: "--[[ a long\ncomment", incomplete: true},
		{code: "s = 'a\\", incomplete: true},
		{code: `s = "abc`, err: "stdin: unterminated string at the end of the input"},
		{code: "x = = 1", err: "stdin:1: syntax error near '='"},
		{code: "end", err: "stdin:1: syntax error near 'end'"},
		{code: "if x then\ny = = 2", err: "stdin:2: syntax error near '='"},
		{code: "="},
		{code: "=)", err: "stdin:1: syntax error near ')'"},
	}
	L := lua.NewState()
	defer L.Close()
	for _, tt := range tests {
		fn, incomplete, err := compile(L, tt.code)
		switch {
		case incomplete != tt.incomplete:
			t.Errorf("compile(%q): incomplete %v, want %v (err %v)", tt.code, incomplete, tt.incomplete, err)
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("compile(%q): error %v, want %q", tt.code, err, tt.err)
		case tt.err == "" && err != nil:
			t.Errorf("compile(%q): %v", tt.code, err)
		case tt.err == "" && !tt.incomplete && fn == nil:
			t.Errorf("compile(%q): no function", tt.code)
		}
	}
}
