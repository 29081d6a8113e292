package repl

import (
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/vow-sandbox/vow/lualib"
)

// completionState is a state with the libraries, the unix module (with
// pledge) and a few globals to complete.
func completionState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	lualib.OpenUnix(L, &lualib.Options{Pledge: func(_, _ *string, _ int) error { return nil }})
	if err := L.DoString(`
		config = {name = "x", nested = {deep = 1, deeper = 2}, ["not ident"] = 1, [1] = "one"}
		err = select(2, unix.open("/nonexistent/x"))
		text = "abc"
		obj = setmetatable({own = 1}, {__index = {inherited = 2}})
		lazy = setmetatable({}, {__index = function() error("must not run") end})
	`); err != nil {
		t.Fatal(err)
	}
	return L
}

func TestComplete(t *testing.T) {
	L := completionState(t)
	tests := []struct {
		name string
		line string
		pos  int // -1: end of line
		want []string
		len  int
	}{
		{"global prefix", "conf", -1, []string{"config"}, 4},
		{"keyword at top level", "whi", -1, []string{"while"}, 3},
		{"global and keyword", "ret", -1, []string{"return"}, 3},
		{"table field", "unix.pl", -1, []string{"pledge"}, 2},
		{"field list", "unix.PLEDGE_P", -1, []string{"PLEDGE_PENALTY_KILL_PROCESS", "PLEDGE_PENALTY_KILL_THREAD", "PLEDGE_PENALTY_RETURN_EPERM"}, 8},
		{"nested field", "config.nested.dee", -1, []string{"deep", "deeper"}, 3},
		{"all fields after dot", "config.", -1, []string{"name", "nested"}, 0},
		{"spaces around dot", "config . nested . d", -1, []string{"deep", "deeper"}, 1},
		{"inside an expression", "print(unix.getp", -1, []string{"getpeername", "getpgid", "getpgrp", "getpid", "getppid"}, 4},
		{"after an operator", "x = 1 + math.fl", -1, []string{"floor"}, 2},
		{"method of userdata", "err:na", -1, []string{"name"}, 2},
		{"string methods", "text:up", -1, []string{"upper"}, 2},
		{"__index table followed", "obj.inh", -1, []string{"inherited"}, 3},
		{"own and inherited fields", "obj.", -1, []string{"inherited", "own"}, 0},
		{"__index function not run", "lazy.x", -1, nil, 1},
		{"unknown table", "nosuch.x", -1, nil, 0},
		{"field of a non-table", "config.name.x", -1, nil, 0},
		{"number is not a path", "1.5", -1, nil, 0},
		{"call result not completed", "f().x", -1, nil, 0},
		{"cursor in the middle", "unix.pl + 1", 7, []string{"pledge"}, 2},
		{"command", ".pro", -1, []string{".promises"}, 4},
		{"all commands", ".", -1, []string{".exit", ".help", ".promises"}, 1},
		{"promise in pledge", `unix.pledge("std`, -1, []string{"stdio"}, 3},
		{"promise after others", `unix.pledge("stdio rp`, -1, []string{"rpath"}, 2},
		{"promises not repeated", `unix.pledge("stdio rpath wpath `, -1,
			[]string{"cpath", "dpath", "flock", "fattr", "inet", "unix", "dns", "tty", "recvfd", "proc", "exec", "id",
				"unveil", "sendfd", "settime", "prot_exec", "vminfo", "tmppath", "chown", "anet", "error"}, 0},
		{"single quotes", `unix.pledge('in`, -1, []string{"inet"}, 2},
		{"execpromises argument", `unix.pledge("stdio exec", "st`, -1, []string{"stdio"}, 2},
		{"spawn option", `unix.spawn("/bin/true", {"true"}, {promises = "rp`, -1, []string{"rpath"}, 2},
		{"error flag", `unix.pledge("stdio err`, -1, []string{"error"}, 3},
		{"other strings not completed", `print("std`, -1, nil, 0},
		{"closed string is code again", `unix.pledge("stdio") ; conf`, -1, []string{"config"}, 4},
		{"comment not completed", `-- unix.pl`, -1, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos := tt.pos
			if pos < 0 {
				pos = len(tt.line)
			}
			got, n := complete(L, tt.line, pos)
			if !reflect.DeepEqual(got, tt.want) || (len(tt.want) > 0 && n != tt.len) {
				t.Errorf("complete(%q, %d) = %q, %d; want %q, %d", tt.line, pos, got, n, tt.want, tt.len)
			}
		})
	}
}

func TestCompleterForReadline(t *testing.T) {
	L := completionState(t)
	c := completer{L}
	line := []rune("x = unix.pl")
	got, n := c.Do(line, len(line))
	if n != 2 || len(got) != 1 || string(got[0]) != "edge" {
		t.Errorf("Do(%q) = %q, %d; want [edge], 2", string(line), got, n)
	}
	line = []rune(`unix.pledge("std`)
	got, n = c.Do(line, len(line))
	if n != 3 || len(got) != 1 || string(got[0]) != "io" {
		t.Errorf("Do(%q) = %q, %d; want [io], 3", string(line), got, n)
	}
	line = []rune("héllo = unix.getpg")
	got, n = c.Do(line, len(line))
	var s []string
	for _, g := range got {
		s = append(s, string(g))
	}
	if n != 5 || strings.Join(s, ",") != "id,rp" {
		t.Errorf("Do(%q) = %q, %d; want [id rp], 5", string(line), s, n)
	}
}
